"""Statistical agreement: the emulator's internal distribution vs ``ccsim.simulate``.

``single_skill`` with exponential patience (Erlang A: 18 Erlang offered to 20
agents, patience mean 120 s) runs R independent replications in the emulator, on
its real scaled-time scheduler at a high speed, and R in ``ccsim.simulate``. The
two are different programs sharing only the scenario's distributions, so the
check is statistical: for each KPI, the Welch 99% confidence interval of the
difference of the means must contain zero, and each side's 95% interval must
overlap the other's.
"""

from __future__ import annotations

import asyncio
import math
import re

import numpy as np
from scipy import stats

from ccsim.live.emulator import Emulator, SwitchOptions
from ccsim.pbx.run import simulate
from ccsim.scenario import Scenario, example_path

HOURS = 6.0
WARMUP = 3600.0
REPLICATIONS = 6
SPEED = 40_000.0  # simulated seconds per wall second
KPIS = ("all.sl", "all.asa", "all.abandon_rate")


def erlang_a() -> Scenario:
    text = example_path("single_skill").read_text(encoding="utf-8")
    text, n = re.subn(
        r'^patience = "none"', 'patience = { kind = "exponential", mean = 120 }', text, flags=re.M
    )
    assert n == 1
    return Scenario.from_toml_string(text, "single_skill+patience")


def emulate(scenario: Scenario, replication: int, speed: float = SPEED) -> dict[str, float]:
    horizon = HOURS * 3600.0

    async def run() -> dict[str, float]:
        options = SwitchOptions(ring_time=0.0, horizon=horizon)
        emulator = Emulator(
            scenario,
            speed=speed,
            seed=7,
            replication=replication,
            options=options,
            until=horizon + 2 * 3600.0,
        )
        async with emulator:
            await emulator.wait_finished()
        return emulator.switch.kpis(WARMUP, horizon)

    return asyncio.run(run())


def test_emulator_agrees_with_simulate() -> None:
    scenario = erlang_a()
    emulated = [emulate(scenario, r) for r in range(REPLICATIONS)]
    simulated = simulate(
        scenario,
        seed=11,
        replications=REPLICATIONS,
        horizon=HOURS * 3600.0,
        warmup=WARMUP,
        record=False,
    )
    for kpi in KPIS:
        a = np.array([e[kpi] for e in emulated])
        b = np.array([r.kpis[kpi] for r in simulated.replications])
        assert np.isfinite(a).all() and np.isfinite(b).all()
        # Welch: the 99% interval of the difference of means contains 0
        va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
        dof = (va + vb) ** 2 / (va**2 / (a.size - 1) + vb**2 / (b.size - 1))
        half = stats.t.ppf(0.995, dof) * math.sqrt(va + vb)
        diff = a.mean() - b.mean()
        assert abs(diff) <= half, (kpi, a.mean(), b.mean(), half)
        # the two 95% intervals overlap
        ha = stats.t.ppf(0.975, a.size - 1) * a.std(ddof=1) / math.sqrt(a.size)
        hb = stats.t.ppf(0.975, b.size - 1) * b.std(ddof=1) / math.sqrt(b.size)
        assert abs(diff) <= ha + hb, (kpi, a.mean(), b.mean())


def test_emulator_kpis_are_not_trivial() -> None:
    """Guards the comparison: calls were offered, some waited, some abandoned."""
    kpis = emulate(erlang_a(), 0)
    expected_calls = 360 * (HOURS - WARMUP / 3600.0)
    assert abs(kpis["all.offered"] - expected_calls) < 4 * math.sqrt(expected_calls)
    assert 0.0 < kpis["all.abandon_rate"] < 0.5
    assert 0.0 < kpis["all.sl"] < 1.0


def test_speed_does_not_change_the_simulation() -> None:
    """Without clients the scaled-time scheduler and "as fast as possible" must step the
    same events in the same order: identical KPIs, not just statistically close ones."""
    scenario = erlang_a()
    assert emulate(scenario, 1) == emulate(scenario, 1, speed=math.inf)
