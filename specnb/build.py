"""``specnb build``: the whole report suite, in three steps.

``plan``     pure: which configurations, with which notebook parameters, and which are stale (the
             inputs — data files, notebook, specnb's code and templates, options — are hashed).
``execute``  each stale report is a task (``specnb.workers``): its notebook parameters and its rows of the
             data, read and hashed once, here. Workers execute and render it — one report in this process,
             more in local worker processes (``--jobs``), or on a Dask cluster (``--scheduler``,
             ``specnb.cluster``) — and send the files back as they finish.
``write``    this process writes each report's files as one (``specnb.atomic.write_files``), the state file
             last (it marks the report complete), then ``suite.json`` and ``index.html`` (the summary notebook).

A configuration that fails — its notebook raises or times out, its worker or kernel dies, its files cannot be
written — does not stop the others: its executed notebook is kept as ``failed.ipynb``, its previous files stay,
the index shows the error, and the command exits 1 naming it (RELIABILITY.md §4).
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

from . import __version__, costs, names, resources, workers
from .atomic import write_bytes, write_files, write_text
from .errors import UsageError
from .workers import REPORT_NOTEBOOK, Failed, InlinePool, LocalPool, Rendered, Task, block_slow_imports, error_line

if TYPE_CHECKING:  # specnb.data imports pandas: loaded in plan(), after the workers have been spawned
    from .data import Dataset

NOTEBOOKS = resources.NOTEBOOKS
SUMMARY_NOTEBOOK = resources.notebook("summary")
FORMATS = ("html", "pdf", "json")
STATE_FILE = ".build.json"
SUITE_FILE = "suite.json"
OUTPUT_FILES = {"html": ("report.html",), "pdf": ("report.pdf",), "json": ("comparison.json", "comparison.csv")}
ORDER = sum(OUTPUT_FILES.values(), ())  # the order a report's files are listed in
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
    timeout: float | None = None  # seconds a cell of a user's notebook may run (None: papermill's 600)
    since: tuple = ()  # --since PATH: the previous data set; the index links to what changed since (diffpage)

    def __post_init__(self):
        """A Python caller's one path or name where a tuple is meant (``data="runs/"``, ``only="dsr1-*"``) is a
        tuple of one, not its characters (``data="/x"`` read every file under ``/``); paths as text are Paths."""
        for name in ("data", "only", "since"):
            value = getattr(self, name)
            if isinstance(value, (str, Path)):
                value = (value,)
            try:
                object.__setattr__(self, name, tuple(value))
            except TypeError:
                msg = f"BuildOptions {name}={value!r}: give a path or name, or a list of them"
                raise UsageError(msg) from None
        if isinstance(self.formats, str):  # "html,pdf", as --format takes it
            object.__setattr__(self, "formats", parse_formats(self.formats))
        for name in ("out", "notebook"):
            object.__setattr__(self, name, Path(getattr(self, name)))


@dataclass(frozen=True)
class Job:
    slug: str
    config: dict
    params: dict
    digest: str
    outdir: Path
    stale: bool
    options: dict  # the options it is built with, as the index shows them (report_options)
    notebook: str | None = None  # a user's notebook as read (and hashed) by plan; None: specnb's own


@dataclass
class BuildResult:
    built: list = field(default_factory=list)
    skipped: list = field(default_factory=list)
    failed: list = field(default_factory=list)  # (slug, message)
    index_written: bool = False
    index_error: str | None = None  # why index.html could not be written (the previous one is kept)
    seconds: float = 0.0


# ------------------------------------------------------------------------------------------------ plan


SHAPERS = ("altair", "vl-convert-python", "nbconvert", "weasyprint", "papermill", "pandas", "numpy", "scipy")
"""Libraries whose version can change a report's bytes or numbers: an upgrade rebuilds reports."""


