"""Suite build speed: the naive papermill + nbconvert loop vs ``specnb build`` vs an in-process floor.

Run: ``make bench`` (= ``.venv/bin/python benchmarks/bench_build.py``).
Options: ``--n N`` configurations for specnb and the floor (default: all of the bundled suite),
``--naive-n K`` configurations for the naive loop (default 8; reported per report), ``--quick``
(smoke run: N=3, K=1), ``--json PATH`` (also write every figure), ``--breakdown`` (also time the
parts: CLI imports, kernel start, warm execute, export; see ``breakdown.py``).

Every measurement writes into a fresh temporary output folder with fresh kernels ("cold": no previous
reports, nothing warm). The offline Vega bundle is part of the installation (``make`` writes it into
``.venv/share/specnb`` once, 2.2 s), so it is not rebuilt per run; set ``BENCH_EMPTY_CACHE=1`` to also
measure with an empty bundle cache. Peak memory is the peak total RSS of
the measured process tree (the process and all its descendants, e.g. kernels), sampled every 50 ms.
Rows:

naive            per configuration: ``papermill`` CLI, then ``jupyter nbconvert --to html`` CLI (sequential)
specnb html      ``specnb build --format html`` on the N configurations, cold, default ``--jobs`` (local pool)
specnb html,pdf  the same with ``--format html,pdf,json`` (the default formats), cold
... local:2      the same two rows with ``--scheduler local:2`` (a 2-worker Dask LocalCluster)
synthetic K      ``--format html`` on K configurations: the bundled ones copied under new model names
                 (``synthetic.py``), local pool and LocalCluster; K = 340, and 3,400 with ``--scale``
single cold      ``specnb build --format html --only ONE`` cold (target: at most 3 s wall); also with default formats;
                 each the median of ``--single-runs`` (5) cold runs
floor            one process, no kernel: compare(), three charts' Vega-Lite dicts, table HTML, narrative, to_dict()
no-op            the html build again, unchanged ("Nothing to rebuild")
incremental      the html build again with ``--gpu-cost b200=2.0`` (ideally only b200 reports rebuild)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
NOTEBOOK = ROOT / "notebooks" / "report.ipynb"
sys.path.insert(0, str(ROOT))

INCREMENTAL_GPU, INCREMENTAL_COST = "b200", 2.0


# ---------------------------------------------------------------------------------------------- utils


class TreeSampler:
    """Peak total RSS (bytes) of a process and all its descendants, sampled every ``interval`` s."""

    def __init__(self, pid: int, interval: float = 0.05):
        self.proc = psutil.Process(pid)
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def sample(self) -> int:
        total = 0
        try:
            procs = [self.proc, *self.proc.children(recursive=True)]
        except psutil.Error:
            return 0
        for p in procs:
            try:
                total += p.memory_info().rss
            except psutil.Error:
                pass
        return total

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, self.sample())
            self._stop.wait(self.interval)

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak


def run_tree(cmd: list[str], *, env: dict | None = None, cwd: Path = ROOT) -> dict:
    """Run ``cmd``; wall seconds, peak tree RSS (MB), return code, output."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sampler = TreeSampler(proc.pid)
    out, err = proc.communicate()
    wall = time.perf_counter() - start
    peak = sampler.stop()
    if proc.returncode != 0:
        sys.stderr.write(f"command failed ({proc.returncode}): {' '.join(cmd)}\n{out}\n{err}\n")
    return {"wall": wall, "peak_mb": peak / 2**20, "rc": proc.returncode, "stdout": out, "stderr": err}


def machine_info() -> dict:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    vm = psutil.virtual_memory()
    return {"cpus": os.cpu_count(), "cpu_model": model, "memory_gb": round(vm.total / 2**30, 1),
            "available_gb_at_start": round(vm.available / 2**30, 1), "python": platform.python_version(),
            "platform": platform.platform(), "loadavg_start": [round(x, 2) for x in os.getloadavg()]}


def source_state() -> dict:
    """The commit, whether the tree is dirty, and specnb's code digest (what ``specnb build`` hashes)."""
    from specnb import build

    def git(*a):
        try:
            return subprocess.run(["git", *a], cwd=ROOT, capture_output=True, text=True).stdout.strip()
        except OSError:
            return ""

    return {"commit": git("rev-parse", "--short", "HEAD"), "dirty": sorted(git("status", "--short").splitlines()),
            "code_digest": build._code_digest()[:16]}


