"""Helpers for tests that run real ``specnb build`` subprocesses: the command, report notebooks with one more cell,
complete-file checks, and every process a build started (to find any it left running)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPORT_NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "report.ipynb"
FOOTER_START = '<footer class="specnb-run-metadata"'


def build_argv(out, *args) -> list[str]:
    return [sys.executable, "-m", "specnb.cli", "build", "--no-progress", "--out", str(out), *args]


def run_build(out, *args, timeout=300, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(build_argv(out, *args), capture_output=True, text=True, timeout=timeout, **kw)


def only(*slugs) -> list[str]:
    return [a for s in slugs for a in ("--only", s)]


def notebook_with(path: Path, *source: str) -> Path:
    """notebooks/report.ipynb plus, right after the parameters, a cell of ``source`` lines (a user's notebook)."""
    nb = json.loads(REPORT_NOTEBOOK.read_text(encoding="utf-8"))
    at = next(i for i, c in enumerate(nb["cells"]) if "parameters" in c.get("metadata", {}).get("tags", [])) + 1
    nb["cells"].insert(at, {"cell_type": "code", "id": "test-cell", "metadata": {}, "execution_count": None,
                            "outputs": [], "source": [line + "\n" for line in source]})
    path.write_text(json.dumps(nb, indent=1), encoding="utf-8")
    return path


def valid(path: Path) -> bool:
    """A complete output file (what a reader could be shown), judged by its kind."""
    blob = path.read_bytes()
    if path.suffix == ".html":
        return blob.rstrip().endswith(b"</html>")
    if path.suffix in (".json", ".ipynb"):
        json.loads(blob)
        return True
    if path.suffix == ".csv":
        return blob.startswith(b"model,") or blob == b"\n"
    if path.suffix == ".pdf":
        import pypdf

        return len(pypdf.PdfReader(io.BytesIO(blob)).pages) > 0
    return True


def snapshot(out: Path) -> dict:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}


def stderr_lines(stderr: str) -> list[str]:
    """What the user reads on stderr, without kernels' and Dask's log lines and timings."""
    return [ln for ln in stderr.splitlines() if ln.strip() and not ln.startswith(("[IPKernelApp]", "[specnb timing]"))
            and " - distributed." not in ln and "Kernel died while waiting" not in ln and "Timeout waiting" not in ln]


def running(pids) -> list[int]:
    import psutil

    alive = []
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                alive.append(pid)
        except psutil.NoSuchProcess:
            pass
    return alive


def signalled(argv, sig: int, ready, *, timeout=240, grace=5.0, env=None) -> dict:
    """Start ``argv``; once ``ready(descendants)`` is true, send ``sig`` to that process alone. Returns its exit
    code and output, every process it started (workers, kernels, Dask's), and those still running ``grace``
    seconds after it ended (each then ended by pid, so no test leaves one behind)."""
    import psutil

    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    me, seen = psutil.Process(proc.pid), {}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            for child in me.children(recursive=True):
                seen.setdefault(child.pid, " ".join(child.cmdline()))
        except psutil.Error:
            pass
        if ready(seen):
            break
        time.sleep(0.05)
    assert proc.poll() is None, f"the build ended before it could be signalled: {proc.communicate()[1][-2000:]}"
    os.kill(proc.pid, sig)
    stdout, stderr = proc.communicate(timeout=120)
    ended = time.monotonic()
    alive = running(seen)
    while alive and time.monotonic() < ended + grace:
        time.sleep(0.1)
        alive = running(alive)
    for pid in alive:
        try:
            os.kill(pid, 9)
        except ProcessLookupError:
            pass
    return {"code": proc.returncode, "stdout": stdout, "stderr": stderr, "children": seen, "left": alive}


def kernel(seen: dict) -> bool:
    """Some process the build started is a Jupyter kernel."""
    return any("ipykernel" in cmd for cmd in seen.values())
