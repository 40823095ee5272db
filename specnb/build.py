"""``specnb build``: the whole report suite, in three steps.

``plan``     pure: which configurations, with which notebook parameters, and which are stale (the
             inputs — data files, notebook, specnb's code and templates, options — are hashed).
``execute``  papermill runs ``notebooks/report.ipynb`` per configuration on a pool of warm kernels
             (``specnb.kernels``): each kernel imports the libraries once and resets its namespace
             between reports, so a report equals a cold, isolated papermill run. One report, a few
             without PDF, and the index run in this process instead (``specnb.inprocess``): no kernel
             to start, the data already loaded, the same executed notebook.
``export``   HTML, PDF, ``comparison.json`` and ``comparison.csv`` are written atomically; a state file
             written last marks the report complete. Then ``suite.json`` and ``index.html`` (the summary
             notebook) are rebuilt.

A configuration that fails does not stop the others: its executed notebook is kept as ``failed.ipynb``,
the index shows the error, and the command exits 1 naming it.
"""

from __future__ import annotations

import argparse
import fnmatch
import hashlib
import json
import os
import platform
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from . import __version__, costs, names, resources
from .atomic import write_bytes, write_text

if TYPE_CHECKING:  # specnb.data imports pandas: loaded in plan(), after the kernels have been spawned
    from .data import Dataset
from .errors import BuildError, UsageError

NOTEBOOKS = resources.NOTEBOOKS
REPORT_NOTEBOOK = resources.notebook("report")
SUMMARY_NOTEBOOK = resources.notebook("summary")
FORMATS = ("html", "pdf", "json")
STATE_FILE = ".build.json"
KERNEL_STARTUP = ("import json, math, pandas, numpy, scipy.interpolate, altair, specnb, specnb.report, "
                  "specnb.charts, specnb.suite, specnb.comparison, specnb.narrative, specnb.table, specnb.data")
OUTPUT_FILES = {"html": ("report.html",), "pdf": ("report.pdf",), "json": ("comparison.json", "comparison.csv")}
IN_PROCESS_MAX = 6
"""Up to this many stale reports without PDF run in the build process, one after the other (e.g. after
``--gpu-cost b200=…``: 6 reports in ~2.9 s against ~4.8 s on two new kernels); more run on kernels."""


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
        raise UsageError.unknown_choice("--format", bad[0] if bad else text, FORMATS)
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
    """Whether the report notebook is specnb's own, which may run in the build process (see
    ``specnb.inprocess``); a user's ``--notebook`` always runs on a kernel."""
    return Path(opts.notebook).resolve() == REPORT_NOTEBOOK.resolve()


def runs_in_process(opts: BuildOptions, stale: int) -> bool:
    """Whether this build's reports run in the build process rather than on kernels: specnb's own notebook,
    and one report, or a few without PDF (whose exports would queue on one worker) when ``--jobs`` was not
    asked for."""
    if not own_notebook(opts) or stale < 1:
        return False
    return stale == 1 or (stale <= IN_PROCESS_MAX and "pdf" not in opts.formats and not opts.jobs)


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
    """Configurations to build, their parameters and digests, and which are stale. Runs no kernel."""
    from .comparison import Config
    from .data import load

    dataset = dataset or load(list(opts.data) or None, meta=opts.meta, model_aliases=opts.model_aliases)
    costs.load_cost_table(opts.cost_table)  # fail early on a bad table
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


def block_slow_imports() -> None:
    """Make ``import rfc3987_syntax`` fail in this process, before jsonschema is first imported.

    jsonschema only uses it to check the ``iri`` string format, which no notebook or Vega-Lite schema
    here relies on, and importing it compiles grammars for 1–3 s (python-jsonschema issue 1428).
    """
    if "jsonschema" not in sys.modules:
        sys.modules.setdefault("rfc3987_syntax", None)


def run_metadata() -> dict:
    """The one non-deterministic block of every report: when and with what it was built."""
    from importlib.metadata import version

    return {"built": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "specnb": __version__,
            "papermill": version("papermill"), "nbconvert": version("nbconvert"),
            "python": platform.python_version()}


def outputs_of(nb) -> dict:
    """The machine-readable outputs the report notebook carries out of the kernel."""
    from .report import COMPARISON_MIME, CSV_MIME, SUMMARY_MIME

    found = {}
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            for mime in (COMPARISON_MIME, CSV_MIME, SUMMARY_MIME):
                if mime in data:
                    found[mime] = data[mime]
    return found


