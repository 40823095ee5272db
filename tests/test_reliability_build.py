"""Real ``specnb build`` runs (RELIABILITY.md §2, §3, §4): thin-data reports, partial failure, interrupted builds.

Each build is a subprocess of ``python -m specnb.cli build`` on a small ``--only`` set of the bundled data.
"""

import html
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from buildrun import FOOTER_START, build_argv, notebook_with, run_build, valid

pytestmark = pytest.mark.slow

FAILING = "dsr1-b300-fp4-1k1k"
ONE_POINT = "dsr1-gb200-fp4-1k8k"  # MTP: one point, no overlap with Off
TWO_POINTS = "dsr1-gb300-fp4-1k8k"  # Off: a two-point frontier


def failing_notebook(path: Path) -> Path:
    """notebooks/report.ipynb plus, right after the parameters, a cell that raises for B300."""
    return notebook_with(path, 'if hardware == "b300":', '    raise RuntimeError(f"fixture failure for {hardware}")')


def without_footer(text: str) -> str:
    start = text.find(FOOTER_START)
    if start < 0:
        return text
    end = text.index("</footer>", start) + len("</footer>")
    return text[:start] + text[end:]


# --- §3 partial failure, and §2 thin data in built reports -----------------------------------------------------


@pytest.fixture(scope="module")
def partial(tmp_path_factory):
    root = tmp_path_factory.mktemp("partial")
    notebook = failing_notebook(root / "failing.ipynb")
    out = root / "reports"
    proc = run_build(out, "--notebook", str(notebook), "--format", "html,json", "--jobs", "2",
                     "--only", FAILING, "--only", ONE_POINT, "--only", TWO_POINTS)
    return out, proc


def test_one_failure_does_not_stop_the_others(partial):
    out, proc = partial
    assert proc.returncode == 1, proc.stderr
    assert "Built 2, up to date 0, failed 1" in proc.stdout
    err = [ln for ln in proc.stderr.splitlines() if not ln.startswith("[IPKernelApp]")]
    assert f"  FAILED {FAILING}: RuntimeError: fixture failure for b300" in err
    assert err[-1] == f"specnb: error: 1 configuration(s) failed: {FAILING}"
    assert "Traceback" not in proc.stderr
    for slug in (ONE_POINT, TWO_POINTS):
        assert valid(out / slug / "report.html") and valid(out / slug / "comparison.json")


def test_failed_configuration_is_marked_in_the_index(partial):
    out, _ = partial
    suite = json.loads((out / "suite.json").read_text())
    entries = {e["slug"]: e for e in suite["entries"]}
    bad = entries[FAILING]
    assert bad["status"] == "error" and bad["error"] == "RuntimeError: fixture failure for b300"
    assert bad["files"] == [] and bad["failed_notebook"] is True
    assert entries[ONE_POINT]["status"] == entries[TWO_POINTS]["status"] == "ok"
    index = (out / "index.html").read_text()
    assert "fixture failure for b300" in index
    assert f'href="{ONE_POINT}/report.html"' in index and f'href="{FAILING}/report.html"' not in index


def test_failing_notebook_is_kept_for_debugging(partial):
    out, _ = partial
    kept = out / FAILING / "failed.ipynb"
    nb = json.loads(kept.read_text())
    errors = [o for c in nb["cells"] for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert errors and errors[0]["ename"] == "RuntimeError" and "fixture failure for b300" in errors[0]["evalue"]
    assert not (out / FAILING / "report.html").exists()
    state = json.loads((out / FAILING / ".build.json").read_text())
    assert state["status"] == "error"  # never fresh: the next build retries it, the index keeps showing it


def test_thin_reports_say_the_right_thing(partial):
    out, _ = partial
    one = (out / ONE_POINT / "report.html").read_text()
    assert "No matched comparison" in one and "MTP has a single measured point, so no curve can be drawn." in one
    assert "do not overlap in interactivity" in one
    d = json.loads((out / ONE_POINT / "comparison.json").read_text())
    assert d["band"] is None and d["targets"] == [] and d["frontier_points"]["mtp"] == 1
    assert (out / ONE_POINT / "comparison.csv").read_text().startswith("model,hardware,precision,")
    two = html.unescape((out / TWO_POINTS / "report.html").read_text())
    assert "Off's frontier has only two points; between them the curve is a straight line." in two
    d = json.loads((out / TWO_POINTS / "comparison.json").read_text())
    assert d["frontier_points"]["none"] == 2 and len(d["targets"]) == 3


def test_retry_with_a_working_notebook_clears_the_failure(partial):
    out, _ = partial
    proc = run_build(out, "--format", "html,json", "--only", FAILING)
    assert proc.returncode == 0, proc.stderr
    assert valid(out / FAILING / "report.html") and not (out / FAILING / "failed.ipynb").exists()


# --- §4 interrupted builds ---------------------------------------------------------------------------------------

THREE = ("dsr1-b200-fp4-1k1k", "dsr1-b200-fp8-1k1k", "dsr1-mi355x-fp8-8k1k")


def snapshot(out: Path) -> dict:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}


