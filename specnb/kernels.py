"""A pool of warm Jupyter kernels for executing papermill notebooks.

Executing one report with the ``papermill`` CLI costs a process start, a kernel
start and (mostly) the report's imports (pandas, altair, jsonschema ...).
:class:`KernelPool` keeps kernels alive, runs ``startup_code`` (e.g. the heavy
imports) once per kernel, and executes each notebook through papermill's own
``execute_notebook`` with a custom engine (``"specnb-warm"``) that hands
nbclient an already running kernel.  nbclient never shuts down a kernel manager
it does not own (``NotebookClient.owns_km`` is ``km is None``), so the kernel
survives the notebook.

Before each notebook the kernel is reset so that the result matches a cold,
isolated ``papermill.execute_notebook`` run (see :data:`RESET_STATE`):
user namespace and output cache (``reset(new_session=True)``), execution
counter (starts at 1), cwd, ``sys.path``, ``sys.argv``, ``os.environ``,
warning filters and "once/default" registries, root logging config, IPython
event callbacks, display formatters, loaded-extension list, pandas options,
altair renderer / data-transformer / theme registries, numpy print options,
and the ``random`` / ``numpy.random`` global seeds (re-seeded from OS entropy,
as in a fresh process).

Not reset (documented limitations): modules stay imported (import-time side
effects such as printing or warnings happen only once per kernel), module-level
caches/monkeypatches, builtins patched by a report, threads a report left
running, user-registered magics, ``%config`` changes, matplotlib state (not
installed here).  Put every heavy import in ``startup_code`` so that library
state is snapshotted in its pristine post-import form.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
import typing as t
from concurrent.futures import Future, ThreadPoolExecutor, as_completed

from jupyter_client import KernelManager
from jupyter_core.utils import run_sync as _run_sync  # what nbclient.util re-exports; already imported

# papermill, nbformat and nbclient are imported on first use: spawning a kernel needs only
# jupyter_client, so `specnb build` can start its kernels ~0.5 s sooner (see register_engine).
if t.TYPE_CHECKING:
    import nbformat

__all__ = [
    "BLOCK_RFC3987_SYNTAX",
    "ENGINE_NAME",
    "KernelPool",
    "KernelStartupError",
    "RESET_STATE",
]

log = logging.getLogger(__name__)

ENGINE_NAME = "specnb-warm"

#: Startup snippet making ``import rfc3987_syntax`` fail inside the kernel.
#: jsonschema then skips the "iri"/"iri-reference" format checkers, and its
#: import drops from ~1.3-1.9 s to ~0.1 s (Earley grammars are not compiled,
#: python-jsonschema#1428).  The Vega-Lite schema only uses "uri",
#: "uri-reference" (rfc3986_validator) and "color-hex", so altair validation is
#: unaffected.
BLOCK_RFC3987_SYNTAX = "import sys as _s\n_s.modules.setdefault('rfc3987_syntax', None)\ndel _s\n"

#: What is reset between two notebooks on the same kernel, and why.
RESET_STATE = {
    "user namespace, In/Out, _ / __ / ___, _i*": "reports must not see each other's variables; Out cache keeps objects alive",
    "execution counter": "cold runs number cells from 1 (nbclient stores the kernel's reply count)",
    "cwd (before the namespace reset, so _dh is right)": "relative paths; papermill runs the kernel in `cwd`",
    "sys.path, sys.argv, os.environ": "reports may append to sys.path or set env vars",
    "warnings.filters, onceregistry, __warningregistry__ (via _filters_mutated)": "a warning shown in report 1 would be suppressed in report 2",
    "warnings.showwarning/formatwarning": "monkeypatched by some libraries/reports",
    "root logger handlers/level, logging.disable": "logging.basicConfig() is a no-op the second time",
    "IPython event callbacks": "post_run_cell hooks would run in later reports",
    "display formatters (for_type registrations, enabled, active_types)": "changes output mimebundles",
    "extension_manager.loaded": "'%load_ext x' prints 'already loaded' the second time",
    "pandas options": "display.* options change DataFrame text/html",
    "altair renderers / data_transformers / themes": "alt.renderers.enable(...) etc. change chart output",
    "numpy print options": "np.set_printoptions changes reprs",
    "random / numpy.random global seeds": "re-seeded from OS entropy like a new process (unseeded draws stay random)",
}

# --------------------------------------------------------------------------
# Code that lives inside the kernel (as module ``_specnb_kernel_pool``, so it is
# not part of the user namespace and survives ``reset``).
# --------------------------------------------------------------------------
_KERNEL_HELPER = r'''
import copy as _copy
import logging
import os
import random
import sys
import warnings

_snap = None


def _shell():
    from IPython import get_ipython
    return get_ipython()


def _formatters(sh):
    df = sh.display_formatter
    fmts = dict(df.formatters)
    fmts["__mimebundle__"] = df.mimebundle_formatter
    fmts["__ipython_display__"] = df.ipython_display_formatter
    return fmts


# ---- library state: name -> (snapshot(), restore(state), restore_defaults())
def _pd_snap():
    import pandas as pd
    from pandas._config import config as c
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for k in c._registered_options:
            if k in c._deprecated_options:
                continue
            try:
                out[k] = _copy.deepcopy(pd.get_option(k))
            except Exception:
                pass
    return out


def _pd_restore(state):
    import pandas as pd
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for k, v in state.items():
            try:
                if pd.get_option(k) != v:
                    pd.set_option(k, _copy.deepcopy(v))
            except Exception:
                pass


def _pd_default():
    import pandas as pd
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pd.reset_option("all")


def _alt_registries():
    import altair as alt
    regs = {"renderers": alt.renderers, "data_transformers": alt.data_transformers}
    try:
        from altair.theme import _themes
        regs["themes"] = _themes
    except Exception:
        pass
    return regs


def _alt_snap():
    return {k: r._get_state() for k, r in _alt_registries().items()}


def _alt_restore(state):
    for k, r in _alt_registries().items():
        if k in state:
            s = dict(state[k])
            s["_plugins"] = dict(s["_plugins"])
            s["_options"] = dict(s["_options"])
            s["_global_settings"] = dict(s["_global_settings"])
            r._set_state(s)


def _alt_default():
    for r in _alt_registries().values():
        r._global_settings = type(r)._global_settings.copy()
        r.enable("default")


def _np_snap():
    import numpy as np
    return np.get_printoptions()


def _np_restore(state):
    import numpy as np
    np.set_printoptions(**state)


def _np_default():
    import numpy as np
    np.set_printoptions(edgeitems=3, infstr="inf", linewidth=75, nanstr="nan", precision=8,
                        suppress=False, threshold=1000, formatter=None, sign="-",
                        floatmode="maxprec", legacy=False)


LIBS = {
    "pandas": (_pd_snap, _pd_restore, _pd_default),
    "altair": (_alt_snap, _alt_restore, _alt_default),
    "numpy": (_np_snap, _np_restore, _np_default),
}


def snapshot():
    """Record the post-startup state that every notebook starts from."""
    global _snap
    sh = _shell()
    root = logging.getLogger()
    s = {
        "cwd": os.getcwd(),
        "sys.path": list(sys.path),
        "sys.argv": list(sys.argv),
        "environ": dict(os.environ),
        "filters": list(warnings.filters),
        "defaultaction": warnings.defaultaction,
        "showwarning": warnings.showwarning,
        "formatwarning": warnings.formatwarning,
        "logging": (list(root.handlers), root.level, logging.root.manager.disable),
        "events": {k: list(v) for k, v in sh.events.callbacks.items()},
        "formatters": {
            k: (f.enabled, dict(f.type_printers), dict(f.deferred_printers),
                dict(f.singleton_printers))
            for k, f in _formatters(sh).items()
        },
        "active_types": list(sh.display_formatter.active_types),
        "extensions": set(sh.extension_manager.loaded),
        "libs": {},
        "modules": set(sys.modules),
    }
    for name, (snap, _r, _d) in LIBS.items():
        if name in sys.modules:
            s["libs"][name] = snap()
    _snap = s


def _restore_warnings(s):
    warnings.filters[:] = s["filters"]
    warnings.defaultaction = s["defaultaction"]
    warnings.showwarning = s["showwarning"]
    warnings.formatwarning = s["formatwarning"]
    warnings.onceregistry.clear()
    for mod in list(sys.modules.values()):
        reg = getattr(mod, "__warningregistry__", None)
        if isinstance(reg, dict):
            reg.clear()
    mutated = getattr(warnings, "_filters_mutated", None) or getattr(
        warnings, "_filters_mutated_lock_held", None)
    if mutated is not None:
        mutated()


def prepare(cwd=None):
    """Bring the kernel back to the snapshot state; called before each notebook."""
    s = _snap
    sh = _shell()
    os.chdir(cwd or s["cwd"])
    sh.reset(new_session=True)          # namespace, In/Out, _, history; counter := 1
    sys.path[:] = s["sys.path"]
    sys.argv[:] = s["sys.argv"]
    env = s["environ"]
    for k in [k for k in os.environ if k not in env]:
        del os.environ[k]
    for k, v in env.items():
        if os.environ.get(k) != v:
            os.environ[k] = v
    root = logging.getLogger()
    handlers, level, disable = s["logging"]
    root.handlers[:] = handlers
    root.setLevel(level)
    logging.disable(disable)
    for k, v in s["events"].items():
        sh.events.callbacks[k][:] = v
    for k, f in _formatters(sh).items():
        if k in s["formatters"]:
            enabled, tp, dp, sp = s["formatters"][k]
            f.enabled = enabled
            f.type_printers.clear(); f.type_printers.update(tp)
            f.deferred_printers.clear(); f.deferred_printers.update(dp)
            f.singleton_printers.clear(); f.singleton_printers.update(sp)
    sh.display_formatter.active_types = list(s["active_types"])
    sh.extension_manager.loaded.clear()
    sh.extension_manager.loaded.update(s["extensions"])
    for name, (_s, restore, default) in LIBS.items():
        if name in sys.modules:
            if name in s["libs"]:
                restore(s["libs"][name])
            else:
                default()
    _restore_warnings(s)                # last: library restores may touch warnings
    random.seed()
    np = sys.modules.get("numpy")
    if np is not None:
        np.random.seed()
    sh.execution_count = 1


def new_modules():
    """Top-level modules imported since the snapshot (candidates for startup_code)."""
    return sorted({m.split(".")[0] for m in set(sys.modules) - _snap["modules"]} - {"_specnb_kernel_pool"})
'''

_INSTALL_HELPER = (
    "import sys as _sys, types as _types\n"
    "_m = _types.ModuleType('_specnb_kernel_pool')\n"
    f"exec(compile({_KERNEL_HELPER!r}, '<specnb-kernel-pool>', 'exec'), _m.__dict__)\n"
    "_sys.modules['_specnb_kernel_pool'] = _m\n"
    "del _sys, _types, _m\n"
)


class KernelStartupError(RuntimeError):
    """The kernel could not be started or its startup code failed."""


class KernelPrepareError(RuntimeError):
    """Resetting the kernel before a notebook failed (the kernel gets replaced)."""


# --------------------------------------------------------------------------
# papermill engine
# --------------------------------------------------------------------------
_ENGINE_LOCK = threading.Lock()
_ENGINE: list = []


def register_engine():
    """Define and register the ``specnb-warm`` papermill engine (once; imports papermill)."""
    with _ENGINE_LOCK:
        if _ENGINE:
            return _ENGINE[0]
        _ENGINE.append(_define_engine())
        return _ENGINE[0]


def _define_engine():
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine, papermill_engines
    from papermill.utils import merge_kwargs, remove_args

    class _WarmNotebookClient(PapermillNotebookClient):
        """PapermillNotebookClient bound to a running kernel and an open client."""

        def __init__(self, nb_man, km=None, kc=None, **kw):
            super().__init__(nb_man, km=km, **kw)
            # With km and kc given, nbclient's setup_kernel neither starts a kernel nor a
            # client, and (owns_km is False) never shuts them down afterwards.
            self.kc = kc


    class WarmEngine(NBClientEngine):
        """papermill engine executing on an existing kernel (engine kwargs ``km``, ``kc``)."""

        @classmethod
        def execute_managed_notebook(
            cls,
            nb_man,
            kernel_name,
            log_output=False,
            stdout_file=None,
            stderr_file=None,
            start_timeout=60,
            execution_timeout=None,
            km=None,
            kc=None,
            capture=None,
            **kwargs,
        ):
            if km is None or kc is None:
                raise ValueError(f"the {ENGINE_NAME!r} engine needs a running kernel (km=..., kc=...)")
            if capture is not None:
                capture["nb"] = nb_man.nb  # lets the pool return the notebook on errors
            # Same argument handling as papermill's NBClientEngine.
            kwargs = remove_args(["input_path"], **kwargs)
            safe_kwargs = remove_args(["timeout", "startup_timeout"], **kwargs)
            final_kwargs = merge_kwargs(
                safe_kwargs,
                timeout=execution_timeout if execution_timeout else kwargs.get("timeout"),
                startup_timeout=start_timeout,
                kernel_name=kernel_name,
                log=logging.getLogger("papermill"),
                log_output=log_output,
                stdout_file=stdout_file,
                stderr_file=stderr_file,
            )
            return _WarmNotebookClient(nb_man, km=km, kc=kc, **final_kwargs).execute()


    papermill_engines.register(ENGINE_NAME, WarmEngine)
    return WarmEngine


# --------------------------------------------------------------------------
# one kernel = one KernelManager + one worker thread that owns its client
# --------------------------------------------------------------------------
class _Kernel:
    """A kernel and the single thread that talks to it.

    Everything touching the kernel (start, reset, papermill execution, shutdown)
    runs on ``self.thread``: the asyncio client's zmq sockets are tied to that
    thread's event loop (nbclient/jupyter_core ``run_sync`` keeps one loop per
    thread), so the client can be reused across notebooks instead of paying
    ``wait_for_ready`` (>= 0.2 s IOPub flush) for every notebook.
    """

    def __init__(self, pool: KernelPool, index: int):
        self.pool = pool
        self.index = index
        self.km: KernelManager | None = None
        self.kc = None
        self.runs = 0
        self.start_seconds = 0.0
        self.thread = ThreadPoolExecutor(1, thread_name_prefix=f"specnb-kernel-{index}")

    def submit(self, fn, *args, **kw) -> Future:
        return self.thread.submit(fn, *args, **kw)

    # -- runs on self.thread ------------------------------------------------
    def start(self) -> _Kernel:
        t0 = time.perf_counter()
        pool = self.pool
        km = KernelManager(
            kernel_name=pool.kernel_name,
            # nbclient needs an async client; the manager itself stays synchronous.
            client_class="jupyter_client.asynchronous.AsyncKernelClient",
        )
        # Same history setting nbclient uses for the kernels it starts itself.
        km.start_kernel(extra_arguments=["--HistoryManager.hist_file=:memory:", "--IPKernelApp.log_level=ERROR"],
                        cwd=pool.cwd)
        self.km = km
        try:
            self.kc = km.client()
            self.kc.start_channels()
            _run_sync(self.kc.wait_for_ready)(timeout=pool.start_timeout)
            self.kc.allow_stdin = False
            code = _INSTALL_HELPER
            if pool.block_rfc3987_syntax:
                code = BLOCK_RFC3987_SYNTAX + code
            for label, src in (
                ("helper", code),
                ("startup_code", pool.startup_code),
                ("snapshot", "__import__('_specnb_kernel_pool').snapshot()"),
            ):
                if src.strip():
                    self._run(src, label, pool.start_timeout, KernelStartupError)
        except BaseException:
            self.shutdown()
            raise
        self.runs = 0
        self.start_seconds = time.perf_counter() - t0
        log.debug("kernel %d ready in %.2fs", self.index, self.start_seconds)
        return self

    def _run(self, code: str, label: str, timeout: float, exc_type: type) -> None:
        outs: list[str] = []

        def hook(msg):
            if msg["msg_type"] == "stream":
                outs.append(msg["content"]["text"])

        reply = _run_sync(self.kc.execute_interactive)(
            code, silent=False, store_history=False, allow_stdin=False, timeout=timeout, output_hook=hook
        )
        content = reply["content"]
        if content["status"] != "ok":
            tb = "\n".join(content.get("traceback", []))
            raise exc_type(f"{label} failed in kernel {self.index}:\n{''.join(outs)}{tb}")

    def execute(self, prepare_code: str, pm_args: tuple, pm_kwargs: dict):
        import papermill as pm

        if not self.alive():
            raise KernelPrepareError(f"kernel {self.index} is dead")
        self._run(prepare_code, "reset", 60, KernelPrepareError)
        self.runs += 1
        return pm.execute_notebook(*pm_args, km=self.km, kc=self.kc, **pm_kwargs)

    def restart(self) -> _Kernel:
        self.shutdown()
        return self.start()

    def shutdown(self) -> None:
        kc, self.kc = self.kc, None
        if kc is not None:
            try:
                kc.stop_channels()
            except Exception:
                pass
        km, self.km = self.km, None
        if km is None:
            return
        try:
            km.shutdown_kernel(now=True)
        except Exception:  # pragma: no cover - best effort
            log.debug("kernel shutdown failed", exc_info=True)
        try:
            km.cleanup_resources()
        except Exception:
            pass

    # -- any thread ---------------------------------------------------------
    def alive(self) -> bool:
        try:
            return self.km is not None and self.km.is_alive()
        except Exception:
            return False

    def pid(self) -> int | None:
        """Process id of the kernel (for tests / diagnostics)."""
        try:
            return self.km.provisioner.process.pid  # type: ignore[union-attr]
        except Exception:
            return None


class KernelPool:
    """Warm kernels that execute papermill notebooks, one notebook per kernel at a time.

    ``execute`` may be called from several threads at once; each call checks out
    an idle kernel (waiting while all are busy).  Kernels start concurrently in
    the background as soon as the pool is created.

    Parameters
    ----------
    size: number of kernels.
    startup_code: run once per kernel after it starts (``import pandas, altair``).
        Its variables are removed before each notebook; imported modules stay,
        and library state (pandas options, altair registries ...) is
        snapshotted after it and restored before every notebook.
    kernel_name: kernelspec; notebooks whose kernelspec differs are rejected.
    cwd: default working directory for notebooks (default: the process cwd at
        pool creation).  ``execute(cwd=...)`` overrides it per notebook.
    block_rfc3987_syntax: prepend :data:`BLOCK_RFC3987_SYNTAX` to the startup.
    restart_on_error: replace the kernel after a notebook raised in a cell.
        Kernels are always replaced after a dead kernel, timeout or failed reset.
    max_runs_per_kernel: recycle a kernel after this many notebooks (None: never).
    """

    def __init__(
        self,
        size: int = 1,
        *,
        startup_code: str = "",
        kernel_name: str = "python3",
        cwd: str | os.PathLike | None = None,
        start_timeout: float = 60,
        block_rfc3987_syntax: bool = False,
        restart_on_error: bool = True,
        max_runs_per_kernel: int | None = None,
    ):
        if size < 1:
            raise ValueError("size must be >= 1")
        self.size = size
        self.startup_code = startup_code
        self.kernel_name = kernel_name
        self.cwd = os.path.abspath(os.fspath(cwd)) if cwd is not None else os.getcwd()
        self.start_timeout = start_timeout
        self.block_rfc3987_syntax = block_rfc3987_syntax
        self.restart_on_error = restart_on_error
        self.max_runs_per_kernel = max_runs_per_kernel
        self._idle: queue.Queue[_Kernel | BaseException] = queue.Queue()
        self._lock = threading.Lock()
        self._closed = False
        self.kernels = [_Kernel(self, i) for i in range(size)]
        self.stats: dict[str, t.Any] = {"runs": 0, "restarts": 0, "start_seconds": []}
        for k in self.kernels:
            self._start_in_background(k, k.start)

    # -- lifecycle ----------------------------------------------------------
    def _start_in_background(self, k: _Kernel, fn) -> None:
        def done(fut: Future) -> None:
            exc = fut.exception()
            if exc is not None:
                self._idle.put(exc)  # surfaced by the next execute()
                return
            with self._lock:
                self.stats["start_seconds"].append(round(k.start_seconds, 3))
            self._idle.put(k)

        k.submit(fn).add_done_callback(done)

    def _replace(self, k: _Kernel) -> None:
        with self._lock:
            self.stats["restarts"] += 1
        if not self._closed:
            self._start_in_background(k, k.restart)

    def grow(self, size: int) -> None:
        """Start more kernels (in the background) until the pool has ``size``; never shrinks."""
        new = []
        with self._lock:
            while len(self.kernels) < size and not self._closed:
                new.append(_Kernel(self, len(self.kernels)))
                self.kernels.append(new[-1])
                self.size = len(self.kernels)
        for k in new:  # outside the lock: a start's done-callback takes it
            self._start_in_background(k, k.start)

    def wait_ready(self, timeout: float | None = None) -> None:
        """Block until every kernel finished starting (raises a startup error)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        got = []
        try:
            for _ in range(self.size):
                left = None if deadline is None else max(0.0, deadline - time.monotonic())
                got.append(self._idle.get(timeout=left))
        finally:
            for g in got:
                self._idle.put(g)
        for g in got:
            if isinstance(g, BaseException):
                raise KernelStartupError(f"kernel failed to start: {g}") from g

    def _checkout(self) -> _Kernel:
        while True:
            if self._closed:
                raise RuntimeError("KernelPool is closed")
            k = self._idle.get()
            if isinstance(k, BaseException):
                # Startup errors are almost always deterministic (bad startup_code):
                # keep the error in the queue so every caller fails fast.
                self._idle.put(k)
                raise KernelStartupError(f"kernel failed to start: {k}") from k
            if k.alive():
                return k
            log.warning("kernel %d died while idle; replacing it", k.index)
            self._replace(k)

    def _checkin(self, k: _Kernel, *, replace: bool) -> None:
        if self.max_runs_per_kernel and k.runs >= self.max_runs_per_kernel:
            replace = True
        if self._closed:
            return
        if replace or not k.alive():
            self._replace(k)
        else:
            self._idle.put(k)

    def close(self) -> None:
        """Shut all kernels down (after their current notebook / startup)."""
        self._closed = True
        for k in self.kernels:
            try:
                k.submit(k.shutdown).result(timeout=self.start_timeout + 30)
            except Exception:
                k.shutdown()
            k.thread.shutdown(wait=False)

    def __enter__(self) -> KernelPool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- execution ----------------------------------------------------------
    def execute(
        self,
        nb: nbformat.NotebookNode | str | os.PathLike,
        parameters: dict | None = None,
        *,
        output_path: str | os.PathLike | None = None,
        cwd: str | os.PathLike | None = None,
        timeout: int | None = 600,
        **papermill_kwargs: t.Any,
    ) -> nbformat.NotebookNode:
        """Parameterize and execute ``nb`` on a warm kernel via ``papermill.execute_notebook``.

        ``nb`` is what you would pass as papermill's ``input_path`` (a path or a
        NotebookNode; pass the path if ``metadata.papermill.input_path`` must
        match a CLI run).  ``cwd`` is applied inside the kernel only (papermill's
        own ``cwd=`` would ``os.chdir`` this whole, possibly multi-threaded,
        process).  ``timeout`` is papermill's per-cell ``execution_timeout``.
        Extra keyword arguments go to ``papermill.execute_notebook``.

        Returns the executed notebook.  On a cell error raises papermill's
        ``PapermillExecutionError`` whose ``.nb`` attribute holds the executed
        notebook with papermill's error banner (also written to ``output_path``).
        """
        for key in ("engine_name", "km", "kc", "kernel_name"):
            if key in papermill_kwargs:
                raise TypeError(f"{key} is chosen by the pool")
        papermill_kwargs.setdefault("progress_bar", False)
        # papermill's default re-writes output_path around every cell; we write once.
        papermill_kwargs.setdefault("request_save_on_cell_execute", False)
        import nbformat
        from papermill.exceptions import PapermillExecutionError

        register_engine()
        if isinstance(nb, os.PathLike):
            nb = os.fspath(nb)
        if isinstance(nb, nbformat.NotebookNode):
            spec = nb.get("metadata", {}).get("kernelspec", {}).get("name")
            if spec and spec != self.kernel_name:
                raise ValueError(f"notebook kernelspec {spec!r} != pool kernel {self.kernel_name!r}")
        run_cwd = os.path.abspath(os.fspath(cwd)) if cwd is not None else self.cwd
        prepare = f"__import__('_specnb_kernel_pool').prepare({run_cwd!r})"
        capture: dict = {}
        pm_args = (nb, os.fspath(output_path) if output_path is not None else None)
        pm_kwargs = dict(
            parameters=parameters,
            engine_name=ENGINE_NAME,
            kernel_name=self.kernel_name,
            capture=capture,
            execution_timeout=timeout,
            **papermill_kwargs,
        )

        k = self._checkout()
        replace = False
        try:
            return k.submit(k.execute, prepare, pm_args, pm_kwargs).result()
        except PapermillExecutionError as e:
            e.nb = capture.get("nb")
            replace = self.restart_on_error
            raise
        except BaseException:
            replace = True  # dead kernel, timeout, interrupted, reset failure ...
            raise
        finally:
            with self._lock:
                self.stats["runs"] += 1
            self._checkin(k, replace=replace)

    def execute_many(
        self, jobs: t.Iterable[tuple[t.Any, dict] | dict], **common: t.Any
    ) -> t.Iterator[tuple[int, nbformat.NotebookNode | BaseException]]:
        """Run jobs on all kernels; yield ``(job_index, nb_or_exception)`` as they finish.

        A job is ``(nb, parameters)`` or a dict of ``execute`` keyword arguments.
        Exceptions (e.g. ``PapermillExecutionError`` with ``.nb``) are yielded, not raised.
        """

        def run(job):
            kw = dict(common)
            if isinstance(job, dict):
                kw.update(job)
            else:
                kw["nb"], kw["parameters"] = job
            return self.execute(**kw)

        with ThreadPoolExecutor(max_workers=self.size, thread_name_prefix="specnb-pool") as ex:
            futs: dict[Future, int] = {ex.submit(run, j): i for i, j in enumerate(jobs)}
            for f in as_completed(futs):
                exc = f.exception()
                yield futs[f], (exc if exc is not None else f.result())
