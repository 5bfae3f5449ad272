"""Running independent tasks: in this process, in a local process pool, or on a Dask cluster.

Every executor hands results back with the index of their task, and :func:`execute` puts them
in task order, so nothing downstream depends on the executor, the number of workers or the
order runs finish in. A task's result depends on the task alone (its scenario and seed), so the
same tasks give bit-identical results everywhere.

* :class:`InProcess`: one task after the other, here.
* :class:`LocalPool` (``--workers K``): ``K`` worker processes that start warm, so the imports
  (numpy, pandas, Mesa, p2psim: about 2 s, which a ``spawn`` worker pays again) are paid once.
  On Linux, when this process runs a single thread, the workers are forked from it as the pool
  opens (they inherit every module it has imported, at no cost); otherwise (other threads
  running, macOS) they are forked from a *forkserver* that imports :data:`PRELOAD` once; where
  there is no forkserver (Windows) they are spawned. All workers start as the pool opens, before
  any progress bar or store thread exists. Tasks go out in chunks of ``chunksize`` (default 1:
  each finished run comes back, and can be stored, at once; raise it for runs well under a
  second).
* :class:`DaskExecutor` (``--scheduler tcp://HOST:PORT`` or ``--dask-workers N``): the same
  tasks on a Dask ``distributed`` cluster, an existing one or a ``LocalCluster`` of ``N``
  single-threaded worker processes. Dask's nanny sets ``MALLOC_TRIM_THRESHOLD_`` in its workers
  (it disables glibc's dynamic mmap threshold and slows numpy-heavy runs about 1.4x) and, as it
  starts workers from this process, in this process's environment too. The LocalCluster is
  started with that setting removed (:data:`DASK_WORKER_ENV`) and this process's environment is
  restored afterwards. Workers of an existing cluster are checked and a warning is returned
  (:meth:`DaskExecutor.warnings`) when they carry the setting.

Executors are context managers; :func:`make_executor` picks one from the command-line options.
Dask is an optional extra (``pip install p2psim[dask]``) and is imported only when used.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from typing import Any

from tqdm import tqdm

# Imported once by the forkserver, so forked workers start warm.
PRELOAD = ["numpy", "pandas", "mesa", "sim.model", "sim.experiments.compare",
           "sim.experiments.sweep"]
# Environment of Dask's nanny before it starts a worker: Dask's defaults (one BLAS thread per
# worker) without MALLOC_TRIM_THRESHOLD_ (None removes a variable; see distributed's nanny).
DASK_WORKER_ENV = {"MALLOC_TRIM_THRESHOLD_": None, "OMP_NUM_THREADS": 1, "MKL_NUM_THREADS": 1,
                   "OPENBLAS_NUM_THREADS": 1}
TRIM_VARIABLE = "MALLOC_TRIM_THRESHOLD_"


class ExecutorError(Exception):
    """An executor that cannot start (a missing extra, an unreachable scheduler); for the user."""


def _run_chunk(function: Callable[[Any], Any], chunk: list[tuple[int, Any]]) -> list[tuple[int, Any]]:
    """Apply ``function`` to each (index, task) of a chunk; top level so workers can unpickle it."""
    return [(i, function(task)) for i, task in chunk]


class InProcess:
    """Runs every task in this process, in order.

    Attributes:
        workers: always 1.
        name: ``"in process"``.
    """

    workers = 1
    name = "in process"

    def __enter__(self) -> InProcess:
        return self

    def __exit__(self, *exc) -> None:
        return None

    def imap(self, function: Callable[[Any], Any], tasks: Sequence[Any]
             ) -> Iterator[tuple[int, Any]]:
        """Yield ``(index, function(task))`` for every task, in task order.

        Args:
            function: called once per task.
            tasks: the inputs.

        Yields:
            (task index, result).
        """
        for i, task in enumerate(tasks):
            yield i, function(task)

    def warnings(self) -> list[str]:
        """Nothing to warn about."""
        return []


def _noop() -> None:
    """A task that does nothing; sent once per worker so every worker starts as the pool opens."""
    return None


def _stop_tqdm_monitor() -> None:
    """Stop tqdm's monitor thread (it wakes every 10 s to refresh bars; the next bar restarts it).

    It is the one thread p2psim itself leaves running, and a fork must not copy a thread that
    may hold tqdm's lock.
    """
    monitor = tqdm.monitor
    if monitor is not None:
        monitor.exit()
        tqdm.monitor = None


def pool_context() -> multiprocessing.context.BaseContext:
    """The start method of local workers (see the module doc): fork, forkserver or spawn.

    Returns:
        The multiprocessing context.
    """
    methods = multiprocessing.get_all_start_methods()
    _stop_tqdm_monitor()
    # fork copies only the calling thread: safe when it is the only one (and not on macOS,
    # whose system libraries are not fork-safe).
    if "fork" in methods and sys.platform == "linux" and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    if "forkserver" in methods:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(PRELOAD)
        return context
    return multiprocessing.get_context("spawn")


class LocalPool:
    """``workers`` processes on this machine, forked from a warm forkserver (see module doc).

    Args:
        workers: processes (at least 1).
        chunksize: tasks sent to a worker at a time; results of a chunk come back together.
    """

    name = "local pool"

    def __init__(self, workers: int, chunksize: int = 1) -> None:
        if workers < 1 or chunksize < 1:
            raise ValueError("workers and chunksize must be at least 1")
        self.workers = workers
        self.chunksize = chunksize
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> LocalPool:
        context = pool_context()
        self.start_method = context.get_start_method()
        self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=context)
        # Start every worker now (a fork pool starts them all on its first task): no thread of
        # this process exists yet to be copied half-way, and their start overlaps our own work.
        with warnings.catch_warnings():
            # Python warns on fork whenever the process has other OS threads; here those are
            # only numpy's idle BLAS threads (no Python thread runs: see pool_context), which
            # OpenBLAS shuts down and restarts around a fork.
            warnings.filterwarnings("ignore", message=r".*multi-threaded, use of fork\(\)",
                                    category=DeprecationWarning)
            self._warm = [self._pool.submit(_noop) for _ in range(self.workers)]
        return self

    def __exit__(self, exc_type, *exc) -> None:
        if self._pool is not None:
            # On an error or Ctrl-C, drop the queued chunks instead of running them first.
            self._pool.shutdown(wait=exc_type is None, cancel_futures=exc_type is not None)
            self._pool = None

    def imap(self, function: Callable[[Any], Any], tasks: Sequence[Any]
             ) -> Iterator[tuple[int, Any]]:
        """Yield ``(index, result)`` as chunks finish (any order).

        At most two chunks per worker are queued at a time, so an interrupted sweep has little
        in flight and memory stays flat however many tasks there are.

        Args:
            function: a module-level function (it is pickled by reference).
            tasks: picklable inputs.

        Yields:
            (task index, result).
        """
        if self._pool is None:
            raise RuntimeError("use LocalPool as a context manager")
        indexed = list(enumerate(tasks))
        chunks = [indexed[i:i + self.chunksize] for i in range(0, len(indexed), self.chunksize)]
        pending: set[Future] = set()
        ahead = 2 * self.workers
        next_chunk = 0
        while next_chunk < len(chunks) or pending:
            while next_chunk < len(chunks) and len(pending) < ahead:
                pending.add(self._pool.submit(_run_chunk, function, chunks[next_chunk]))
                next_chunk += 1
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                yield from future.result()

    def warnings(self) -> list[str]:
        """Nothing to warn about."""
        return []


@contextmanager
def _environment_kept() -> Iterator[None]:
    """Restore this process's environment as it was (Dask's nanny writes into it)."""
    saved = dict(os.environ)
    try:
        yield
    finally:
        for key in set(os.environ) - set(saved):
            del os.environ[key]
        os.environ.update(saved)


def _worker_trim_setting() -> str | None:
    """A Dask worker's ``MALLOC_TRIM_THRESHOLD_`` (run on the workers by ``client.run``)."""
    return os.environ.get(TRIM_VARIABLE)


