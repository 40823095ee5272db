"""Report jobs on a Dask distributed cluster: ``specnb build --scheduler tcp://HOST:PORT | FILE | local[:N]``.

The tasks are :func:`specnb.workers.run`, as in the build process and the local pool; each worker warms up once as
it joins (a worker plugin). A worker that dies mid-task costs nothing written (the build process writes): Dask runs
the task again, and after ``distributed.scheduler.allowed-failures`` deaths the report is recorded as failed.
"""

from __future__ import annotations

import logging
import os
import uuid
from concurrent.futures import ThreadPoolExecutor

from . import workers
from .errors import MissingDependencyError, UsageError

try:
    from distributed import Client, KilledWorker, LocalCluster, WorkerPlugin, as_completed
except ImportError as exc:  # pragma: no cover - depends on the environment
    msg = "--scheduler needs Dask's 'distributed' package, which is not installed; run: pip install 'specnb[dask]'"
    raise MissingDependencyError(msg) from exc


class WarmUp(WorkerPlugin):
    """Each worker's one-off costs, paid as it joins (and by any worker that replaces one)."""

    name = "specnb-warm-up"

    def __init__(self, formats: tuple):
        self.formats = tuple(formats)

    def setup(self, worker) -> None:
        # Dask's sampling profiler keeps the call-stack trees it samples: ~1 MB more per report per worker
        for name in ("profile", "profile-cycle"):
            if (callback := getattr(worker, "periodic_callbacks", {}).get(name)) is not None:
                callback.stop()
        workers.warm_up(self.formats)


class DaskPool:
    """Runs tasks on a Dask cluster, two per worker thread in flight at a time (the rest wait in the build
    process, so neither side holds the whole suite)."""

    def __init__(self, address: str, size: int, formats: tuple = ()):
        """Connect to the scheduler at ``address`` or named in a scheduler file, or start a ``LocalCluster`` of
        ``N`` one-thread workers for ``local[:N]`` (``size`` when no N); register the workers' warm-up."""
        kind, _, count = address.partition(":")
        self.client = self.cluster = None
        try:
            if kind == "local":
                if (n := int(count) if count else size) < 1:
                    raise ValueError(count)
                # started in a thread: a build interrupted meanwhile (Ctrl-C, SIGTERM) waits for the cluster to be up,
                # then closes it (a half-started one cannot be closed: Dask prints tracebacks as the process exits)
                starter = ThreadPoolExecutor(1, thread_name_prefix="specnb-cluster-start")
                starting = starter.submit(LocalCluster, n_workers=n, threads_per_worker=1, processes=True,
                                          dashboard_address=None, silence_logs=logging.ERROR)
                starter.shutdown(wait=False)
                try:
                    self.cluster = starting.result()
                except KeyboardInterrupt:
                    self.cluster = starting.result()
                    raise
                self.client = Client(self.cluster)
            else:
                where = {"scheduler_file": address} if os.path.isfile(address) else {"address": address}
                self.client = Client(**where, timeout="20s")
            self.client.register_plugin(WarmUp(formats), name=WarmUp.name)
        except BaseException as exc:
            self.abort()
            if isinstance(exc, ValueError):
                msg = f"--scheduler {address!r}: expected tcp://HOST:PORT, a scheduler file, local or local:N (N >= 1)"
                raise UsageError(msg) from None
            if isinstance(exc, OSError):
                msg = (f"--scheduler {address}: cannot reach the Dask scheduler ({exc}); start one with `dask "
                       "scheduler` and workers with `dask worker ADDRESS --nthreads 1`")
                raise UsageError(msg) from None
            raise

    def map(self, tasks):
        tasks, running, done, build = iter(tasks), {}, as_completed(), uuid.uuid4().hex[:8]

        def submit() -> None:
            if (task := next(tasks, None)) is not None:
                future = self.client.submit(workers.run, task, key=f"specnb-{build}-{task.slug}", pure=False)
                running[future] = task
                done.add(future)

        for _ in range(max(2, 2 * sum(self.client.nthreads().values()))):
            submit()
        for future in done:
            task = running.pop(future)
            try:
                outcome = future.result()
            except KilledWorker:
                outcome = workers.died("the Dask worker running it", None, " each time it was tried")
            except Exception as exc:  # noqa: BLE001 - that report failed, not the build
                outcome = exc
            future.release()
            yield task, outcome
            submit()

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()

    def abort(self) -> None:
        """Close a client and cluster the build abandons (interrupted, failed) quietly: what Dask logs about the
        work it was doing meanwhile (broadcasts cut, futures never read) is no news to the user."""
        for name in ("distributed", "asyncio"):
            logging.getLogger(name).setLevel(logging.CRITICAL)
        for part in (self.client, self.cluster):
            if part is not None:
                part.close()
