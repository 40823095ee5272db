"""``specnb build``: the whole report suite, in three steps.

``plan``     pure: which configurations, with which notebook parameters, and which are stale (the
             inputs — data files, notebook, specnb's code and templates, options — are hashed).
``execute``  each stale report is a task (``specnb.workers``): its notebook parameters and its rows of the
             data, read and hashed once, here. Workers execute and render it — one report in this process,
             more in local worker processes (``--jobs``), or on a Dask cluster (``--scheduler``,
             ``specnb.cluster``) — and send the files back as they finish.
``write``    this process writes each report's files atomically, the state file last (it marks the report
             complete), then ``suite.json`` and ``index.html`` (the summary notebook).

A configuration that fails does not stop the others: its executed notebook is kept as ``failed.ipynb``,
the index shows the error, and the command exits 1 naming it.
"""

from __future__ import annotations

import argparse
import fnmatch
import hashlib
import json
import os
import pickle
import platform
import sys
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from . import __version__, costs, names, resources
from .atomic import write_bytes, write_text
from .errors import UsageError
from .workers import (
    REPORT_NOTEBOOK,
    Failed,
    InlinePool,
    LocalPool,
    Rendered,
    Task,
    block_slow_imports,
    error_line,
    warm_up,
)

if TYPE_CHECKING:  # specnb.data imports pandas: loaded in plan(), after the workers have been spawned
    from .data import Dataset

NOTEBOOKS = resources.NOTEBOOKS
SUMMARY_NOTEBOOK = resources.notebook("summary")
FORMATS = ("html", "pdf", "json")
STATE_FILE = ".build.json"
OUTPUT_FILES = {"html": ("report.html",), "pdf": ("report.pdf",), "json": ("comparison.json", "comparison.csv")}
INLINE_MAX = 6
"""Up to this many stale reports without PDF run in the build process when no ``--jobs`` is given: starting
and warming two worker processes costs more than they save (BENCHMARKS.md, the incremental row)."""


@dataclass(frozen=True)
class BuildOptions:
    """Everything that decides what a build produces (``run_metadata`` excepted)."""

    data: tuple = ()
    meta: dict = field(default_factory=dict)
    model_aliases: dict = field(default_factory=dict)  # model name → key, as names.clean_model_aliases gives them
    out: Path = Path("reports")
    formats: tuple = FORMATS
    only: tuple = ()
    jobs: int = 0  # 0: one per CPU
    scheduler: str | None = None  # a Dask scheduler address or file, or local[:N]; None: this machine
    targets: tuple | None = None
    cost_table: str = costs.DEFAULT_TABLE
    provider: str = costs.DEFAULT_PROVIDER
    token_type: str = "total"
    semantics: str = "specnb"
    percentile: str = "median"  # latency percentile interactivity, TTFT and E2E are read at
    as_of: str | None = None  # YYYY-MM-DD: the data as it stood that day; None: every row
    gpu_cost: dict = field(default_factory=dict)
    gpu_kw: dict = field(default_factory=dict)
    force: bool = False
    progress: bool = True
    notebook: Path = REPORT_NOTEBOOK  # the report notebook (a user's own must keep the parameters cell)
    since: tuple = ()  # --since PATH: the previous data set; the index links to what changed since (diffpage)


@dataclass(frozen=True)
class Job:
    slug: str
    config: dict
    params: dict
    digest: str
    outdir: Path
    stale: bool


@dataclass
class BuildResult:
    built: list = field(default_factory=list)
    skipped: list = field(default_factory=list)
    failed: list = field(default_factory=list)  # (slug, message)
    index_written: bool = False
    seconds: float = 0.0


# ------------------------------------------------------------------------------------------------ plan