class DaskExecutor:
    """Tasks on a Dask cluster: an existing scheduler, or a LocalCluster of ``workers`` processes.

    Args:
        scheduler: ``tcp://HOST:PORT`` of a running scheduler, or ``None`` for a LocalCluster.
        workers: LocalCluster worker processes (one thread each); ignored with ``scheduler``.
        connect_timeout: seconds to wait for the scheduler.

    Raises:
        ExecutorError: the ``dask`` extra is not installed.
    """

    name = "dask"
    connect_timeout = 30.0

    def __init__(self, scheduler: str | None = None, workers: int = 2,
                 connect_timeout: float | None = None) -> None:
        if connect_timeout is not None:
            self.connect_timeout = connect_timeout
        try:
            import dask  # noqa: F401
            import distributed  # noqa: F401
        except ImportError:
            raise ExecutorError("Dask is not installed: pip install 'p2psim[dask]'") from None
        self.scheduler = scheduler
        self.workers = workers
        self._cluster = None
        self._client = None

    def __enter__(self) -> DaskExecutor:
        import dask
        from distributed import Client, LocalCluster

        try:
            if self.scheduler is None:
                with _environment_kept(), dask.config.set(
                        {"distributed.nanny.pre-spawn-environ": DASK_WORKER_ENV}):
                    self._cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1,
                                                 processes=True, dashboard_address=None)
                    self._client = Client(self._cluster)
            else:
                self._client = Client(self.scheduler, timeout=self.connect_timeout)
                self.workers = max(1, sum(
                    w.get("nthreads", 1)
                    for w in self._client.scheduler_info()["workers"].values()))
        except OSError as err:
            self.__exit__(None)
            raise ExecutorError(f"cannot reach the Dask scheduler {self.scheduler}: {err}"
                                ) from None
        return self

    def __exit__(self, *exc) -> None:
        with _environment_kept():
            if self._client is not None:
                self._client.close()
                self._client = None
            if self._cluster is not None:
                self._cluster.close()
                self._cluster = None

    def worker_trim_settings(self) -> dict[str, str | None]:
        """Each worker's ``MALLOC_TRIM_THRESHOLD_`` (``None`` where unset, as it should be).

        Returns:
            Worker address -> value.
        """
        return self._client.run(_worker_trim_setting)

    def warnings(self) -> list[str]:
        """A warning when workers run with ``MALLOC_TRIM_THRESHOLD_`` set (about 1.4x slower).

        Returns:
            Zero or one message.
        """
        set_on = [w for w, v in self.worker_trim_settings().items() if v is not None]
        if not set_on:
            return []
        return [f"{len(set_on)} Dask worker(s) run with {TRIM_VARIABLE} set, which slows numpy "
                "about 1.4x; start them with "
                "DASK_DISTRIBUTED__NANNY__PRE_SPAWN_ENVIRON__MALLOC_TRIM_THRESHOLD_=None"]

    def imap(self, function: Callable[[Any], Any], tasks: Sequence[Any]
             ) -> Iterator[tuple[int, Any]]:
        """Yield ``(index, result)`` as tasks finish on the cluster (any order).

        Args:
            function: a module-level function importable on the workers (p2psim installed).
            tasks: picklable inputs.

        Yields:
            (task index, result).
        """
        from distributed import as_completed

        futures = {self._client.submit(function, task, pure=False, key=f"p2psim-{i}-{os.getpid()}"):
                   i for i, task in enumerate(tasks)}
        try:
            for future in as_completed(futures):
                yield futures[future], future.result()
        finally:
            for future in futures:
                future.cancel()