def strip_machine_outputs(nb):
    """Drop the machine-readable outputs before export (they are written as their own files)."""
    from .report import COMPARISON_MIME, CSV_MIME, SUMMARY_MIME

    for cell in nb.cells:
        kept = []
        for out in cell.get("outputs", []):
            if any(m in out.get("data", {}) for m in (COMPARISON_MIME, CSV_MIME, SUMMARY_MIME)):
                continue
            kept.append(out)
        if "outputs" in cell:
            cell["outputs"] = kept
    return nb


def stable_cell_ids(nb):
    """papermill gives its injected-parameters cell a random id, which nbconvert writes into the page;
    a fixed one keeps two builds of the same inputs byte-identical."""
    for cell in nb.cells:
        if "injected-parameters" in cell.get("metadata", {}).get("tags", []):
            cell["id"] = "injected-parameters"
    return nb


def export_job(job: Job, nb, formats: tuple, pdf=None) -> dict:
    """Write a report's files atomically; the state file last. Returns its suite entry.

    ``pdf``: a future of the PDF being drawn elsewhere (a worker) while this renders the rest."""
    from . import export
    from .report import COMPARISON_MIME, CSV_MIME, SUMMARY_MIME

    found = outputs_of(nb)
    if COMPARISON_MIME not in found:
        msg = f"{job.slug}: the report notebook produced no comparison output"
        raise BuildError(msg)
    comparison_text = found[COMPARISON_MIME]
    comparison_text = "".join(comparison_text) if isinstance(comparison_text, list) else comparison_text
    summary = found.get(SUMMARY_MIME, {})
    view = stable_cell_ids(strip_machine_outputs(nb))
    files = []
    payloads = {}
    if "json" in formats:
        csv_text = found.get(CSV_MIME, "")
        payloads["comparison.json"] = comparison_text.encode()
        payloads["comparison.csv"] = ("".join(csv_text) if isinstance(csv_text, list) else csv_text).encode()
    if "html" in formats:
        payloads["report.html"] = export.export_html(view).encode()
    if "pdf" in formats:
        payloads["report.pdf"] = pdf.result() if pdf is not None else export.export_pdf(view)
    for name, blob in payloads.items():  # all rendered before any is written: a failure writes nothing
        write_bytes(job.outdir / name, blob)
        files.append(name)
    failed_nb = job.outdir / "failed.ipynb"
    if failed_nb.exists():
        failed_nb.unlink()
    entry = ok_entry(job, summary, files)
    write_text(job.outdir / STATE_FILE, json.dumps({"digest": job.digest, "status": "ok", "entry": entry},
                                                   indent=1, sort_keys=True) + "\n")
    return entry


def ok_entry(job: Job, summary: dict, files) -> dict:
    """A built report's suite entry (``summary``: the notebook's summary output)."""
    order = ["report.html", "report.pdf", "comparison.json", "comparison.csv"]
    return {"slug": job.slug, "config": job.config, "status": "ok", "files": sorted(files, key=order.index),
            "headline": summary.get("headline", ""), "engines_differ": summary.get("engines_differ", False),
            "mid": summary.get("mid"), "crossovers": summary.get("crossovers", [])}


def failure_entry(job: Job, exc: BaseException) -> dict:
    """Record a failed configuration: keep its executed notebook, forget its state so it retries."""
    import nbformat

    nb = getattr(exc, "nb", None)
    kept = False
    if nb is not None:
        write_text(job.outdir / "failed.ipynb", nbformat.writes(nb))
        kept = True
    entry = {"slug": job.slug, "config": job.config, "status": "error", "error": error_line(exc), "files": [],
             "failed_notebook": kept}
    # status "error" is never fresh, so the next build retries it; the index keeps showing it meanwhile
    write_text(job.outdir / STATE_FILE, json.dumps({"digest": job.digest, "status": "error", "entry": entry},
                                                   indent=1, sort_keys=True) + "\n")
    return entry


def error_line(exc: BaseException) -> str:
    ename, evalue = getattr(exc, "ename", None), getattr(exc, "evalue", None)
    if ename:
        return f"{ename}: {evalue}".splitlines()[0][:300]
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"[:300]


