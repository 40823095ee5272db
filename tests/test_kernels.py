"""Tests for specnb.kernels.KernelPool: warm runs must equal cold papermill runs."""

from __future__ import annotations

import copy
import os
import re
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import papermill as pm
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from specnb.kernels import KernelPool

DATA = Path(__file__).parent / "data" / "kernels"
REPORT = str(DATA / "report.ipynb")
RAISES = str(DATA / "raises.ipynb")
PARAMS = [{"x": 1, "name": "a"}, {"x": 5, "name": "b"}, {"x": 9, "name": "c"}]

_TIME_KEYS = {"start_time", "end_time", "duration"}
# Run-specific text that differs between two *cold* runs as well:
_VOLATILE = [
    (re.compile(r"/tmp/ipykernel_\d+/"), "/tmp/ipykernel_PID/"),  # ipykernel's per-process cell files
    (re.compile(r"altair-viz-[0-9a-f]{32}"), "altair-viz-UUID"),  # altair html renderer div ids
]


def _scrub(obj):
    if isinstance(obj, str):
        for rx, repl in _VOLATILE:
            obj = rx.sub(repl, obj)
        return obj
    if isinstance(obj, list):
        return [_scrub(o) for o in obj]
    if isinstance(obj, dict):
        return {k: _scrub(v) for k, v in obj.items()}
    return obj


def normalise(nb: nbformat.NotebookNode) -> dict:
    """Everything that must match between a cold and a warm run."""
    nb = copy.deepcopy(nb)
    meta = dict(nb.metadata)
    meta["papermill"] = {k: v for k, v in meta["papermill"].items() if k not in _TIME_KEYS}
    cells = []
    for c in nb.cells:
        cmeta = dict(c.metadata)
        cmeta.pop("execution", None)  # nbclient's per-cell iopub/shell timestamps
        if "papermill" in cmeta:
            cmeta["papermill"] = {k: v for k, v in cmeta["papermill"].items() if k not in _TIME_KEYS}
        cell = {"cell_type": c.cell_type, "source": c.source, "metadata": cmeta}
        # cell ids of papermill-inserted cells (injected parameters, error banners) are random
        if c.cell_type == "code":
            cell["execution_count"] = c.execution_count
            cell["outputs"] = c.outputs
        cells.append(cell)
    return _scrub({"metadata": meta, "cells": cells, "nbformat": nb.nbformat})


def notebook_diff(a, b) -> str:
    """Where two notebooks differ after ``normalise``, as a unified diff (for failure messages)."""
    import difflib
    import json

    sa = json.dumps(normalise(a), indent=1, sort_keys=True).splitlines()
    sb = json.dumps(normalise(b), indent=1, sort_keys=True).splitlines()
    return "\n".join(list(difflib.unified_diff(sb, sa, lineterm="", n=2))[:80])


def _stdout(nb) -> str:
    return "".join(
        o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "stream"
    )


@pytest.fixture(scope="module")
def pool():
    # restart_on_error=False: after a cell error the *same* kernel runs the next
    # notebook, which exercises the reset (restarts are covered by the kill test).
    p = KernelPool(1, startup_code="import pandas, altair", block_rfc3987_syntax=True, restart_on_error=False)
    yield p
    p.close()


def _cold_raises(path):
    try:
        pm.execute_notebook(RAISES, path, {"n": 7}, progress_bar=False)
    except pm.PapermillExecutionError:
        return nbformat.read(path, as_version=4)
    raise AssertionError("raises.ipynb did not raise")


@pytest.fixture(scope="module")
def cold(tmp_path_factory):
    """Cold papermill runs (fresh kernel each), run concurrently to save time."""
    out = str(tmp_path_factory.mktemp("cold") / "raises.ipynb")
    with ThreadPoolExecutor(4) as ex:
        reports = [ex.submit(pm.execute_notebook, REPORT, None, p, progress_bar=False) for p in PARAMS]
        raises = ex.submit(_cold_raises, out)
        return {"reports": [f.result() for f in reports], "raises": raises.result(), "raises_path": out}


def test_warm_runs_equal_cold_runs(pool, cold):
    warm = [pool.execute(REPORT, params) for params in PARAMS]
    for c, w, params in zip(cold["reports"], warm, PARAMS):
        assert normalise(w) == normalise(c), (params, notebook_diff(w, c))
        counts = [cell.execution_count for cell in w.cells if cell.cell_type == "code"]
        assert counts == list(range(1, len(counts) + 1))
        assert w.metadata.papermill.parameters == params


def test_no_leak_between_runs(pool):
    a = pool.execute(REPORT, {"x": 2, "name": "b"})  # "b" changes global library/sys state
    b = pool.execute(REPORT, {"x": 3, "name": "z"})
    for nb in (a, b):
        out = _stdout(nb)
        assert "leaked: False 0" in out and "leak seen: False" in out
    out = _stdout(b)
    assert "renderer: default | pandas max_rows: 60" in out
    assert "path leaked: False | env leaked: None" in out
    # the same warning is shown again in the second run ("default" action registry reset)
    stderr = [o.text for c in b.cells if c.cell_type == "code" for o in c.outputs if o.get("name") == "stderr"]
    assert any("always the same text" in t for t in stderr)


def test_error_raises_and_pool_continues(pool, cold):
    out = cold["raises_path"]  # same output_path as the cold run (it is recorded in metadata)
    with pytest.raises(pm.PapermillExecutionError) as info:
        pool.execute(RAISES, {"n": 7}, output_path=out)
    err = info.value
    assert err.ename == "ValueError" and "boom 7" in err.evalue
    assert err.nb is not None and "papermill-error-cell-tag" in err.nb.cells[0].metadata.tags
    written = nbformat.read(out, as_version=4)
    assert normalise(written) == normalise(err.nb)
    assert normalise(written) == normalise(cold["raises"])  # banner, outputs, counts as papermill cold
    nb = pool.execute(REPORT, {"x": 4, "name": "after-error"})
    assert "x=4 name=after-error" in _stdout(nb)
    assert "leaked: False 0" in _stdout(nb)


def test_killed_kernel_is_replaced(pool):
    pool.wait_ready(timeout=60)
    k = pool.kernels[0]
    pid = k.pid()
    os.kill(pid, signal.SIGKILL)
    deadline = time.time() + 10
    while k.alive() and time.time() < deadline:
        time.sleep(0.05)
    restarts = pool.stats["restarts"]
    nb = pool.execute(REPORT, {"x": 6, "name": "after-kill"})
    assert "x=6 name=after-kill" in _stdout(nb)
    assert pool.kernels[0].pid() != pid and pool.stats["restarts"] == restarts + 1

    # a kernel dying *during* a notebook: that notebook fails, the next one runs
    suicide = new_notebook(
        cells=[new_code_cell("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)")],
        metadata={"kernelspec": {"name": "python3", "language": "python", "display_name": "Python 3"}},
    )
    with pytest.raises(Exception) as info:
        pool.execute(suicide, {}, timeout=60)
    assert not isinstance(info.value, pm.PapermillExecutionError) or "Dead" in str(info.value)
    nb = pool.execute(REPORT, {"x": 8, "name": "after-death"})
    assert "x=8 name=after-death" in _stdout(nb)
