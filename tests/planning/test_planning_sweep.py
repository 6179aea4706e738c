"""The executor interface: parsing, ownership, order, and identical results on every executor.

One ``LocalCluster`` of 2 worker processes serves the whole module (starting
one takes about a second). Results are compared exactly: each replication's
streams depend only on (seed, replication), so a serial run, a local pool
and Dask must give bit-identical KPIs.
"""

from __future__ import annotations

import logging
import math
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import ccsim
from ccsim.planning.sim_staffing import sim_staffing
from ccsim.planning.sweep import (
    DaskExecutor,
    ProcessExecutor,
    SerialExecutor,
    executor_scope,
    make_executor,
)
from ccsim.studies import overflow_study

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    from distributed import Client, LocalCluster  # noqa: PLC0415

    cluster = LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        silence_logs=logging.ERROR,
    )
    c = Client(cluster)
    yield c
    c.close()
    cluster.close()


@pytest.fixture(scope="module")
def center() -> ccsim.Scenario:
    return ccsim.example("single_skill")


# ----------------------------------------------------------------------------- make_executor


@pytest.mark.parametrize(
    ("spec", "kind", "workers"),
    [
        (None, SerialExecutor, 1),
        (1, SerialExecutor, 1),
        ("serial", SerialExecutor, 1),
        (3, ProcessExecutor, 3),
        ("processes", ProcessExecutor, 2),
        ("processes:4", ProcessExecutor, 4),
        (" processes:1 ", ProcessExecutor, 1),
    ],
)
def test_make_executor_parses_local_specs(spec: Any, kind: type, workers: int) -> None:
    ex = make_executor(spec)
    assert type(ex) is kind
    assert ex.workers == workers
    ex.close()


def test_make_executor_processes_shortcut() -> None:
    ex = make_executor(None, processes=2)
    assert isinstance(ex, ProcessExecutor) and ex.workers == 2


