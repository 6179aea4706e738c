"""Staffing: exact minimality against the Erlang functions, per-interval tables, errors."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ccsim.planning import (
    AbandonmentTarget,
    AsaTarget,
    ForecastError,
    OccupancyTarget,
    QueueModel,
    ServiceLevelDefinition,
    ServiceLevelTarget,
    Target,
    daily_summary,
    erlang_a,
    erlang_c,
    example_day,
    required_agents,
    required_agents_fractional,
    scheduled_agents,
    square_root_staffing,
    staff_intervals,
)

PROPS = settings(max_examples=30, deadline=None)
SL_80_20 = ServiceLevelTarget(fraction=0.8, within=20.0)


def meets(
    model: str, rate: float, aht: float, patience: float, n: float, targets: list[Target]
) -> bool:
    """Independent check of every target straight from the Erlang functions."""
    if model == "c":
        c = erlang_c(arrival_rate=rate, aht=aht, servers=n)
        ok = bool(c.stable)
        for t in targets:
            if isinstance(t, ServiceLevelTarget):
                ok &= float(c.service_level(t.within)) >= t.fraction
            elif isinstance(t, AsaTarget):
                ok &= float(c.asa) <= t.seconds
            elif isinstance(t, OccupancyTarget):
                ok &= float(c.occupancy) <= t.fraction
        return ok
    a = erlang_a(arrival_rate=rate, aht=aht, patience=patience, servers=n)
    ok = True
    for t in targets:
        if isinstance(t, ServiceLevelTarget):
            ok &= float(a.service_level(t.within, t.definition)) >= t.fraction
        elif isinstance(t, AsaTarget):
            ok &= float(a.mean_wait_served) <= t.seconds
        elif isinstance(t, AbandonmentTarget):
            ok &= float(a.p_abandon) <= t.fraction
        else:
            ok &= float(a.occupancy) <= t.fraction
    return ok


def test_published_example_needs_14_agents() -> None:
    # 100 calls / 30 min, AHT 180 s: 13 agents give 79.6% in 20 s, 14 give 88.8%
    n = required_agents(arrival_rate=100 / 1800, aht=180.0, targets=SL_80_20)
    assert int(n) == 14
    assert n.dtype == np.int64


def test_square_root_staffing_tracks_the_exact_answer() -> None:
    rate = np.array([0.05, 0.5, 2.0, 8.0])  # up to ~1,900 erlangs at AHT 240 s
    exact = required_agents(arrival_rate=rate, aht=240.0, targets=SL_80_20)
    sqrt = square_root_staffing(arrival_rate=rate, aht=240.0, targets=SL_80_20)
    assert (np.abs(sqrt - exact) <= 2).all()
    assert (sqrt > rate * 240).all()


def test_combined_targets_take_the_strictest() -> None:
    rate, aht = 0.5, 240.0
    sl = int(required_agents(arrival_rate=rate, aht=aht, targets=SL_80_20))
    occ = int(required_agents(arrival_rate=rate, aht=aht, targets=OccupancyTarget(0.8)))
    assert occ == math.ceil(120 / 0.8)
    both = int(
        required_agents(arrival_rate=rate, aht=aht, targets=[SL_80_20, OccupancyTarget(0.8)])
    )
    assert both == max(sl, occ)


def test_erlang_a_needs_fewer_agents_than_erlang_c() -> None:
    kw = {"arrival_rate": 1.0, "aht": 240.0, "targets": SL_80_20}
    c = int(required_agents(**kw))  # type: ignore[arg-type]
    a = int(required_agents(**kw, model="a", patience=120.0))  # type: ignore[arg-type]
    assert a < c


def test_abandonment_target_needs_erlang_a() -> None:
    with pytest.raises(ValueError, match="Erlang A"):
        required_agents(arrival_rate=1.0, aht=240.0, targets=AbandonmentTarget(0.05))
    with pytest.raises(ValueError, match="patience"):
        required_agents(arrival_rate=1.0, aht=240.0, targets=SL_80_20, model="a")


def test_zero_traffic_needs_nobody() -> None:
    n = required_agents(arrival_rate=[0.0, 0.1], aht=200.0, targets=SL_80_20)
    assert n[0] == 0 and n[1] > 0


@pytest.mark.parametrize(
    ("target", "message"),
    [
        (lambda: ServiceLevelTarget(fraction=1.0, within=20.0), "fraction"),
        (lambda: ServiceLevelTarget(fraction=0.8, within=-1.0), "within"),
        (lambda: ServiceLevelTarget(0.8, 20.0, "nonsense"), "nonsense"),  # type: ignore[arg-type]
        (lambda: AsaTarget(0.0), "seconds"),
        (lambda: AbandonmentTarget(0.0), "fraction"),
        (lambda: OccupancyTarget(1.5), "fraction"),
    ],
)
def test_targets_validate(target: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        target()  # type: ignore[operator]


def test_target_definition_accepts_strings() -> None:
    t = ServiceLevelTarget(0.8, 20.0, "answered")  # type: ignore[arg-type]
    assert t.definition is ServiceLevelDefinition.ANSWERED


def test_scheduled_agents_rounds_up_without_float_noise() -> None:
    # 14 / 0.7 is 20.000000000000004 in floating point
    table = staff_intervals(
        pd.DataFrame({"offered": [100], "aht": [180.0]}), SL_80_20, shrinkage=0.3, interval=1800
    )
    assert int(table["agents"].iloc[0]) == 14
    assert int(table["scheduled"].iloc[0]) == 20
    assert float(scheduled_agents(14, 0.3)) == pytest.approx(20.0)
    with pytest.raises(ValueError, match="shrinkage"):
        scheduled_agents(14, 1.0)


targets_c = st.sampled_from(
    [
        [SL_80_20],
        [ServiceLevelTarget(0.9, 10.0)],
        [AsaTarget(15.0)],
        [SL_80_20, OccupancyTarget(0.85)],
        [AsaTarget(30.0), OccupancyTarget(0.9)],
    ]
)
targets_a = st.sampled_from(
    [
        [SL_80_20],
        [ServiceLevelTarget(0.8, 20.0, ServiceLevelDefinition.ANSWERED)],
        [ServiceLevelTarget(0.85, 30.0, ServiceLevelDefinition.OFFERED_MINUS_SHORT_ABANDONS)],
        [AbandonmentTarget(0.03)],
        [AsaTarget(10.0), AbandonmentTarget(0.05)],
        [SL_80_20, OccupancyTarget(0.85)],
    ]
)


@PROPS
@given(rate=st.floats(1e-3, 10.0), aht=st.floats(20.0, 600.0), targets=targets_c)
def test_erlang_c_staffing_is_the_smallest_n(
    rate: float, aht: float, targets: list[Target]
) -> None:
    n = int(required_agents(arrival_rate=rate, aht=aht, targets=targets))
    assert meets("c", rate, aht, math.inf, n, targets)
    assert not meets("c", rate, aht, math.inf, n - 1, targets)


@PROPS
@given(
    rate=st.floats(1e-3, 5.0),
    aht=st.floats(20.0, 600.0),
    patience=st.floats(5.0, 2000.0),
    targets=targets_a,
)
def test_erlang_a_staffing_is_the_smallest_n(
    rate: float, aht: float, patience: float, targets: list[Target]
) -> None:
    n = int(
        required_agents(arrival_rate=rate, aht=aht, targets=targets, model="a", patience=patience)
    )
    assert meets("a", rate, aht, patience, n, targets)
    if n > 0:
        assert not meets("a", rate, aht, patience, n - 1, targets)


@PROPS
@given(rate=st.floats(1e-2, 5.0), aht=st.floats(20.0, 600.0), model=st.sampled_from(["c", "a"]))
def test_fractional_requirement_is_tight(rate: float, aht: float, model: str) -> None:
    kw = {"arrival_rate": rate, "aht": aht, "targets": [SL_80_20], "model": model, "patience": 90.0}
    whole = int(required_agents(**kw))  # type: ignore[arg-type]
    frac = float(required_agents_fractional(**kw))  # type: ignore[arg-type]
    assert whole - 1 < frac <= whole
    assert meets(model, rate, aht, 90.0, frac, [SL_80_20])
    assert not meets(model, rate, aht, 90.0, frac - 1e-4, [SL_80_20])


def test_vectorised_staffing_equals_one_interval_at_a_time() -> None:
    rate = np.linspace(0.01, 3.0, 17)
    together = required_agents(arrival_rate=rate, aht=240.0, targets=SL_80_20)
    alone = [int(required_agents(arrival_rate=r, aht=240.0, targets=SL_80_20)) for r in rate]
    assert together.tolist() == alone


def test_large_loads_are_solved() -> None:
    n = int(required_agents(arrival_rate=400.0, aht=240.0, targets=SL_80_20))  # 96,000 erlangs
    assert meets("c", 400.0, 240.0, math.inf, n, [SL_80_20])
    assert not meets("c", 400.0, 240.0, math.inf, n - 1, [SL_80_20])


# --------------------------------------------------------------------------- tables


def test_staff_intervals_on_the_example_day() -> None:
    day = example_day()
    table = staff_intervals(day, SL_80_20, shrinkage=0.3)
    assert len(table) == 48
    expected = {"interval_start", "offered", "aht", "load", "agents", "agents_fractional"}
    expected |= {"scheduled", "scheduled_fractional", "sqrt_agents", "service_level", "asa"}
    assert expected <= set(table.columns)
    rate = day["offered"].to_numpy() / 1800.0
    direct = required_agents(arrival_rate=rate, aht=day["aht"].to_numpy(), targets=SL_80_20)
    assert table["agents"].tolist() == direct.tolist()
    assert (table["service_level"] >= 0.8).all()
    assert (table["scheduled"] >= table["agents"] / 0.7 - 1e-9).all()
    assert table.attrs["interval"] == 1800.0
    summary = daily_summary(table)
    assert summary["offered"] == 25_000
    assert summary["service_level"] >= 0.8
    assert summary["agent_hours"] == pytest.approx(table["agents"].sum() / 2)


def test_staff_intervals_with_erlang_a_uses_the_patience_column() -> None:
    day = example_day()
    table = staff_intervals(day, [SL_80_20, AbandonmentTarget(0.05)], model=QueueModel.ERLANG_A)
    assert (table["abandon"] <= 0.05).all()
    assert (table["patience"] == 120.0).all()
    longer = staff_intervals(day, SL_80_20, model="a", patience=600.0)
    assert longer["agents"].sum() > staff_intervals(day, SL_80_20, model="a")["agents"].sum()


def test_example_day_shape() -> None:
    day = example_day()
    assert len(day) == 48 and int(day["offered"].sum()) == 25_000
    calls = day.set_index(day["interval_start"].dt.strftime("%H:%M"))["offered"]
    assert calls["03:00"] < 0.1 * calls["10:30"]  # night trough
    assert calls["10:30"] == calls.max()  # late-morning peak
    assert calls["20:30"] > calls["18:00"] and calls["20:30"] > calls["22:30"]  # evening peak
    assert calls["12:30"] < calls["11:00"]  # lunch dip
    assert day["aht"].between(225, 255).all()


def test_forecast_errors_name_row_and_column() -> None:
    bad = pd.DataFrame({"offered": [10, 20, -3], "aht": [180.0, 180.0, 180.0]})
    with pytest.raises(ForecastError) as err:
        staff_intervals(bad, SL_80_20, interval=900)
    assert err.value.row == 2 and err.value.column == "offered"
    assert "row 3" in str(err.value) and "'offered'" in str(err.value)
    text = pd.DataFrame({"offered": [10, 20], "aht": [180.0, "fast"]})
    with pytest.raises(ForecastError, match="row 2, column 'aht'"):
        staff_intervals(text, SL_80_20, interval=900)
    with pytest.raises(ForecastError, match="missing column 'aht'"):
        staff_intervals(pd.DataFrame({"offered": [1]}), SL_80_20, interval=900)
    with pytest.raises(ForecastError, match="interval length"):
        staff_intervals(pd.DataFrame({"offered": [1], "aht": [100.0]}), SL_80_20)
    with pytest.raises(ForecastError, match="patience"):
        staff_intervals(
            pd.DataFrame({"offered": [1], "aht": [1.0]}), SL_80_20, model="a", interval=60
        )


def test_interval_length_is_inferred_from_text_starts() -> None:
    df = pd.DataFrame({"interval_start": ["08:00", "08:15", "08:30"], "offered": [50, 60, 70]})
    df["aht"] = 200.0
    table = staff_intervals(df, SL_80_20)
    assert table.attrs["interval"] == 900.0