def _code_digest(package: Path = resources.PACKAGE, notebooks: Path = NOTEBOOKS) -> str:
    """Hash of specnb's own files (code, templates, scripts, tables), its notebooks, and the versions of Python
    and of the libraries that shape a report: a change to any of them rebuilds every report it touches."""
    from importlib.metadata import PackageNotFoundError, version

    h = hashlib.sha256(platform.python_version().encode())
    for name in SHAPERS:
        try:
            h.update(f"{name}={version(name)}".encode())
        except PackageNotFoundError:
            h.update(f"{name}: none".encode())
    files = sorted(p for p in package.rglob("*") if p.is_file() and "__pycache__" not in p.parts
                   and p.suffix != ".pyc" and package / "_bundled" not in p.parents)
    for name, p in [*((f.relative_to(package).as_posix(), f) for f in files),
                    *((f"notebooks/{f.name}", f) for f in sorted(notebooks.glob("*.ipynb")))]:
        h.update(name.encode())
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


OPTION_KEYS = ("cost_table", "provider", "token_type", "semantics", "percentile", "as_of", "targets", "gpu_cost",
               "gpu_kw")


def report_options(params: dict, cost_digest: str) -> dict:
    """The options a report was built with, as its suite entry keeps them: a partial rebuild (``--only``) may
    use other options than the rest of the suite, and the index shows each report's own. A cost table file
    is named with its hash's start: the same name edited in between is another table."""
    table = Path(params["cost_table"])
    return {**{key: params[key] for key in OPTION_KEYS},
            "cost_table": f"{table.name} ({cost_digest[:8]})" if table.is_absolute() else table.name,
            "gpu_cost": next(iter(params["gpu_cost"].values()), None),
            "gpu_kw": next(iter(params["gpu_kw"].values()), None)}


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
        return json.loads((outdir / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def current_files(outdir: Path, digest: str) -> list[str]:
    """The report's files on disk that were built from the inputs ``digest`` names."""
    state = read_state(outdir)
    if state.get("digest") != digest or state.get("status") != "ok":
        return []
    return [f for f in state.get("entry", {}).get("files", []) if (outdir / f).is_file()]


def is_fresh(outdir: Path, digest: str, formats: tuple) -> bool:
    have = current_files(outdir, digest)
    return all(f in have for fmt in formats for f in OUTPUT_FILES[fmt])


def read_notebook(path: Path) -> bytes:
    """A ``--notebook``'s bytes, read once: the plan hashes them and the tasks carry them."""
    try:
        blob = path.read_bytes()
        json.loads(blob.decode("utf-8"))
    except OSError as exc:
        msg = f"--notebook {path}: {'no such notebook' if isinstance(exc, FileNotFoundError) else exc.strerror}"
        raise UsageError(msg) from None
    except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError alike
        msg = f"--notebook {path}: not a Jupyter notebook ({exc})"
        raise UsageError(msg) from None
    return blob


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
    notebook = read_notebook(Path(opts.notebook))
    text = None if own_notebook(opts) else notebook.decode("utf-8")
    # the formats are not hashed: each report's state lists its files, so a build of other formats keeps
    # the files of the same inputs and removes those of others
    base = {"code": _code_digest(), "notebook": hashlib.sha256(notebook).hexdigest(),
            "data": sorted(f.sha256 for f in dataset.files), "cost": _cost_digest(opts.cost_table)}
    jobs = []
    for slug in slugs:
        params = notebook_params(opts, by_slug[slug])
        digest = hashlib.sha256(json.dumps({**base, "params": params}, sort_keys=True).encode()).hexdigest()
        outdir = Path(opts.out) / slug
        for partial in outdir.glob(".*.tmp"):  # left by a build killed mid-write (SIGKILL): never a report file
            partial.unlink(missing_ok=True)
        stale = opts.force or not is_fresh(outdir, digest, opts.formats)
        options = report_options(params, base["cost"])
        jobs.append(Job(slug, by_slug[slug], params, digest, outdir, stale, options, text))
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
    rows = rows_of(dataset)
    for job in stale:
        yield Task(job.slug, {**job.params, "run_metadata": meta}, rows(job.config), tuple(opts.formats),
                   job.notebook, opts.timeout)


def inline(opts: BuildOptions, reports: int) -> bool:
    """Whether ``reports`` stale reports run in this process rather than on local workers."""
    size = opts.jobs or os.cpu_count() or 1
    return min(size, reports) <= 1 or (reports <= INLINE_MAX and "pdf" not in opts.formats and not opts.jobs)


def open_pool(opts: BuildOptions, reports: int):
    """Where the reports run: a Dask cluster (``--scheduler``), this process (see ``inline``), or local worker
    processes, warming up as they start."""
    size = opts.jobs or os.cpu_count() or 1
    if opts.scheduler:
        from .cluster import DaskPool

        return DaskPool(opts.scheduler, size, opts.formats)
    if inline(opts, reports):
        return InlinePool(opts.formats)
    return LocalPool(min(size, reports), opts.formats)


def _state(job: Job, entry: dict) -> bytes:
    return (json.dumps({"digest": job.digest, "status": entry["status"], "entry": entry}, indent=1, sort_keys=True)
            + "\n").encode()


def write_outputs(job: Job, rendered: Rendered) -> dict:
    """Write a report's files as one, its state file last, and return its suite entry. A file left by an
    earlier build (another format) is kept and listed when it was built from the same inputs, else removed."""
    kept = [f for f in current_files(job.outdir, job.digest) if f not in rendered.files]
    entry = {"slug": job.slug, "config": job.config, "status": "ok",
             "files": sorted([*rendered.files, *kept], key=ORDER.index), "options": job.options,
             **{k: rendered.summary.get(k, d) for k, d in (("headline", ""), ("engines_differ", False), ("mid", None),
                                                           ("crossovers", []), ("trend", None))}}
    write_files({**{job.outdir / n: blob for n, blob in rendered.files.items()},
                 job.outdir / STATE_FILE: _state(job, entry)})
    _remove(job.outdir, [f for f in (*ORDER, "failed.ipynb") if f not in entry["files"]])
    return entry


def _remove(outdir: Path, files) -> None:
    for name in files:
        try:
            (outdir / name).unlink(missing_ok=True)
        except OSError:
            pass  # never listed: the state file names the report's files


def failure_entry(job: Job, error: str, notebook: str | None = None) -> dict:
    """Record a failed configuration: keep its executed notebook and its previous files; its state says
    "error", which is never fresh, so the next build retries it (the index shows it meanwhile)."""
    entry = {"slug": job.slug, "config": job.config, "status": "error", "error": error, "files": [],
             "failed_notebook": notebook is not None, "options": job.options}
    files = {job.outdir / "failed.ipynb": notebook.encode()} if notebook is not None else {}
    try:
        write_files({**files, job.outdir / STATE_FILE: _state(job, entry)})
    except OSError:  # e.g. a full disk: the failure is still listed, and the previous state and files stay
        entry["failed_notebook"] = False
    if notebook is None:
        _remove(job.outdir, ["failed.ipynb"])
    return entry


def record(job: Job, outcome) -> dict:
    """The suite entry of a finished task, its files written: built, failed, or lost with its worker."""
    if isinstance(outcome, Rendered):
        try:
            return write_outputs(job, outcome)
        except OSError as exc:
            return failure_entry(job, os_error(exc))
    if isinstance(outcome, Failed):
        return failure_entry(job, outcome.error, outcome.notebook)
    return failure_entry(job, error_line(outcome))


def os_error(exc: OSError) -> str:
    return f"cannot write {exc.filename}: {exc.strerror or exc}" if exc.filename else error_line(exc)


def check_out(out: Path) -> None:
    """Fail before any work, naming the path and the cause, when ``--out`` cannot take the reports: a file
    in its place, a read-only file system, no permission, no space left."""
    for found in (out, *out.parents):
        if found.is_symlink() and not found.exists():  # dangling, or a loop
            msg = (f"--out {out}: {'it' if found == out else found} is a symbolic link to "
                   f"{os.readlink(found)}, which leads to no folder; give a folder for the reports")
            raise UsageError(msg)
        if found.exists():
            break
    if not found.is_dir():
        msg = f"--out {out}: {'it' if found == out else found} is a file, not a folder; give a folder for the reports"
        raise UsageError(msg)
    probe = found / f".specnb-write-test-{os.getpid()}"  # in the nearest folder there: a failed build creates none
    try:
        write_bytes(probe, bytes(65536))
        probe.unlink()
    except OSError as exc:
        msg = f"--out {out}: cannot write there ({exc.strerror or exc})"
        raise UsageError(msg) from None


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
    """Build the suite described by ``opts``; see the module docstring. Interrupted (Ctrl-C, SIGTERM, SIGHUP:
    ``KeyboardInterrupt``), it ends every worker before it lets the interruption through."""
    started, timings, result = time.perf_counter(), Timings(), BuildResult()
    block_slow_imports()
    out = Path(opts.out)
    check_out(out)
    # A first build surely runs its reports: start the workers now, to warm up while the data loads.
    # Otherwise they start once the plan knows how many reports are stale.
    pool = open_pool(opts, named(opts.only) or sys.maxsize) if opts.force or not (out / SUITE_FILE).exists() \
        else None
    bar = warming = None
    try:
        dataset, jobs = plan(opts, dataset)
        timings.mark("plan")
        stale = [j for j in jobs if j.stale]
        entries = {j.slug: read_state(j.outdir).get("entry") for j in jobs if not j.stale}
        meta = run_metadata() if stale or not (out / "index.html").exists() else {}
        if isinstance(pool, LocalPool) and inline(opts, len(stale)):
            pool.abort()
            pool = None
        if pool is None and stale:
            pool = open_pool(opts, len(stale))
        if pool is not None and not isinstance(pool, InlinePool):  # the index runs here: its imports meanwhile
            warming = threading.Thread(target=workers.warm_up, args=(("html",),), daemon=True)
            warming.start()
        if opts.progress and stale:
            from tqdm import tqdm

            bar = tqdm(total=len(stale), unit="report", file=sys.stderr, dynamic_ncols=True, leave=True)
        by_slug = {j.slug: j for j in stale}
        for task, outcome in pool.map(tasks_for(opts, stale, dataset, meta)) if stale else ():
            entries[task.slug] = record(by_slug[task.slug], outcome)
            if bar:
                bar.set_postfix_str(task.slug, refresh=False)
                bar.update(1)
        if stale:
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
    # a report whose files a --notebook (or anyone) removed meanwhile is a failure, here as in the index
    entries.update({s: on_disk(out / s, e) for s, e in entries.items() if e and e["status"] == "ok"})
    ok = [j.slug for j in jobs if entries[j.slug] and entries[j.slug]["status"] == "ok"]
    result.built, result.skipped = [s for s in ok if s in by_slug], [s for s in ok if s not in by_slug]
    result.failed = sorted((s, e["error"]) for s, e in entries.items() if e and e["status"] != "ok")
    if warming is not None:  # two threads importing jupyter_client at once can meet it half-initialized
        warming.join()
    try:
        if opts.since:  # the diff page executes a notebook here too: after the warm-up's imports
            from .diffpage import write_since

            write_since(opts, dataset, meta)
        result.index_written = write_index(opts, entries, meta, dataset, rebuilt=bool(stale))
    except Exception as exc:  # noqa: BLE001 - e.g. a full disk: the reports are written, the old index stays
        why = os_error(exc) if isinstance(exc, OSError) else error_line(exc)
        result.index_error = f"the index was not written ({why}); the previous index.html is kept"
    timings.mark("index")
    result.seconds = time.perf_counter() - started
    return result


# ----------------------------------------------------------------------------------------------- index


def on_disk(folder: Path, entry: dict) -> dict:
    """``entry`` as its files on disk now are: a report whose files were removed after it was built (by a
    ``--notebook``, by hand) is listed as failed, never linked; the next build rebuilds it."""
    missing = [f for f in entry.get("files", []) if not (folder / f).is_file()]
    if missing:
        return {**entry, "status": "error", "files": [], "failed_notebook": False,
                "error": f"{', '.join(missing)} removed after it was built; the next build rebuilds it"}
    if entry.get("failed_notebook") and not (folder / "failed.ipynb").is_file():
        return {**entry, "failed_notebook": False}
    return entry


def all_entries(out: Path, dataset: Dataset, entries: dict) -> list[dict]:
    """Every configuration of the data that has a report (or a failure) in ``out``, this build's first:
    a partial build (``--only``) must not drop the other reports from the index."""
    from .comparison import Config

    merged = []
    for r in dataset.configurations().itertuples():
        slug = Config(r.model, r.hardware, r.precision, int(r.isl), int(r.osl)).slug
        entry = entries.get(slug) or read_state(out / slug).get("entry")
        if entry:
            merged.append(on_disk(out / slug, entry))
    return sorted(merged, key=lambda e: e["slug"])


def suite_document(opts: BuildOptions, entries: dict, dataset: Dataset) -> dict:
    """``suite.json``: the data, every entry, and the options the entries share; ``mixed_options`` names
    those they do not (each entry keeps its own)."""
    from .diffpage import since_summary

    listed = all_entries(Path(opts.out), dataset, entries)
    options, mixed = {}, []
    for key in OPTION_KEYS if listed else ():
        values = {json.dumps(e.get("options", {}).get(key, "?")) for e in listed}
        if len(values) == 1:
            options[key] = json.loads(values.pop())
        else:
            mixed.append(key)
    return {"schema": "specnb.suite/1", "options": {**options, "formats": list(opts.formats)}, "mixed_options": mixed,
            "data": [{"path": f.path, "format": f.format, "rows": f.rows, "sha256": f.sha256} for f in dataset.files],
            "entries": listed, "since": since_summary(Path(opts.out)) if opts.since else None}


def write_index(opts: BuildOptions, entries: dict, meta: dict, dataset: Dataset, *, rebuilt: bool) -> bool:
    """Write ``suite.json`` and ``index.html`` (the summary notebook, executed in this process: it reads the
    output folder, which lives here) when a report was (re)built or failed, the suite changed, or the index is
    missing. If the index cannot be written, the previous ``suite.json`` is put back: the two always agree."""
    out = Path(opts.out)
    text = json.dumps(suite_document(opts, entries, dataset), indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    index, suite_file = out / "index.html", out / SUITE_FILE
    try:
        previous = suite_file.read_text(encoding="utf-8")
    except OSError:
        previous = None
    if not (rebuilt or opts.force) and previous == text and index.exists():
        return False
    write_text(suite_file, text)
    try:
        from . import export, inprocess

        params = {"reports_dir": str(out.resolve()), "run_metadata": meta or run_metadata()}
        nb = inprocess.execute(SUMMARY_NOTEBOOK, params)
        write_text(index, export.export_html(workers.stable_cell_ids(nb)))
    except BaseException:
        if previous is not None:
            try:
                write_text(suite_file, previous)
            except OSError:
                pass
        raise
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
    p.add_argument("--timeout", type=float, metavar="SECONDS",
                   help="seconds one cell of a --notebook may run before its report fails (default 600)")
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
    if not args.out.strip():
        msg = "--out is empty; give a folder for the reports"
        raise UsageError(msg)
    if args.jobs < 0:
        msg = "--jobs must be 0 (one per CPU) or more"
        raise UsageError(msg)
    if args.timeout is not None and not 0 < args.timeout < float("inf"):
        msg = f"--timeout {args.timeout:g}: give the seconds a cell may run, more than 0"
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
        notebook=Path(args.notebook), scheduler=args.scheduler, timeout=args.timeout,
        since=tuple(args.since or ()))


def run_build_command(args, **parsed) -> int:
    """``specnb build``: run it and print the summary (exit 1 when a configuration failed)."""
    opts = options_from_args(args, **parsed)
    result = run_build(opts)
    out = Path(opts.out)
    if not result.built and not result.failed:
        note = " (index refreshed)" if result.index_written else ""
        print(f"Nothing to rebuild: {len(result.skipped)} report(s) up to date in {out}/{note}.")
    else:
        print(f"Built {len(result.built)}, up to date {len(result.skipped)}, failed {len(result.failed)} "
              f"in {result.seconds:.1f} s → {out / 'index.html'}{' (not updated)' if result.index_error else ''}")
    for slug, message in result.failed:
        print(f"  FAILED {slug}: {message}", file=sys.stderr)
    if result.failed:
        print(f"specnb: error: {len(result.failed)} configuration(s) failed: "
              f"{', '.join(s for s, _ in result.failed)}", file=sys.stderr)
    if result.index_error:
        print(f"specnb: error: {result.index_error}", file=sys.stderr)
    return 1 if result.failed or result.index_error else 0

