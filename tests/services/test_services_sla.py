"""SLA deadlines on hand-built calendars, then through the API (pause, priority change)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from conftest import World

from ccsim.services.sla import BusinessCalendar, SlaPolicy, SlaTargets, deadline

H = 3600.0
# A UTC calendar keeps the arithmetic readable: 09:00-17:00, Monday to Friday.
CAL = BusinessCalendar(
    tz="UTC",
    start=time(9),
    end=time(17),
    holidays=frozenset({date(2026, 3, 9)}),  # Monday 9 March is a holiday
)


def utc(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)  # 2 March 2026 is a Monday


def test_within_one_day() -> None:
    assert CAL.add(utc(2, 9), 3 * H) == utc(2, 12)


def test_start_outside_hours_snaps_to_next_opening() -> None:
    assert CAL.add(utc(2, 7), 1 * H) == utc(2, 10)
    assert CAL.add(utc(2, 20), 1 * H) == utc(3, 10)


def test_crossing_a_weekend_and_a_holiday() -> None:
    # Friday 6 March 15:00 + 4 business hours: 2 h on Friday, the weekend and the
    # Monday holiday are skipped, 2 h on Tuesday 10 March.
    assert CAL.add(utc(6, 15), 4 * H) == utc(10, 11)
    # the same without the holiday lands on Monday
    plain = BusinessCalendar(tz="UTC", start=time(9), end=time(17))
    assert plain.add(utc(6, 15), 4 * H) == utc(9, 11)


def test_between_is_the_inverse_of_add() -> None:
    start = utc(6, 15)
    for hours in (0.5, 2, 4, 9, 30):
        assert CAL.between(start, CAL.add(start, hours * H)) == pytest.approx(hours * H)
    assert CAL.between(utc(7, 0), utc(8, 23)) == 0  # a weekend has no business time


def test_pause_extends_by_the_business_time_paused() -> None:
    # 8 h target from Monday 09:00; paused Monday 11:00 -> Tuesday 11:00 (8 business hours).
    pauses = [(utc(2, 11), utc(3, 11))]
    assert deadline(CAL, utc(2, 9), 8 * H) == utc(2, 17)
    assert deadline(CAL, utc(2, 9), 8 * H, pauses) == utc(3, 17)


def test_open_pause_has_no_deadline_and_late_pause_changes_nothing() -> None:
    assert deadline(CAL, utc(2, 9), 8 * H, [(utc(2, 10), None)]) is None
    # a pause that starts after the deadline fell does not rescue the order
    assert deadline(CAL, utc(2, 9), 2 * H, [(utc(2, 12), utc(3, 12))]) == utc(2, 11)


def test_pause_over_a_weekend_costs_only_business_time() -> None:
    # paused Friday 16:00 -> Monday 10:00 = 1 h Friday + 1 h Monday of business time
    pauses = [(utc(6, 16), utc(9, 10))]
    # plain calendar: 3 h from Friday 15:00 would be Monday 10:00; with the pause,
    # 1 h was used before it, 2 h remain from Monday 10:00.
    plain = BusinessCalendar(tz="UTC", start=time(9), end=time(17))
    assert deadline(plain, utc(6, 15), 3 * H, pauses) == utc(9, 12)


def test_targets_by_priority_with_type_override() -> None:
    policy = SlaPolicy(
        calendar=CAL,
        by_priority={"normal": SlaTargets(4, 8, 16), "urgent": SlaTargets(1, 2, 4)},
        overrides={("complaint", "urgent"): SlaTargets(0.5, 1, 2)},
    )
    assert policy.deadlines("inquiry", "normal", utc(2, 9)) == (utc(2, 13), utc(2, 17), utc(3, 17))
    assert policy.deadlines("complaint", "urgent", utc(2, 9)) == (
        utc(2, 9, 30),
        utc(2, 10),
        utc(2, 11),
    )


def test_calendar_in_shanghai_time() -> None:
    cal = BusinessCalendar()  # Asia/Shanghai, 09:00-18:00
    # 09:00 Shanghai = 01:00 UTC; 9 business hours later is 18:00 Shanghai = 10:00 UTC
    assert cal.add(utc(2, 1), 9 * H) == utc(2, 10)
    with pytest.raises(ValueError):
        BusinessCalendar(start=time(18), end=time(9))


# ---------------------------------------------------------------------- via the API


def _parse(s: str) -> datetime:
    return datetime.fromisoformat(s)


def test_api_deadlines_pause_and_priority_change(world: World, clock: object) -> None:
    o = world.new_order(priority="normal")  # Monday 09:00 Shanghai; normal accept = 4 h
    start = _parse(o["created_at"])
    assert _parse(o["accept_due"]) == start + timedelta(hours=4)
    assert _parse(o["close_due"]) == start + timedelta(days=2, hours=9)  # 27 h = 3 days of 9 h

    # priority change recomputes from the original start
    r = world.as_(
        "agent",
        "PATCH",
        f"/work-orders/{o['id']}",
        json={"version": o["version"], "priority": "urgent"},
    )
    assert r.status_code == 200, r.text
    o = r.json()
    assert _parse(o["accept_due"]) == start + timedelta(hours=1)
    hist = world.as_("agent", "GET", f"/work-orders/{o['id']}/history").json()
    assert ("priority", "normal", "urgent") in [
        (h["field"], h["old_value"], h["new_value"]) for h in hist
    ]

    o = world.act("agent", o, "dispatch", department_id=world.departments["A"]).json()
    o = world.act("ha", o, "accept").json()
    o = world.act("ha", o, "start").json()
    clock.advance(hours=1)  # type: ignore[attr-defined]
    o = world.act("ha", o, "wait_customer").json()
    assert o["return_due"] is None and o["close_due"] is None  # paused: no clock running
    clock.advance(hours=2)  # type: ignore[attr-defined]
    o = world.act("ha", o, "resume").json()
    # urgent: return within 4 h; 2 business hours were spent waiting for the customer
    assert _parse(o["return_due"]) == start + timedelta(hours=6)


def test_api_overdue_and_near_due_lists(world: World, clock: object) -> None:
    o = world.new_order(priority="urgent")
    o = world.act("agent", o, "dispatch", department_id=world.departments["A"]).json()
    late = lambda who="leader", **p: world.as_(who, "GET", "/work-orders/overdue", params=p)  # noqa: E731
    assert late().json() == []
    near = late(within_hours=2).json()
    assert [(x["order"]["id"], x["overdue"]) for x in near] == [(o["id"], ["accept"])]
    clock.advance(hours=1, minutes=1)  # type: ignore[attr-defined]
    rows = late().json()
    assert [(x["order"]["id"], x["overdue"]) for x in rows] == [(o["id"], ["accept"])]
    assert late("hb").json() == []  # scoped: department B does not see A's orders
    assert [x["order"]["id"] for x in late("ha").json()] == [o["id"]]
    world.act("ha", o, "accept")
    assert late().json() == []


def test_overdue_names_the_department_leader(world: World, clock: object) -> None:
    r = world.as_(
        "admin",
        "POST",
        "/departments",
        json={"name": "计费部", "leader_id": world.user_ids["leader"]},
    )
    dep = r.json()["id"]
    o = world.new_order(priority="urgent")
    world.act("agent", o, "dispatch", department_id=dep)
    clock.advance(hours=2)  # type: ignore[attr-defined]
    rows = world.as_("leader", "GET", "/work-orders/overdue").json()
    assert [(x["order"]["id"], x["escalate_to"]) for x in rows] == [
        (o["id"], world.user_ids["leader"])
    ]