def interrupt(out: Path, sig: int):
    """Start a forced rebuild, wait until its first report is rewritten, then send ``sig`` to the build only."""
    import psutil

    before = {p: p.stat().st_mtime_ns for p in out.glob("*/.build.json")}
    proc = subprocess.Popen(build_argv(out, "--force", "--jobs", "2", "--format", "html,json",
                                       *[a for s in THREE for a in ("--only", s)]),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=_default_sigint)
    me = psutil.Process(proc.pid)
    deadline = time.monotonic() + 120
    kids: set = set()
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            kids |= {c.pid for c in me.children(recursive=True)}
        except psutil.NoSuchProcess:
            break
        if any(p.stat().st_mtime_ns != t for p, t in before.items() if p.exists()):
            break  # one report is complete: the build is mid-way
        time.sleep(0.02)
    assert proc.poll() is None, "the build finished before it could be interrupted"
    try:
        kids |= {c.pid for c in me.children(recursive=True)}
    except psutil.NoSuchProcess:
        pass
    os.kill(proc.pid, sig)
    stdout, stderr = proc.communicate(timeout=60)
    # Worker processes: gone on their own after SIGINT; after SIGKILL they notice the build is gone.
    deadline = time.monotonic() + 15
    alive = [k for k in kids if psutil.pid_exists(k)]
    while alive and time.monotonic() < deadline:
        time.sleep(0.1)
        alive = [k for k in kids if psutil.pid_exists(k) and psutil.Process(k).status() != psutil.STATUS_ZOMBIE]
    orphans = list(alive)
    for pid in orphans:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return proc.returncode, stdout, stderr, kids, orphans


