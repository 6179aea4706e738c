"""Shift scheduling: brute-force optimum, coverage property, errors, weekly tours, simulation.

Coverage is recomputed here from the roster (shift start/end and break
times), independently of the solver's own coverage matrix.
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ccsim import example
from ccsim.planning.scheduling import (
    BreakRule,
    Schedule,
    ScheduleError,
    ShiftPattern,
    load_patterns,
    pattern_grid,
    schedule_shifts,
    simulate_schedule,
)
from ccsim.scenario import Shift

H = 3600.0


def roster_coverage(shifts: list[Shift], start: float, n: int, interval: float) -> np.ndarray:
    """Agents on duty and not on a break, per interval, from the roster (fraction of interval)."""
    out = np.zeros(n)
    for k in range(n):
        a, b = start + k * interval, start + (k + 1) * interval
        for s in shifts:
            assert s.agents is not None
            on = max(0.0, min(b, s.end) - max(a, s.start))
            on += max(0.0, min(b, s.end - 86400) - max(a, s.start - 86400))  # past midnight
            off = sum(
                max(0.0, min(b, br.start + br.duration) - max(a, br.start)) for br in s.breaks
            )
            out[k] += s.agents * (on - off) / interval
    return out


# --------------------------------------------------------------------------- brute force

TINY = [
    ShiftPattern("early 3h", 8 * H, 3 * H),
    ShiftPattern("mid 4h", 9 * H, 4 * H, breaks=(BreakRule(1 * H, 1 * H, 2 * H, paid=False),)),
    ShiftPattern("late 4h", 11 * H, 4 * H),
    ShiftPattern("late 2h", 13 * H, 2 * H, cost=1.5),
]


def brute_force(need: np.ndarray, bound: int = 4) -> float:
    """Cheapest cover by enumerating every count vector of explicit shift variants."""
    # explicit variants: the 4h mid shift with its unpaid hour off at 10:00 or at 11:00
    # (on duty from 08:00 as 0/1 over 8 hourly intervals, cost, part-time)
    variants = [
        ([1, 1, 1, 0, 0, 0, 0, 0], 3.0, True),
        ([0, 1, 0, 1, 1, 0, 0, 0], 3.0, True),
        ([0, 1, 1, 0, 1, 0, 0, 0], 3.0, True),
        ([0, 0, 0, 1, 1, 1, 1, 0], 4.0, True),
        ([0, 0, 0, 0, 0, 1, 1, 0], 1.5, True),
    ]
    cover = np.array([v[0] for v in variants], dtype=float).T
    cost = np.array([v[1] for v in variants])
    best = math.inf
    for counts in itertools.product(range(bound + 1), repeat=len(variants)):
        x = np.array(counts, dtype=float)
        if (cover @ x >= need).all():
            best = min(best, float(cost @ x))
    return best


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_tiny_instance_matches_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    need = rng.integers(0, 4, size=8).astype(float)
    need[7] = 0  # nobody covers 15:00
    s = schedule_shifts(need, TINY, interval=H, start="08:00", mip_gap=0.0)
    assert s.status == "optimal"
    assert s.cost == pytest.approx(brute_force(need))
    cov = roster_coverage(s.shifts_on(), 8 * H, 8, H)
    assert (cov >= need - 1e-9).all()
    np.testing.assert_allclose(s.coverage["scheduled"].to_numpy(), cov)


def test_cost_is_paid_hours_unless_given() -> None:
    assert [p.unit_cost for p in TINY] == [3.0, 3.0, 4.0, 1.5]


# --------------------------------------------------------------------------- property

PATTERNS = pattern_grid(first_start="08:00", last_start="16:00", every=1800, hours=(4, 6))


@settings(max_examples=12, deadline=None)
@given(
    need=st.lists(st.integers(0, 6), min_size=24, max_size=24),
    shrinkage=st.sampled_from([0.0, 0.1, 0.3]),
    hours=st.sampled_from([(4.0,), (4.0, 6.0), (4.0, 8.0)]),
    breaks=st.sampled_from(["none", "window"]),
    every=st.sampled_from([1800.0, 3600.0]),
)
def test_coverage_meets_requirement_in_every_interval(
    need: list[int], shrinkage: float, hours: tuple[float, ...], breaks: str, every: float
) -> None:
    # starts 08:00-16:00 and a 4 h shift always: every interval 08:00-20:00 can be covered
    patterns = pattern_grid(
        first_start="08:00", last_start="16:00", every=every, hours=hours, breaks=breaks
    )
    s = schedule_shifts(need, patterns, interval=1800, start="08:00", shrinkage=shrinkage)
    cov = roster_coverage(s.shifts_on(), 8 * H, 24, 1800)
    assert (cov * (1 - shrinkage) >= np.array(need) - 1e-6).all()
    assert s.agents == sum(sh.agents or 0 for sh in s.shifts_on())


# --------------------------------------------------------------------------- rules and details


def test_shrinkage_is_applied_exactly() -> None:
    # 7 on the phones at 30% shrinkage is 10 scheduled (not 11 from 7 / 0.7 = 10.000000000000002)
    s = schedule_shifts([7.0] * 48, [ShiftPattern("all day", 0.0, 24 * H)], interval=1800,
                        shrinkage=0.3)  # fmt: skip
    assert s.agents == 10
    assert s.coverage["on_phone"].min() == pytest.approx(7.0)


def test_break_windows_are_placed_to_keep_coverage() -> None:
    # two agents on 08:00-12:00, each with a 30-min break 2h-2h30 or 2h30-3h in: staggered,
    # one agent stays on the phone all the time; fixed breaks leave 10:00 uncovered
    win = ShiftPattern("win", 8 * H, 4 * H, breaks=(BreakRule(2 * H, 1800, 2.5 * H),))
    fixed = ShiftPattern("fixed", 8 * H, 4 * H, breaks=(BreakRule(2 * H, 1800),))
    need = [1.0] * 8
    assert schedule_shifts(need, [win], interval=1800, start="08:00").agents == 2
    with pytest.raises(ScheduleError, match="interval 10:00 needs 1 agents but no pattern"):
        schedule_shifts(need, [fixed], interval=1800, start="08:00")  # everybody's break at 10:00
    need[4] = 2.0  # 10:00 needs two: only the window pattern can do it with 3 (break moves)
    s = schedule_shifts(need, [win], interval=1800, start="08:00")
    assert s.agents == 3
    cov = roster_coverage(s.shifts_on(), 8 * H, 8, 1800)
    assert (cov >= np.array(need)).all()


def test_weekly_tours_five_of_seven_by_hand() -> None:
    # Mon-Fri need 2 agents 08-16, Sat and Sun need 1. Five-day tours with two days off in a
    # row: 12 agent-days need >= 3 agents, and 3 suffice (off Sat-Sun, Sat-Sun, Mon-Tue).
    starts = pd.date_range("2026-01-05", periods=7 * 24, freq="h")  # a Monday
    hour = starts.hour
    need = np.where((hour >= 8) & (hour < 16), np.where(starts.day_of_week < 5, 2, 1), 0)
    req = pd.DataFrame({"interval_start": starts, "agents": need})
    pats = pattern_grid(first_start="08:00", last_start="08:00", hours=(8,), breaks="none",
                        days="5of7")  # fmt: skip
    assert len(pats) == 7
    s = schedule_shifts(req, pats, mip_gap=0.0)
    assert s.agents == 3 and s.cost == pytest.approx(3 * 5 * 8)
    assert s.days == 7 and s.weekdays == (0, 1, 2, 3, 4, 5, 6)
    for day in range(7):
        cov = roster_coverage(s.shifts_on(day), 0.0, 24, H)
        assert (cov >= need[day * 24 : (day + 1) * 24]).all()
    with pytest.raises(ScheduleError, match=r"give day=0\.\.6"):
        s.shifts_on()


def test_max_agents_and_part_time_share() -> None:
    full = ShiftPattern("full", 8 * H, 8 * H)
    part = ShiftPattern("part", 8 * H, 4 * H)
    need = [4.0] * 4 + [0.0] * 4
    assert schedule_shifts(need, [full, part], interval=H, start="08:00").patterns[
        "pattern"
    ].tolist() == ["part"]
    s = schedule_shifts(need, [full, part], interval=H, start="08:00", max_part_time=0.5)
    assert dict(zip(s.patterns["pattern"], s.patterns["agents"], strict=True)) == {
        "full": 2,
        "part": 2,
    }
    capped = ShiftPattern("part", 8 * H, 4 * H, max_agents=1)
    s = schedule_shifts(need, [full, capped], interval=H, start="08:00")
    assert s.cost == pytest.approx(3 * 8 + 4)


def test_uncovered_interval_is_named() -> None:
    with pytest.raises(ScheduleError, match=r"interval 22:30 needs 2 agents but no pattern"):
        schedule_shifts([1.0] * 24 + [0.0] * 5 + [2.0], PATTERNS, interval=1800, start="08:00")
    capped = [ShiftPattern("only", 8 * H, 4 * H, max_agents=2)]
    with pytest.raises(ScheduleError, match=r"interval 09:00 needs 3 agents .* at most 2"):
        schedule_shifts([2.0, 2.0, 3.0], capped, interval=1800, start="08:00")
    need = [3.0] * 4
    with pytest.raises(ScheduleError, match="infeasible"):
        schedule_shifts(need, [capped[0], ShiftPattern("pt", 8 * H, 2 * H)], interval=1800,
                        start="08:00", max_part_time=0.1)  # fmt: skip


def test_bad_patterns_are_refused() -> None:
    with pytest.raises(ScheduleError, match=r"windows of breaks 1 .* overlap"):
        ShiftPattern("x", 0, 8 * H, breaks=(BreakRule(H, 900, 3 * H), BreakRule(2 * H, 900)))
    with pytest.raises(ScheduleError, match="after its length"):
        ShiftPattern("x", 0, 4 * H, breaks=(BreakRule(4 * H, 900),))
    with pytest.raises(ScheduleError, match="duplicate pattern name"):
        schedule_shifts([1.0], [TINY[0], TINY[0]], interval=H, start="08:00")


def test_patterns_toml(tmp_path: Path) -> None:
    path = tmp_path / "patterns.toml"
    path.write_text(
        """
