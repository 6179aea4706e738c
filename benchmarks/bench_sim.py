"""Simulation speed and memory: ccsim against Ciw and a bare SimPy model on one M/M/50 queue.

Workload: 50 agents, Poisson arrivals, exponential handle time of 180 s, 90%
load (0.25 calls/s), about 200,000 calls, FIFO, nobody abandons. The same work
is simulated in this process by

* ccsim — ``ccsim.pbx.run.simulate`` with records kept: the full path (SimPy
  clock, every routing decision through the shared ``ACD``, agent state
  machine, streaming interval KPIs, columnar call detail records, agent state
  timeline, DataFrames at the end);
* Ciw 3.x — the queueing-network library, M/M/50 from its documented API;
* bare SimPy — a minimal model written here: one process per call and a
  ``simpy.Resource(capacity=50)``; service times drawn up front with numpy. It
  is the floor of "SimPy with one process per call" and does no bookkeeping.

Each prints calls per second; the ratios are what matters (absolute times drift
on shared machines, DESIGN.md §6). Targets (issue 4): ccsim >= 2x Ciw and
>= 0.5x bare SimPy. The three must also simulate the *same* queue, so each
prints its mean wait with a 95% batch-means interval next to Erlang C's exact
value (a single long run is autocorrelated: batches of 10,000 calls span many
relaxation times of this queue, 1/(sqrt(Nμ) - sqrt(λ))^2 ≈ 23 minutes, so batch
means are close to independent; the first 5% of calls are dropped as warm-up).

Memory: a separate run (default 1,000,000 calls, records kept, one
replication) in a fresh child process reports peak resident memory growth per
call (target < 300 bytes per call); ``--tracemalloc`` measures Python
allocations instead (several times slower). ``--quick`` runs 20,000 calls and a
100,000-call memory run; ``--profile`` prints ccsim's cProfile hotspots.

Run: ``python benchmarks/bench_sim.py [--quick] [--calls N] [--memory-calls N]``.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import math
import multiprocessing as mp
import pstats
import resource
import sys
import time
import tracemalloc
from collections.abc import Callable, Generator
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

import numpy as np
import simpy
from scipy import stats

from ccsim._compiled import build_name
from ccsim.pbx.run import simulate
from ccsim.planning.erlang import erlang_c
from ccsim.scenario import Scenario

AGENTS = 50
AHT = 180.0
LOAD = 0.9
RATE = LOAD * AGENTS / AHT  # calls per second (0.25)
BATCH_CALLS = 10_000
MIN_BATCHES, MAX_BATCHES = 5, 20
WARMUP_FRACTION = 0.05


@dataclass
class EngineRun:
    """One engine's run: how many calls it completed, how long it took, their waits."""

    name: str
    calls: int
    seconds: float
    waits: np.ndarray  # seconds, in arrival order

    @property
    def rate(self) -> float:
        return self.calls / self.seconds


def mm50_scenario() -> Scenario:
    """The M/M/50 queue as a ccsim scenario (no wrap-up, no RONA, no abandonment)."""
    return Scenario.from_dict(
        {
            "name": "mm50",
            "skills": ["general"],
            "services": [
                {
                    "name": "general",
                    "arrivals": {"rate_per_hour": RATE * 3600.0},
                    "aht": {"kind": "exponential", "mean": AHT},
                    "patience": "none",
                }
            ],
            "agent_groups": [{"name": "agents", "size": AGENTS, "skills": {"general": 1}}],
            "timing": {"ring_timeout": math.inf, "wrap_up": 0},
        },
        source="<bench_sim>",
    )


def run_ccsim(calls: int, seed: int) -> EngineRun:
    """ccsim's full path; arrivals stop at calls/λ, so the count is Poisson around ``calls``."""
    scenario = mm50_scenario()
    start = time.perf_counter()
    result = simulate(scenario, seed=seed, horizon=calls / RATE, record=True, ring_time=0.0)
    seconds = time.perf_counter() - start
    cdr = result.cdr  # sorted by attempt id, i.e. in arrival order
    answered = cdr[cdr["outcome"] == "answered"]
    return EngineRun("ccsim", len(answered), seconds, answered["wait"].to_numpy())


