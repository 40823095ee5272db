"""The fast paths equal a cold, isolated run.

``specnb build`` executes reports in warm worker processes (``specnb.workers``), or in its own process.
Here two configurations are built with ``--jobs 2`` (two local workers) and with ``--jobs 1`` (in the
build process: the second report after the first, in the same shell), and each is executed by the
``papermill`` CLI in its own fresh process with the same parameters, then rendered and written by the
build's own ``workers.render`` and ``build.write_outputs``. The files must be identical:
``comparison.json`` and ``comparison.csv`` byte for byte, ``report.html`` apart from the declared
run-metadata footer (the isolated run is deliberately given different run metadata to show nothing else
depends on it). ``tests/test_cluster.py`` compares a Dask build with these.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from specnb import build, workers

pytestmark = pytest.mark.slow

# The first runs on a new kernel, the second on the same kernel after a reset.
SLUGS = ("dsr1-b200-fp4-1k1k", "dsr1-mi355x-fp8-8k1k")
FORMATS = ("html", "json")
BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[1]
FOOTER = re.compile(r'<footer class="specnb-run-metadata"[^>]*>.*?</footer>', re.S)
ISOLATED_META = {"built": "isolated cold papermill run", "specnb": "-", "note": "differs on purpose"}


def papermill_cli_args(params: dict) -> list[str]:
    return build.papermill_cli_args(params)


def strip_run_metadata(html: str) -> str:
    found = FOOTER.findall(html)
    assert len(found) == 1, f"expected one run-metadata footer, found {len(found)}"
    return FOOTER.sub("<footer/>", html)


# (build, slug): the worker pool's two reports and the in-process build's two.
CASES = [("pool", SLUGS[0]), ("pool", SLUGS[1]), ("in-process", SLUGS[0]), ("in-process", SLUGS[1])]


def fast_dir(both, case: str) -> Path:
    return both[0] if case == "pool" else both[3]


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    """(pool build dir, cold dir, jobs, in-process build dir): the builds and the isolated runs,
    started together."""
    root = tmp_path_factory.mktemp("equivalence")
    fast, cold, single = root / "fast", root / "cold", root / "single"
    env = {**os.environ, "SPECNB_CACHE": str(root / "cache"), "SPECNB_TIMINGS": "1"}
    only = [a for s in SLUGS for a in ("--only", s)]
    fast_proc = subprocess.Popen([str(BIN / "specnb"), "build", "--no-progress", "--jobs", "2", "--format",
                                  ",".join(FORMATS), "--out", str(fast), *only], env=env, cwd=ROOT,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # --jobs 1: the reports run in the build process, one after the other
    single_proc = subprocess.Popen([str(BIN / "specnb"), "build", "--no-progress", "--jobs", "1", "--format",
                                    ",".join(FORMATS),
                                    "--out", str(single), *only], env=env, cwd=ROOT,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # The parameters the build passes (build.plan is pure), run_metadata excepted.
    _, jobs = build.plan(build.BuildOptions(out=cold, formats=FORMATS, only=SLUGS))
    assert [j.slug for j in jobs] == sorted(SLUGS)
    cold_procs = []
    for job in jobs:
        job.outdir.mkdir(parents=True)
        params = {**job.params, "run_metadata": ISOLATED_META}
        cold_procs.append(subprocess.Popen(
            [str(BIN / "papermill"), str(build.REPORT_NOTEBOOK.resolve()), str(job.outdir / "executed.ipynb"),
             "--no-progress-bar", *papermill_cli_args(params)],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    for job, proc in zip(jobs, cold_procs, strict=True):
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, f"papermill {job.slug}: {err[-3000:]}"
        nb = nbformat.read(job.outdir / "executed.ipynb", as_version=4)
        build.write_outputs(job, workers.render(job.slug, nb, FORMATS))
    out, err = fast_proc.communicate(timeout=300)
    assert fast_proc.returncode == 0, out + err
    assert "Built 2" in out
    assert "(LocalPool)" in err, err
    out, err = single_proc.communicate(timeout=300)
    assert single_proc.returncode == 0, out + err
    assert "Built 2" in out
    assert "(InlinePool)" in err, err  # the build process, the second report after the first
    return fast, cold, jobs, single


@pytest.mark.parametrize(("case", "slug"), CASES)
def test_comparison_same_numbers(both, case, slug):
    """The comparison itself (parsed) is the same; the byte test below also pins the key order."""
    fast, cold = fast_dir(both, case), both[1]
    a, b = (json.loads((d / slug / "comparison.json").read_text()) for d in (fast, cold))
    assert a == b
    assert a["schema"] == "specnb.comparison/1"


@pytest.mark.parametrize(("case", "slug"), CASES)
def test_comparison_json_identical(both, case, slug):
    fast, cold = fast_dir(both, case), both[1]
    a, b = (fast / slug / "comparison.json").read_bytes(), (cold / slug / "comparison.json").read_bytes()
    if a != b:
        ka, kb = list(json.loads(a)), list(json.loads(b))
        pytest.fail(f"{slug}: comparison.json bytes differ (top-level keys fast {ka[:5]}..., cold {kb[:5]}...)")


@pytest.mark.parametrize(("case", "slug"), CASES)
def test_comparison_csv_identical(both, case, slug):
    fast, cold = fast_dir(both, case), both[1]
    a, b = (fast / slug / "comparison.csv").read_bytes(), (cold / slug / "comparison.csv").read_bytes()
    assert a == b and a


@pytest.mark.parametrize(("case", "slug"), CASES)
def test_html_identical_but_run_metadata(both, case, slug):
    fast, cold = fast_dir(both, case), both[1]
    a = (fast / slug / "report.html").read_text(encoding="utf-8")
    b = (cold / slug / "report.html").read_text(encoding="utf-8")
    assert ISOLATED_META["note"] in b and ISOLATED_META["note"] not in a  # the footers do differ ...
    sa, sb = strip_run_metadata(a), strip_run_metadata(b)
    if sa != sb:  # ... and nothing else may: show where
        i = next((i for i, (x, y) in enumerate(zip(sa, sb, strict=False)) if x != y), min(len(sa), len(sb)))
        pytest.fail(f"{slug}: report.html differs at offset {i}:\n fast: {sa[max(0, i - 200):i + 200]!r}\n"
                    f" cold: {sb[max(0, i - 200):i + 200]!r}")


CHART_JSON = re.compile(r'(<script data-specnb-chart="[^"]*" data-specnb-mode="[^"]*" type="application/json">)'
                        r"(.*?)(</script>)", re.S)
INJECTED_ID = re.compile(r'(celltag_injected-parameters" id="cell-id=)[^"]*')


def canonical(html: str) -> str:
    """Report HTML with the footer removed, chart specs' keys sorted and the injected cell's id blanked."""
    html = INJECTED_ID.sub(r"\1-", strip_run_metadata(html))
    return CHART_JSON.sub(lambda m: m.group(1) + json.dumps(json.loads(m.group(2)), sort_keys=True) + m.group(3),
                          html)


@pytest.mark.parametrize(("case", "slug"), CASES)
def test_html_same_content(both, case, slug):
    """Same report content: equal once chart-spec key order and the injected cell's random id are ignored
    (the byte test above also pins those)."""
    fast, cold = fast_dir(both, case), both[1]
    a, b = (canonical((d / slug / "report.html").read_text(encoding="utf-8")) for d in (fast, cold))
    assert len(CHART_JSON.findall(a)) == 4  # throughput, cost, ratio and the History chart
    assert a == b


@pytest.mark.parametrize(("case", "slug"), CASES)
def test_suite_entry_identical(both, case, slug):
    """Headline and engines flag (what index.html shows) come out the same too."""
    fast, cold = fast_dir(both, case), both[1]
    a = json.loads((fast / slug / build.STATE_FILE).read_text())["entry"]
    b = json.loads((cold / slug / build.STATE_FILE).read_text())["entry"]
    assert a == b
