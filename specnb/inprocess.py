"""Execute specnb's own notebooks through papermill inside this process, without a kernel.

A kernel is most of a report's cost (a second process, ~0.7 s of boot, message round trips, the imports paid
again). The ``specnb-inprocess`` papermill engine runs each code cell in this process's IPython shell and turns
what it shows into the messages an IPython kernel would send (packed and read back by jupyter_client's own
packer), fed to nbclient's ``process_message`` through papermill's ``papermill_execute_cells``: outputs,
counts, timing and metadata are built by the same code as in a kernel run (``tests/test_inprocess.py``).

Only for notebooks that change no process state (cwd, ``sys.path``, environment, warning filters, library
options): specnb's report, summary and diff notebooks. A user's ``--notebook`` runs on a kernel of its own
(``specnb.workers``). Unlike a kernel: no per-cell timeout or interrupt, no ``input()``, no widgets; streams
are sent once per run of writes between two displays (a kernel also every 0.2 s); pandas sizes plain-text
frames for a terminal.
"""

from __future__ import annotations

import copy
import datetime
import io
import sys
import threading
import uuid
from contextlib import contextmanager

import papermill
from ipykernel.compiler import XCachingCompiler
from IPython.core.displayhook import DisplayHook
from IPython.core.displaypub import DisplayPublisher
from IPython.core.interactiveshell import InteractiveShell
from jupyter_client.session import Session
from nbclient.client import timestamp
from nbclient.exceptions import CellExecutionError
from papermill.clientwrap import PapermillNotebookClient
from papermill.engines import Engine, papermill_engines
from papermill.exceptions import PapermillExecutionError
from traitlets import Type
from traitlets.config import Config

__all__ = ["ENGINE_NAME", "LANGUAGE_INFO", "execute"]

ENGINE_NAME = "specnb-inprocess"

#: What an IPython kernel reports as ``language_info`` (copied into ``nb.metadata`` after a run).
LANGUAGE_INFO = {
    "name": "python",
    "version": sys.version.split()[0],
    "mimetype": "text/x-python",
    "codemirror_mode": {"name": "ipython", "version": sys.version_info[0]},
    "pygments_lexer": "ipython3",
    "nbconvert_exporter": "python",
    "file_extension": ".py",
}

_LOCK = threading.Lock()  # one notebook at a time: the shell, sys.stdout and sys.stderr are global
_SESSION = Session()  # the packer a kernel and its client use (orjson when installed, else json)


class _Stream(io.StringIO):
    """``sys.stdout``/``sys.stderr`` during a cell: text is buffered and sent as ``stream`` messages."""

    encoding = "UTF-8"  # what ipykernel's OutStream reports

    def __init__(self, name: str, sink):
        super().__init__()
        self.name, self._sink = name, sink

    def flush(self) -> None:
        if text := self.getvalue():
            self.seek(0)
            self.truncate()
            self._sink("stream", {"name": self.name, "text": text})


class _DisplayPublisher(DisplayPublisher):
    """Sends ``display_data`` / ``update_display_data`` / ``clear_output`` like ipykernel's publisher."""

    def publish(self, data, metadata=None, source=None, *, transient=None, update=False, **kwargs):
        self.shell.specnb_send("update_display_data" if update else "display_data",
                               {"data": data, "metadata": metadata or {}, "transient": transient or {}})

    def clear_output(self, wait=False):
        self.shell.specnb_send("clear_output", {"wait": wait})


class _DisplayHook(DisplayHook):
    """Sends a cell's value as ``execute_result`` like ipykernel's display hook (no prompt printed)."""

    content = None

    def start_displayhook(self):
        self.content = {"data": {}, "metadata": {}}

    def write_output_prompt(self):
        self.content["execution_count"] = self.prompt_count

    def write_format_data(self, format_dict, md_dict=None):
        self.content["data"], self.content["metadata"] = format_dict, md_dict

    def finish_displayhook(self):
        content, self.content = self.content, None
        if content and content["data"]:
            self.shell.specnb_send("execute_result", content)


class InProcessShell(InteractiveShell):
    """An IPython shell whose outputs become kernel messages for the current cell."""

    displayhook_class = Type(_DisplayHook)
    display_pub_class = Type(_DisplayPublisher)
    specnb_sink = None  # callable(msg_type, content) while a cell runs
    specnb_streams: tuple = ()

    def specnb_send(self, msg_type: str, content: dict) -> None:
        """Send a message, the streams' pending text first (stdout, then stderr, as ipykernel does)."""
        for stream in self.specnb_streams:
            stream.flush()
        if self.specnb_sink is not None:
            self.specnb_sink(msg_type, content)

    def init_virtualenv(self):
        """Leave ``sys.path`` alone: IPython would put the site-packages of whatever ``$VIRTUAL_ENV`` names
        (another environment than this interpreter's) in front of the build's own packages, and warn."""

    def _showtraceback(self, etype, evalue, stb):
        self.specnb_send("error", {"traceback": stb, "ename": str(etype.__name__), "evalue": str(evalue)})
        self._last_traceback = stb


