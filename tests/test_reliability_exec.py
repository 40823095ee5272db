"""Issue 14, the execution layer (RELIABILITY.md §10): where the output goes, signals, dying workers and kernels,
data that changes during a build, an honest index after partial rebuilds, and custom notebooks.

Every build here is a real ``specnb build`` subprocess on a few bundled configurations; signals are real signals
sent to it, a killed worker is a real ``kill -9``, a full disk is a real tmpfs (where one can be mounted) and
a fault-injecting ``fsync`` (everywhere).
"""

import csv
import hashlib
import html
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from buildrun import (
    build_argv,
    kernel,
    notebook_with,
    only,
    run_build,
    running,
    signalled,
    snapshot,
    stderr_lines,
    valid,
)

from specnb import cli, suite

pytestmark = pytest.mark.slow

A, B = "dsr1-b200-fp4-1k1k", "dsr1-b200-fp8-1k1k"  # sorted: A is built first
MI = "dsr1-mi355x-fp8-8k1k"
B300 = "dsr1-b300-fp4-1k1k"


def entries(out: Path) -> dict:
    return {e["slug"]: e for e in json.loads((out / "suite.json").read_text(encoding="utf-8"))["entries"]}


def with_script(argv: list, script: str) -> list:
    """``argv`` (a build_argv) run by ``python -c script build ...`` instead of ``python -m specnb.cli build ...``."""
    return [argv[0], "-c", script, *argv[3:]]


def cli_main(capsys, *argv):
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, [ln for ln in captured.err.splitlines() if ln.strip()]


# --- 1. where the output goes --------------------------------------------------------------------------------------


def test_out_that_is_a_file_is_one_line_before_any_work(tmp_path, capsys):
    (tmp_path / "taken").write_text("a file")
    code, out, err = cli_main(capsys, "build", "--out", str(tmp_path / "taken"), "--only", A)
    assert (code, out) == (2, "") and err == [f"specnb: error: --out {tmp_path / 'taken'}: it is a file, not a folder; "
                                              "give a folder for the reports"]
    code, _, err = cli_main(capsys, "build", "--out", str(tmp_path / "taken" / "sub"), "--only", A)
    assert code == 2 and err == [f"specnb: error: --out {tmp_path / 'taken' / 'sub'}: {tmp_path / 'taken'} is a file, "
                                 "not a folder; give a folder for the reports"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]


def test_out_that_leads_nowhere_is_one_line(tmp_path, capsys, monkeypatch):
    """An empty ``--out`` (an unset variable), a symbolic link to nowhere, a link loop: one line, no work."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "file").write_text("a file")
    for name, target in (("dangling", "nowhere"), ("loop", "loop"), ("to-file", "file")):
        (tmp_path / name).symlink_to(target)
    cases = {"": "--out is empty; give a folder for the reports",
             "dangling": "--out dangling: it is a symbolic link to nowhere, which leads to no folder; give a folder "
                         "for the reports",
             "dangling/sub": "--out dangling/sub: dangling is a symbolic link to nowhere, which leads to no folder; "
                             "give a folder for the reports",
             "loop/sub": "--out loop/sub: loop is a symbolic link to loop, which leads to no folder; give a folder "
                         "for the reports",
             "to-file": "--out to-file: it is a file, not a folder; give a folder for the reports"}
    for out, line in cases.items():
        code, printed, err = cli_main(capsys, "build", "--out", out, "--only", A)
        assert (code, printed, err) == (2, "", [f"specnb: error: {line}"]), out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dangling", "file", "loop", "to-file"]


def mount_tmpfs(path: Path, *options: str) -> None:
    """A real tmpfs at ``path`` (needs root or CAP_SYS_ADMIN; the test is skipped without)."""
    path.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", ",".join(options), "tmpfs", str(path)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.strip()}")


@pytest.fixture
def tmpfs(tmp_path):
    mounted = []

    def mount(name: str, *options: str) -> Path:
        mount_tmpfs(tmp_path / name, *options)
        mounted.append(tmp_path / name)
        return tmp_path / name

    yield mount
    for path in mounted:
        subprocess.run(["umount", "-l", str(path)], check=False)


def test_out_on_a_read_only_file_system(tmpfs, capsys):
    ro = tmpfs("ro", "size=1m", "ro")
    code, out, err = cli_main(capsys, "build", "--out", str(ro / "reports"), "--only", A)
    assert (code, out) == (2, "")
    assert err == [f"specnb: error: --out {ro / 'reports'}: cannot write there (Read-only file system)"]


FAULTY_DISK = """
import errno, os, sys
from specnb.cli import main
free = [int(os.environ["SPECNB_TEST_DISK_BYTES"])]
real_fsync = os.fsync
def fsync(fd):  # a disk of that many bytes: every synced file takes its size, and none is given back
    size = os.fstat(fd).st_size
    if size > free[0]:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    free[0] -= size
    real_fsync(fd)
