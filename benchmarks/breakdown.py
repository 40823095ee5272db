"""Where a report's time goes: CLI start-up and imports, a worker's warm-up, execute, HTML and PDF.

Run: ``.venv/bin/python benchmarks/breakdown.py [--n 4]`` (or ``bench_build.py --breakdown``).
Each figure is one measurement (wall seconds) on this machine, so read them next to the load average.
Subprocess figures start a fresh interpreter; the in-process ones run ``specnb.workers`` exactly as a
build worker does (``warm_up``, then ``run``'s steps), with a fresh ``SPECNB_CACHE``. The PDF is split into
its parts: the charts' SVG (vl-convert), the HTML (nbconvert), WeasyPrint's layout and its drawing/writing.
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

    from specnb import build, workers

    py = sys.executable
    r: dict[str, float] = {}
    r["python -c pass"] = timed_cmd([py, "-c", "pass"])
    r["python -c 'import papermill' (papermill CLI imports)"] = timed_cmd([py, "-c", "import papermill"])
    r["jupyter nbconvert --version (nbconvert CLI start)"] = timed_cmd([str(BIN / "jupyter"), "nbconvert",
                                                                       "--version"])
    startup = "import " + ", ".join(workers.STARTUP)
    r["report imports in a fresh python (workers.STARTUP)"] = timed_cmd([py, "-c", startup])
    r["  same, rfc3987_syntax blocked"] = timed_cmd([py, "-c", "import sys; sys.modules['rfc3987_syntax'] = None\n"
                                                     + startup])
    r["specnb --help (specnb CLI start)"] = timed_cmd([str(BIN / "specnb"), "--help"])
    for formats in (("html",), ("html", "pdf")):
        r[f"worker start + warm_up{formats} in a fresh python"] = timed_cmd(
            [py, "-c", f"from specnb import workers; workers.warm_up({formats!r})"])

    # A warm worker's steps, report by report.
    import pickle

    import weasyprint

    from specnb import export, inprocess
    from specnb.data import pinned

    dataset, jobs = build.plan(build.BuildOptions(out=workdir / "out", formats=("html",)))
    jobs = {j.slug: j for j in jobs}
    rows = build.rows_of(dataset)
    start = time.perf_counter()
    workers.warm_up(("html", "pdf"))
    r["warm_up(html, pdf) in this process"] = time.perf_counter() - start
    pdf = export.SpecnbPDFExporter()
    svg = export._chart_svg
    for i, slug in enumerate(slugs):
        job = jobs[slug]
        start = time.perf_counter()
        with pinned(pickle.loads(rows(job.config)), job.params["data"], job.params["meta"]):
            nb = inprocess.execute(workers.REPORT_NOTEBOOK, {**job.params, "run_metadata": build.run_metadata()})
        r[f"execute #{i + 1} ({slug})"] = time.perf_counter() - start
        workers.take_machine_outputs(nb)
        view = workers.stable_cell_ids(nb)
        start = time.perf_counter()
        export.export_html(view)
        r[f"  HTML #{i + 1}"] = time.perf_counter() - start
        spent = [0.0]

        def timed_svg(*a, spent=spent):
            t = time.perf_counter()
            out = svg(*a)
            spent[0] += time.perf_counter() - t
            return out

        export._chart_svg = timed_svg
        start = time.perf_counter()
        html, _ = export.SpecnbHTMLExporter.from_notebook_node(pdf, view)
        mid = time.perf_counter()
        export._chart_svg = svg
        document = weasyprint.HTML(string=html, url_fetcher=weasyprint.URLFetcher(allowed_protocols={"data"})).render()
        laid = time.perf_counter()
        document.write_pdf()
        end = time.perf_counter()
        r[f"  PDF #{i + 1}: charts to SVG (vl-convert)"] = spent[0]
        r[f"  PDF #{i + 1}: HTML for print (nbconvert)"] = mid - start - spent[0]
        r[f"  PDF #{i + 1}: layout (WeasyPrint)"] = laid - mid
        r[f"  PDF #{i + 1}: draw + write (WeasyPrint)"] = end - laid

    # One report alone runs in the build process: its phases, as the build reports them.
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
    ap.add_argument("--n", type=int, default=4, help="reports executed by the warm worker")
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
