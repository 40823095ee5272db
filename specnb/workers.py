"""Report jobs and the one function that runs them: in the build process, in local worker processes, or on Dask
workers (``specnb.cluster``).

A :class:`Task` carries one configuration's notebook parameters, its rows of the data (pickled: the bytes the build
read and hashed) and the formats to render. :func:`run` executes the notebook — specnb's own in the worker's own
IPython shell (``specnb.inprocess``), a user's ``--notebook`` on a kernel of its own — and renders every file in
memory; only the build process writes (``specnb.build``).
"""

from __future__ import annotations

import importlib
import os
import pickle
import signal
import sys
import threading
import time
from dataclasses import dataclass

from . import resources
from .errors import BuildError

REPORT_NOTEBOOK = resources.notebook("report")
STARTUP = ("json", "math", "pandas", "numpy", "scipy.interpolate", "altair", "specnb.report", "specnb.charts",
           "specnb.suite", "specnb.comparison", "specnb.narrative", "specnb.table", "specnb.data")
"""What specnb's notebooks import: a worker imports it once, before its first report."""


@dataclass(frozen=True)
class Task:
    slug: str
    params: dict
    data: bytes  # pickled Dataset: this configuration's rows and the data files' hashes
    formats: tuple
    notebook: str | None = None  # a user's own report notebook (nbformat JSON); None: specnb's own
    timeout: float | None = None  # seconds a cell of the user's notebook may run (None: papermill's 600)


@dataclass(frozen=True)
class Rendered:
    slug: str
    files: dict  # file name -> bytes, in the order they are written
    summary: dict  # what the index shows (the notebook's summary output)


@dataclass(frozen=True)
class Failed:
    slug: str
    error: str  # one line
    notebook: str | None = None  # the executed notebook as far as it ran (JSON), kept as failed.ipynb


def block_slow_imports() -> None:
    """Make ``import rfc3987_syntax`` fail in this process, before jsonschema is first imported.

    jsonschema only uses it to check the ``iri`` string format, which no notebook or Vega-Lite schema
    here relies on, and importing it compiles grammars for 1–3 s (python-jsonschema issue 1428).
    """
    if "jsonschema" not in sys.modules:
        sys.modules.setdefault("rfc3987_syntax", None)


def warm_up(formats: tuple = ()) -> None:
    """Pay a worker's one-off costs before its first report: the notebooks' imports, papermill and the shell,
    the exporters for ``formats``; then freeze the heap out of the cyclic collector's reach (see
    ``specnb.export.warm_up``)."""
    import gc

    block_slow_imports()
    for module in (*STARTUP, "specnb.inprocess"):
        importlib.import_module(module)
    if renders := tuple(f for f in formats if f in ("html", "pdf")):
        from . import export

        export.warm_up(renders)
    gc.freeze()


def run(task: Task) -> Rendered | Failed:
    """Execute ``task``'s notebook and render its files; a failure is returned, not raised."""
    try:
        return render(task.slug, execute(task), task.formats)
    except Exception as exc:  # noqa: BLE001 - one failing configuration must not stop the others
        nb = getattr(exc, "nb", None)
        if nb is not None:
            import nbformat

            nb = nbformat.writes(nb)
        return Failed(task.slug, error_line(exc), nb)


def execute(task: Task):
    """The executed notebook. Raises with the notebook as far as it ran as ``.nb``, when there is one: a cell
    failed (papermill's ``PapermillExecutionError``), ran out of time, or its kernel died."""
    if task.notebook is None:
        from . import inprocess
        from .data import pinned

        dataset = pickle.loads(task.data)  # a fresh copy per report: editing it changes no other report
        with pinned(dataset, task.params.get("data"), task.params.get("meta")):
            return inprocess.execute(REPORT_NOTEBOOK, task.params)
    import tempfile

    import nbformat
    import papermill
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    # papermill's standard engine, on a kernel of its own, which first pins the task's rows for
    # specnb.load (so the kernel reads no data file either); papermill writes the notebook before it raises
    with tempfile.TemporaryDirectory(prefix="specnb-") as tmp:
        out, rows = os.path.join(tmp, "executed.ipynb"), os.path.join(tmp, "rows.pickle")
        with open(rows, "wb") as fh:
            fh.write(task.data)
        where = (rows, task.params.get("data"), task.params.get("meta"))
        pin = f"__import__('specnb.workers').workers.pin{where!r}"
        ended: dict = {"log": os.path.join(tmp, "kernel.log")}
        try:
            return papermill.execute_notebook(
                nbformat.reads(task.notebook, as_version=4), out, parameters=task.params, kernel_name="python3",
                progress_bar=False, execution_timeout=task.timeout, kernel_manager_class=_kernel_manager(ended),
                extra_arguments=[f"--IPKernelApp.exec_lines={pin}"])
        except Exception as exc:
            if isinstance(exc, DeadKernelError):
                with open(ended["log"], encoding="utf-8", errors="replace") as fh:
                    last = [ln.strip() for ln in fh if ln.strip() and not ln.startswith("[IPKernelApp]")][-1:]
                exc = died("the kernel running it", ended.get("code"), f" ({last[0][:200]})" if last else "")
            elif isinstance(exc, CellTimeoutError):
                exc = BuildError(f"a cell ran longer than {task.timeout or 600:g} s (--timeout)")
            exc.nb = nbformat.read(out, as_version=4) if os.path.exists(out) else None
            raise exc from None


