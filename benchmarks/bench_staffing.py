"""Staffing speed: ccsim against pyworkforce on the same 96-interval problem.

The problem: one day in 15-minute intervals, offered load from ~40 to ~2,000
erlangs (AHT 240 s), target 80% answered within 20 s, 30% shrinkage, Erlang C.

pyworkforce's ``ErlangC`` takes every time in one unit of the caller's choice
(its docs say minutes): ``aht`` and ``interval`` in minutes here, and its
``asa`` argument is really the service-level threshold (it enters
``exp(-(N - A) * asa / aht)``), so it gets 20 s = 1/3 min. ``raw_positions``
is its agents on the phones, ``positions`` the scheduled agents after
shrinkage, i.e. ccsim's ``agents`` and ``scheduled``.

Also times single Erlang C and Erlang A evaluations at N = 10,000.
Prints both times and the ratio; exits 1 if the two disagree on the agents
needed (where both use the same Erlang C model they must agree exactly).
"""

from __future__ import annotations

import math
import sys
import time
import timeit
from collections.abc import Callable

import numpy as np
import pandas as pd
from pyworkforce.queuing import ErlangC

from ccsim.planning import ServiceLevelTarget, erlang_a, erlang_c, required_agents, staff_intervals

INTERVAL_S = 900.0
AHT_S = 240.0
SHRINKAGE = 0.3
TARGET = ServiceLevelTarget(fraction=0.8, within=20.0)


def forecast() -> pd.DataFrame:
    """96 quarter hours; a two-peak day scaled so the peak load is ~2,000 erlangs."""
    hours = (np.arange(96) + 0.5) / 4
    shape = (
        0.02
        + np.exp(-0.5 * ((hours - 10.5) / 1.6) ** 2)
        + 0.8 * np.exp(-0.5 * ((hours - 15.0) / 2.0) ** 2)
        + 0.85 * np.exp(-0.5 * ((hours - 20.5) / 1.3) ** 2)
    )
    load = 2000.0 * shape / shape.max()
    calls = np.round(load * INTERVAL_S / AHT_S)
    return pd.DataFrame({"offered": calls, "aht": AHT_S})


def best_of(fn: Callable[[], object], repeat: int) -> float:
    best = math.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> int:
    df = forecast()
    peak = df["offered"].max() * AHT_S / INTERVAL_S
    print(f"96 intervals of 15 min, peak load {peak:,.0f} erlangs,")
    print("target 80% within 20 s, shrinkage 30%, Erlang C\n")

    def run_pyworkforce() -> list[dict[str, float]]:
        return [
            ErlangC(
                transactions=float(c),
                aht=AHT_S / 60,
                asa=TARGET.within / 60,
                interval=INTERVAL_S / 60,
                shrinkage=SHRINKAGE,
            ).required_positions(service_level=TARGET.fraction, max_occupancy=1.0)
            for c in df["offered"]
        ]

    pw = run_pyworkforce()
    t_pw = best_of(run_pyworkforce, 3)

    table = staff_intervals(df, TARGET, shrinkage=SHRINKAGE, interval=INTERVAL_S)
    t_table = best_of(
        lambda: staff_intervals(df, TARGET, shrinkage=SHRINKAGE, interval=INTERVAL_S), 5
    )
    rate = df["offered"].to_numpy() / INTERVAL_S
    t_agents = best_of(lambda: required_agents(arrival_rate=rate, aht=AHT_S, targets=TARGET), 5)

    print("best of several runs, same process\n")
    print(f"pyworkforce ErlangC.required_positions x 96  {t_pw * 1e3:10.1f} ms")
    print(
        f"ccsim staff_intervals (agents, fractional, scheduled, sqrt, KPIs)"
        f"  {t_table * 1e3:8.2f} ms   ratio {t_pw / t_table:7.0f}x"
    )
    print(
        f"ccsim required_agents (integer agents only)"
        f"                        {t_agents * 1e3:8.2f} ms   ratio {t_pw / t_agents:7.0f}x"
    )

    raw = np.array([r["raw_positions"] for r in pw])
    sched = np.array([r["positions"] for r in pw])
    agents = table["agents"].to_numpy()
    ours_sched = table["scheduled"].to_numpy()
    same_agents = int((raw == agents).sum())
    print(f"\nagents on the phones: identical in {same_agents}/96 intervals")
    # pyworkforce rounds raw / 0.7 up in floating point, so e.g. 14 / 0.7 =
    # 20.000000000000004 becomes 21; ccsim guards that ceiling.
    exact_ceiling = np.array([math.ceil(round(a / (1 - SHRINKAGE), 9)) for a in raw])
    float_noise = (sched != ours_sched) & (sched == exact_ceiling + 1)
    same_sched = int((sched == ours_sched).sum())
    print(
        f"scheduled agents: identical in {same_sched}/96 intervals"
        + (
            f"; {int(float_noise.sum())} differ only by pyworkforce's float ceiling"
            if float_noise.any()
            else ""
        )
    )

    n = 10_000
    c_us = (
        1e6
        * min(
            timeit.repeat(
                lambda: erlang_c(arrival_rate=9_900 / AHT_S, aht=AHT_S, servers=n),
                number=200,
                repeat=5,
            )
        )
        / 200
    )
    a_us = (
        1e6
        * min(
            timeit.repeat(
                lambda: erlang_a(arrival_rate=9_900 / AHT_S, aht=AHT_S, patience=AHT_S, servers=n),
                number=200,
                repeat=5,
            )
        )
        / 200
    )

    def a_with_served() -> float:
        return float(
            erlang_a(
                arrival_rate=9_900 / AHT_S, aht=AHT_S, patience=AHT_S, servers=n
            ).mean_wait_served
        )

    a2_us = 1e6 * min(timeit.repeat(a_with_served, number=200, repeat=5)) / 200
    print("\nN = 10,000 agents, 9,900 erlangs (patience = AHT for Erlang A):")
    print(f"  one Erlang C evaluation                          {c_us:8.1f} µs")
    print(f"  one Erlang A evaluation                          {a_us:8.1f} µs")
    print(f"  one Erlang A evaluation incl. mean wait served   {a2_us:8.1f} µs")

    unexplained = (sched != ours_sched) & ~float_noise
    if same_agents != 96 or unexplained.any():
        print("MISMATCH between ccsim and pyworkforce", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
