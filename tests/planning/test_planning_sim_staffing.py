"""Simulation-based staffing: scenario building, the search, and its two properties.

* single skill, exponential times: the simulation answer is the Erlang A
  answer (from an independent CTMC reference), or one agent off where the
  goal lies inside the confidence interval at the boundary;
* multi-skill: the answer meets every target and removing any one agent
  breaks one — checked by re-running ``ccsim.simulate`` with the same seeds
  and comparing the means with the goals here, not with the search's verdict.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from planning_reference import ctmc_erlang_a

import ccsim
from ccsim.planning.sim_staffing import (
    SimStaffing,
    _drive,
    _Evaluation,
    _greedy,
    erlang_group_sizes,
    erlang_staffing,
    interval_rates,
    sim_staffing,
    stationary_scenario,
    with_group_sizes,
)
from ccsim.planning.staffing import AsaTarget, ServiceLevelTarget

SINGLE = """
name = "tiny"
service_level = { fraction = 0.8, seconds = 20 }
skills = ["general"]
[[services]]
name = "general"
arrivals = { calls = [30, 60, 120], interval = 1800, start = "08:00" }
aht = { kind = "exponential", mean = 120 }
patience = { kind = "exponential", mean = 180 }
[[agent_groups]]
name = "agents"
size = 5
skills = ["general"]
shifts = [{ start = "08:00", end = "10:00" }]
"""

MULTI = """
name = "two_skills"
service_level = { fraction = 0.8, seconds = 20 }
skills = ["a", "b"]
[[services]]
name = "a"
arrivals = { rate_per_hour = 100 }
aht = { kind = "exponential", mean = 120 }
patience = { kind = "exponential", mean = 180 }
[[services]]
name = "b"
arrivals = { rate_per_hour = 50 }
aht = { kind = "exponential", mean = 200 }
patience = { kind = "exponential", mean = 240 }
service_level = { fraction = 0.7, seconds = 30 }
[[agent_groups]]
name = "generalists"
size = 2
skills = { a = 1, b = 4 }
[[agent_groups]]
name = "b_only"
size = 2
skills = { b = 1 }
"""


def _scenario(text: str) -> ccsim.Scenario:
    return ccsim.Scenario.from_toml_string(text, "test.toml")


def _erlang_a_reference(rate: float, aht: float, patience: float, goal: float, t: float) -> int:
    """Smallest N whose answered-within-t share (CTMC reference) reaches the goal."""
    n = 1
    while ctmc_erlang_a(rate, aht, patience, n).timed(t)[0] < goal:
        n += 1
    return n


def _means(res: SimStaffing, row: int, sizes: dict[str, int], kpis: list[str]) -> dict[str, Any]:
    rerun = ccsim.simulate(
        res.scenario_at(row, sizes),
        seed=res.table.attrs["seed"],
        replications=res.table.attrs["replications"],
        **res.sim_kwargs,
    )
    return {
        k: (
            float(np.mean([r.kpis[k] for r in rerun.replications])),
            rerun.kpi(k),
        )
        for k in kpis
    }


# ----------------------------------------------------------------------------- scenarios


def test_interval_rates_average_a_profile_over_planning_intervals() -> None:
    sc = _scenario(
        SINGLE.replace(
            'calls = [30, 60, 120], interval = 1800, start = "08:00"',
            'calls = [90, 180], interval = 3600, start = "08:15"',
        )
    )
    rates = [r["general"] for r in interval_rates(sc, 1800.0)]
    assert rates[15] == 0.0
    # 08:00-08:30: 15 min of nothing, 15 min at 90/h -> 22.5 calls in the half hour
    assert rates[16] == pytest.approx(22.5 / 1800)
    assert rates[17] == pytest.approx(45 / 1800)  # 08:30-09:00 at 90/h
    assert rates[18] == pytest.approx((22.5 + 45) / 1800)  # 09:00-09:15 at 90, then 180/h
    assert rates[19] == pytest.approx(90 / 1800)
    assert rates[20] == pytest.approx(45 / 1800)  # 10:00-10:15 at 180/h
    assert sum(rates) * 1800 == pytest.approx(270)


def test_interval_rates_reject_intervals_not_dividing_a_day() -> None:
    with pytest.raises(ValueError, match="divide a day"):
        interval_rates(_scenario(SINGLE), 7000.0)


def test_stationary_scenario_holds_rates_and_puts_everyone_on_duty() -> None:
    sc = stationary_scenario(_scenario(SINGLE), {"general": 0.05})
    svc = sc.service("general")
    assert svc.arrivals is not None
    assert svc.arrivals.calls is None and svc.arrivals.rate_per_hour == pytest.approx(180.0)
    assert sc.agent_group("agents").shifts == ()
    hot = stationary_scenario(ccsim.example("hotline"), {"hotline": 0.1, "vip": 0.01})
    assert hot.supervisor == ()
    assert all(g.shifts == () for g in hot.agent_groups)


def test_with_group_sizes_resizes_and_removes() -> None:
    sc = _scenario(MULTI)
    out = with_group_sizes(sc, {"generalists": 5, "b_only": 0})
    assert [(g.name, g.size) for g in out.agent_groups] == [("generalists", 5)]
    assert len(out.agent_ids()) == 5
    hot = stationary_scenario(ccsim.example("hotline"), {"hotline": 0.1})
    vip = with_group_sizes(hot, {"vip_team": 17}).agent_group("vip_team")
    assert vip.size == 17 and len(set(vip.agent_ids())) == 17
    small = with_group_sizes(hot, {"vip_team": 3}).agent_group("vip_team")
    assert small.agent_ids() == ("8001", "8002", "8003")


@pytest.mark.parametrize(
    ("sizes", "match"),
    [
        ({"nobody": 3}, "unknown agent group"),
        ({"b_only": -1}, "must be an int >= 0"),
        ({"generalists": 0, "b_only": 0}, "at least one agent"),
    ],
)
def test_with_group_sizes_rejects_bad_sizes(sizes: dict[str, int], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        with_group_sizes(_scenario(MULTI), sizes)


def test_with_group_sizes_refuses_groups_with_shifts() -> None:
    with pytest.raises(ValueError, match="'agents' works shifts"):
        with_group_sizes(_scenario(SINGLE), {"agents": 7})


# ----------------------------------------------------------------------------- Erlang start


def test_erlang_start_follows_ivr_exits_to_the_best_group() -> None:
    toml = """