def _shell() -> InProcessShell:
    """The process's in-process shell, created once (IPython keeps one shell per process)."""
    if InteractiveShell.initialized():
        shell = InteractiveShell.instance()
        if not isinstance(shell, InProcessShell):
            msg = "another IPython shell is already running in this process; use a kernel instead"
            raise RuntimeError(msg)
        return shell
    config = Config()
    config.HistoryManager.enabled = False  # no ~/.ipython history database, no saving thread
    main = sys.modules.get("__main__")
    try:  # XCachingCompiler names cells' code as a kernel does, for tracebacks
        return InProcessShell.instance(config=config, compiler_class=XCachingCompiler)
    finally:  # IPython installs its user module as __main__; the build process keeps its own
        if main is not None:
            sys.modules["__main__"] = main


class _InProcessNotebookClient(PapermillNotebookClient):
    """papermill's notebook client with ``execute_cell`` run in the in-process shell."""

    def execute(self, **kwargs):
        self.reset_execution_trackers()
        self.shell = _shell()
        self.shell.reset(new_session=True)
        self.shell.execution_count = 1
        self.papermill_execute_cells()
        self.nb.metadata["language_info"] = copy.deepcopy(LANGUAGE_INFO)
        self.set_widgets_metadata()
        return self.nb

    def execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
        if cell.cell_type != "code" or not cell.source.strip():
            return cell
        if self.skip_cells_with_tag in cell.metadata.get("tags", []):
            return cell
        if self.record_timing:
            cell["metadata"]["execution"] = {}
        shell, parent_id = self.shell, uuid.uuid4().hex
        self.code_cells_executed += 1
        cell.outputs = []
        self.clear_before_next_output = False

        def send(msg_type: str, content: dict) -> None:
            header = {"msg_id": uuid.uuid4().hex, "msg_type": msg_type, "date": datetime.datetime.now(datetime.UTC)}
            content = _SESSION.unpack(_SESSION.pack(content))  # exactly what a kernel's message would carry
            self.process_message({"header": header, "msg_id": header["msg_id"], "msg_type": msg_type, "metadata": {},
                                  "parent_header": {"msg_id": parent_id}, "content": content}, cell, cell_index)

        send("status", {"execution_state": "busy"})
        send("execute_input", {"code": cell.source, "execution_count": shell.execution_count})
        with _captured(shell, send):
            result = shell.run_cell(cell.source, store_history=store_history)
        error = result.error_before_exec or result.error_in_exec
        if isinstance(error, KeyboardInterrupt):  # Ctrl-C stops the build, as it would stop papermill
            raise error
        if self.record_timing:  # the reply and the idle status come at once here
            done = timestamp()
            cell["metadata"]["execution"].update({"shell.execute_reply": done, "iopub.status.idle": done})
        if execution_count:
            cell["execution_count"] = execution_count
        if error is not None:
            reply = {"status": "error", "execution_count": shell.execution_count - 1,
                     "traceback": getattr(shell, "_last_traceback", None) or [],
                     "ename": str(type(error).__name__), "evalue": str(error)}
            allowed = not self.force_raise_errors and (
                self.allow_errors or reply["ename"] in self.allow_error_names
                or "raises-exception" in cell.metadata.get("tags", []))
            if not allowed:
                raise CellExecutionError.from_cell_and_msg(cell, reply)
        self.nb["cells"][cell_index] = cell
        return cell


class InProcessEngine(Engine):
    """papermill engine running a notebook in this process's IPython shell (see the module docstring)."""

    @classmethod
    def execute_managed_notebook(cls, nb_man, kernel_name, log_output=False, stdout_file=None, stderr_file=None,
                                 capture=None, **kwargs):
        if capture is not None:
            capture["nb"] = nb_man.nb  # the notebook as far as it ran, for a failure report
        return _InProcessNotebookClient(nb_man, kernel_name=kernel_name, log_output=log_output,
                                        stdout_file=stdout_file, stderr_file=stderr_file).execute()


papermill_engines.register(ENGINE_NAME, InProcessEngine)


@contextmanager
def _captured(shell, send):
    """Route the shell's output to ``send`` while one cell runs: stdout, stderr and displays."""
    streams = (_Stream("stdout", send), _Stream("stderr", send))
    saved = sys.stdout, sys.stderr
    shell.specnb_sink, shell.specnb_streams = send, streams
    sys.stdout, sys.stderr = streams
    try:
        yield
    finally:
        for stream in streams:
            stream.flush()
        sys.stdout, sys.stderr = saved
        shell.specnb_sink, shell.specnb_streams = None, ()


def execute(nb, parameters: dict | None = None, **papermill_kwargs):
    """Parameterize and execute ``nb`` (a path or a NotebookNode) with papermill in this process's shell.

    On a cell error raises papermill's ``PapermillExecutionError`` with the executed notebook as ``.nb``.
    """
    papermill_kwargs.setdefault("progress_bar", False)
    papermill_kwargs.setdefault("request_save_on_cell_execute", False)
    capture: dict = {}
    with _LOCK:
        try:
            return papermill.execute_notebook(nb, None, parameters=parameters, engine_name=ENGINE_NAME,
                                              kernel_name="python3", capture=capture, **papermill_kwargs)
        except PapermillExecutionError as exc:
            exc.nb = capture.get("nb")
            raise