_PINS: list = []


def pin(rows: str, paths, meta) -> None:
    """In a ``--notebook``'s kernel, before its first cell: ``specnb.load(paths, meta=meta)`` gives the rows the
    build read and hashed (pickled in the file ``rows``), never what the data files hold by then."""
    from .data import pinned

    with open(rows, "rb") as fh:
        _PINS.append(pinned(pickle.load(fh), paths, meta))  # kept for the kernel's life: dropped, it would unpin
    _PINS[-1].__enter__()


def _kernel_manager(ended: dict):
    """jupyter_client's kernel manager, with the kernel's own output in the file ``ended["log"]`` (not on the
    build's terminal, where a kernel stopped mid-cell prints tracebacks), noting in ``ended["code"]`` how the
    kernel ended when it is found dead."""
    from jupyter_client.manager import AsyncKernelManager
    from jupyter_client.manager import KernelManager as Base

    class KernelManager(AsyncKernelManager):
        async def start_kernel(self, **kw):
            with open(ended["log"], "ab") as log:  # the kernel keeps its own descriptor
                return await Base._async_start_kernel(self, stdout=log, stderr=log, **kw)

        async def _async_is_alive(self) -> bool:
            alive = await super()._async_is_alive()
            process = getattr(self.provisioner, "process", None)
            if not alive and process is not None:
                ended["code"] = process.returncode
            return alive

    return KernelManager


def render(slug: str, nb, formats: tuple) -> Rendered:
    """A report's files from its executed notebook: ``comparison.json``/``.csv`` as the notebook emitted
    them, HTML and PDF exported without those machine outputs. All are rendered before any is written."""
    from .report import COMPARISON_MIME, CSV_MIME, SUMMARY_MIME

    found = take_machine_outputs(nb)
    if COMPARISON_MIME not in found:
        msg = f"{slug}: the report notebook produced no comparison output"
        raise BuildError(msg)
    files = {}
    if "json" in formats:
        files["comparison.json"] = found[COMPARISON_MIME].encode()
        files["comparison.csv"] = found.get(CSV_MIME, "").encode()
    if "html" in formats or "pdf" in formats:
        from . import export

        view = stable_cell_ids(nb)
        if "html" in formats:
            files["report.html"] = export.export_html(view).encode()
        if "pdf" in formats:
            files["report.pdf"] = export.export_pdf(view)
    return Rendered(slug, files, found.get(SUMMARY_MIME, {}))


def take_machine_outputs(nb) -> dict:
    """Remove the report's machine-readable outputs from ``nb`` (written as their own files, never exported) and
    return them by MIME type (text joined when stored as lines)."""
    from .report import COMPARISON_MIME, CSV_MIME, SUMMARY_MIME

    mimes, found = (COMPARISON_MIME, CSV_MIME, SUMMARY_MIME), {}
    for cell in nb.cells:
        kept = []
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            hits = {m: v for m, v in data.items() if m in mimes}
            found.update({m: "".join(v) if isinstance(v, list) else v for m, v in hits.items()})
            if not hits:
                kept.append(out)
        if "outputs" in cell:
            cell["outputs"] = kept
    return found


def stable_cell_ids(nb):
    """papermill gives its injected-parameters cell a random id, which nbconvert writes into the page;
    a fixed one keeps two builds of the same inputs byte-identical."""
    for cell in nb.cells:
        if "injected-parameters" in cell.get("metadata", {}).get("tags", []):
            cell["id"] = "injected-parameters"
    return nb


def error_line(exc: BaseException) -> str:
    """One line saying what failed: a cell's exception name and value, else the exception's first line."""
    ename, evalue = getattr(exc, "ename", None), getattr(exc, "evalue", None)
    if ename:
        return f"{ename}: {evalue}".splitlines()[0][:300]
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"[:300]