def _code_digest() -> str:
    """Hash of specnb's own code, templates, tables and notebooks: a code change rebuilds reports."""
    h = hashlib.sha256()
    pkg = resources.PACKAGE
    files = sorted(p for p in pkg.rglob("*") if p.is_file() and p.suffix in (".py", ".j2", ".json", ".css", ".csv")
                   and "__pycache__" not in p.parts and resources.IN_WHEEL not in p.parents)
    files += sorted(NOTEBOOKS.glob("*.ipynb"))
    for p in files:
        h.update(p.name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()


def _cost_digest(cost_table: str) -> str:
    path = Path(cost_table)
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else cost_table


def parse_formats(text: str) -> tuple:
    items = tuple(dict.fromkeys(f.strip().lower() for f in text.split(",") if f.strip()))
    bad = [f for f in items if f not in FORMATS]
    if bad or not items:
        option = "--format"
        raise UsageError.unknown_choice(option, bad[0] if bad else text, FORMATS)
    return items


def select(slugs: list[str], only: tuple) -> list[str]:
    """Slugs matching any ``--only`` glob; a pattern that matches nothing is an error."""
    if not only:
        return slugs
    chosen = []
    for pattern in only:
        hits = [s for s in slugs if fnmatch.fnmatchcase(s, pattern)]
        if not hits:
            shown = ", ".join(slugs[:8]) + (", ..." if len(slugs) > 8 else "")
            msg = f"--only {pattern!r} matches no configuration; names look like: {shown}"
            raise UsageError(msg)
        chosen += [h for h in hits if h not in chosen]
    return [s for s in slugs if s in chosen]


def own_notebook(opts: BuildOptions) -> bool:
    """Whether the report notebook is specnb's own (run in the workers' own shell, see ``specnb.workers``)."""
    return Path(opts.notebook).resolve() == REPORT_NOTEBOOK.resolve()


def named(only: tuple) -> int:
    """How many configurations ``--only`` names one by one (0 when any pattern is a wildcard or none given)."""
    if not only or any(ch in pattern for pattern in only for ch in "*?["):
        return 0
    return len(set(only))


def notebook_params(opts: BuildOptions, cfg: dict) -> dict:
    return {
        "data": [str(Path(p).resolve()) for p in opts.data] or None,
        "meta": dict(opts.meta),
        "model_aliases": dict(opts.model_aliases),
        "model": cfg["model"], "hardware": cfg["hardware"], "precision": cfg["precision"],
        "sequence": names.sequence_label(cfg["isl"], cfg["osl"]),
        "targets": list(opts.targets) if opts.targets else None,
        "cost_table": str(Path(opts.cost_table).resolve()) if Path(opts.cost_table).is_file() else opts.cost_table,
        "provider": opts.provider, "token_type": opts.token_type, "semantics": opts.semantics,
        "percentile": opts.percentile, "as_of": opts.as_of,
        # only this GPU's overrides: changing b200's rate must not invalidate the other GPUs' reports
        "gpu_cost": {g: v for g, v in opts.gpu_cost.items() if g == cfg["hardware"]},
        "gpu_kw": {g: v for g, v in opts.gpu_kw.items() if g == cfg["hardware"]},
    }


def papermill_cli_args(params: dict) -> list[str]:
    """A report's parameters as papermill CLI arguments (``-r`` for strings, one ``-y`` YAML for the rest):
    ``papermill notebooks/report.ipynb out.ipynb <these>`` reproduces that report outside specnb."""
    args, rest = [], {}
    for key, value in params.items():
        if isinstance(value, str):
            args += ["-r", key, value]
        else:
            rest[key] = value
    return args + (["-y", json.dumps(rest)] if rest else [])  # JSON is YAML


def read_state(outdir: Path) -> dict:
    try:
        return json.loads((outdir / STATE_FILE).read_text())
    except (OSError, ValueError):
        return {}


def is_fresh(outdir: Path, digest: str, formats: tuple) -> bool:
    state = read_state(outdir)
    if state.get("digest") != digest or state.get("status") != "ok":
        return False
    return all((outdir / f).is_file() for fmt in formats for f in OUTPUT_FILES[fmt])


def plan(opts: BuildOptions, dataset: Dataset | None = None) -> tuple[Dataset, list[Job]]:
    """Configurations to build, their parameters and digests, and which are stale. Runs no notebook."""
    from .comparison import Config
    from .data import load

    dataset = dataset or load(list(opts.data) or None, meta=opts.meta, model_aliases=opts.model_aliases)
    costs.load_cost_table(opts.cost_table)  # fail early on a bad table
    if opts.since:  # ... or bad --since data, not after every report (the diff page's load is then a cache hit)
        load(list(opts.since), meta=opts.meta, model_aliases=opts.model_aliases)
    configs = dataset.configurations(as_of=opts.as_of, percentile=opts.percentile)
    by_slug = {}
    for r in configs.itertuples():
        cfg = Config(r.model, r.hardware, r.precision, int(r.isl), int(r.osl))
        by_slug[cfg.slug] = cfg.to_dict()
    if not by_slug:
        from .data import selection_words

        msg = (f"no configuration has points for both MTP and Off{selection_words(opts.as_of, opts.percentile)} in "
               "the given data; see `specnb list --all` with the same --as-of and --percentile")
        raise UsageError(msg)
    slugs = select(sorted(by_slug), opts.only)
    notebook = Path(opts.notebook)
    if not notebook.is_file():
        msg = f"--notebook {notebook}: no such notebook"
        raise UsageError(msg)
    base = {"code": _code_digest(), "notebook": hashlib.sha256(notebook.read_bytes()).hexdigest(),
            "data": sorted(f.sha256 for f in dataset.files),
            "cost": _cost_digest(opts.cost_table), "formats": list(opts.formats)}
    jobs = []
    for slug in slugs:
        params = notebook_params(opts, by_slug[slug])
        digest = hashlib.sha256(json.dumps({**base, "params": params}, sort_keys=True).encode()).hexdigest()
        outdir = Path(opts.out) / slug
        stale = opts.force or not is_fresh(outdir, digest, opts.formats)
        jobs.append(Job(slug, by_slug[slug], params, digest, outdir, stale))
    return dataset, jobs


# --------------------------------------------------------------------------------------------- execute


def run_metadata() -> dict:
    """The one non-deterministic block of every report: when and with what it was built."""
    from importlib.metadata import version

    return {"built": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "specnb": __version__,
            "papermill": version("papermill"), "nbconvert": version("nbconvert"),
            "python": platform.python_version()}


def rows_of(dataset: Dataset):
    """A function giving each configuration's rows of ``dataset`` as a pickled ``Dataset`` (what a task
    carries): the same files and hashes, only that configuration's points and history."""
    key = ["model", "hardware", "precision", "isl", "osl"]
    groups = {name: getattr(dataset, name).groupby(key, sort=False).indices for name in ("points", "history")}

    def rows(config: dict) -> bytes:
        at = tuple(config[k] for k in key)
        part = {name: getattr(dataset, name).take(groups[name].get(at, [])) for name in groups}
        return pickle.dumps(replace(dataset, **part), protocol=pickle.HIGHEST_PROTOCOL)

    return rows


def tasks_for(opts: BuildOptions, stale: list[Job], dataset: Dataset, meta: dict):
    """The stale jobs as tasks, made one at a time as workers take them."""
    notebook = None if own_notebook(opts) else Path(opts.notebook).read_text(encoding="utf-8")
    rows = rows_of(dataset)
    for job in stale:
        yield Task(job.slug, {**job.params, "run_metadata": meta}, rows(job.config), tuple(opts.formats), notebook)


def inline(opts: BuildOptions, reports: int) -> bool:
    """Whether ``reports`` stale reports run in this process rather than on local workers."""
    size = opts.jobs or os.cpu_count() or 1
    return min(size, reports) <= 1 or (reports <= INLINE_MAX and "pdf" not in opts.formats and not opts.jobs)


def open_pool(opts: BuildOptions, reports: int):
    """Where the reports run: a Dask cluster (``--scheduler``), this process (see ``inline``), or local worker
    processes, warming up as they start."""
    from . import workers

    renders = tuple(f for f in opts.formats if f in ("html", "pdf"))
    size = opts.jobs or os.cpu_count() or 1
    if opts.scheduler:
        from .cluster import DaskPool

        return DaskPool(opts.scheduler, size, renders)
    if inline(opts, reports):
        return workers.InlinePool(renders)
    return workers.LocalPool(min(size, reports), renders)


def write_outputs(job: Job, rendered: Rendered) -> dict:
    """Write a report's files atomically, the state file last; returns its suite entry."""
    for name, blob in rendered.files.items():
        write_bytes(job.outdir / name, blob)
    failed_nb = job.outdir / "failed.ipynb"
    if failed_nb.exists():
        failed_nb.unlink()
    entry = ok_entry(job, rendered.summary, rendered.files)
    write_text(job.outdir / STATE_FILE, json.dumps({"digest": job.digest, "status": "ok", "entry": entry},
                                                   indent=1, sort_keys=True) + "\n")
    return entry


def ok_entry(job: Job, summary: dict, files) -> dict:
    """A built report's suite entry (``summary``: the notebook's summary output)."""
    order = ["report.html", "report.pdf", "comparison.json", "comparison.csv"]
    return {"slug": job.slug, "config": job.config, "status": "ok", "files": sorted(files, key=order.index),
            "headline": summary.get("headline", ""), "engines_differ": summary.get("engines_differ", False),
            "mid": summary.get("mid"), "crossovers": summary.get("crossovers", []), "trend": summary.get("trend")}


def failure_entry(job: Job, error: str, notebook: str | None = None) -> dict:
    """Record a failed configuration: keep its executed notebook, forget its state so it retries."""
    if notebook is not None:
        write_text(job.outdir / "failed.ipynb", notebook)
    entry = {"slug": job.slug, "config": job.config, "status": "error", "error": error, "files": [],
             "failed_notebook": notebook is not None}
    # status "error" is never fresh, so the next build retries it; the index keeps showing it meanwhile
    write_text(job.outdir / STATE_FILE, json.dumps({"digest": job.digest, "status": "error", "entry": entry},
                                                   indent=1, sort_keys=True) + "\n")
    return entry


def record(job: Job, outcome) -> dict:
    """The suite entry of a finished task, its files written: built, failed, or lost with its worker."""
    if isinstance(outcome, Rendered):
        try:
            return write_outputs(job, outcome)
        except OSError as exc:
            return failure_entry(job, error_line(exc))
    if isinstance(outcome, Failed):
        return failure_entry(job, outcome.error, outcome.notebook)
    return failure_entry(job, error_line(outcome))


def _progress(total: int, enabled: bool):
    if not enabled or total == 0:
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="report", file=sys.stderr, dynamic_ncols=True, leave=True)


