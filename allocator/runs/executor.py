"""Where many solves run: a local process pool, or a Dask cluster.

An :class:`Executor` maps a top-level function over plain items and yields
``(index, result)`` pairs as they complete. Items and results are plain
data (instances, ids, dicts): CP-SAT objects do not pickle, so a worker
builds its own model and returns records.

``LocalExecutor`` sizes its process pool so that the processes times the
CP-SAT threads each task uses never exceed the cores (at least one process
runs). ``DaskExecutor`` sends the same tasks to a Dask scheduler, or to a
``LocalCluster`` it starts for ``"local"``; ``distributed`` is imported
only there.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any, Protocol


class Executor(Protocol):
    """Runs ``fn`` over ``items``; yields ``(index, result)`` as each completes."""

    description: str

    def map_unordered(
        self, fn: Callable[[Any], Any], items: Sequence[Any], threads: int = 1
    ) -> Iterator[tuple[int, Any]]:
        """``threads``: CP-SAT threads each task uses, for sizing the pool."""
        ...

    def close(self) -> None: ...


def cores() -> int:
    """Cores this process may use (the affinity mask, else the CPU count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def pool_size(threads: int, parallel: int | None, available: int) -> int:
    """Processes such that processes x threads <= cores, at least one.

    ``parallel`` caps it further (``--parallel``).
    """
    fit = max(1, available // max(1, threads))
    return fit if parallel is None else max(1, min(parallel, fit))


class InlineExecutor:
    """Runs every task in this process, one after the other.

    For notebooks and tests where starting processes costs more than the
    work; the results are those of the other executors.
    """

    description = "this process"

    def map_unordered(
        self, fn: Callable[[Any], Any], items: Sequence[Any], threads: int = 1
    ) -> Iterator[tuple[int, Any]]:
        for index, item in enumerate(items):
            yield index, fn(item)

    def close(self) -> None:
        pass


class LocalExecutor:
    """A pool of fresh (spawned) processes on this machine.

    Spawned, not forked: a child starts clean of the parent's threads (the
    progress line, OR-Tools' pools). One pool per size is kept until
    ``close``, so the start-up cost is paid once per size.
    """

    def __init__(self, parallel: int | None = None, available: int | None = None):
        self.parallel = parallel
        self.available = available if available is not None else cores()
        self.description = f"local process pool ({self.available} cores" + (
            f", at most {parallel} processes)" if parallel else ")"
        )
        self._pools: dict[int, ProcessPoolExecutor] = {}

    def _pool(self, size: int) -> ProcessPoolExecutor:
        if size not in self._pools:
            self._pools[size] = ProcessPoolExecutor(
                max_workers=size, mp_context=multiprocessing.get_context("spawn")
            )
        return self._pools[size]

    def map_unordered(
        self, fn: Callable[[Any], Any], items: Sequence[Any], threads: int = 1
    ) -> Iterator[tuple[int, Any]]:
        if not items:
            return
        size = pool_size(threads, self.parallel, self.available)
        pool = self._pool(size)
        # Submit no more than the pool runs at once, plus one queued each,
        # so an interrupted compare leaves little work behind.
        queue = list(enumerate(items))
        running: dict[Future[Any], int] = {}
        while queue or running:
            while queue and len(running) < 2 * size:
                index, item = queue.pop(0)
                running[pool.submit(fn, item)] = index
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                index = running.pop(future)
                yield index, future.result()

    def close(self) -> None:
        for pool in self._pools.values():
            pool.shutdown(cancel_futures=True)
        self._pools.clear()


class DaskExecutor:
    """Tasks on a Dask cluster: a scheduler address, or ``"local"``.

    ``"local"`` starts a ``LocalCluster`` of ``workers`` single-threaded
    processes (default: the cores), closed again by ``close``. Each task is
    one Dask task; CP-SAT's own threads are the cluster's to budget.
    """

    def __init__(self, address: str, workers: int | None = None) -> None:
        from distributed import Client, LocalCluster

        self.cluster: Any = None
        if address == "local":
            count = workers or cores()
            self.cluster = LocalCluster(
                n_workers=count,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
            )
            self.client = Client(self.cluster)
            self.description = f"dask LocalCluster ({count} workers)"
        else:
            self.client = Client(address, timeout="20s")
            self.description = f"dask scheduler {address}"

    def map_unordered(
        self, fn: Callable[[Any], Any], items: Sequence[Any], threads: int = 1
    ) -> Iterator[tuple[int, Any]]:
        from distributed import as_completed

        if not items:
            return
        # Two tasks per worker thread in flight, as the local pool does: a
        # task's data (a whole sub-instance for a solve in parts) is held
        # by this process only until it is sent, so 250 parts never sit
        # here serialized at once, and an interrupted run leaves little
        # work behind.
        window = 2 * max(1, sum(self.client.nthreads().values()))
        queue = iter(enumerate(items))
        index: dict[Any, int] = {}
        running = as_completed(with_results=True)

        def submit() -> None:
            for i, item in queue:
                future = self.client.submit(fn, item, pure=False)
                index[future.key] = i
                running.add(future)
                return

        for _ in range(window):
            submit()
        for future, result in running:
            submit()
            yield index.pop(future.key), result

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def make_executor(
    dask: str | None = None, parallel: int | None = None
) -> LocalExecutor | DaskExecutor:
    """The CLI's choice: ``--dask ADDRESS|local``, else the local pool."""
    if dask:
        return DaskExecutor(dask, workers=parallel)
    return LocalExecutor(parallel=parallel)