class WorkerDied(BuildError):
    """The process running a report (a worker, a kernel) ended without answering: killed, out of memory, crashed."""


def died(what: str, code: int | None, detail: str = "") -> WorkerDied:
    """``what`` died, and how, from its exit code (negative: the signal that ended it)."""
    if code is not None and code < 0:
        name = signal.Signals(-code).name if -code in signal.valid_signals() else str(-code)
        why = f": killed ({name}, signal {-code}{', possibly out of memory' if -code == signal.SIGKILL else ''})"
    else:
        why = f": exited with code {code}" if code is not None else ""
    return WorkerDied(f"{what} died{why}{detail}")


# ------------------------------------------------------------------------------------------ the pools
# Each pool's ``map(tasks)`` yields ``(task, Rendered | Failed | exception)`` as tasks finish; ``close()`` ends it
# after the last, ``abort()`` at once (interrupted, failed).


class InlinePool:
    """Runs tasks in this process, one after the other (few reports: no process to start). With PDFs,
    vl-convert's engine starts at once, on another core, while the data loads and the notebook runs."""

    def __init__(self, formats: tuple = ()):
        if "pdf" in formats:
            from . import export

            export.start_chart_engine()

    def map(self, tasks):
        warm_up()  # the notebooks' imports, then the heap frozen: each report's collections stay small
        for task in tasks:
            yield task, run(task)

    def close(self) -> None:
        """Nothing to end."""

    abort = close


class LocalPool:
    """Worker processes on this machine, spawned and warmed up as the pool is made; each task goes to the next
    free worker. A worker that dies costs only the task it was running (:class:`WorkerDied`) and is replaced.
    Workers end with the build process, however it ends; they write nothing, so ending them is killing them."""

    def __init__(self, size: int, formats: tuple = ()):
        import multiprocessing

        self.ctx, self.formats = multiprocessing.get_context("spawn"), formats
        self.workers = [self._start() for _ in range(size)]

    def _start(self):
        here, there = self.ctx.Pipe()
        proc = self.ctx.Process(target=_serve, args=(there, self.formats, os.getpid()), name="specnb-worker",
                                daemon=True)
        proc.start()
        there.close()
        return proc, here

    def _replace(self, worker):
        worker[0].join(5)
        self.workers[self.workers.index(worker)] = fresh = self._start()
        return fresh, worker[0].exitcode

    def map(self, tasks):
        from multiprocessing.connection import wait

        tasks, idle, busy = iter(tasks), list(self.workers), {}  # busy: connection -> (worker, task)
        while True:
            while idle and (task := next(tasks, None)) is not None:
                worker = idle.pop()
                try:
                    worker[1].send(task)
                except OSError:  # it died while idle: a fresh one takes the task
                    worker = self._replace(worker)[0]
                    worker[1].send(task)
                busy[worker[1]] = (worker, task)
            if not busy:
                return
            ready = wait([*busy, *(worker[0].sentinel for worker, _ in busy.values())])
            for conn, (worker, task) in list(busy.items()):
                if conn in ready or worker[0].sentinel in ready:
                    del busy[conn]
                    try:
                        outcome = conn.recv()
                    except (EOFError, OSError):  # the process ended mid-task: this task alone is lost
                        worker, code = self._replace(worker)
                        outcome = died("the worker process building it", code)
                    idle.append(worker)
                    yield task, outcome

    def close(self) -> None:
        """End every worker now (SIGKILL: they ignore the terminal's signals)."""
        for proc, _ in self.workers:
            proc.kill()
        for proc, conn in self.workers:
            proc.join(5)
            conn.close()

    abort = close


def die_with_parent(parent: int) -> None:
    """End this process as soon as ``parent`` (the process that started it) ends, even by SIGKILL: Linux
    sends SIGKILL (``PR_SET_PDEATHSIG``); elsewhere, and if it ended before that was set, a thread sees the
    parent change within a second."""
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1: PR_SET_PDEATHSIG

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(1)

    threading.Thread(target=watch, name="specnb-parent-watch", daemon=True).start()


def _ignore(signum, frame) -> None:
    """Signals the worker leaves to the build process."""


def _serve(conn, formats: tuple, parent: int) -> None:
    """A local worker: warm up, then run tasks until the build process is gone (or ends it)."""
    die_with_parent(parent)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):  # a terminal's, a group's: the build decides
        signal.signal(sig, _ignore)  # a handler, not SIG_IGN: the kernels this worker starts get the defaults
    warm_up(formats)
    while True:
        try:
            conn.send(run(conn.recv()))
        except (EOFError, OSError):  # the build process ended: so does this worker
            os._exit(0)