class Timings:
    """Phase timings printed to stderr when ``SPECNB_TIMINGS=1`` (for benchmarking the build itself)."""

    def __init__(self):
        self.enabled = os.environ.get("SPECNB_TIMINGS") == "1"
        self.start = self.last = time.perf_counter()

    def mark(self, phase: str) -> None:
        if self.enabled:
            now = time.perf_counter()
            print(f"[specnb timing] {phase}: {now - self.last:.3f} s (total {now - self.start:.3f} s)",
                  file=sys.stderr)
            self.last = now


def run_build(opts: BuildOptions, *, dataset: Dataset | None = None) -> BuildResult:
    """Build the suite described by ``opts``; see the module docstring."""
    started = time.perf_counter()
    timings = Timings()
    block_slow_imports()
    out = Path(opts.out)
    # A first build surely runs its reports: start the workers now, to warm up while the data loads.
    # Otherwise they start once the plan knows how many reports are stale.
    early = None
    if opts.force or not (out / "suite.json").exists():
        early = open_pool(opts, named(opts.only) or sys.maxsize)
    try:
        dataset, jobs = plan(opts, dataset)
    except BaseException:
        if early is not None:
            early.abort()
        raise
    timings.mark("plan")
    result = BuildResult()
    out.mkdir(parents=True, exist_ok=True)
    stale = [j for j in jobs if j.stale]
    result.skipped = [j.slug for j in jobs if not j.stale]
    entries = {j.slug: read_state(j.outdir).get("entry") for j in jobs if not j.stale}
    meta = run_metadata() if stale or not (out / "index.html").exists() else {}
    pool = early
    if isinstance(pool, LocalPool) and inline(opts, len(stale)):
        pool.abort()
        pool = None
    if pool is None and stale:
        pool = open_pool(opts, len(stale))
    bar = _progress(len(stale), opts.progress)
    warming = None
    if pool is not None and not isinstance(pool, InlinePool):  # the index runs here: its imports meanwhile
        warming = threading.Thread(target=warm_up, args=(("html",),), daemon=True)
        warming.start()
    try:
        if stale:
            by_slug = {j.slug: j for j in stale}
            for task, outcome in pool.map(tasks_for(opts, stale, dataset, meta)):
                job = by_slug[task.slug]
                entries[job.slug] = record(job, outcome)
                (result.built if entries[job.slug]["status"] == "ok" else result.failed).append(job.slug)
                if bar:
                    bar.set_postfix_str(job.slug, refresh=False)
                    bar.update(1)
            timings.mark(f"execute + render {len(stale)} report(s) ({type(pool).__name__})")
        if pool is not None:
            pool, idle = None, pool
            idle.close()
    except BaseException:
        if pool is not None:
            pool.abort()
        raise
    finally:
        if bar:
            bar.close()
    result.failed = sorted((s, entries[s]["error"]) for s in result.failed)
    result.built.sort()
    if warming is not None:  # two threads importing jupyter_client at once can meet it half-initialized
        warming.join()
    if opts.since:  # the diff page executes a notebook here too: after the warm-up's imports
        from .diffpage import write_since

        write_since(opts, dataset, meta)
    result.index_written = write_index(opts, entries, meta, dataset)
    timings.mark("index")
    result.seconds = time.perf_counter() - started
    return result