os.fsync = fsync
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize("disk", ["tmpfs", "fault-injected"])
def test_disk_full_mid_build(tmp_path, tmpfs, disk):
    """B is built; then A (new) and B (again) are built while the disk fills: A is written, B's rewrite and the
    index do not fit. B is listed as failed, B's previous files and the previous index stay byte for byte."""
    root = tmpfs("disk", "size=8m") if disk == "tmpfs" else tmp_path
    out = root / "reports"
    first = run_build(out, "--format", "html,json", *only(B))
    assert first.returncode == 0, first.stderr
    before = snapshot(out)
    report = sum(len(v) for k, v in before.items() if k.startswith(B + "/"))
    argv, env = build_argv(out, "--format", "html,json", "--jobs", "1", "--force", *only(A, B)), dict(os.environ)
    if disk == "tmpfs":  # room for one report and a half
        (root / "filler").write_bytes(bytes(max(0, shutil.disk_usage(root).free - report * 3 // 2)))
    else:
        argv = with_script(argv, FAULTY_DISK)
        env["SPECNB_TEST_DISK_BYTES"] = str(report * 3 // 2)
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stdout.startswith("Built 1, up to date 0, failed 1 ") and "(not updated)" in proc.stdout
    assert stderr_lines(proc.stderr) == [
        f"  FAILED {B}: cannot write {out / B / 'report.html'}: No space left on device",
        f"specnb: error: 1 configuration(s) failed: {B}",
        f"specnb: error: the index was not written (cannot write {out / 'index.html'}: No space left on device); "
        "the previous index.html is kept"]
    after = snapshot(out)
    for name in ("index.html", "suite.json", f"{B}/report.html", f"{B}/comparison.json", f"{B}/comparison.csv"):
        assert after[name] == before[name], name
    assert all(valid(out / A / f) for f in ("report.html", "comparison.json", "comparison.csv", ".build.json"))
    assert not [k for k in after if k.endswith(".tmp")]
    state = json.loads(after[f"{B}/.build.json"])
    assert state["status"] == "error"  # retried by the next build; the index still shows the previous report


@pytest.mark.parametrize("out", ["reports", "."])
def test_data_folder_holding_the_reports_builds_twice(tmp_path, out):
    """``specnb build --data .`` writes ./reports (or into . itself); the next ``--data .`` must not read the
    reports back as benchmark data, nor lose the data beside them."""
    subprocess.run([sys.executable, "-m", "specnb.cli", "export", "--out", str(tmp_path / "points.csv")],
                   check=True, capture_output=True)
    for expected in ("Built 1, up to date 0, failed 0", "Nothing to rebuild: 1 report(s) up to date"):
        proc = subprocess.run(build_argv(out, "--data", ".", "--format", "json", *only(A)), cwd=tmp_path,
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0 and expected in proc.stdout, proc.stderr
    listed = subprocess.run([sys.executable, "-m", "specnb.cli", "list", "--data", "."], cwd=tmp_path,
                            capture_output=True, text=True)
    assert listed.returncode == 0 and "b200" in listed.stdout, listed.stderr


# --- 2. signals ----------------------------------------------------------------------------------------------------


SLEEPY = ('import time', 'if hardware == "b300":', '    time.sleep(600)')


@pytest.mark.parametrize(("name", "pool"), [("SIGHUP", "local"), ("SIGTERM", "inline"), ("SIGKILL", "local"),
                                            ("SIGTERM", "dask"), ("SIGKILL", "dask"), ("SIGTERM", "dask-starting")])
def test_signal_ends_every_child(tmp_path, name, pool):
    """Mid-build, with a report's kernel running a long cell (or, ``dask-starting``, as the LocalCluster's first
    process starts): SIGTERM/SIGHUP end the build like Ctrl-C (one line, exit 128 + signal, every worker, kernel
    and Dask process ended); after SIGKILL every child notices its parent is gone within a few seconds."""
    if pool.startswith("dask"):
        pytest.importorskip("distributed")
    sig = getattr(signal, name)
    notebook = notebook_with(tmp_path / "sleepy.ipynb", *SLEEPY)
    where = {"local": ["--jobs", "2"], "inline": ["--jobs", "1"]}.get(pool, ["--scheduler", "local:2"])
    ready = (lambda seen: len(seen) >= 3) if pool == "dask-starting" else kernel  # its workers are starting
    r = signalled(build_argv(tmp_path / "out", "--format", "json", "--notebook", str(notebook), *where, *only(A, B300)),
                  sig, ready, grace=5)
    assert r["children"] and ready(r["children"])
    assert r["left"] == [], f"still running 5 s after the build ended: {[r['children'][p] for p in r['left']]}"
    written = [p for p in (tmp_path / "out").rglob("*") if p.is_file()]
    assert all(valid(p) for p in written if not p.name.endswith(".tmp")), written  # what was written is whole
    if sig == signal.SIGKILL:
        assert r["code"] == -signal.SIGKILL
        return
    assert r["code"] == 128 + sig
    assert not [p for p in written if p.name.endswith(".tmp")]
    assert stderr_lines(r["stderr"]) == [f"specnb: {cli.STOPPED[sig]}; reports already written are complete (rerun "
                                         "to finish)"]
    assert "Traceback" not in r["stderr"]


SIGNAL_IN_INDEX = """
import os, signal, sys
from specnb import build, inprocess
from specnb.cli import main
execute = inprocess.execute
def execute_signalled(nb, *args, **kw):  # SIGTERM arrives as the index notebook starts, suite.json just written
    if nb == build.SUMMARY_NOTEBOOK:
        os.kill(os.getpid(), signal.SIGTERM)
    return execute(nb, *args, **kw)
inprocess.execute = execute_signalled
sys.exit(main(sys.argv[1:]))
"""


def test_sigterm_during_the_index_keeps_the_previous_index(tmp_path):
    """A real SIGTERM to the build while it writes the index (of a rebuild with other options): one line, exit
    143, the report just built is whole, the previous index.html and suite.json stay byte for byte, together."""
    out = tmp_path / "out"
    assert run_build(out, "--format", "json", *only(A)).returncode == 0
    before = snapshot(out)
    argv = with_script(build_argv(out, "--format", "json", "--provider", "neocloud", *only(A)), SIGNAL_IN_INDEX)
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 143 and stderr_lines(proc.stderr) == [
        f"specnb: {cli.STOPPED[signal.SIGTERM]}; reports already written are complete (rerun to finish)"], proc.stderr
    after = snapshot(out)
    assert (after["index.html"], after["suite.json"]) == (before["index.html"], before["suite.json"])
    assert json.loads(after[f"{A}/comparison.json"])["cost"]["provider"] == "neocloud"
    assert not [k for k in after if k.endswith(".tmp")]
    again = run_build(out, "--format", "json", "--provider", "neocloud", *only(A))
    assert again.returncode == 0 and "Nothing to rebuild: 1 report(s) up to date" in again.stdout, again.stderr
    assert entries(out)[A]["options"]["provider"] == "neocloud"  # the next build writes the index it missed


# --- 3. a dying worker or kernel costs one report --------------------------------------------------------------------


@pytest.mark.parametrize("pool", ["local", "dask"])
def test_kill_9_of_a_real_worker(tmp_path, pool):
    """A worker process (``--jobs 2``'s, or a ``--scheduler local:2`` Dask worker) is killed (SIGKILL) while the
    build runs: at most the report it held fails, saying so (on Dask none: its nanny restarts the worker and the
    report runs again); every other report is built, the index is written, no process is left."""
    if pool == "dask":
        pytest.importorskip("distributed")
    out = tmp_path / "out"
    slugs = (A, B, MI, B300)

    def busy(seen):
        workers = [pid for pid, cmd in seen.items() if "spawn_main" in cmd and "resource_tracker" not in cmd]
        return len(workers) >= 2 and any(out.glob("*/.build.json")) and workers

    state: dict = {}

    def ready(seen):
        workers = busy(seen)
        if workers:
            state["victim"] = workers[0]
        return bool(workers)

    import psutil

    where = ["--jobs", "2"] if pool == "local" else ["--scheduler", "local:2"]
    proc = subprocess.Popen(build_argv(out, *where, "--format", "html,json", *only(*slugs)),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen: dict = {}
    while proc.poll() is None and not ready(seen):
        try:
            seen.update({c.pid: " ".join(c.cmdline()) for c in psutil.Process(proc.pid).children(recursive=True)})
        except psutil.Error:
            pass
        time.sleep(0.05)
    assert proc.poll() is None, "the build ended before a worker could be killed"
    os.kill(state["victim"], signal.SIGKILL)
    stdout, stderr = proc.communicate(timeout=600)
    assert proc.returncode in (0, 1) and "Traceback" not in stderr, stderr
    got = entries(out)
    assert sorted(got) == sorted(slugs)
    failed = {s: e["error"] for s, e in got.items() if e["status"] != "ok"}
    assert len(failed) <= (pool == "local") and all("the worker process building it died: killed (SIGKILL, signal 9, "
                                                    "possibly out of memory)" in e for e in failed.values()), failed
    for slug in set(slugs) - set(failed):
        assert valid(out / slug / "report.html") and valid(out / slug / "comparison.json")
    assert valid(out / "index.html")
    time.sleep(3)
    left = running(seen)
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert left == [], [seen[p] for p in left]
    print(f"killed worker {state['victim']}: {stdout.strip()} {failed}")


def test_a_dying_kernel_costs_one_report_and_keeps_its_notebook(tmp_path):
    """A ``--notebook``'s kernel killed (SIGKILL, as the OOM killer does) in the build process's own pool."""
    notebook = notebook_with(tmp_path / "killer.ipynb", "import os, signal", 'if hardware == "b300":',
                             "    os.kill(os.getpid(), signal.SIGKILL)")
    out = tmp_path / "out"
    proc = run_build(out, "--notebook", str(notebook), "--format", "json", "--jobs", "1", *only(A, B300))
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert stderr_lines(proc.stderr)[0] == (f"  FAILED {B300}: WorkerDied: the kernel running it died: killed "
                                            "(SIGKILL, signal 9, possibly out of memory)")
    got = entries(out)
    assert got[A]["status"] == "ok" and got[B300]["failed_notebook"] is True
    kept = json.loads((out / B300 / "failed.ipynb").read_text(encoding="utf-8"))
    assert any("os.kill" in "".join(c["source"]) for c in kept["cells"])
    assert f'href="{B300}/failed.ipynb"' in (out / "index.html").read_text(encoding="utf-8")


def test_a_dask_worker_that_dies_costs_one_report(tmp_path):
    """The report's kernel kills its Dask worker (a LocalCluster worker, restarted by its nanny); with no retry
    allowed, that report fails, saying so, and the other is built."""
    pytest.importorskip("distributed")
    notebook = notebook_with(tmp_path / "killer.ipynb", "import os, signal", 'if hardware == "b300":',
                             "    os.kill(os.getppid(), signal.SIGKILL)  # the Dask worker")
    out = tmp_path / "out"
    proc = run_build(out, "--notebook", str(notebook), "--format", "json", "--scheduler", "local:1", *only(A, B300),
                     env={**os.environ, "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "0"}, timeout=600)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert f"  FAILED {B300}: WorkerDied: the Dask worker running it died each time it was tried" in proc.stderr
    got = entries(out)
    assert got[A]["status"] == "ok" and valid(out / A / "comparison.json")


# --- 4. data that changes during a build ---------------------------------------------------------------------------


def doubled(text: str) -> str:
    """The exported points with MTP's throughput per GPU doubled: other data and ratios, the same configurations."""
    rows = list(csv.DictReader(io.StringIO(text)))
    for row in rows:
        if row["spec_method"] == "mtp":
            row["throughput_per_gpu"] = repr(float(row["throughput_per_gpu"]) * 2)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def same_numbers(a: bytes, b: bytes) -> bool:
    """Two comparison.json files are the same but for where their data file was (its hash is compared)."""
    docs = [json.loads(x) for x in (a, b)]
    for doc in docs:
        for f in doc["provenance"]["files"]:
            f["path"] = Path(f["path"]).name
    return docs[0] == docs[1]


@pytest.fixture(scope="module")
def points(tmp_path_factory):
    """The bundled points as one CSV, the report files a clean build makes of them, and of them doubled."""
    root = tmp_path_factory.mktemp("changing")
    csv = root / "points.csv"
    subprocess.run([sys.executable, "-m", "specnb.cli", "export", "--out", str(csv)], check=True, capture_output=True)
    other = root / "doubled" / "points.csv"
    other.parent.mkdir()
    other.write_text(doubled(csv.read_text(encoding="utf-8")), encoding="utf-8")
    clean = {}
    for name, path in (("original", csv), ("doubled", other)):
        proc = run_build(root / f"clean-{name}", "--data", str(path), "--format", "json", *only(A, MI))
        assert proc.returncode == 0, proc.stderr
        clean[name] = snapshot(root / f"clean-{name}")
    assert clean["original"][f"{A}/comparison.json"] != clean["doubled"][f"{A}/comparison.json"]
    return root, csv, other, clean


REPLACE = ("import shutil, os", 'if hardware == "b200":  # the first report replaces the data file mid-build',
           '    shutil.copyfile(os.environ["SPECNB_TEST_NEW_DATA"], data[0])')
AFTER_PLAN = """
import os, shutil, sys
from specnb import build
from specnb.cli import main
plan = build.plan
def replacing_plan(*args, **kw):  # the data file is replaced right after the build has read it
    result = plan(*args, **kw)
    shutil.copyfile(os.environ["SPECNB_TEST_NEW_DATA"], os.environ["SPECNB_TEST_DATA"])
    return result
build.plan = replacing_plan
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize("notebook", ["own", "user"])
def test_reports_are_computed_from_the_bytes_they_record(tmp_path, points, notebook):
    """The data file is replaced mid-build (by the first report's own notebook, or right after the plan): every
    report equals a clean build of the bytes the build read, and records their hash; the next build sees the
    new data and rebuilds them all."""
    root, original, other, clean = points
    data = tmp_path / "points.csv"
    shutil.copyfile(original, data)
    env = {**os.environ, "SPECNB_TEST_NEW_DATA": str(other), "SPECNB_TEST_DATA": str(data)}
    out = tmp_path / "out"
    argv = build_argv(out, "--data", str(data), "--format", "json", "--jobs", "1", *only(A, MI))
    if notebook == "user":
        argv += ["--notebook", str(notebook_with(tmp_path / "replacing.ipynb", *REPLACE))]
    else:
        argv = with_script(argv, AFTER_PLAN)
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert data.read_bytes() == other.read_bytes(), "the data was replaced during the build"
    for slug in (A, MI):
        assert (out / slug / "comparison.csv").read_bytes() == clean["original"][f"{slug}/comparison.csv"], slug
        assert same_numbers((out / slug / "comparison.json").read_bytes(), clean["original"][f"{slug}/comparison.json"])
        recorded = json.loads((out / slug / "comparison.json").read_text(encoding="utf-8"))["provenance"]["files"]
        assert [f["sha256"] for f in recorded] == [hashlib.sha256(original.read_bytes()).hexdigest()]
    suite_data = json.loads((out / "suite.json").read_text(encoding="utf-8"))["data"]
    assert [f["sha256"] for f in suite_data] == [hashlib.sha256(original.read_bytes()).hexdigest()]
    again = run_build(out, "--data", str(data), "--format", "json", *only(A, MI),
                      *(argv[argv.index("--notebook"):] if notebook == "user" else ()), env=env)
    assert again.returncode == 0 and "Built 2, up to date 0" in again.stdout, again.stdout + again.stderr
    assert same_numbers((out / A / "comparison.json").read_bytes(), clean["doubled"][f"{A}/comparison.json"])


def test_other_formats_of_older_data_are_removed(tmp_path, points):
    """After the data changed, ``--format html`` leaves no comparison.json of the old data beside the new page
    (the index would read its numbers); files of the same inputs in other formats are kept and listed."""
    root, original, other, clean = points
    data = tmp_path / "points.csv"
    shutil.copyfile(original, data)
    out = tmp_path / "out"
    assert run_build(out, "--data", str(data), "--format", "html,json", *only(A)).returncode == 0
    shutil.copyfile(other, data)
    proc = run_build(out, "--data", str(data), "--format", "html", *only(A))
    assert proc.returncode == 0 and "Built 1" in proc.stdout, proc.stderr
    assert sorted(p.name for p in (out / A).iterdir()) == [".build.json", "report.html"]
    assert entries(out)[A]["files"] == ["report.html"]
    index = (out / "index.html").read_text(encoding="utf-8")
    assert f'href="{A}/comparison.json"' not in index
    doubled_mid = json.loads(clean["doubled"][f"{A}/comparison.json"])["targets"][1]
    assert entries(out)[A]["mid"]["ratio"] == doubled_mid["ratio"]
    proc = run_build(out, "--data", str(data), "--format", "json", *only(A))  # same data: the page stays current
    assert proc.returncode == 0 and "Built 1" in proc.stdout, proc.stderr
    assert entries(out)[A]["files"] == ["report.html", "comparison.json", "comparison.csv"]
    assert same_numbers((out / A / "comparison.json").read_bytes(), clean["doubled"][f"{A}/comparison.json"])
    assert f'href="{A}/report.html"' in (out / "index.html").read_text(encoding="utf-8")


# --- 9. an honest index after partial rebuilds ---------------------------------------------------------------------


def test_partial_rebuild_with_other_options_is_shown_per_report(tmp_path):
    out = tmp_path / "out"
    assert run_build(out, "--format", "json", *only(A, MI)).returncode == 0
    other = ("--provider", "neocloud", "--token-type", "output", "--semantics", "inferencex", "--gpu-cost", "b200=3.5")
    proc = run_build(out, "--format", "json", *other, *only(A))
    assert proc.returncode == 0 and "Built 1, up to date 0" in proc.stdout, proc.stderr
    doc = json.loads((out / "suite.json").read_text(encoding="utf-8"))
    assert doc["mixed_options"] == ["provider", "token_type", "semantics", "gpu_cost"]
    assert doc["options"]["cost_table"] == "2026-07" and "provider" not in doc["options"]
    got = {e["slug"]: e["options"] for e in doc["entries"]}
    assert (got[A]["provider"], got[A]["token_type"], got[A]["semantics"], got[A]["gpu_cost"]) == \
        ("neocloud", "output", "inferencex", 3.5)
    assert (got[MI]["provider"], got[MI]["token_type"], got[MI]["semantics"], got[MI]["gpu_cost"]) == \
        ("hyperscaler", "total", "specnb", None)
    comp = json.loads((out / A / "comparison.json").read_text(encoding="utf-8"))
    assert (comp["cost"]["provider"], comp["cost"]["token_type"], comp["semantics"]) == \
        ("neocloud", "output", "inferencex")
    index = (out / "index.html").read_text(encoding="utf-8")
    assert ("mixed options: provider, token type, semantics, gpu cost differ between reports (each row says its "
            "own)") in index
    rows = [html.unescape(r) for r in re.findall(r'class="specnb-options"[^>]*>([^<]*)<', index)]
    assert rows == ["neocloud · output tokens · inferencex semantics · $3.5/GPU-h (--gpu-cost)",
                    "hyperscaler · total tokens · specnb semantics · the table's $/GPU-h"]
    assert run_build(out, "--format", "json", *only(A)).returncode == 0  # back to the suite's options
    doc = json.loads((out / "suite.json").read_text(encoding="utf-8"))
    assert doc["mixed_options"] == [] and doc["options"]["provider"] == "hyperscaler"
    assert "mixed options" not in (out / "index.html").read_text(encoding="utf-8")


def test_a_cost_table_file_edited_between_builds_is_another_table(tmp_path):
    """Reports built with ``--cost-table mine.csv`` before and after it was edited record different tables (the
    file's name and its hash's start), so the index calls the suite mixed instead of naming one table."""
    from specnb import build

    table = tmp_path / "mine.csv"
    seen = []
    for rate in ("2.0", "3.0", "2.0"):
        table.write_text(f"gpu,kw_per_gpu,hyperscaler\nb200,1.5,{rate}\n", encoding="utf-8")
        _, jobs = build.plan(build.BuildOptions(out=tmp_path / "out", only=(A,), cost_table=str(table)))
        seen.append(jobs[0].options["cost_table"])
    digest = hashlib.sha256(table.read_bytes()).hexdigest()[:8]
    assert seen[0] == seen[2] == f"mine.csv ({digest})" != seen[1] and seen[1].startswith("mine.csv (")
    _, jobs = build.plan(build.BuildOptions(out=tmp_path / "out", only=(A,)))
    assert jobs[0].options["cost_table"] == "2026-07"


def test_index_header_and_rows_for_mixed_options():
    """The index's words for each option; a report built before options were recorded says so."""
    base = {"cost_table": "2026-07", "provider": "hyperscaler", "token_type": "total", "semantics": "specnb",
            "percentile": "median", "as_of": None, "targets": None, "gpu_cost": None, "gpu_kw": None}
    cfg = {"model": "dsr1", "hardware": "b200", "precision": "fp4", "isl": 1024, "osl": 1024}
    rows = ({"slug": "x", "config": cfg, "status": "ok", "files": [], "comparison": None,
             "options": {**base, "percentile": "p90", "as_of": "2026-05-01", "targets": [30, 50.5]}},
            {"slug": "y", "config": cfg, "status": "error", "error": "boom", "files": [], "comparison": None})
    s = suite.Suite(None, rows, {k: v for k, v in base.items() if k not in ("percentile", "as_of", "targets")},
                    ("percentile", "as_of", "targets"))
    head = str(suite.header(s))
    assert ("1 report built, 1 failed · cost table 2026-07 · hyperscaler · total tokens · specnb semantics · "
            "mixed options: percentile, as of, targets differ between reports") in head
    shown = re.findall(r'class="specnb-options"[^>]*>([^<]*)<', str(suite.index_table(s)))
    assert shown == ["p90 latencies · data as of 2026-05-01 · targets 30, 50.5",
                     "percentile ? · as of ? · targets ?"]
    uniform = suite.Suite(None, rows[:1], rows[0]["options"])
    assert "p90 latencies · data as of 2026-05-01 · targets 30, 50.5" in str(suite.header(uniform))
    assert "specnb-options" not in str(suite.index_table(uniform))


# --- 10. custom notebooks ------------------------------------------------------------------------------------------


def test_timeout_per_cell(tmp_path):
    notebook = notebook_with(tmp_path / "sleepy.ipynb", *SLEEPY)
    out = tmp_path / "out"
    proc = run_build(out, "--notebook", str(notebook), "--format", "json", "--jobs", "1", "--timeout", "30",
                     *only(A, B300))
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert stderr_lines(proc.stderr)[0] == f"  FAILED {B300}: BuildError: a cell ran longer than 30 s (--timeout)"
    got = entries(out)
    assert got[A]["status"] == "ok" and got[B300]["failed_notebook"] is True
    kept = json.loads((out / B300 / "failed.ipynb").read_text(encoding="utf-8"))
    assert any("time.sleep(600)" in "".join(c["source"]) for c in kept["cells"])


@pytest.mark.parametrize("value", ["0", "-5", "nan", "inf"])
def test_bad_timeout_is_one_line(capsys, tmp_path, value):
    code, out, err = cli_main(capsys, "build", "--out", str(tmp_path), "--timeout", value, "--only", A)
    assert (code, out) == (2, "") and len(err) == 1 and err[0].startswith(f"specnb: error: --timeout {value}"), err


def test_notebook_deleting_output_files_leaves_no_dead_link(tmp_path):
    """The second report's notebook deletes the first report's page: the summary and the index list that report
    as failed and link no missing file; the next build rebuilds it."""
    out = tmp_path / "out"
    notebook = notebook_with(tmp_path / "deleting.ipynb", "import os", 'if hardware == "mi355x":',
                             f'    os.remove({str(out / A / "report.html")!r})')
    proc = run_build(out, "--notebook", str(notebook), "--format", "html", "--jobs", "1", *only(A, MI))
    assert proc.returncode == 1 and proc.stdout.startswith("Built 1, up to date 0, failed 1 "), proc.stdout
    assert stderr_lines(proc.stderr) == [
        f"  FAILED {A}: report.html removed after it was built; the next build rebuilds it",
        f"specnb: error: 1 configuration(s) failed: {A}"]
    assert not (out / A / "report.html").exists()
    got = entries(out)
    assert got[A]["status"] == "error" and got[A]["files"] == []
    assert got[A]["error"] == "report.html removed after it was built; the next build rebuilds it"
    index = (out / "index.html").read_text(encoding="utf-8")
    links = re.findall(r'href="([\w.-]+/[\w.-]+)"', index)
    assert links == [f"{MI}/report.html"], links
    again = run_build(out, "--notebook", str(notebook), "--format", "html", "--jobs", "1", *only(A))  # same inputs
    assert again.returncode == 0 and "Built 1" in again.stdout, again.stderr
    assert valid(out / A / "report.html") and entries(out)[A]["status"] == "ok"


# --- known bug (a): a code-only change rebuilt every report but left the old index -----------------------------------


CODE_CHANGED = """
import sys
from specnb import build
from specnb.cli import main
build._code_digest = lambda: "specnb's code as after an upgrade"
sys.exit(main(sys.argv[1:]))
"""


def test_code_change_rewrites_the_index(tmp_path):
    out = tmp_path / "out"
    assert run_build(out, "--format", "json", *only(A)).returncode == 0
    index = (out / "index.html").stat().st_mtime_ns
    argv = with_script(build_argv(out, "--format", "json", *only(A)), CODE_CHANGED)
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0 and "Built 1, up to date 0" in proc.stdout, proc.stderr
    assert (out / "suite.json").exists() and (out / "index.html").stat().st_mtime_ns != index


def test_every_file_of_specnb_and_its_renderers_versions_make_reports_stale(tmp_path, monkeypatch):
    """Not only .py/.j2/.css/.json/.csv: the charts' script (.js) embedded in every page, a notebook, specnb's
    version, and the version of a library that renders reports each change the digest the reports are kept by."""
    from importlib import metadata

    from specnb import build, resources

    package, notebooks = tmp_path / "specnb", tmp_path / "notebooks"
    shutil.copytree(resources.PACKAGE, package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(resources.NOTEBOOKS, notebooks)
    digests = [build._code_digest(package, notebooks)]
    assert digests[0] == build._code_digest(resources.PACKAGE, resources.NOTEBOOKS)
    js = package / "templates" / "specnb_html" / "static" / "specnb-charts.js"
    for path, edit in ((js, "// changed\n"), (notebooks / "report.ipynb", " "), (package / "__init__.py", "#\n")):
        path.write_text(path.read_text(encoding="utf-8") + edit, encoding="utf-8")
        digests.append(build._code_digest(package, notebooks))
    real = metadata.version
    monkeypatch.setattr(metadata, "version", lambda name: "99.0" if name == "nbconvert" else real(name))
    digests.append(build._code_digest(package, notebooks))
    assert len(set(digests)) == len(digests) == 5