def versions() -> dict:
    import importlib.metadata as md

    return {p: md.version(p) for p in ("specnb", "papermill", "nbclient", "nbconvert", "ipykernel", "altair",
                                         "vl-convert-python", "weasyprint", "pandas")}


def spread(items: list, n: int) -> list:
    """``n`` items evenly spread over ``items`` (all of them when n >= len)."""
    if n >= len(items):
        return list(items)
    step = len(items) / n
    return [items[int(i * step)] for i in range(n)]


def plan_jobs() -> list:
    from specnb import build

    with tempfile.TemporaryDirectory() as tmp:
        _, jobs = build.plan(build.BuildOptions(out=Path(tmp), formats=("html",)))
    return jobs


def papermill_args(params: dict) -> list[str]:
    """Parameters as a papermill CLI user would pass them (see ``specnb.build.papermill_cli_args``)."""
    from specnb.build import papermill_cli_args

    return papermill_cli_args(params)


def build_cmd(out: Path, *extra: str) -> list[str]:
    return [str(BIN / "specnb"), "build", "--out", str(out), "--no-progress", *extra]


def only_args(slugs: list[str], all_slugs: list[str]) -> list[str]:
    if sorted(slugs) == sorted(all_slugs):
        return []
    return [a for s in slugs for a in ("--only", s)]


def built_count(stdout: str) -> tuple[int | None, int | None]:
    m = re.search(r"Built (\d+), up to date (\d+)", stdout)
    if m:
        return int(m.group(1)), int(m.group(2))
    m = re.search(r"Nothing to rebuild: (\d+)", stdout)
    if m:
        return 0, int(m.group(1))
    return None, None


# ---------------------------------------------------------------------------------------------- floor


def floor_worker(slugs: list[str]) -> dict:
    """Runs in its own process (``--floor-worker``): everything a report computes, without kernels."""
    t0 = time.perf_counter()
    from specnb import build

    build.block_slow_imports()  # the workers do the same
    import altair  # noqa: F401

    import specnb
    from specnb import charts, table
    from specnb.report import comparison_csv_text, comparison_json_text

    t1 = time.perf_counter()
    dataset = specnb.load()
    t2 = time.perf_counter()
    jobs = {j.slug: j for j in plan_jobs()}
    per = []
    for slug in slugs:
        p = jobs[slug].params
        s = time.perf_counter()
        c = specnb.compare(p["model"], p["hardware"], p["precision"], p["sequence"], data=dataset,
                           targets=p["targets"], cost_table=p["cost_table"], provider=p["provider"],
                           token_type=p["token_type"], semantics=p["semantics"], gpu_cost=p["gpu_cost"],
                           gpu_kw=p["gpu_kw"])
        for fn in (charts.chart_throughput, charts.chart_cost, charts.chart_ratio):
            fn(c).to_dict()
        table.comparison_html(c, include_css=True)
        c.narrative()
        c.to_dict()
        comparison_json_text(c)
        comparison_csv_text(c)
        per.append(time.perf_counter() - s)
    return {"imports": t1 - t0, "load": t2 - t1, "per_report": per, "total": sum(per)}


def run_floor(slugs: list[str]) -> dict:
    r = run_tree([sys.executable, __file__, "--floor-worker", ",".join(slugs)])
    data = json.loads(r["stdout"].strip().splitlines()[-1])
    return {**data, "wall": r["wall"], "peak_mb": r["peak_mb"]}


# ---------------------------------------------------------------------------------------------- naive


def run_naive(jobs: list, meta: dict, workdir: Path) -> dict:
    rows = []
    for job in jobs:
        d = workdir / job.slug
        d.mkdir(parents=True)
        params = {**job.params, "run_metadata": meta}
        pm = run_tree([str(BIN / "papermill"), str(NOTEBOOK), str(d / "report.ipynb"), "--no-progress-bar",
                       *papermill_args(params)], cwd=d)
        nbc = run_tree([str(BIN / "jupyter"), "nbconvert", "--to", "html", str(d / "report.ipynb")], cwd=d)
        ok = pm["rc"] == 0 and nbc["rc"] == 0 and (d / "report.html").is_file()
        rows.append({"slug": job.slug, "papermill_s": pm["wall"], "nbconvert_s": nbc["wall"],
                     "papermill_peak_mb": pm["peak_mb"], "nbconvert_peak_mb": nbc["peak_mb"], "ok": ok})
        print(f"  naive {job.slug}: papermill {pm['wall']:.1f} s + nbconvert {nbc['wall']:.1f} s", flush=True)
    wall = sum(r["papermill_s"] + r["nbconvert_s"] for r in rows)
    return {"n": len(rows), "wall": wall, "per_report": wall / max(1, len(rows)),
            "papermill_per_report": sum(r["papermill_s"] for r in rows) / max(1, len(rows)),
            "nbconvert_per_report": sum(r["nbconvert_s"] for r in rows) / max(1, len(rows)),
            "peak_mb": max(r["papermill_peak_mb"] for r in rows),
            "nbconvert_peak_mb": max(r["nbconvert_peak_mb"] for r in rows),
            "ok": all(r["ok"] for r in rows), "runs": rows}