# ----------------------------------------------------------------------------------------------- index


def all_entries(out: Path, dataset: Dataset, entries: dict) -> list[dict]:
    """Every configuration of the data that has a report (or a failure) in ``out``, this build's first:
    a partial build (``--only``) must not drop the other reports from the index."""
    from .comparison import Config

    merged = []
    for r in dataset.configurations().itertuples():
        slug = Config(r.model, r.hardware, r.precision, int(r.isl), int(r.osl)).slug
        entry = entries.get(slug) or read_state(out / slug).get("entry")
        if entry:
            merged.append(entry)
    return sorted(merged, key=lambda e: e["slug"])


def suite_document(opts: BuildOptions, entries: dict, dataset: Dataset) -> dict:
    from .diffpage import since_summary

    return {"schema": "specnb.suite/1",
            "options": {"cost_table": opts.cost_table if not Path(opts.cost_table).is_file()
                        else Path(opts.cost_table).name, "provider": opts.provider,
                        "token_type": opts.token_type, "semantics": opts.semantics,
                        "percentile": opts.percentile, "as_of": opts.as_of,
                        "targets": list(opts.targets) if opts.targets else None, "formats": list(opts.formats)},
            "data": [{"path": f.path, "format": f.format, "rows": f.rows, "sha256": f.sha256} for f in dataset.files],
            "entries": all_entries(Path(opts.out), dataset, entries),
            "since": since_summary(Path(opts.out)) if opts.since else None}