@pytest.mark.parametrize(
    ("spec", "match"),
    [
        (0, "processes must be >= 1"),
        (True, "not an executor"),
        ("processes:0", "process count"),
        ("processes:two", "process count"),
        ("threads", "unknown executor 'threads'"),
        (3.5, "not an executor"),
    ],
)
def test_make_executor_rejects_bad_specs(spec: Any, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        make_executor(spec)


def test_process_executor_rejects_bad_count() -> None:
    with pytest.raises(ValueError, match="processes must be an int >= 1"):
        ProcessExecutor(0)


def test_given_executor_is_returned_and_not_closed() -> None:
    pool = ProcessExecutor(2)
    with executor_scope(pool) as ex:
        assert ex is pool
        assert ex.map(math.factorial, [3, 4]) == [6, 24]
    assert pool._pool is not None  # still usable: the caller owns it
    assert pool.map(math.factorial, [5, 2]) == [120, 2]
    pool.close()
    assert pool._pool is None


def test_owned_pool_is_closed_after_scope() -> None:
    with executor_scope("processes:2") as ex:
        assert ex.map(math.factorial, list(range(6))) == [1, 1, 2, 6, 24, 120]
        assert isinstance(ex, ProcessExecutor)
        inner = ex
    assert inner._pool is None


def test_pool_is_started_once_and_reused() -> None:
    with ProcessExecutor(2) as ex:
        ex.map(math.factorial, [1, 2, 3])
        first = ex._pool
        ex.map(math.factorial, [4, 5, 6])
        assert ex._pool is first


def test_progress_wraps_results_in_order() -> None:
    seen: list[int] = []

    def progress(it: Any) -> Iterator[int]:
        for x in it:
            seen.append(x)
            yield x

    for spec in ("serial", "processes:2"):
        seen.clear()
        with executor_scope(spec) as ex:
            assert ex.map(math.factorial, [4, 0, 3], progress=progress) == [24, 1, 6]
        assert seen == [24, 1, 6]


def test_errors_in_jobs_propagate() -> None:
    with executor_scope("processes:2") as ex, pytest.raises(ValueError, match="not defined"):
        ex.map(math.factorial, [3, -1])


# ----------------------------------------------------------------------------- dask


def test_dask_client_is_used_and_not_closed(client: Any) -> None:
    with executor_scope(client) as ex:
        assert isinstance(ex, DaskExecutor)
        assert ex.workers == 2
        assert ex.map(math.factorial, list(range(8))) == [math.factorial(i) for i in range(8)]
    assert client.status == "running"


def test_dask_address_opens_and_closes_own_client(client: Any) -> None:
    address = client.scheduler.address
    assert address.startswith("tcp://")
    with executor_scope(address) as ex:
        assert isinstance(ex, DaskExecutor)
        own = ex.client
        assert own is not client
        assert ex.map(math.factorial, [5]) == [120]
    assert own.status == "closed"
    assert client.status == "running"


def test_dask_unreachable_scheduler_is_a_clear_error() -> None:
    with pytest.raises(
        ValueError, match=re.escape("cannot reach the Dask scheduler 'tcp://127.0.0.1:9'")
    ):
        DaskExecutor("tcp://127.0.0.1:9", timeout=1.0)


def test_dask_errors_in_jobs_propagate(client: Any) -> None:
    with executor_scope(client) as ex, pytest.raises(ValueError, match="not defined"):
        ex.map(math.factorial, [2, -3])


# ----------------------------------------------------------------------------- same results


def _kpis(result: Any) -> list[dict[str, float]]:
    return [r.kpis for r in result.replications]


def _same(a: list[dict[str, float]], b: list[dict[str, float]]) -> bool:
    """Exact equality, NaN equal to NaN."""
    if len(a) != len(b):
        return False
    for x, y in zip(a, b, strict=True):
        if x.keys() != y.keys():
            return False
        for k in x:
            if not (x[k] == y[k] or (math.isnan(x[k]) and math.isnan(y[k]))):
                return False
    return True


def test_simulate_gives_identical_results_on_every_executor(
    center: ccsim.Scenario, client: Any
) -> None:
    kw: dict[str, Any] = {"seed": 11, "replications": 4, "horizon": 1800.0, "record": False}
    serial = ccsim.simulate(center, **kw)
    by_processes = ccsim.simulate(center, processes=2, **kw)
    by_dask = ccsim.simulate(center, executor=client, **kw)
    base = _kpis(serial)
    assert base[0] != base[1]  # replications differ from one another ...
    for other in (by_processes, by_dask):  # ... but not between executors
        assert [r.replication for r in other.replications] == [0, 1, 2, 3]
        assert _same(base, _kpis(other))
        for ra, rb in zip(serial.replications, other.replications, strict=True):
            pd.testing.assert_frame_equal(ra.intervals, rb.intervals)
    pd.testing.assert_frame_equal(serial.summary(), by_dask.summary())


def test_overflow_study_identical_on_dask(center: ccsim.Scenario, client: Any) -> None:
    kw: dict[str, Any] = {"seed": 3, "replications": 2, "horizon": 1200.0}
    local = overflow_study(center, (0.9, 1.1), processes=1, **kw)
    remote = overflow_study(center, (0.9, 1.1), executor=client, **kw)
    pd.testing.assert_frame_equal(local.summary, remote.summary)


def test_sim_staffing_identical_on_dask(client: Any) -> None:
    center = ccsim.Scenario.from_toml_string(
        """
skills = ["general"]
[[services]]
name = "general"
arrivals = { rate_per_hour = 90 }
aht = { kind = "exponential", mean = 120 }
patience = { kind = "exponential", mean = 150 }
[[agent_groups]]
name = "agents"
size = 3
skills = ["general"]
"""
    )
    kw: dict[str, Any] = {"replications": 2, "seed": 4, "run_length": 1800.0, "warmup": 300.0}
    local = sim_staffing(center, **kw)
    remote = sim_staffing(center, executor=client, **kw)
    pd.testing.assert_frame_equal(local.table, remote.table)
    assert int(local.table["sim.agents"].iloc[0]) >= 1


def test_simulate_rejects_bad_executor(center: ccsim.Scenario) -> None:
    with pytest.raises(ValueError, match="unknown executor 'nope'"):
        ccsim.simulate(center, replications=2, horizon=600.0, executor="nope")


def test_import_ccsim_does_not_import_dask() -> None:
    code = (
        "import sys, ccsim, ccsim.planning.sweep, ccsim.studies\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
