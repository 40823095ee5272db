"""``specnb build --scheduler`` on a real Dask cluster: a scheduler and two worker processes on 127.0.0.1.

The reports built on the cluster equal a local build's (``comparison.json``/``.csv`` byte for byte, HTML apart
from the run-metadata footer); a worker killed mid-build costs nothing written: every report ends built or
recorded as failed, no file is torn, and the index is written.
"""

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("distributed")
pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent
SLUGS = ("dsr1-b200-fp4-1k1k", "dsr1-mi355x-fp8-8k1k", "dsr1-b200-fp8-1k8k")
MORE = ("dsr1-b200-fp4-1k8k", "dsr1-b200-fp4-8k1k", "dsr1-b200-fp8-1k1k", "dsr1-b200-fp8-8k1k",
        "dsr1-mi355x-fp8-1k1k", "dsr1-mi355x-fp8-1k8k")
FOOTER = re.compile(r'<footer class="specnb-run-metadata"[^>]*>.*?</footer>', re.S)


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A ``dask scheduler`` and two ``dask worker`` processes (one thread, no nanny) on 127.0.0.1."""
    root = tmp_path_factory.mktemp("cluster")
    sched_file = root / "scheduler.json"
    procs = [subprocess.Popen([str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", "0",
                               "--no-dashboard", "--scheduler-file", str(sched_file)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    wait_for(lambda: sched_file.exists() and sched_file.stat().st_size > 0, 60, "the scheduler file")
    address = json.loads(sched_file.read_text())["address"]
    assert address.startswith("tcp://127.0.0.1:")
    for _ in range(2):
        procs.append(subprocess.Popen([str(BIN / "dask"), "worker", address, "--host", "127.0.0.1",
                                       "--nthreads", "1", "--no-nanny", "--no-dashboard"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    from distributed import Client

    with Client(address, timeout="30s") as client:
        client.wait_for_workers(2, timeout=120)
    yield {"address": address, "file": sched_file, "workers": procs[1:], "root": root}
    for proc in procs[::-1]:
        proc.terminate()
    for proc in procs:
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()


def build(out: Path, *args, timeout=600):
    return subprocess.run([str(BIN / "specnb"), "build", "--no-progress", "--out", str(out), *args],
                          capture_output=True, text=True, timeout=timeout, env={**os.environ, "SPECNB_TIMINGS": "1"})


def only(slugs):
    return [a for s in slugs for a in ("--only", s)]


@pytest.fixture(scope="module")
def both(cluster):
    root = cluster["root"]
    dask = build(root / "dask", "--scheduler", str(cluster["file"]), "--format", "html,json", *only(SLUGS))
    local = build(root / "local", "--jobs", "1", "--format", "html,json", *only(SLUGS))
    return root / "dask", dask, root / "local", local


def test_build_through_the_scheduler(both):
    out, proc, _, _ = both
    assert proc.returncode == 0, proc.stderr
    assert "(DaskPool)" in proc.stderr and f"Built {len(SLUGS)}, up to date 0, failed 0" in proc.stdout
    suite = json.loads((out / "suite.json").read_text())
    assert [e["status"] for e in suite["entries"]] == ["ok"] * len(SLUGS)
    assert all(f'href="{s}/report.html"' in (out / "index.html").read_text() for s in SLUGS)


@pytest.mark.parametrize("slug", SLUGS)
def test_cluster_files_equal_a_local_build(both, slug):
    dask, dproc, local, lproc = both
    assert dproc.returncode == 0 and lproc.returncode == 0, dproc.stderr + lproc.stderr
    for name in ("comparison.json", "comparison.csv"):
        assert (dask / slug / name).read_bytes() == (local / slug / name).read_bytes(), name
    pages = [FOOTER.sub("", (d / slug / "report.html").read_text(encoding="utf-8")) for d in (dask, local)]
    assert pages[0] == pages[1]
    entries = [json.loads((d / slug / ".build.json").read_text())["entry"] for d in (dask, local)]
    assert entries[0] == entries[1]


def test_tcp_address_and_no_op_rebuild(both, cluster):
    """The scheduler's address works as well as its file; an up-to-date suite runs nothing."""
    out = both[0]
    proc = build(out, "--scheduler", cluster["address"], "--format", "html,json", *only(SLUGS))
    assert proc.returncode == 0, proc.stderr
    assert f"Nothing to rebuild: {len(SLUGS)} report(s) up to date" in proc.stdout


def test_unreachable_scheduler_is_one_line(tmp_path):
    proc = build(tmp_path, "--scheduler", "tcp://127.0.0.1:9", "--only", SLUGS[0], timeout=120)
    assert proc.returncode == 2
    err = [ln for ln in proc.stderr.splitlines() if ln.strip() and not ln.startswith("[specnb timing]")]
    assert len(err) == 1 and err[0].startswith("specnb: error: --scheduler tcp://127.0.0.1:9: cannot reach"), err


def test_killing_a_worker_mid_build_loses_nothing(cluster, both):
    """Runs last: one of the two workers is killed (SIGKILL) while the build runs."""
    out = cluster["root"] / "killed"
    slugs = SLUGS + MORE
    proc = subprocess.Popen([str(BIN / "specnb"), "build", "--no-progress", "--out", str(out), "--scheduler",
                             cluster["address"], "--format", "html,json", *only(slugs)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for(lambda: proc.poll() is not None or list(out.glob("*/.build.json")), 300, "the first report")
    assert proc.poll() is None, "the build finished before a worker could be killed"
    victim = cluster["workers"][0]
    os.kill(victim.pid, signal.SIGKILL)
    stdout, stderr = proc.communicate(timeout=600)
    assert proc.returncode in (0, 1), stderr
    assert "Traceback" not in stderr, stderr
    suite = json.loads((out / "suite.json").read_text())
    statuses = {e["slug"]: e["status"] for e in suite["entries"]}
    assert sorted(statuses) == sorted(slugs)  # every report is built or recorded as failed
    for slug, status in statuses.items():
        if status == "ok":
            html = (out / slug / "report.html").read_text(encoding="utf-8")
            assert html.rstrip().endswith("</html>")
            json.loads((out / slug / "comparison.json").read_text())
    assert not list(out.rglob("*.tmp")), "a partial file was left behind"
    assert (out / "index.html").read_text(encoding="utf-8").rstrip().endswith("</html>")
    print(f"after the kill: {sum(s == 'ok' for s in statuses.values())} built, "
          f"{sum(s != 'ok' for s in statuses.values())} failed; {stdout.strip()}")