def make_pool(size: int, cwd: Path, opts: BuildOptions | None = None):
    """Warm kernels: libraries imported once, and the build's data loaded once (``specnb.load`` caches it,
    so each report's own load call is a cache hit with the identical result)."""
    from .kernels import KernelPool

    startup = KERNEL_STARTUP
    if opts is not None:
        data = [str(Path(p).resolve()) for p in opts.data] or None
        startup += (f"\ntry:\n    specnb.load({data!r}, meta={dict(opts.meta)!r}, "
                    f"model_aliases={dict(opts.model_aliases)!r})\n"
                    "except Exception:\n    pass  # the report notebook reports any data error itself")
    return KernelPool(size=size, startup_code=startup, cwd=str(cwd), block_rfc3987_syntax=True,
                      restart_on_error=True)


def _progress(total: int, enabled: bool):
    if not enabled or total == 0:
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="report", file=sys.stderr, dynamic_ncols=True, leave=True)


def _worker_init(warm: tuple = ()) -> None:
    """Export workers leave Ctrl-C to the build process, which shuts them down (each write is atomic);
    each pays its exporters' first-use costs (imports, templates, vl-convert's engine) as it starts."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    block_slow_imports()
    if warm:
        from . import export

        export.warm_up(warm)


def _export_in_worker(job: Job, nb_text: str, formats: tuple) -> dict:
    """Process-pool entry point: render and write one report (the notebook travels as JSON text)."""
    import nbformat

    return export_job(job, nbformat.reads(nb_text, as_version=4), formats)


def _pdf_in_worker(nb_text: str) -> bytes:
    """Process-pool entry point: one executed report notebook as its PDF (written by the caller)."""
    import nbformat

    from . import export

    return export.export_pdf(stable_cell_ids(strip_machine_outputs(nbformat.reads(nb_text, as_version=4))))


def _html_in_worker(nb_text: str) -> str:
    """Process-pool entry point: one notebook as a self-contained HTML page (the index)."""
    import nbformat

    from . import export

    return export.export_html(nbformat.reads(nb_text, as_version=4))


def _ready() -> None:
    """A no-op task: submitting it makes the pool start (and warm up) its worker now."""


class Exporter:
    """Runs ``export_job`` in this process, or in worker processes.

    Worker processes are used when PDFs make exporting the bottleneck (WeasyPrint takes 1–2 s per report
    while a warm kernel executes one in well under a second), and for a report executed in this process
    (``process=True``): the worker imports and warms its exporters while this process executes. With
    ``pdf_only`` that worker only draws PDFs, meanwhile this process renders the HTML and JSON and writes
    the files: for one report the PDF is the longest part, so it starts as soon as the notebook is done.
    """

    def __init__(self, workers: int, *, process: bool = False, warm: tuple = (), pdf_only: bool = False):
        self.pool = None
        self.pdf_only = pdf_only
        self.pending: dict = {}
        if workers > 1 or process:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            self.pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                                            initializer=_worker_init, initargs=(tuple(warm),))
            if process:
                self.pool.submit(_ready)

    def submit(self, job: Job, nb, formats: tuple):
        if self.pool is None:
            return export_job(job, nb, formats)
        import nbformat

        if self.pdf_only:
            pdf = self.pool.submit(_pdf_in_worker, nbformat.writes(nb)) if "pdf" in formats else None
            return export_job(job, nb, formats, pdf=pdf)

        self.pending[self.pool.submit(_export_in_worker, job, nbformat.writes(nb), formats)] = job
        return None

    def html(self, nb) -> str:
        """``export.export_html(nb)``, in a worker when there is one (it has the exporter warm)."""
        if self.pool is None or self.pdf_only:
            from . import export

            return export.export_html(nb)
        import nbformat

        return self.pool.submit(_html_in_worker, nbformat.writes(nb)).result()

    def drain(self):
        """Yield ``(job, entry_or_exception)`` for every export still running, as they finish."""
        from concurrent.futures import as_completed

        for fut in as_completed(list(self.pending)):
            job = self.pending.pop(fut)
            exc = fut.exception()
            yield job, (exc if exc is not None else fut.result())

    def close(self):
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)

    def abort(self):
        """Stop now, before anything was submitted (e.g. the build's options were wrong): a worker still
        warming up is ended rather than waited for, so the error shows at once."""
        if self.pool is not None:
            workers = list(getattr(self.pool, "_processes", {}).values())  # no public way before Python 3.14
            self.pool.shutdown(wait=False, cancel_futures=True)
            for worker in workers:
                worker.terminate()
            for worker in workers:
                worker.join(timeout=10)


def in_process_exporter(renders: tuple) -> Exporter:
    """The exporter for reports executed in this process: a worker, warming up meanwhile, which draws the
    (one) PDF while this process renders the rest, or, without PDF, renders the HTML pages (each export
    queues there while the next report executes)."""
    if "pdf" in renders:
        return Exporter(1, process=True, warm=("pdf",), pdf_only=True)
    return Exporter(1, process=True, warm=renders)


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


def run_build(opts: BuildOptions, *, dataset: Dataset | None = None, pool=None) -> BuildResult:
    """Build the suite described by ``opts``; see the module docstring."""
    started = time.perf_counter()
    timings = Timings()
    block_slow_imports()
    jobs_n = opts.jobs or os.cpu_count() or 1
    out = Path(opts.out)
    first = opts.force or not (out / "suite.json").exists()
    # One report of specnb's own notebook (or a few, see runs_in_process) runs in this process (no kernel
    # to boot, the data already loaded by plan) while a worker process warms the exporters; more run on
    # warm kernels.
    few = pool is None and runs_in_process(opts, named(opts.only))  # what plan will most likely find
    renders = tuple(f for f in opts.formats if f in ("html", "pdf"))
    exporter = in_process_exporter(renders) if few and first and renders else None
    # A first build of more reports surely executes notebooks on kernels: start one now, so it boots while
    # we plan.
    early = pool is None and first and not few
    if early:
        pool = make_pool(1, Path.cwd(), opts)  # grown after planning if more than one report is stale
    own_pool = early
    try:
        dataset, jobs = plan(opts, dataset)
    except BaseException:
        if early:
            pool.close()
        if exporter is not None:
            exporter.abort()
        raise
    timings.mark("plan")
    result = BuildResult()
    out.mkdir(parents=True, exist_ok=True)
    stale = [j for j in jobs if j.stale]
    result.skipped = [j.slug for j in jobs if not j.stale]
    entries = {j.slug: read_state(j.outdir).get("entry") for j in jobs if not j.stale}
    meta = run_metadata() if stale or not (out / "index.html").exists() else {}
    in_process = pool is None and runs_in_process(opts, len(stale))
    if in_process:
        from .inprocess import InProcessRunner

        pool, own_pool = InProcessRunner(Path.cwd(), startup_code=KERNEL_STARTUP), True
        if exporter is None and renders:
            exporter = in_process_exporter(renders)
    elif pool is None and stale:
        pool, own_pool = make_pool(max(1, min(jobs_n, len(stale))), Path.cwd(), opts), True
    elif own_pool and len(stale) > 1:
        pool.grow(min(jobs_n, len(stale)))
    if exporter is None:
        workers = min(jobs_n, len(stale)) if "pdf" in opts.formats and len(stale) > 2 else 1
        exporter = Exporter(workers, warm=renders if workers > 1 else ())
    bar = _progress(len(stale), opts.progress)
    if stale:
        # papermill, nbclient and nbformat are imported here, in the main thread, before any helper thread
        # imports: two threads importing one package graph at once can trip Python's import deadlock check.
        if in_process:
            from .inprocess import register_engine
        else:
            from .kernels import register_engine

        register_engine()
    if stale and exporter.pool is None:  # first-export costs overlap with the first notebook's execution
        import threading

        from . import export

        threading.Thread(target=export.warm_up, args=(opts.formats,), daemon=True).start()

    def record(job: Job, outcome) -> None:
        if isinstance(outcome, (KeyboardInterrupt, SystemExit)):
            raise outcome
        if isinstance(outcome, BaseException):  # one failing configuration must not stop the others
            entries[job.slug] = failure_entry(job, outcome)
            result.failed.append((job.slug, entries[job.slug]["error"]))
        else:
            entries[job.slug] = outcome
            result.built.append(job.slug)
        if bar:
            bar.set_postfix_str(job.slug, refresh=False)
            bar.update(1)

    try:
        if stale:
            work = [(str(Path(opts.notebook).resolve()), {**j.params, "run_metadata": meta}) for j in stale]
            for index, nb_or_exc in pool.execute_many(work):
                job = stale[index]
                if isinstance(nb_or_exc, BaseException):
                    record(job, nb_or_exc)
                    continue
                try:
                    entry = exporter.submit(job, nb_or_exc, opts.formats)
                except (KeyboardInterrupt, SystemExit):
                    raise
                except BaseException as exc:
                    record(job, exc)
                    continue
                if entry is not None:
                    record(job, entry)
            for job, outcome in exporter.drain():
                record(job, outcome)
            where = "in this process" if in_process else "on kernels"
            timings.mark(f"execute ({where}) + export {len(stale)} report(s)")
        result.built.sort()
        result.failed.sort()
        result.index_written = write_index(opts, jobs, entries, meta, pool, dataset, exporter)
        timings.mark("index")
    finally:
        if bar:
            bar.close()
        exporter.close()
        if own_pool and pool is not None:
            pool.close()
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


def suite_document(opts: BuildOptions, jobs: list[Job], entries: dict, dataset: Dataset) -> dict:
    return {"schema": "specnb.suite/1",
            "options": {"cost_table": opts.cost_table if not Path(opts.cost_table).is_file()
                        else Path(opts.cost_table).name, "provider": opts.provider,
                        "token_type": opts.token_type, "semantics": opts.semantics,
                        "percentile": opts.percentile, "as_of": opts.as_of,
                        "targets": list(opts.targets) if opts.targets else None, "formats": list(opts.formats)},
            "data": [{"path": f.path, "format": f.format, "rows": f.rows, "sha256": f.sha256} for f in dataset.files],
            "entries": all_entries(Path(opts.out), dataset, entries)}


def write_index(opts: BuildOptions, jobs: list[Job], entries: dict, meta: dict, pool, dataset: Dataset,
                exporter: Exporter | None = None) -> bool:
    """Write ``suite.json`` and, when it changed (or is missing), ``index.html`` from the summary notebook
    (executed on the build's kernels, or in this process when it has none)."""
    out = Path(opts.out)
    doc = suite_document(opts, jobs, entries, dataset)
    text = json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    index = out / "index.html"
    previous = (out / "suite.json").read_text() if (out / "suite.json").exists() else None
    if previous == text and index.exists() and not opts.force:
        return False
    write_text(out / "suite.json", text)
    if pool is None:
        from .inprocess import InProcessRunner

        pool = InProcessRunner(Path.cwd())
    nb = pool.execute(str(SUMMARY_NOTEBOOK), {"reports_dir": str(out.resolve()),
                                              "run_metadata": meta or run_metadata()})
    page = stable_cell_ids(nb)
    if exporter is None:
        from . import export

        html = export.export_html(page)
    else:
        html = exporter.html(page)
    write_text(index, html)
    return True


# ------------------------------------------------------------------------------------------------- CLI


def add_build_parser(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", default="reports", help="output folder (default reports/)")
    p.add_argument("--format", default=",".join(FORMATS), help="any of html,pdf,json (default all)")
    p.add_argument("--only", action="append", metavar="GLOB",
                   help="build only configurations whose name matches, e.g. 'dsr1-b200-*' (repeatable)")
    p.add_argument("--jobs", type=int, default=0,
                   help="parallel kernels (default: one per CPU; one report, or up to 6 without PDF, run in "
                        "the build process instead unless --jobs is given)")
    p.add_argument("--targets", help="interactivities for every report, e.g. 30,50,80 (default 25/50/75 %% of band)")
    p.add_argument("--force", action="store_true", help="rebuild even what is up to date")
    p.add_argument("--notebook", default=str(REPORT_NOTEBOOK), metavar="IPYNB",
                   help="report notebook to execute per configuration (default: notebooks/report.ipynb)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def options_from_args(args) -> BuildOptions:
    from .cli import _key_values
    from .data import check_percentile, parse_as_of

    targets = None
    if args.targets:
        from .comparison import parse_targets

        targets = tuple(parse_targets(args.targets))
    only = tuple(p for item in (args.only or []) for p in item.split(",") if p.strip())
    if args.jobs < 0:
        raise UsageError("--jobs must be 0 (one per CPU) or more")
    return BuildOptions(
        data=tuple(args.data or ()), meta=_key_values(args.meta, "--meta", numeric=False),
        model_aliases=names.clean_model_aliases(args.model_alias), out=Path(args.out),
        formats=parse_formats(args.format), only=only, jobs=args.jobs, targets=targets,
        cost_table=args.cost_table, provider=args.provider, token_type=args.token_type, semantics=args.semantics,
        percentile=check_percentile(args.percentile), as_of=parse_as_of(args.as_of),
        gpu_cost=_key_values(args.gpu_cost, "--gpu-cost", numeric=True),
        gpu_kw=_key_values(args.gpu_kw, "--gpu-kw", numeric=True), force=args.force,
        progress=not args.no_progress, notebook=Path(args.notebook))


def run_build_command(args) -> int:
    opts = options_from_args(args)
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