def make_executor(workers: int = 1, scheduler: str | None = None, dask_workers: int | None = None,
                  chunksize: int = 1):
    """The executor the options ask for.

    Args:
        workers: local processes (1 runs in this process).
        scheduler: address of a Dask scheduler (takes precedence).
        dask_workers: workers of a Dask LocalCluster.
        chunksize: tasks per chunk in the local pool.

    Returns:
        An :class:`InProcess`, :class:`LocalPool` or :class:`DaskExecutor` (a context manager).

    Raises:
        ExecutorError: Dask asked for but not installed.
        ValueError: a count below 1.
    """
    if scheduler is not None or dask_workers is not None:
        if dask_workers is not None and dask_workers < 1:
            raise ValueError("dask workers must be at least 1")
        return DaskExecutor(scheduler, dask_workers or 2)
    if workers < 1:
        raise ValueError("workers must be at least 1")
    return InProcess() if workers == 1 else LocalPool(workers, chunksize)


def execute(function: Callable[[Any], Any], tasks: Sequence[Any], workers: int = 1,
            progress: bool = True, desc: str = "compare", executor=None) -> list[Any]:
    """Apply ``function`` to every task and return the results in task order.

    Args:
        function: called once per task; module level (workers import it by name).
        tasks: the inputs (picklable for a pool or a cluster).
        workers: processes when no ``executor`` is given; 1 runs in this process.
        progress: a tqdm bar over the tasks on stderr (only when stderr is a terminal).
        desc: the bar's label.
        executor: an executor already entered (see :func:`make_executor`); default one made
            from ``workers``.

    Returns:
        ``function(task)`` for every task, in task order.

    Raises:
        Exception: the first error a task raised; the tasks not started yet are cancelled.
    """
    out: dict[int, Any] = {}
    # disable=None: tqdm switches itself off when stderr is not a terminal (pipes, CI, tests).
    with tqdm(total=len(tasks), unit="run", desc=desc, disable=None if progress else True,
              dynamic_ncols=True) as bar:
        if executor is None:
            with make_executor(workers) as own:
                for i, result in own.imap(function, tasks):
                    out[i] = result
                    bar.update()
        else:
            for i, result in executor.imap(function, tasks):
                out[i] = result
                bar.update()
    return [out[i] for i in range(len(tasks))]
