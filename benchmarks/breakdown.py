"""Where a report's time goes: CLI start-up and imports, kernel start, warm execute, export.

Run: ``.venv/bin/python benchmarks/breakdown.py [--n 4]`` (or ``bench_build.py --breakdown``).
Each figure is one measurement (wall seconds) on this machine, so read them next to the load average.
Subprocess figures start a fresh interpreter; the in-process ones use ``specnb.kernels.KernelPool``
exactly as ``specnb build`` does (same startup code), with a fresh ``SPECNB_CACHE``.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))


def timed_cmd(cmd: list[str], env: dict | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, env=env, cwd=ROOT)
    return time.perf_counter() - start


def breakdown(workdir: Path, slugs: list[str]) -> dict:
    workdir.mkdir(parents=True, exist_ok=True)
    cache = workdir / "cache"
    cache.mkdir(exist_ok=True)
    os.environ["SPECNB_CACHE"] = str(cache)  # cold Vega bundle for the first export below

    from specnb import build

    py = sys.executable
    r: dict[str, float] = {}
    r["python -c pass"] = timed_cmd([py, "-c", "pass"])
    r["python -c 'import papermill' (papermill CLI imports)"] = timed_cmd([py, "-c", "import papermill"])
    r["jupyter nbconvert --version (nbconvert CLI start)"] = timed_cmd([str(BIN / "jupyter"), "nbconvert",
                                                                       "--version"])
    r["report imports in a fresh python (KERNEL_STARTUP)"] = timed_cmd([py, "-c", build.KERNEL_STARTUP])
    r["  same, rfc3987_syntax blocked"] = timed_cmd(
        [py, "-c", "import sys; sys.modules['rfc3987_syntax'] = None\n" + build.KERNEL_STARTUP])
    r["specnb --help (specnb CLI start)"] = timed_cmd([str(BIN / "specnb"), "--help"])

    # A bare kernel: start + ready, no imports.
    from jupyter_client import KernelManager

    start = time.perf_counter()
    km = KernelManager(kernel_name="python3")
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=60)
    r["bare kernel start to ready"] = time.perf_counter() - start
    kc.stop_channels()
    km.shutdown_kernel(now=True)

    # specnb's warm path, one kernel.
    jobs = {j.slug: j for j in build.plan(build.BuildOptions(out=workdir / "out", formats=("html",)))[1]}
    meta = build.run_metadata()
    start = time.perf_counter()
    pool = build.make_pool(1, ROOT)
    pool.wait_ready()
    r["specnb pool: kernel start + startup imports (1 kernel)"] = time.perf_counter() - start
    from specnb import export

    try:
        for i, slug in enumerate(slugs):
            start = time.perf_counter()
            nb = pool.execute(str(build.REPORT_NOTEBOOK), {**jobs[slug].params, "run_metadata": meta})
            r[f"warm execute #{i + 1} ({slug})"] = time.perf_counter() - start
            view = build.strip_machine_outputs(nb)
            start = time.perf_counter()
            export.export_html(view)
            r[f"export_html #{i + 1}" + (" (cold: exporter + Vega bundle)" if i == 0 else "")] = (
                time.perf_counter() - start)
            if i < 2:
                start = time.perf_counter()
                export.export_pdf(view)
                r[f"export_pdf #{i + 1}" + (" (cold)" if i == 0 else "")] = time.perf_counter() - start
    finally:
        pool.close()

    # One report alone takes the in-process path (specnb.inprocess): its phases, as the build reports them.
    for formats in ("html", "html,pdf,json"):
        out = workdir / f"single-{formats.replace(',', '-')}"
        start = time.perf_counter()
        proc = subprocess.run([str(BIN / "specnb"), "build", "--no-progress", "--out", str(out), "--format", formats,
                               "--only", slugs[0]], capture_output=True, text=True, check=True, cwd=ROOT,
                              env={**os.environ, "SPECNB_TIMINGS": "1"})
        wall = time.perf_counter() - start
        for phase, seconds in re.findall(r"\[specnb timing\] (.+?): ([0-9.]+) s", proc.stderr):
            r[f"single {formats}: {phase}"] = float(seconds)
        r[f"single {formats}: wall (incl. start and exit)"] = wall
    return r


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=4, help="reports executed on the warm kernel")
    args = ap.parse_args()
    from specnb import build

    slugs = [j.slug for j in build.plan(build.BuildOptions(out=Path(tempfile.mkdtemp()), formats=("html",)))[1]]
    with tempfile.TemporaryDirectory(prefix="specnb-breakdown-") as tmp:
        res = breakdown(Path(tmp), slugs[: args.n])
    print(f"load average {os.getloadavg()}")
    for k, v in res.items():
        print(f"  {k:58} {v:8.3f}")


if __name__ == "__main__":
    main()
