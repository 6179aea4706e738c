"""Statistical parity: single_skill (Erlang A) routed by ``LiveACD`` through the emulator
vs ``ccsim.simulate``. Different programs sharing only the scenario's distributions
and the ACD, so the check is statistical: for each KPI the Welch 99% interval of the
difference of the replication means contains zero.

Reduced size (R=4 replications of 1 h 15 min, the first 20 min warm-up) at 1,000
simulated seconds per wall second. Routing takes a round trip over loopback
between the emulator and the ACD sharing one event loop; every millisecond of it
is a simulated second an agent sits idle and a caller waits, so the speed is
kept where that stays small next to the 180 s handle time and the 20 s
service-level threshold (at 2,000x the loop's lag made ASA visibly longer).
Agents answer at once (ring time 0), so the ACD's ring timer is set to 120 s:
at this speed a 15 s timer is 15 ms of wall time, within a busy loop's jitter.
"""

from __future__ import annotations

import asyncio
import dataclasses
import math
import re

import numpy as np
from livehelp import live_pair
from scipy import stats

from ccsim.acd import ACD
from ccsim.live.acd import live_config
from ccsim.live.emulator import SwitchOptions
from ccsim.pbx.run import simulate
from ccsim.scenario import Scenario, example_path

HOURS = 1.25
WARMUP = 1200.0
REPLICATIONS = 4
SPEED = 1000.0
KPIS = ("all.sl", "all.asa", "all.abandon_rate")


def erlang_a() -> Scenario:
    text = example_path("single_skill").read_text(encoding="utf-8")
    text, n = re.subn(
        r'^patience = "none"', 'patience = { kind = "exponential", mean = 120 }', text, flags=re.M
    )
    assert n == 1
    return Scenario.from_toml_string(text, "single_skill+patience")


def routed(scenario: Scenario, replication: int) -> tuple[dict[str, float], int]:
    horizon = HOURS * 3600.0
    options = SwitchOptions(
        ring_time=0.0, route_timeout=0.0, routed_ring_timeout=0.0, horizon=horizon
    )

    async def go() -> tuple[dict[str, float], int]:
        acd = ACD(dataclasses.replace(live_config(scenario), ring_timeout=120.0))
        async with live_pair(
            scenario, speed=SPEED, options=options, acd=acd, seed=7, replication=replication
        ) as p:
            await p.until(lambda: p.pbx.clock.sim_now() > horizon + 600.0, horizon + 900.0)
            return p.pbx.switch.kpis(WARMUP, horizon), p.live.binding.stats.route_requests

    return asyncio.run(go())


def test_live_acd_agrees_with_simulate() -> None:
    scenario = erlang_a()
    runs = [routed(scenario, r) for r in range(REPLICATIONS)]
    assert all(n > 300 for _, n in runs)  # the ACD routed the calls, not the hunt group
    simulated = simulate(
        scenario, seed=11, replications=REPLICATIONS, horizon=HOURS * 3600.0,
        warmup=WARMUP, record=False,
    )  # fmt: skip
    for kpi in KPIS:
        a = np.array([k[kpi] for k, _ in runs])
        b = np.array([r.kpis[kpi] for r in simulated.replications])
        assert np.isfinite(a).all() and np.isfinite(b).all()
        va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
        dof = (va + vb) ** 2 / (va**2 / (a.size - 1) + vb**2 / (b.size - 1))
        half = stats.t.ppf(0.995, dof) * math.sqrt(va + vb)
        diff = a.mean() - b.mean()
        assert abs(diff) <= half, (kpi, a.mean(), b.mean(), half)
