"""Sweep executors: the same replications on 1 and 2 workers, local processes and Dask.

Workload: ``ccsim.simulate`` of the built-in hotline example
(``ccsim.example("hotline")``), 8 replications of the busy part of the day
(06:00-14:00, the morning peak), records off — a mid-size sweep of 8
independent jobs. It runs four times through ``ccsim.planning.sweep``:

* ``ProcessExecutor(1)`` and ``ProcessExecutor(2)`` — a local process pool;
* ``DaskExecutor`` on a ``distributed.LocalCluster`` of 1 and of 2 worker
  processes (one thread each, statistical profiler off) — the engine used
  when one machine is not enough, measured here on one.

Every executor must give the same KPIs (each replication's streams depend
only on the seed and replication number); the benchmark checks it. Pools and
clusters are started and warmed up (every worker imports ccsim and runs an
hour of the same scenario) before the clock starts, as in a study or staffing search
that reuses one executor for all its batches; start-up times are printed
apart.

Printed: wall time per executor and worker count, and the parallel
efficiency ``T1 / (2 x T2)`` for each engine. Target: >= 0.8 on an otherwise
idle 2-core machine (8 equal jobs on 2 workers: the losses are pickling,
result transfer and the spread of job lengths). The load average before each
run is printed, so a figure measured while other work shared the cores can
be recognised as such (DESIGN.md §6), and the peer — a plain CPU loop on
the same pools, no ccsim — measures the efficiency the machine allows at
that moment: ccsim's figure is printed against that ceiling too.

Each configuration runs ``--repeat`` times (3), 1 and 2 workers alternating,
and the fastest run of each counts: on a shared machine that is the run least
disturbed by other work.

Run: ``python benchmarks/bench_sweep.py [--quick] [--jobs N] [--hours H]
[--repeat N]``. ``--quick`` runs 4 jobs of 2 hours, once.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import time
import warnings
from typing import Any

import ccsim
from ccsim.pbx.run import SimulationResult
from ccsim.planning.sweep import DaskExecutor, Executor, ProcessExecutor

TARGET_EFFICIENCY = 0.8
START = 6 * 3600.0  # the sweep measures from 06:00 (warm-up: the night before it)


def _warm(ex: Executor) -> None:
    """Every worker imports what the sweep needs and runs a short hour (outside the timing).

    Warm-up uses the sweep's own scenario: a fresh worker process (Dask spawns
    them) imports the IVR, routing-script and policy code on its first call,
    which on a busy machine costs seconds — a one-off, not the executor's speed.
    """
    hotline = ccsim.example("hotline")
    ccsim.simulate(hotline, replications=2 * ex.workers, horizon=3600.0, record=False, executor=ex)


def _sweep(ex: Executor, jobs: int, hours: float) -> tuple[float, SimulationResult]:
    scenario = ccsim.example("hotline")
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    result = ccsim.simulate(
        scenario,
        seed=5,
        replications=jobs,
        horizon=START + hours * 3600.0,
        warmup=START,
        record=False,
        executor=ex,
    )
    wall = time.perf_counter() - t0
    print(f"    {ex!r:<48} {wall:8.2f} s  (load before {load:.1f})")
    return wall, result


def _same(a: SimulationResult, b: SimulationResult) -> None:
    for ra, rb in zip(a.replications, b.replications, strict=True):
        assert ra.kpis.keys() == rb.kpis.keys()
        for k, v in ra.kpis.items():
            w = rb.kpis[k]
            assert v == w or (math.isnan(v) and math.isnan(w)), (k, v, w)


def _burn(n: int) -> int:
    """A plain CPU loop: the peer workload, with nothing to pickle and no ccsim."""
    total = 0
    for i in range(n):
        total += i * i
    return total


def _ceiling(repeat: int) -> float:
    """Parallel efficiency of a plain CPU loop on the same pools: what the machine allows now.

    On a shared machine other processes may hold a core; then no sweep can
    reach 2x, and ccsim's efficiency is to be read against this figure.
    """
    best: dict[int, float] = {}
    with ProcessExecutor(1) as one, ProcessExecutor(2) as two:
        for ex in (one, two):
            ex.map(_burn, [10, 10])
        for _ in range(max(repeat, 2)):
            for n, ex in ((1, one), (2, two)):
                t0 = time.perf_counter()
                ex.map(_burn, [3_000_000] * 8)
                best[n] = min(best.get(n, math.inf), time.perf_counter() - t0)
    return best[1] / (2 * best[2])


def _interleaved(
    executors: dict[int, Executor], jobs: int, hours: float, repeat: int
) -> dict[int, tuple[float, SimulationResult]]:
    """Best of ``repeat`` runs per worker count, 1 and 2 workers alternating.

    On a shared machine another process can take a core for part of a run;
    alternating the two sizes spreads such bursts over both, and the minimum
    is the run that was least disturbed (the usual estimator for noisy timings).
    """
    best: dict[int, tuple[float, SimulationResult]] = {}
    for _ in range(repeat):
        for n, ex in executors.items():
            wall, res = _sweep(ex, jobs, hours)
            if n not in best or wall < best[n][0]:
                best[n] = (wall, res)
    return best


def _processes(jobs: int, hours: float, repeat: int) -> dict[int, tuple[float, SimulationResult]]:
    t0 = time.perf_counter()
    with ProcessExecutor(1) as one, ProcessExecutor(2) as two:
        for ex in (one, two):
            _warm(ex)
        print(f"    (pools of 1 and 2 started and warmed in {time.perf_counter() - t0:.1f} s)")
        return _interleaved({1: one, 2: two}, jobs, hours, repeat)


def _dask(jobs: int, hours: float, repeat: int) -> dict[int, tuple[float, SimulationResult]]:
    import dask  # noqa: PLC0415 - only this benchmark needs it
    from distributed import Client, LocalCluster  # noqa: PLC0415

    # the workers' statistical profiler samples the deep SimPy stacks every 10 ms: off, as
    # docs/sweeps.md advises for simulation workers
    dask.config.set({"distributed.worker.profile.enabled": False})

    logging.getLogger("distributed").setLevel(logging.ERROR)  # two clusters: quiet both closes
    # the second scheduler's HTTP routes find port 8787 taken by the first and move: harmless
    warnings.filterwarnings("ignore", message="Port 8787 is already in use")
    t0 = time.perf_counter()
    clusters: list[Any] = []
    clients: list[Any] = []
    try:
        executors: dict[int, Executor] = {}
        for n in (1, 2):
            clusters.append(
                LocalCluster(
                    n_workers=n,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                    silence_logs=logging.ERROR,
                )
            )
            clients.append(Client(clusters[-1]))
            executors[n] = DaskExecutor(clients[-1])
            _warm(executors[n])
        print(f"    (clusters of 1 and 2 started and warmed in {time.perf_counter() - t0:.1f} s)")
        return _interleaved(executors, jobs, hours, repeat)
    finally:
        for c in (*clients, *reversed(clusters)):
            c.close()


def main(argv: list[str] | None = None) -> int:
    """Time the sweep on each executor, check the results agree, print the efficiencies."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="4 jobs of 2 hours")
    ap.add_argument("--jobs", type=int, default=None, help="replications (default 8)")
    ap.add_argument("--hours", type=float, default=None, help="hours from 06:00 (default 8)")
    ap.add_argument("--repeat", type=int, default=None, help="runs per executor, best kept (3)")
    args = ap.parse_args(argv)
    repeat = args.repeat or (1 if args.quick else 3)
    jobs = args.jobs or (4 if args.quick else 8)
    hours = args.hours if args.hours is not None else (2.0 if args.quick else 8.0)
    print(
        f"sweep: hotline example, {jobs} replications of {hours:g} h from 06:00; "
        f"best of {repeat}; {os.cpu_count()} CPUs"
    )
    ceiling = _ceiling(repeat)
    print(f"  machine ceiling: a plain CPU loop reaches T1/(2 T2) = {ceiling:.2f} right now")
    print("  local processes")
    local = _processes(jobs, hours, repeat)
    print("  Dask LocalCluster")
    remote = _dask(jobs, hours, repeat)
    base = local[1][1]
    for res in (local[2][1], remote[1][1], remote[2][1]):
        _same(base, res)  # same seeds, same KPIs, whichever executor ran them
    print("  all four runs gave identical KPIs")
    for name, runs in (("local processes", local), ("Dask LocalCluster", remote)):
        eff = runs[1][0] / (2 * runs[2][0])
        verdict = "meets" if eff >= TARGET_EFFICIENCY else "BELOW"
        print(
            f"  {name:<18} parallel efficiency T1/(2 T2) = {eff:.2f} "
            f"({verdict} the {TARGET_EFFICIENCY} target; {eff / ceiling:.2f} of the ceiling)"
        )
    print(f"  Dask / local processes on 2 workers: {remote[2][0] / local[2][0]:.2f}x the time")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