# ----------------------------------------------------------------------------------------------- main


def main() -> int:
    ap = argparse.ArgumentParser(description="suite build speed: naive loop vs specnb build vs floor")
    ap.add_argument("--n", type=int, default=0, help="configurations for specnb and the floor (default: all)")
    ap.add_argument("--naive-n", type=int, default=8, help="configurations for the naive loop (default 8)")
    ap.add_argument("--quick", action="store_true", help="smoke run: --n 3 --naive-n 1")
    ap.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    ap.add_argument("--breakdown", action="store_true", help="also time the parts (benchmarks/breakdown.py)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folders (printed)")
    ap.add_argument("--single-runs", type=int, default=5, help="cold runs of each single-report row (median)")
    ap.add_argument("--scale", action="store_true", help="also the 3,400-configuration synthetic suite")
    ap.add_argument("--scale-subset", action="store_true",
                    help="with --scale, build only the first 10 copies' reports (340) of the 3,400 configurations")
    ap.add_argument("--floor-worker", help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.floor_worker is not None:
        print(json.dumps(floor_worker(args.floor_worker.split(","))))
        return 0
    if args.quick:
        args.n, args.naive_n = args.n or 3, min(args.naive_n, 1)

    from specnb import build

    info = machine_info()
    jobs = plan_jobs()
    all_slugs = [j.slug for j in jobs]
    chosen = spread(jobs, args.n or len(jobs))
    slugs = [j.slug for j in chosen]
    naive_jobs = spread(chosen, args.naive_n)
    n = len(slugs)
    meta = build.run_metadata()
    gpu_slugs = [s for s in slugs if s.split("-")[1] == INCREMENTAL_GPU]
    print(f"machine: {info['cpus']} CPU ({info['cpu_model']}), {info['memory_gb']} GB, Python {info['python']}, "
          f"load average {info['loadavg_start']}", flush=True)
    print(f"specnb/floor: {n} configurations; naive: {len(naive_jobs)} ({', '.join(j.slug for j in naive_jobs)})",
          flush=True)

    tmp = Path(tempfile.mkdtemp(prefix="specnb-bench-"))
    results: dict = {"machine": info, "versions": versions(), "n": n, "naive_n": len(naive_jobs), "slugs": slugs,
                     "source_start": source_state()}

    def cold_env(name: str) -> dict:
        env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
        env.pop("SPECNB_CACHE", None)
        if os.environ.get("BENCH_EMPTY_CACHE") == "1":
            cache = tmp / f"cache-{name}"
            shutil.rmtree(cache, ignore_errors=True)
            cache.mkdir()
            env["SPECNB_CACHE"] = str(cache)
        return env

    def specnb_row(label: str, out: Path, env: dict, extra: list[str], count: int) -> dict:
        print(f"  {label} ...", flush=True)
        r = run_tree(build_cmd(out, *extra), env=env)
        built, fresh = built_count(r["stdout"])
        row = {"label": label, "n": count, "wall": r["wall"], "per_report": r["wall"] / max(1, count),
               "peak_mb": r["peak_mb"], "rc": r["rc"], "built": built, "up_to_date": fresh,
               "stdout": r["stdout"].strip()}
        print(f"    {r['wall']:.1f} s, peak {r['peak_mb']:.0f} MB: {row['stdout']}", flush=True)
        return row

    try:
        only = only_args(slugs, all_slugs)
        # 1. specnb html, cold; then no-op and incremental on the same output folder.
        env_html = cold_env("html")
        out_html = tmp / "specnb-html"
        results["specnb_html"] = specnb_row("specnb html (cold)", out_html, env_html,
                                            ["--format", "html", *only], n)
        results["noop"] = specnb_row("no-op rebuild", out_html, env_html, ["--format", "html", *only], n)
        inc = specnb_row(f"incremental (--gpu-cost {INCREMENTAL_GPU}={INCREMENTAL_COST})", out_html, env_html,
                         ["--format", "html", "--gpu-cost", f"{INCREMENTAL_GPU}={INCREMENTAL_COST}", *only], n)
        inc["expected_rebuilt"] = len(gpu_slugs)
        inc["per_report"] = inc["wall"] / max(1, inc["built"] or 1)
        results["incremental"] = inc
        # 2. specnb default formats (html, pdf, json), cold; then both on a 2-worker LocalCluster.
        results["specnb_html_pdf"] = specnb_row("specnb html,pdf,json (cold)", tmp / "specnb-all",
                                                cold_env("all"), [*only], n)
        results["dask_html"] = specnb_row("specnb html, local:2 (cold)", tmp / "dask-html", cold_env("dask-html"),
                                          ["--format", "html", "--scheduler", "local:2", *only], n)
        results["dask_html_pdf"] = specnb_row("specnb html,pdf,json, local:2 (cold)", tmp / "dask-all",
                                              cold_env("dask-all"), ["--scheduler", "local:2", *only], n)
        # 3. single report, cold.
        one = slugs[0]
        def single(label: str, name: str, extra: list[str]) -> dict:
            """A ~3 s command on a shared machine: the median of several cold runs, each in a new folder."""
            runs = [specnb_row(f"{label} {one} (run {i + 1}/{args.single_runs})", tmp / f"{name}-{i}",
                               cold_env(f"{name}-{i}"), [*extra, "--only", one], 1) for i in range(args.single_runs)]
            walls = sorted(r["wall"] for r in runs)
            row = dict(runs[0])
            row.update(wall=median(walls), per_report=median(walls), peak_mb=max(r["peak_mb"] for r in runs),
                       rc=max(r["rc"] for r in runs), walls=walls, slug=one)
            return row

        results["single_html"] = single("single cold html", "single-html", ["--format", "html"])
        results["single_all"] = single("single cold html,pdf,json", "single-all", [])
        # 4. floor.
        print("  floor ...", flush=True)
        fl = run_floor(slugs)
        results["floor"] = {"n": n, "wall": fl["total"], "per_report": fl["total"] / n, "peak_mb": fl["peak_mb"],
                            "imports": fl["imports"], "load": fl["load"], "process_wall": fl["wall"],
                            "per_report_each": fl["per_report"]}
        print(f"    {fl['total']:.2f} s for {n} (imports {fl['imports']:.1f} s, load {fl['load']:.2f} s)", flush=True)
        # 5. synthetic suites: the bundled configurations copied under new model names.
        from synthetic import make_suite  # noqa: PLC0415

        for copies in (2,) if args.quick else (10, 100) if args.scale else (10,):
            data = make_suite(copies, tmp / f"synthetic-{copies}")
            count = len(all_slugs) * copies
            backends = (("local pool", []), ("local:2", ["--scheduler", "local:2"]))
            # 3,400: the local pool, building all of them or (--scale-only N) the first N copies' reports
            subset = ["--only", "s000*"] if copies == 100 and args.scale_subset else []
            for label, extra in backends if copies < 100 else backends[:1]:
                key = f"synthetic_{count}_{'dask' if extra else 'pool'}"
                built = len(all_slugs) * 10 if subset else count
                results[key] = specnb_row(f"synthetic {count}{f' ({built} built)' if subset else ''}, {label}",
                                          tmp / key, cold_env(key),
                                          ["--format", "html", "--data", str(data), *subset, *extra], built)
                results[key]["configurations"] = count
                shutil.rmtree(tmp / key, ignore_errors=True)
        # 5. naive loop last (the longest).
        print("  naive loop ...", flush=True)
        results["naive"] = run_naive(naive_jobs, meta, tmp / "naive")
        if args.breakdown:
            from breakdown import breakdown  # noqa: PLC0415

            results["breakdown"] = breakdown(tmp / "breakdown", slugs[:4])
    finally:
        results["machine"]["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
        results["source_end"] = source_state()
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)

    print()
    print(table(results))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1) + "\n")
    failed = [k for k, row in results.items() if isinstance(row, dict) and row.get("rc", 0) != 0]
    failed += [] if results["naive"]["ok"] else ["naive"]
    if failed:
        print(f"FAILED: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def median(values: list[float]) -> float:
    values = sorted(values)
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


def _range(row: dict) -> str:
    return f"{min(row['walls']):.2f}–{max(row['walls']):.2f} s"


def table(r: dict) -> str:
    m = r["machine"]
    rows = [
        ("naive (papermill + nbconvert CLI)", r["naive"]),
        ("specnb html (cold)", r["specnb_html"]),
        ("specnb html,pdf,json (cold)", r["specnb_html_pdf"]),
        ("specnb html, local:2 (cold)", r["dask_html"]),
        ("specnb html,pdf,json, local:2 (cold)", r["dask_html_pdf"]),
        ("single cold html", r["single_html"]),
        ("single cold html,pdf,json", r["single_all"]),
        ("floor (in-process, no kernel)", r["floor"]),
        (f"incremental (--gpu-cost {INCREMENTAL_GPU}={INCREMENTAL_COST})", r["incremental"]),
        ("no-op rebuild", r["noop"]),
    ] + [(row["label"], row) for key, row in r.items() if key.startswith("synthetic_")]
    lines = [f"{'':38} {'N':>4} {'built':>6} {'wall s':>8} {'s/report':>9} {'peak MB':>8}"]
    for label, row in rows:
        built = row.get("built")
        built = "" if built is None else str(built)
        lines.append(f"{label:38} {row['n']:>4} {built:>6} {row['wall']:>8.2f} {row['per_report']:>9.3f} "
                     f"{row['peak_mb']:>8.0f}")
    naive, html, fl = r["naive"], r["specnb_html"], r["floor"]
    lines += [
        "",
        f"naive per report: papermill {naive['papermill_per_report']:.2f} s + nbconvert "
        f"{naive['nbconvert_per_report']:.2f} s (peak MB: papermill tree {naive['peak_mb']:.0f}, "
        f"nbconvert {naive['nbconvert_peak_mb']:.0f})",
        f"ratio naive/specnb html (per report): {naive['per_report'] / html['per_report']:.1f}x   (target >= 25x); "
        f"local:2 {naive['per_report'] / r['dask_html']['per_report']:.1f}x",
        f"ratio naive/specnb html,pdf,json (per report): "
        f"{naive['per_report'] / r['specnb_html_pdf']['per_report']:.1f}x   (target >= 20x); "
        f"local:2 {naive['per_report'] / r['dask_html_pdf']['per_report']:.1f}x",
        f"ratio specnb html/floor (per report): {html['per_report'] / fl['per_report']:.1f}x",
        f"single cold report, median of {len(r['single_html']['walls'])} runs: html {r['single_html']['wall']:.2f} s "
        f"wall (range {_range(r['single_html'])}; target <= 2 s); html,pdf,json {r['single_all']['wall']:.2f} s "
        f"(range {_range(r['single_all'])}; target <= 3 s)",
        f"peak memory, full html build: {html['peak_mb']:.0f} MB; html,pdf,json: "
        f"{r['specnb_html_pdf']['peak_mb']:.0f} MB   (target < 1536 MB)",
    ] + [f"peak memory growth from {base['n']} to {row.get('configurations', row['n'])} configurations "
         f"({row['n']} built; html, {kind}): "
         f"{row['peak_mb'] - base['peak_mb']:+.0f} MB   (target <= +100 MB at 3,400)"
         for kind, suffix, base in (("local pool", "pool", html), ("local:2", "dask", r["dask_html"]))
         for key, row in r.items() if key.startswith("synthetic_") and key.endswith(suffix)
    ] + [
        f"floor: imports {fl['imports']:.2f} s, dataset load {fl['load']:.2f} s (not in s/report)",
        f"incremental: rebuilt {r['incremental']['built']} of {r['incremental']['n']} "
        f"(ideal: the {r['incremental']['expected_rebuilt']} {INCREMENTAL_GPU} reports)",
        f"machine: {m['cpus']} CPU {m['cpu_model']}, {m['memory_gb']} GB, Python {m['python']}; "
        f"load average start {m['loadavg_start']}, end {m['loadavg_end']}",
    ]
    s0, s1 = r["source_start"], r["source_end"]
    lines.append(f"source: commit {s0['commit']}{' (dirty)' if s0['dirty'] else ''}, code digest {s0['code_digest']}")
    if s0["code_digest"] != s1["code_digest"]:
        lines.append(f"WARNING: specnb's code changed during the run (digest {s1['code_digest']} at the end): "
                     "rebuild counts and timings are not trustworthy")
    if "breakdown" in r:
        lines += ["", "breakdown (seconds):"] + [f"  {k:52} {v:8.3f}" for k, v in r["breakdown"].items()]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