def run_ciw(calls: int, seed: int) -> EngineRun:
    """Ciw until ``calls`` customers have completed service (records collected in the timing)."""
    import ciw  # noqa: PLC0415 - optional peer (the ``bench`` extra)

    start = time.perf_counter()
    ciw.seed(seed)
    network = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(rate=RATE)],
        service_distributions=[ciw.dists.Exponential(rate=1.0 / AHT)],
        number_of_servers=[AGENTS],
    )
    sim = ciw.Simulation(network)
    sim.simulate_until_max_customers(calls, method="Complete")
    records = sim.get_all_records()
    seconds = time.perf_counter() - start
    arrival = np.array([r.arrival_date for r in records])
    waits = np.array([r.waiting_time for r in records])
    return EngineRun("Ciw", len(records), seconds, waits[np.argsort(arrival, kind="stable")])


def run_bare_simpy(calls: int, seed: int) -> EngineRun:
    """One SimPy process per call on a ``simpy.Resource``: the floor for SimPy models."""
    start = time.perf_counter()
    rng = np.random.default_rng(seed)
    gaps = rng.exponential(1.0 / RATE, calls).tolist()
    services = rng.exponential(AHT, calls).tolist()
    waits = [0.0] * calls
    env = simpy.Environment()
    agents = simpy.Resource(env, capacity=AGENTS)

    def call(i: int, arrived: float) -> Generator[simpy.Event, Any, None]:
        with agents.request() as request:
            yield request
            waits[i] = env.now - arrived
            yield env.timeout(services[i])

    def source() -> Generator[simpy.Event, Any, None]:
        for i in range(calls):
            yield env.timeout(gaps[i])
            env.process(call(i, env.now))

    env.process(source())
    env.run()
    seconds = time.perf_counter() - start
    return EngineRun("bare SimPy", calls, seconds, np.asarray(waits))