skills = ["x"]
[[services]]
name = "entry"
ivr = "menu"
arrivals = { rate_per_hour = 400 }
[[services]]
name = "x"
aht = { kind = "exponential", mean = 150 }
wrap_up = 30
patience = { kind = "exponential", mean = 120 }
[ivr]
ports = 50
[[ivr.nodes]]
kind = "menu"
name = "menu"
duration = 10
abandon = 0.1
branches = [{ to = "self", probability = 0.5 }, { to = "agent", probability = 0.5 }]
[[ivr.nodes]]
kind = "self_service"
name = "self"
duration = 30
completion = 0.6
otherwise = "agent"
[[ivr.nodes]]
kind = "agent"
name = "agent"
service = "x"
[[agent_groups]]
name = "experts"
size = 4
skills = { x = 1 }
[[agent_groups]]
name = "helpers"
size = 4
skills = { x = 9 }
"""
    sc = _scenario(toml)
    # 400/h x 0.9 x (0.5 + 0.5 x 0.4) = 252/h reach an agent; service time 150 + 30 s
    rate = 400 * 0.9 * (0.5 + 0.5 * 0.4) / 3600
    expected = _erlang_a_reference(rate, 180.0, 120.0, 0.8, 20.0)
    assert erlang_group_sizes(sc, {"entry": 400 / 3600}) == {"experts": expected, "helpers": 0}


def test_erlang_staffing_table_of_the_hotline() -> None:
    table = erlang_staffing(ccsim.example("hotline"), intervals=[3, 20])
    assert list(table["time"]) == ["01:30", "10:00"]
    groups = ["general_team", "billing_team", "roaming_team", "vip_team"]
    assert (table[[f"erlang.{g}" for g in groups]].sum(axis=1) == table["erlang"]).all()
    assert table["erlang"].iloc[1] > 3 * table["erlang"].iloc[0]  # 10:00 is the peak
    assert table["offered"].tolist() == pytest.approx([48.0 + 3.0, 788.0 + 47.0])


# ----------------------------------------------------------------------------- the search


def _fake(sizes: tuple[int, ...]) -> _Evaluation:
    """A known staffing problem: target 1 needs x + y >= 7, target 2 needs y >= 3."""
    x, y = sizes
    slacks = [(x + y - 7) / 10, (y - 3) / 10]
    return _Evaluation({}, slacks)


@pytest.mark.parametrize("start", [(0, 0), (1, 1), (10, 10), (7, 0), (0, 9)])
def test_greedy_then_removal_reaches_a_minimal_staffing(start: tuple[int, int]) -> None:
    [out] = _drive(
        [_greedy(["x", "y"], start, [1.0, 1.0], 100)],
        lambda batch: [_fake(sz) for _, sz in batch],
    )
    x, y = out.sizes
    assert x + y >= 7 and y >= 3  # feasible
    assert not (x - 1 + y >= 7 and x >= 1)  # removing from x breaks the first target
    assert not (x + y - 1 >= 7 and y - 1 >= 3)  # removing from y breaks one
    assert x + y == 7  # and here minimal is optimal (brute force: min x+y s.t. ... = 7)


def test_greedy_prefers_the_cheaper_group() -> None:
    [out] = _drive(
        [_greedy(["x", "y"], (0, 0), [1.0, 3.0], 100)],
        lambda batch: [_fake(sz) for _, sz in batch],
    )
    assert out.sizes == (4, 3)  # y only as much as its own target needs


def test_greedy_stops_when_no_agent_helps() -> None:
    def never(sizes: tuple[int, ...]) -> _Evaluation:
        return _Evaluation({}, [-0.5])

    [out] = _drive([_greedy(["x"], (3,), [1.0], 100)], lambda b: [never(s) for _, s in b])
    assert out.sizes == (3,)  # adding (4,) changed nothing: the search gives up
    assert not out.evaluation.met


def test_lockstep_batches_several_searches() -> None:
    batches: list[int] = []

    def evaluate(batch: list[tuple[int, tuple[int, ...]]]) -> list[_Evaluation]:
        batches.append(len({i for i, _ in batch}))
        return [_fake(sz) for _, sz in batch]

    outs = _drive([_greedy(["x", "y"], s, [1.0, 1.0], 100) for s in [(0, 0), (5, 5)]], evaluate)
    assert [sum(o.sizes) for o in outs] == [7, 7]
    assert batches[0] == 2  # both searches' first requests went out together


# ----------------------------------------------------------------------------- with the model


def test_single_skill_equals_erlang_a_or_is_one_off_inside_the_ci() -> None:
    sc = _scenario(SINGLE)
    res = sim_staffing(sc, replications=4, seed=3, run_length=4 * 3600.0, warmup=600.0)
    table = res.table
    assert list(table["time"]) == ["08:00", "08:30", "09:00"]
    for row, calls in enumerate([30, 60, 120]):
        ref = _erlang_a_reference(calls / 1800, 120.0, 180.0, 0.8, 20.0)
        r = table.iloc[row]
        assert r["erlang.agents"] == ref
        assert bool(r["met"])
        assert r["general.sl.ci_low"] <= r["general.sl"] <= r["general.sl.ci_high"]
        sim = int(r["sim.agents"])
        assert abs(sim - ref) <= 1
        if sim != ref:  # the goal sits inside the CI where the two answers part
            assert bool(r["borderline"])
            boundary = min(sim, ref)
            _, (_, lo, hi) = _means(res, row, {"agents": boundary}, ["general.sl"])["general.sl"]
            assert lo <= 0.8 <= hi


def test_multi_skill_meets_targets_and_removing_any_agent_breaks_one() -> None:
    sc = _scenario(MULTI)
    res = sim_staffing(sc, replications=3, seed=5, run_length=3 * 3600.0, warmup=600.0)
    assert len(res.table) == 1 and res.table["time"].iloc[0] == "all day"
    sizes = {g: int(res.table[f"sim.{g}"].iloc[0]) for g in res.groups}
    goals = {"a.sl": 0.8, "b.sl": 0.7}
    at = _means(res, 0, sizes, list(goals))
    for k, goal in goals.items():
        assert at[k][0] >= goal, (k, at[k])
        assert at[k][0] == pytest.approx(res.table[k].iloc[0], abs=0, rel=1e-12)
    for g in res.groups:
        if sizes[g] == 0:
            continue
        fewer = {**sizes, g: sizes[g] - 1}
        if sum(fewer.values()) == 0:
            continue
        below = _means(res, 0, fewer, list(goals))
        assert any(below[k][0] < goal for k, goal in goals.items()), (g, below)


def test_whole_horizon_search_with_asa_target() -> None:
    sc = _scenario(MULTI)
    res = sim_staffing(
        sc,
        targets=[AsaTarget(15.0)],
        replications=2,
        seed=1,
        per_interval=False,
        horizon=2 * 3600.0,
        warmup=300.0,
        start={"generalists": 6, "b_only": 2},
    )
    assert res.table["time"].iloc[0] == "horizon"
    assert set(res.goals) == {"a.asa", "b.asa"}
    sizes = {g: int(res.table[f"sim.{g}"].iloc[0]) for g in res.groups}
    at = _means(res, 0, sizes, ["a.asa", "b.asa"])
    assert all(at[k][0] <= 15.0 for k in at)


def test_sl_target_threshold_becomes_the_goal() -> None:
    res = sim_staffing(
        _scenario(SINGLE),
        targets=[ServiceLevelTarget(0.5, 60.0)],
        replications=2,
        run_length=1800.0,
        warmup=300.0,
        intervals=[16],
    )
    assert res.goals == {"general.sl": ">= 50% within 60 s (offered)"}
    assert res.scenario_at(0).service("general").service_level is not None
    assert res.scenario_at(0).service("general").service_level.seconds == 60.0  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"replications": 1}, "replications must be an int >= 2"),
        ({"costs": {"nobody": 1.0}}, "unknown agent group"),
        ({"costs": {"agents": 0.0}}, "must be > 0"),
        ({"intervals": [48]}, "intervals must be in 0..47"),
        ({"run_length": 0.0}, "run_length must be > 0"),
        ({"per_interval": False}, "works shifts"),
        ({"targets": [ServiceLevelTarget(0.8, 20), ServiceLevelTarget(0.9, 30)]}, "at most one"),
    ],
)
def test_bad_arguments_are_clear_errors(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        sim_staffing(_scenario(SINGLE), **kwargs)


def test_identical_result_on_a_process_pool() -> None:
    kw: dict[str, Any] = {"replications": 2, "seed": 9, "run_length": 1800.0, "warmup": 300.0}
    serial = sim_staffing(_scenario(MULTI), **kw)
    pooled = sim_staffing(_scenario(MULTI), processes=2, **kw)
    assert serial.table.equals(pooled.table)
    assert math.isfinite(float(serial.table["a.sl"].iloc[0]))
