"""Study throughput: an overflow study run serially and over two processes.

Workload (issue 5): ``ccsim.studies.overflow_study`` on the built-in hotline
example (``ccsim.example("hotline")``), 8 traffic levels (0.8 to 1.5 of the
forecast) x 10 replications of a full day, records off — the shape of the
study ``ccsim demo`` and the capacity report run. The same study is run with
``processes=1`` and ``processes=2``; both must give the same summary (each
replication's streams depend only on the seed and replication number, not on
which worker ran it), so the speed-up is measured on identical work.

Target: speed-up >= 1.7x on 2 cores. A study's 80 replications are
independent, so the only losses are process start-up, pickling the scenario
and the results, and the slowest last replication (the heaviest traffic
levels take longest; ``chunksize=1`` keeps both workers busy until the end).
Absolute times drift on shared machines (DESIGN.md §6): the ratio is what
matters, and only on an otherwise idle machine — each run prints the load
average it started under and the CPU seconds it used, so a speed-up measured
while other work shared the cores can be recognised as such.

Run: ``python benchmarks/bench_study.py [--quick] [--levels N] [--replications N]
[--hours H]``. ``--quick`` runs 4 levels x 2 replications over the first 10
hours of the day.
"""

from __future__ import annotations

import argparse
import os
import resource
import time

import numpy as np
import pandas as pd

import ccsim
from ccsim.studies import OverflowStudy, overflow_study

TARGET_SPEEDUP = 1.7


def _cpu_seconds() -> float:
    """CPU time of this process and its finished children (the pool's workers)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def run(
    processes: int, multipliers: list[float], replications: int, horizon: float | None
) -> tuple[float, float, OverflowStudy]:
    """Wall time and CPU time of one overflow study with ``processes`` workers, and the study."""
    scenario = ccsim.example("hotline")
    c0 = _cpu_seconds()
    t0 = time.perf_counter()
    study = overflow_study(
        scenario,
        multipliers,
        seed=7,
        replications=replications,
        horizon=horizon,
        processes=processes,
    )
    return time.perf_counter() - t0, _cpu_seconds() - c0, study


def main(argv: list[str] | None = None) -> int:
    """Time the study both ways, check they agree, print times and the speed-up."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="4 levels x 2 replications, 10 h")
    ap.add_argument("--levels", type=int, default=None, help="traffic levels (default 8)")
    ap.add_argument("--replications", type=int, default=None, help="per level (default 10)")
    ap.add_argument("--hours", type=float, default=None, help="horizon in hours (default 24)")
    args = ap.parse_args(argv)
    levels = args.levels or (4 if args.quick else 8)
    reps = args.replications or (2 if args.quick else 10)
    hours = args.hours if args.hours is not None else (10.0 if args.quick else 24.0)
    multipliers = [float(m) for m in np.round(np.linspace(0.8, 1.5, levels), 3)]
    horizon = hours * 3600.0
    print(
        f"overflow study, hotline example: {levels} levels {multipliers[0]}..{multipliers[-1]}"
        f" x {reps} replications, {hours:g} h horizon; {os.cpu_count()} CPUs"
    )
    load = os.getloadavg()[0]
    serial, cpu1, s1 = run(1, multipliers, reps, horizon)
    print(f"  serial   (processes=1): {serial:8.2f} s  (CPU {cpu1:7.1f} s, load before {load:.1f})")
    load = os.getloadavg()[0]
    parallel, cpu2, s2 = run(2, multipliers, reps, horizon)
    print(
        f"  parallel (processes=2): {parallel:8.2f} s  (CPU {cpu2:7.1f} s, load before {load:.1f})"
    )
    pd.testing.assert_frame_equal(s1.summary, s2.summary)  # same work, same answer
    speedup = serial / parallel
    verdict = "meets" if speedup >= TARGET_SPEEDUP else "BELOW"
    print(f"  speed-up: {speedup:.2f}x ({verdict} the {TARGET_SPEEDUP}x target)")
    sl = s1.curve("all.sl")["mean"]
    print("  all.sl by multiplier: " + ", ".join(f"{m:g}: {v:.3f}" for m, v in sl.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
