"""specnb.inprocess: a notebook run in the build process equals a cold papermill run on a kernel.

The in-process runs happen in a fresh Python process, as in a build worker (pytest's own output
capture and warning recording would otherwise be what the cells see). ``tests/data/kernels/report.ipynb``
prints, shows a DataFrame, an Altair chart and warnings; ``raises.ipynb`` fails.
"""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import papermill as pm
import pytest

from specnb.inprocess import LANGUAGE_INFO

pytestmark = pytest.mark.slow

DATA = Path(__file__).parent / "data" / "kernels"
REPORT = str(DATA / "report.ipynb")
RAISES = str(DATA / "raises.ipynb")
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


def _debug_diff(a, b) -> str:
    """Where two notebooks differ after ``normalise``, as a unified diff (for failure messages)."""
    import difflib
    import json

    sa = json.dumps(normalise(a), indent=1, sort_keys=True).splitlines()
    sb = json.dumps(normalise(b), indent=1, sort_keys=True).splitlines()
    return "\n".join(list(difflib.unified_diff(sb, sa, lineterm="", n=2))[:80])




# in-process runs are only for notebooks that change no library state
PARAMS = [{"x": 1, "name": "a"}, {"x": 9, "name": "c"}]

RUNNER = textwrap.dedent("""
    import json, sys
    import nbformat
    from papermill.exceptions import PapermillExecutionError
    from specnb import inprocess

    main, stdout, stderr = sys.modules["__main__"], sys.stdout, sys.stderr
    jobs = json.loads(sys.argv[1])
    for i, (path, params) in enumerate(jobs):
        try:
            nb = inprocess.execute(path, params)
            status = "ok"
        except PapermillExecutionError as exc:
            nb, status = exc.nb, f"error {exc.ename}: {exc.evalue}"
        nbformat.write(nb, f"{sys.argv[2]}/{i}.ipynb")
        print(status)
    try:
        inprocess.execute(sys.argv[3], {})
        print("no interrupt")
    except KeyboardInterrupt:
        print("interrupted")
    print("state kept:", sys.modules["__main__"] is main, sys.stdout is stdout, sys.stderr is stderr)
""")


def one_cell_notebook(path, source: str):
    """A Python notebook with one code cell, written to ``path``."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """(in-process notebooks, their status lines, cold kernel notebooks, trailing lines)."""
    tmp = tmp_path_factory.mktemp("inprocess")
    interrupt = one_cell_notebook(tmp / "interrupt.ipynb", "raise KeyboardInterrupt")
    jobs = [(REPORT, p) for p in PARAMS] + [(RAISES, {"n": 7})]
    proc = subprocess.Popen([sys.executable, "-c", RUNNER, json.dumps(jobs), str(tmp), str(interrupt)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def cold_raises():
        path = tmp / "cold-raises.ipynb"
        try:
            pm.execute_notebook(RAISES, str(path), {"n": 7}, progress_bar=False)
        except pm.PapermillExecutionError:
            return nbformat.read(path, as_version=4)
        msg = "raises.ipynb did not raise"
        raise AssertionError(msg)

    with ThreadPoolExecutor(3) as ex:
        cold = [ex.submit(pm.execute_notebook, REPORT, None, p, progress_bar=False) for p in PARAMS]
        cold.append(ex.submit(cold_raises))
        cold = [f.result() for f in cold]
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err[-3000:]
    lines = out.splitlines()
    mine = [nbformat.read(tmp / f"{i}.ipynb", as_version=4) for i in range(len(jobs))]
    return mine, lines[: len(jobs)], cold, lines[len(jobs):]


def test_outputs_equal_a_cold_kernel_run(runs):
    mine, status, cold, _ = runs
    for a, b in zip(mine[:2], cold[:2], strict=True):
        assert normalise(a) == normalise(b), _debug_diff(a, b)
        counts = [c.execution_count for c in a.cells if c.cell_type == "code"]
        assert counts == list(range(1, len(counts) + 1))
    assert status[:2] == ["ok", "ok"]


def test_what_the_cells_show(runs):
    """Not only equal to the kernel's: streams, the DataFrame, the chart and warnings are all there."""
    nb = runs[0][0]
    kinds = [(o.output_type, o.get("name")) for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert ("stream", "stdout") in kinds and ("stream", "stderr") in kinds and ("execute_result", None) in kinds
    text = json.dumps([c.get("outputs", []) for c in nb.cells])
    assert "x=1 name=a" in text and "careful with a" in text and "text/html" in text
    assert "leaked: False 0" in text  # the second run starts from an empty namespace too
    assert "leaked: False 0" in json.dumps([c.get("outputs", []) for c in runs[0][1].cells])


def test_error_equals_a_cold_kernel_run(runs):
    mine, status, cold, _ = runs
    a, b = mine[2], cold[2]
    b.metadata.papermill["output_path"] = None  # the cold run had to write its notebook to read it back
    assert normalise(a) == normalise(b), _debug_diff(a, b)  # tracebacks included
    errors = [[o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
              for nb in (a, b)]
    assert len(errors[0]) == len(errors[1]) == 1
    assert (errors[0][0].ename, errors[0][0].evalue) == (errors[1][0].ename, errors[1][0].evalue)
    assert errors[0][0].traceback
    assert status[2].startswith(f"error {errors[1][0].ename}")
    # papermill's error banner and cell statuses are placed as in the kernel run
    statuses = [[c.metadata.get("papermill", {}).get("status") for c in nb.cells] for nb in (a, b)]
    assert statuses[0] == statuses[1] and "failed" in statuses[0]
    assert [c.source for c in a.cells] == [c.source for c in b.cells]


def test_interrupt_stops_and_process_state_is_restored(runs):
    tail = runs[3]
    assert tail == ["interrupted", "state kept: True True True"]


def test_language_info_is_the_kernels():
    from ipykernel.ipkernel import IPythonKernel

    assert IPythonKernel.language_info == LANGUAGE_INFO



def test_another_activated_venv_does_not_reach_the_build(tmp_path):
    """IPython's shell puts the site-packages of ``$VIRTUAL_ENV`` first on sys.path when that is another
    environment than the interpreter's; in the build process it must not."""
    other = tmp_path / "other-venv"
    site = other / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}" / "site-packages"
    site.mkdir(parents=True)
    path = one_cell_notebook(tmp_path / "one.ipynb", "1 + 1")
    script = textwrap.dedent(f"""
        import sys
        from specnb import inprocess
        inprocess.execute({str(path)!r}, {{}})
        print(any({str(site)!r} in p for p in sys.path))
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "VIRTUAL_ENV": str(other)})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "False"
    assert "virtualenv" not in proc.stderr
