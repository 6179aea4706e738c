"""Capacity studies on cases with known answers."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from ccsim.planning.staffing import ServiceLevelTarget, required_agents
from ccsim.routing import PriorityFifo, StrictFifo
from ccsim.scenario import Scenario, example
from ccsim.studies import (
    compare_policies,
    expansion_study,
    load_study,
    overflow_study,
    scale_traffic,
    with_capacity,
)

SINGLE = """
skills = ["general"]
[[services]]
name = "general"
arrivals = { rate_per_hour = 360 }
aht = { kind = "exponential", mean = 180 }
[[agent_groups]]
name = "agents"
size = 20
skills = ["general"]
"""


def test_scale_traffic_and_capacity() -> None:
    hot = example("hotline")
    scaled = scale_traffic(hot, 1.5)
    for a, b in zip(hot.services, scaled.services, strict=True):
        if a.arrivals is not None:
            assert b.arrivals is not None
            assert b.arrivals.daily_volume == pytest.approx(1.5 * a.arrivals.daily_volume)
    assert hot.services[0].arrivals is not scaled.services[0].arrivals  # original untouched
    g = hot.agent_groups[0]
    bigger = with_capacity(hot, agents={g.name: 3}, trunks=400, ivr_ports=200)
    assert bigger.agent_groups[0].size == g.size + 3
    assert len(bigger.agent_ids()) == len(hot.agent_ids()) + 3
    assert bigger.trunks is not None and bigger.trunks.count == 400
    assert bigger.ivr is not None and bigger.ivr.ports == 200
    with pytest.raises(ValueError, match="factor"):
        scale_traffic(hot, 0)


def test_overflow_curve_monotone_and_saved(tmp_path: Path) -> None:
    sc = Scenario.from_toml_string(SINGLE)
    study = overflow_study(
        sc, (0.8, 0.95, 1.05), seed=2, replications=4, horizon=4 * 3600, warmup=1800, processes=2
    )
    # M/M/20: waiting grows with load; with common random numbers the means are ordered
    p_wait = study.curve("all.asa")["mean"].tolist()
    assert p_wait == sorted(p_wait)
    occ = study.curve("all.occupancy")["mean"].tolist()
    assert occ == sorted(occ)
    assert (
        study.breaking_point("all.sl", 0.8) == 1.05 or study.breaking_point("all.sl", 0.8) == 0.95
    )
    back = load_study(study.save(tmp_path / "ovf"))
    assert isinstance(back, type(study))
    pd.testing.assert_frame_equal(back.summary, study.summary, check_dtype=False)


def test_expansion_agrees_with_erlang_c_staffing() -> None:
    sc = Scenario.from_toml_string(SINGLE)
    study = expansion_study(
        sc,
        growth=0.10,
        years=1,
        seed=5,
        replications=6,
        horizon=8 * 3600,
        warmup=3600,
        agent_step=1,
    )
    step = study.steps[0]
    assert step.meets_targets
    found = 20 + step.agents_added["agents"]
    exact = int(
        required_agents(
            arrival_rate=360 * 1.1 / 3600,
            aht=180.0,
            targets=ServiceLevelTarget(fraction=0.8, within=20.0),
        )
    )
    assert abs(found - exact) <= 1, (found, exact)
    assert step.cost == step.agents_added["agents"] * 1.0
    assert "+agents" in study.table().columns


PRIORITY = """
skills = ["gen"]
[[services]]
name = "normal"
routing_point = "gen"
arrivals = { rate_per_hour = 260 }  # 17.8 erlangs in all on 21 agents
aht = { kind = "exponential", mean = 200 }
[[services]]
name = "vip"
routing_point = "gen"
priority = 10
arrivals = { rate_per_hour = 60 }
aht = { kind = "exponential", mean = 200 }
[[routing_points]]
name = "gen"
steps = [{ op = "queue", queue = "gen" }]
[[agent_groups]]
name = "team"
size = 21
skills = ["gen"]
"""


def test_policy_comparison_with_common_random_numbers() -> None:
    sc = Scenario.from_toml_string(PRIORITY)
    df = compare_policies(
        sc,
        {
            "priority": {"discipline": PriorityFifo()},
            "same": {"discipline": PriorityFifo()},
            "fifo": {"discipline": StrictFifo()},
        },
        kpis=["vip.asa", "normal.asa"],
        seed=1,
        replications=6,
        horizon=4 * 3600,
        warmup=1800,
    ).set_index(["variant", "kpi"])
    # the same policy twice: common random numbers make every paired difference exactly 0
    assert df.loc[("same", "vip.asa"), "difference"] == 0.0
    # dropping priority makes VIPs wait longer: the CI of the difference excludes 0
    assert df.loc[("fifo", "vip.asa"), "ci_low"] > 0
    with pytest.raises(ValueError, match="baseline"):
        compare_policies(sc, {"a": {}}, baseline="b")