def _default_sigint() -> None:
    """Ctrl-C's default in the build: a test run started in the background (``make test &``) ignores SIGINT,
    and its children inherit that, as a shell's background jobs do."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.fixture(scope="module")
def interrupted(tmp_path_factory):
    out = tmp_path_factory.mktemp("interrupted") / "reports"
    first = run_build(out, "--format", "html,json", "--jobs", "1", *[a for s in THREE for a in ("--only", s)])
    assert first.returncode == 0, first.stderr
    previous = snapshot(out)
    results = {}
    for name, sig in (("SIGINT", signal.SIGINT), ("SIGKILL", signal.SIGKILL)):
        code, stdout, stderr, kids, orphans = interrupt(out, sig)
        results[name] = {"code": code, "stdout": stdout, "stderr": stderr, "kids": kids, "orphans": orphans,
                         "files": snapshot(out)}
    final = run_build(out, "--format", "html,json", "--jobs", "1", *[a for s in THREE for a in ("--only", s)])
    return out, previous, results, final


@pytest.mark.parametrize("name", ["SIGINT", "SIGKILL"])
def test_interrupted_build_keeps_every_previous_report(interrupted, name):
    _, previous, results, _ = interrupted
    after = results[name]["files"]
    assert results[name]["code"] != 0
    outputs = {k for k in previous if not k.split("/")[-1].startswith(".")}
    assert outputs <= set(after), "a report file of the previous build disappeared"
    for rel in outputs:
        old, new = previous[rel], after[rel]
        if rel.endswith(".json") and rel != "suite.json":
            assert new == old, rel  # same inputs: the rebuilt file is byte-identical or untouched
        if rel.endswith(".html"):  # complete, and the same report (byte equality: see test_reliability_hostile.py)
            assert new.rstrip().endswith(b"</html>") and len(new) > len(old) * 0.9, rel
    for rel in after:
        if rel.endswith(".tmp"):
            assert rel.split("/")[-1].startswith("."), f"{rel}: a partial file must be hidden (.name.tmp)"
    assert all(not rel.endswith(".tmp") for rel in outputs)


def test_sigkill_orphans(interrupted):
    """SIGKILL cannot be handled: the workers of the killed build notice their parent is gone and end (any still
    running 15 s later would be ended by this test, by pid)."""
    _, _, results, _ = interrupted
    r = results["SIGKILL"]
    print(f"SIGKILL: {len(r['kids'])} child processes, {len(r['orphans'])} still running after 15 s")
    assert r["code"] == -signal.SIGKILL
    assert r["orphans"] == [], f"processes left running after SIGKILL: {r['orphans']}"


def test_sigint_leaves_no_worker_behind(interrupted):
    _, _, results, _ = interrupted
    r = results["SIGINT"]
    assert r["kids"], "the build had started its workers"
    assert r["orphans"] == [], f"processes left running after SIGINT: {r['orphans']}"


def test_sigint_exits_with_a_short_message(interrupted):
    _, _, results, _ = interrupted
    r = results["SIGINT"]
    err = [ln for ln in r["stderr"].splitlines() if ln.strip() and not ln.startswith("[IPKernelApp]")]
    assert r["code"] in (1, 2, 130, -signal.SIGINT)
    assert "Traceback" not in r["stderr"] and len(err) <= 2, r["stderr"][-2000:]
    assert err and "interrupt" in err[-1].lower()


def test_next_build_completes(interrupted):
    out, previous, _, final = interrupted
    assert final.returncode == 0, final.stderr
    now = snapshot(out)
    for slug in THREE:
        for name in ("report.html", "comparison.json", "comparison.csv", ".build.json"):
            assert valid(out / slug / name)
        assert now[f"{slug}/comparison.json"] == previous[f"{slug}/comparison.json"]
        assert now[f"{slug}/comparison.csv"] == previous[f"{slug}/comparison.csv"]
    suite = json.loads(now["suite.json"])
    assert [e["status"] for e in suite["entries"]] == ["ok"] * 3
    assert not [k for k in now if k.endswith(".tmp")], "the next build swept no partial file"


def test_index_lists_only_real_reports(interrupted):
    out, _, _, _ = interrupted
    index = (out / "index.html").read_text()
    assert ".tmp" not in index
    for slug in THREE:
        assert f'href="{slug}/report.html"' in index


# --- a worker process killed mid-report ------------------------------------------------------------------------


def test_a_killed_worker_costs_one_report(tmp_path):
    """The report notebook's kernel kills its worker (SIGKILL) for B300: that report alone fails, saying why;
    the worker is replaced and the others build."""
    notebook = notebook_with(tmp_path / "killer.ipynb", "import os, signal", 'if hardware == "b300":',
                             "    os.kill(os.getppid(), signal.SIGKILL)  # the worker")
    out = tmp_path / "reports"
    proc = run_build(out, "--notebook", str(notebook), "--format", "json", "--jobs", "2",
                     "--only", FAILING, "--only", ONE_POINT, "--only", TWO_POINTS)
    assert proc.returncode == 1, proc.stderr
    assert "Built 2, up to date 0, failed 1" in proc.stdout
    assert (f"  FAILED {FAILING}: WorkerDied: the worker process building it died: killed (SIGKILL, signal 9, "
            "possibly out of memory)") in proc.stderr
    entries = {e["slug"]: e for e in json.loads((out / "suite.json").read_text())["entries"]}
    assert entries[FAILING]["status"] == "error" and "signal 9" in entries[FAILING]["error"]
    assert entries[ONE_POINT]["status"] == entries[TWO_POINTS]["status"] == "ok"