[[pattern]]
name = "早班"
start = "07:00"
hours = 8
days = ["mon", "tue", "wed", "thu", "fri"]
breaks = [{ after = "3:30", latest = "4:30", minutes = 60, paid = false, reason = "lunch" }]

[rules]
first_start = "10:00"
last_start = "12:00"
every_minutes = 60
hours = [4]
breaks = "both"

[limits]
max_part_time = 0.4
""",
        encoding="utf-8",
    )
    pats, limits = load_patterns(path)
    assert pats[0].name == "早班" and pats[0].paid_hours == 7.0 and pats[0].days == (0, 1, 2, 3, 4)
    assert len(pats) == 1 + 3 * 2  # three starts, each with a fixed and a window break
    assert limits == {"max_part_time": 0.4}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('[[pattern]]\nstart = "07:00"\nhours = -1\n', "pattern[0]: pattern 'pattern 1': length"),
        ('[[pattern]]\nstart = "7h"\nhours = 8\n', "pattern[0].start: must be a clock time"),
        ('[[pattern]]\nstart = "07:00"\nhours = 8\ndays = ["mon", "xyz"]\n',
         "pattern[0].days[1]: not a weekday"),
        ('[[pattern]]\nstart = "07:00"\nhours = 8\nbreak = []\n',
         "pattern[0].break: unknown field"),
        ('[limits]\nmax_part_time = 2\n', "limits.max_part_time: must be a share"),
    ],
)  # fmt: skip
def test_bad_patterns_toml_names_file_field_value(tmp_path: Path, body: str, message: str) -> None:
    path = tmp_path / "p.toml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(ScheduleError) as info:
        load_patterns(path)
    assert str(info.value).startswith(f"{path}: {message}")


# --------------------------------------------------------------------------- scenario, simulation


def _two_block_schedule() -> Schedule:
    pats = [ShiftPattern("a", 8 * H, 2 * H), ShiftPattern("b", 10 * H, 2 * H)]
    return schedule_shifts([12.0] * 4 + [4.0] * 4, pats, interval=1800, start="08:00")


def test_to_scenario_follows_the_schedule() -> None:
    s = _two_block_schedule()
    sc = s.to_scenario(example("single_skill"))
    g = sc.agent_groups[0]
    assert g.size == 16
    assert sorted((sh.start, sh.end, sh.agents) for sh in g.shifts) == [
        (8 * H, 10 * H, 12),
        (10 * H, 12 * H, 4),
    ]
    with pytest.raises(ScheduleError, match="no agent group 'x'"):
        s.to_scenario(example("single_skill"), group="x")


def test_to_scenario_nets_out_shrinkage_with_one_rounding() -> None:
    pats = [ShiftPattern("a", 8 * H, 2 * H), ShiftPattern("b", 10 * H, 2 * H)]
    s = schedule_shifts([7.0] * 4 + [7.0] * 4, pats, interval=1800, start="08:00", shrinkage=0.3)
    assert s.agents == 20
    g = s.to_scenario(example("single_skill")).agent_groups[0]
    assert g.size == 14 and sorted(sh.agents or 0 for sh in g.shifts) == [7, 7]
    assert s.to_scenario(example("single_skill"), apply_shrinkage=False).agent_groups[0].size == 20


def test_simulation_check_sees_the_scheduled_staffing() -> None:
    # 6 erlangs 08:00-12:00: 12 agents (ample) until 10:00, then 4 (fewer than the load)
    base = example("single_skill")
    svc = base.services[0]
    arrivals = svc.arrivals.model_copy(  # type: ignore[union-attr]
        update={"rate_per_hour": None, "calls": (60.0,) * 8, "start": 8 * H, "interval": 1800.0}
    )
    sc = base.model_copy(update={"services": (svc.model_copy(update={"arrivals": arrivals}),)})
    check = simulate_schedule(_two_block_schedule(), sc, replications=8, seed=3)
    assert check["start"].tolist()[:8] == ["08:00", "08:30", "09:00", "09:30",
                                           "10:00", "10:30", "11:00", "11:30"]  # fmt: skip
    assert (check["sl_low"].iloc[:4] > 0.8).all() and check["meets"].iloc[:4].all()
    assert (check["sl_high"].iloc[4:8] < 0.8).all() and not check["meets"].iloc[4:8].any()