def write_index(opts: BuildOptions, entries: dict, meta: dict, dataset: Dataset) -> bool:
    """Write ``suite.json`` and, when it changed (or is missing), ``index.html`` from the summary notebook,
    executed in this process (it reads the output folder, which lives here)."""
    out = Path(opts.out)
    doc = suite_document(opts, entries, dataset)
    text = json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    index = out / "index.html"
    previous = (out / "suite.json").read_text() if (out / "suite.json").exists() else None
    if previous == text and index.exists() and not opts.force:
        return False
    write_text(out / "suite.json", text)
    from . import export, inprocess, workers

    params = {"reports_dir": str(out.resolve()), "run_metadata": meta or run_metadata()}
    nb = inprocess.execute(SUMMARY_NOTEBOOK, params)
    write_text(index, export.export_html(workers.stable_cell_ids(nb)))
    return True


# ------------------------------------------------------------------------------------------------- CLI


def add_build_parser(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", default="reports", help="output folder (default reports/)")
    p.add_argument("--format", default=",".join(FORMATS), help="any of html,pdf,json (default all)")
    p.add_argument("--only", action="append", metavar="GLOB",
                   help="build only configurations whose name matches, e.g. 'dsr1-b200-*' (repeatable)")
    p.add_argument("--jobs", type=int, default=0,
                   help="worker processes on this machine (default: one per CPU; one report, --jobs 1, or up "
                        "to 6 reports without PDF run in the build process itself)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="run the reports on a Dask cluster: tcp://HOST:PORT, a scheduler file, or local[:N] "
                        "for a LocalCluster of N workers (needs pip install 'specnb[dask]')")
    p.add_argument("--targets", help="interactivities for every report, e.g. 30,50,80 (default 25/50/75 %% of band)")
    p.add_argument("--force", action="store_true", help="rebuild even what is up to date")
    p.add_argument("--notebook", default=str(REPORT_NOTEBOOK), metavar="IPYNB",
                   help="report notebook to execute per configuration (default: notebooks/report.ipynb)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--since", action="append", metavar="PATH",
                   help="the previous data set (file or folder, repeatable): also write diff.html, what changed since "
                        "it, and link it from the index")


def options_from_args(args, *, meta: dict, gpu_cost: dict, gpu_kw: dict) -> BuildOptions:
    """``BuildOptions`` from the parsed command line (``--meta``/``--gpu-*`` already parsed by the CLI)."""
    from .data import check_percentile, parse_as_of

    targets = None
    if args.targets:
        from .comparison import parse_targets

        targets = tuple(parse_targets(args.targets))
    only = tuple(p for item in (args.only or []) for p in item.split(",") if p.strip())
    if args.jobs < 0:
        msg = "--jobs must be 0 (one per CPU) or more"
        raise UsageError(msg)
    missing = [p for p in args.since or () if not Path(p).exists()]
    if missing:
        msg = f"--since {missing[0]}: no such file or folder; give the previous data set (a file or folder)"
        raise UsageError(msg)
    return BuildOptions(
        data=tuple(args.data or ()), meta=meta, model_aliases=names.clean_model_aliases(args.model_alias),
        out=Path(args.out), formats=parse_formats(args.format), only=only, jobs=args.jobs, targets=targets,
        cost_table=args.cost_table, provider=args.provider, token_type=args.token_type, semantics=args.semantics,
        percentile=check_percentile(args.percentile), as_of=parse_as_of(args.as_of),
        gpu_cost=gpu_cost, gpu_kw=gpu_kw, force=args.force, progress=not args.no_progress,
        notebook=Path(args.notebook), scheduler=args.scheduler, since=tuple(args.since or ()))


def run_build_command(args, **parsed) -> int:
    """``specnb build``: run it and print the summary (exit 1 when a configuration failed)."""
    opts = options_from_args(args, **parsed)
    result = run_build(opts)
    out = Path(opts.out)
    if not result.built and not result.failed:
        note = " (index refreshed)" if result.index_written else ""
        print(f"Nothing to rebuild: {len(result.skipped)} report(s) up to date in {out}/{note}.")
        return 0
    print(f"Built {len(result.built)}, up to date {len(result.skipped)}, failed {len(result.failed)} "
          f"in {result.seconds:.1f} s → {out / 'index.html'}")
    if result.failed:
        for slug, message in result.failed:
            print(f"  FAILED {slug}: {message}", file=sys.stderr)
        print(f"specnb: error: {len(result.failed)} configuration(s) failed: "
              f"{', '.join(s for s, _ in result.failed)}", file=sys.stderr)
        return 1
    return 0

