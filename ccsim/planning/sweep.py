"""One executor interface for every sweep: local processes or Dask distributed.

Studies, staffing searches and ``simulate`` hand a list of independent jobs
(each a picklable argument for a module-level function) to an *executor* and
get the results back **in job order**. Each replication's random streams
depend only on its seed and replication number (``ccsim.pbx.streams``), so
the results are identical whichever executor ran them, and on how many
workers — a test checks exactly that.

* :class:`SerialExecutor` — in this process (the default for one process);
* :class:`ProcessExecutor` — a local process pool, started on first use and
  **reused** by every ``map`` until ``close()`` (starting a pool costs about a
  second on a small machine, so a search must not start one per step);
* :class:`DaskExecutor` — a ``distributed.Client`` (given, or connected to a
  scheduler address such as ``tcp://host:8786``): the engine for sweeps too
  big for one machine. ``dask`` is imported only here, only when used, so
  ``import ccsim`` stays light.

:func:`make_executor` turns what a user typed (``None``, ``2``,
``"processes:2"``, ``"tcp://host:8786"``, a ``Client`` or a ``LocalCluster``)
into an executor; :func:`executor_scope` does the same as a context manager
and closes the executor afterwards only if it created it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Protocol, TypeVar

__all__ = [
    "DaskExecutor",
    "Executor",
    "ProcessExecutor",
    "Progress",
    "SerialExecutor",
    "executor_scope",
    "make_executor",
]

J = TypeVar("J")
R = TypeVar("R")

#: A progress wrapper: takes the in-order iterator of results and returns an
#: iterator over the same items (``tqdm.tqdm`` fits).
Progress = Callable[[Iterable[Any]], Iterable[Any]]


class Executor(Protocol):
    """Runs ``fn`` over ``jobs`` and returns the results in job order."""

    @property
    def workers(self) -> int:
        """How many jobs can run at the same time."""
        ...

    def map(
        self, fn: Callable[[J], R], jobs: Sequence[J], *, progress: Progress | None = None
    ) -> list[R]:
        """``[fn(job) for job in jobs]``, possibly in parallel; ``progress`` wraps the results."""
        ...

    def close(self) -> None:
        """Release workers (a no-op for executors that own none)."""
        ...


def _collect(it: Iterable[R], progress: Progress | None) -> list[R]:
    return list(it if progress is None else progress(it))


class _Closing:
    """Context-manager support shared by the executors."""

    def close(self) -> None:
        """Nothing to release."""

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class SerialExecutor(_Closing):
    """Every job in this process, one after the other (no pickling, easiest to debug)."""

    @property
    def workers(self) -> int:
        return 1

    def map(
        self, fn: Callable[[J], R], jobs: Sequence[J], *, progress: Progress | None = None
    ) -> list[R]:
        return _collect((fn(j) for j in jobs), progress)

    def __repr__(self) -> str:
        return "SerialExecutor()"


class ProcessExecutor(_Closing):
    """A local process pool of ``processes`` workers, started lazily and reused until ``close``.

    Jobs are sent one at a time (``chunksize=1``) so that a slow last job does
    not leave the other workers idle behind a pre-assigned chunk.
    """

    def __init__(self, processes: int = 2) -> None:
        if isinstance(processes, bool) or not isinstance(processes, int) or processes < 1:
            raise ValueError(f"processes must be an int >= 1, got {processes!r}")
        self.processes = processes
        self._pool: Any = None

    @property
    def workers(self) -> int:
        return self.processes

    def _get_pool(self) -> Any:
        if self._pool is None:
            from concurrent.futures import ProcessPoolExecutor  # noqa: PLC0415 - lazy

            self._pool = ProcessPoolExecutor(max_workers=self.processes)
        return self._pool

    def map(
        self, fn: Callable[[J], R], jobs: Sequence[J], *, progress: Progress | None = None
    ) -> list[R]:
        if len(jobs) <= 1:  # not worth a pool (nor starting one)
            return _collect((fn(j) for j in jobs), progress)
        it: Iterator[R] = self._get_pool().map(fn, jobs, chunksize=1)
        return _collect(it, progress)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None

    def __repr__(self) -> str:
        return f"ProcessExecutor(processes={self.processes})"


def _is_executor(obj: object) -> bool:
    """Duck-typed on the class, so a remote ``workers`` property is never evaluated."""
    cls = type(obj)
    return (
        all(hasattr(cls, name) for name in ("workers", "map", "close"))
        and not _is_dask_client(obj)
        and not isinstance(obj, type)
    )


def _is_dask_client(obj: object) -> bool:
    return any(
        c.__module__.startswith("distributed") and c.__name__ == "Client" for c in type(obj).__mro__
    )


class DaskExecutor(_Closing):
    """Jobs as Dask futures on a ``distributed`` cluster.

    ``client`` is a ``distributed.Client`` (not closed by ``close``), a
    scheduler address such as ``"tcp://host:8786"`` or a cluster object
    (``LocalCluster``, ...), for which a client is opened here and closed by
    ``close`` (``timeout``: seconds to wait for the scheduler). Jobs are
    submitted with ``pure=False`` (identical jobs of different sweeps are
    never merged) and gathered in job order.
    """

    def __init__(self, client: Any, *, timeout: float = 10.0) -> None:
        self._owned = False
        if _is_dask_client(client):
            self.client = client
        else:
            try:
                from distributed import Client  # noqa: PLC0415 - lazy: dask is heavy
            except ImportError as exc:  # pragma: no cover - dask is a dependency
                raise ValueError(
                    "a Dask scheduler needs the 'distributed' package (pip install "
                    "'dask[distributed]')"
                ) from exc
            try:
                self.client = Client(client, timeout=timeout)  # type: ignore[no-untyped-call]
            except (OSError, TimeoutError) as exc:
                raise ValueError(f"cannot reach the Dask scheduler {client!r}: {exc}") from exc
            self._owned = True

    @property
    def workers(self) -> int:
        info = self.client.scheduler_info()
        return max(1, sum(int(w.get("nthreads", 1)) for w in info["workers"].values()))

    def map(
        self, fn: Callable[[J], R], jobs: Sequence[J], *, progress: Progress | None = None
    ) -> list[R]:
        if not jobs:
            return []
        futures = self.client.map(fn, list(jobs), pure=False)
        try:
            return _collect((f.result() for f in futures), progress)
        finally:
            self.client.cancel(futures)  # results are ours now; free worker memory

    def close(self) -> None:
        if self._owned:
            self.client.close()
            self._owned = False

    def __repr__(self) -> str:
        return f"DaskExecutor({self.client.scheduler.address!r})"


def make_executor(spec: Any = None, *, processes: int = 1) -> Executor:
    """An executor from a user's choice.

    ``spec`` may be ``None`` (then ``processes`` decides: 1 = serial, more = a
    local pool — the old ``processes=`` argument), an int (processes),
    ``"serial"``, ``"processes"`` / ``"processes:N"``, a Dask address
    (``"tcp://host:8786"``, ``"tls://..."``, ``"ucx://..."``, ``"inproc://..."``),
    a ``distributed.Client`` or cluster, or an executor (returned as is).
    """
    if spec is None:
        spec = processes
    if _is_executor(spec):
        return spec  # type: ignore[no-any-return]
    if isinstance(spec, bool):
        raise ValueError(f"not an executor: {spec!r}")
    if isinstance(spec, int):
        if spec < 1:
            raise ValueError(f"processes must be >= 1, got {spec!r}")
        return SerialExecutor() if spec == 1 else ProcessExecutor(spec)
    if isinstance(spec, str):
        text = spec.strip()
        if text == "serial":
            return SerialExecutor()
        if text == "processes" or text.startswith("processes:"):
            count = text.partition(":")[2] or "2"
            if not count.isdigit() or int(count) < 1:
                raise ValueError(f"executor {spec!r}: the process count must be an int >= 1")
            return ProcessExecutor(int(count))
        if "://" in text:
            return DaskExecutor(text)
        raise ValueError(
            f"unknown executor {spec!r}: give 'serial', 'processes:N' or a Dask scheduler "
            "address such as 'tcp://host:8786'"
        )
    if _is_dask_client(spec) or hasattr(spec, "scheduler_address"):
        return DaskExecutor(spec)
    raise ValueError(f"not an executor: {spec!r}")


@contextlib.contextmanager
def executor_scope(spec: Any = None, *, processes: int = 1) -> Iterator[Executor]:
    """``make_executor(spec)`` for a ``with`` block; closes it only if it was made here."""
    given = _is_executor(spec)
    ex = make_executor(spec, processes=processes)
    try:
        yield ex
    finally:
        if not given:
            ex.close()