def batch_means(waits: np.ndarray) -> tuple[float, float, float]:
    """Mean wait and 95% t-interval from consecutive batch means after a warm-up.

    Batches hold at least ``BATCH_CALLS`` calls (about 11 relaxation times of
    this queue) so their means are close to independent; at least
    ``MIN_BATCHES`` are used, so short (``--quick``) runs give a rougher interval.
    """
    kept = waits[int(len(waits) * WARMUP_FRACTION) :]
    batches = min(MAX_BATCHES, max(MIN_BATCHES, len(kept) // BATCH_CALLS))
    usable = len(kept) - len(kept) % batches
    means = kept[:usable].reshape(batches, -1).mean(axis=1)
    mean = float(means.mean())
    half = float(stats.t.ppf(0.975, batches - 1) * means.std(ddof=1) / np.sqrt(batches))
    return mean, mean - half, mean + half


# --------------------------------------------------------------------------- memory


def _rss_bytes() -> int:
    """Current resident set size (Linux ``/proc``); 0 where unavailable."""
    try:
        with open("/proc/self/statm", encoding="ascii") as f:
            pages = int(f.read().split()[1])
    except OSError:
        return 0
    return pages * resource.getpagesize()


def _memory_child(calls: int, seed: int, traced: bool, conn: Connection) -> None:
    """Runs in a fresh process so the peak belongs to this run alone."""
    scenario = mm50_scenario()
    gc.collect()
    before = _rss_bytes()
    if traced:
        tracemalloc.start()
    start = time.perf_counter()
    result = simulate(scenario, seed=seed, horizon=calls / RATE, record=True, ring_time=0.0)
    seconds = time.perf_counter() - start
    report: dict[str, float] = {"seconds": seconds}
    if traced:
        current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        report["traced_peak"] = peak
        report["traced_retained"] = current
    # ru_maxrss is in kilobytes on Linux
    report["rss_peak_growth"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - before
    rep = result.replications[0]
    report["calls"] = rep.calls
    assert rep.cdr is not None and rep.agent_states is not None
    report["cdr_frame"] = float(rep.cdr.memory_usage(deep=True).sum())
    report["states_frame"] = float(rep.agent_states.memory_usage(deep=True).sum())
    conn.send(report)
    conn.close()


def measure_memory(calls: int, seed: int, traced: bool) -> dict[str, float]:
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_memory_child, args=(calls, seed, traced, child))
    proc.start()
    child.close()
    report: dict[str, float] = parent.recv()
    proc.join()
    return report


# --------------------------------------------------------------------------- main


def profile_ccsim(calls: int, seed: int, top: int = 15) -> None:
    """cProfile of ccsim's run, hotspots by own time (profile before optimising, §6)."""
    profiler = cProfile.Profile()
    profiler.runcall(run_ccsim, calls, seed)
    print(f"\nccsim cProfile, {calls:,} calls, top {top} by tottime:")
    pstats.Stats(profiler, stream=sys.stdout).sort_stats("tottime").print_stats(top)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=200_000, help="calls per engine")
    ap.add_argument("--memory-calls", type=int, default=1_000_000, help="0 skips the run")
    ap.add_argument("--quick", action="store_true", help="20,000 calls; 100,000 for memory")
    ap.add_argument("--tracemalloc", action="store_true", help="trace Python allocations")
    ap.add_argument("--profile", action="store_true", help="print ccsim's cProfile hotspots")
    ap.add_argument("--repeat", type=int, default=1, help="best of N timings per engine")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    if args.quick:
        args.calls, args.memory_calls = 20_000, min(args.memory_calls, 100_000)

    exact = float(erlang_c(arrival_rate=RATE, aht=AHT, servers=AGENTS).asa)
    print(f"M/M/{AGENTS}, load {LOAD:.0%}, AHT {AHT:.0f} s, {args.calls:,} calls per engine")
    print(f"ccsim build: {build_name()}  (ccsim/_compiled.py; CCSIM_PURE=1 for the sources)")
    engines: list[Callable[[int, int], EngineRun]] = [run_ccsim, run_ciw, run_bare_simpy]
    runs: dict[str, EngineRun] = {}
    # interleaved repeats, best of each: a load change on a shared machine hits all alike
    for _ in range(args.repeat):
        for engine in engines:
            gc.collect()
            run = engine(args.calls, args.seed)
            if run.name not in runs or run.rate > runs[run.name].rate:
                runs[run.name] = run
    for best in runs.values():
        mean, lo, hi = batch_means(best.waits)
        verdict = "inside" if lo <= exact <= hi else "OUTSIDE"
        print(
            f"{best.name:>10}: {best.calls:>9,} calls in {best.seconds:7.2f} s = "
            f"{best.rate:>9,.0f} calls/s   mean wait {mean:6.2f} s "
            f"[{lo:6.2f}, {hi:6.2f}] (Erlang C {exact:.2f} s: {verdict} the 95% CI)"
        )
    cc = runs["ccsim"].rate
    print(f"ratio ccsim/Ciw        = {cc / runs['Ciw'].rate:5.2f}x  (target >= 2.00x)")
    print(f"ratio ccsim/bare SimPy = {cc / runs['bare SimPy'].rate:5.2f}x  (target >= 0.50x)")

    if args.memory_calls > 0:
        m = measure_memory(args.memory_calls, args.seed, args.tracemalloc)
        n = m["calls"]
        print(
            f"memory, {n:,.0f} calls with records, one replication ({m['seconds']:.1f} s"
            f"{', traced' if args.tracemalloc else ''}):"
        )
        print(f"  peak RSS growth   {m['rss_peak_growth'] / n:7.1f} bytes/call  (target < 300)")
        if "traced_peak" in m:
            print(f"  tracemalloc peak  {m['traced_peak'] / n:7.1f} bytes/call")
            print(f"  retained result   {m['traced_retained'] / n:7.1f} bytes/call")
        print(f"  CDR DataFrame     {m['cdr_frame'] / n:7.1f} bytes/call")
        print(f"  agent states      {m['states_frame'] / n:7.1f} bytes/call")

    if args.profile:
        profile_ccsim(min(args.calls, 50_000), args.seed)


if __name__ == "__main__":
    main()
