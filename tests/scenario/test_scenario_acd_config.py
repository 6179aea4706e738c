"""``Scenario.acd_config()``: queues, targets, scripts, routing and timings for the ACD."""

from __future__ import annotations

import pytest

from ccsim.routing import script as rs
from ccsim.scenario import RoutingPoint, Scenario, ScenarioError

SMALL = """
skills = ["general", "billing", { name = "vip", service_level = { fraction = 0.95, seconds = 10 } }]
service_level = { fraction = 0.7, seconds = 30 }

[[services]]
name = "general"
aht = 100

[[services]]
name = "billing"
routing_point = "billing"
aht = { kind = "exponential", mean = 300 }
wrap_up = { kind = "uniform", low = 10, high = 30 }
service_level = { fraction = 0.8, seconds = 20 }

[[services]]
name = "billing_gold"
routing_point = "billing_gold"
aht = 200
priority = 5
service_level = { fraction = 0.9, seconds = 15 }

[[services]]
name = "vip"
routing_point = "vip"
aht = 200

[[routing_points]]
name = "billing"
steps = [
    { op = "queue", queue = "billing" },
    { op = "wait", seconds = 20 },
    { op = "queue", queue = "general" },
]

[[routing_points]]  # steps as an array of tables: same meaning as the inline form
name = "billing_gold"

[[routing_points.steps]]
op = "announce"
announcement = "welcome"

[[routing_points.steps]]
op = "queue"
queue = "billing"
priority = 7
when = { agents_available = { queue = "billing" } }

[[routing_points.steps]]
op = "queue"
queue = "general"

[[routing_points]]
name = "vip"
steps = [
    { op = "queue", queue = "vip", when = { any = [
        { attribute = { name = "tier", values = "gold" } },
        { not = { time_of_day = { start = "22:00", end = "08:00" } } },
        { queue_length_above = { queue = "vip", calls = 3 } },
        { staffed_below = { queue = "vip", agents = 2 } },
    ] } },
    { op = "overflow", destination = "b", when = { ewt_above = { queue = "vip", seconds = 9 } } },
    { op = "disconnect", cause = "closed", when = { time_of_day = { start = 0, end = 3600 } } },
    { op = "stop" },
]

[[agent_groups]]
name = "all"
size = 3
skills = ["general", "billing", "vip"]

[timing]
ring_timeout = 12
rona_threshold = 2
rona_priority_boost = 50
wrap_up = { kind = "deterministic", value = 5 }
"""


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return Scenario.from_toml_string(SMALL, "small.toml")


def test_one_queue_per_skill_with_its_target(scenario: Scenario) -> None:
    q = scenario.acd_config().queues
    assert list(q) == ["general", "billing", "vip"]
    # general: primary for service "general" only, which uses the default 70/30
    assert (q["general"].target_fraction, q["general"].target_seconds) == (0.7, 30.0)
    # billing: primary for billing (80/20) and billing_gold (90/15): the stricter wins
    assert (q["billing"].target_fraction, q["billing"].target_seconds) == (0.9, 15.0)
    # vip: the skill's own target overrides
    assert (q["vip"].target_fraction, q["vip"].target_seconds) == (0.95, 10.0)


def test_backup_skills_do_not_take_the_target_of_overflowing_services(
    scenario: Scenario,
) -> None:
    assert scenario.primary_skill("billing") == "billing"
    assert scenario.primary_skill("billing_gold") == "billing"
    assert scenario.primary_skill("general") == "general"


def test_service_routing_wrap_up_and_timings(scenario: Scenario) -> None:
    cfg = scenario.acd_config()
    assert dict(cfg.service_routing) == {
        "billing": "billing",
        "billing_gold": "billing_gold",
        "vip": "vip",
    }
    assert dict(cfg.wrap_up) == {"billing": 20.0}
    assert cfg.default_wrap_up == 5.0
    assert (cfg.ring_timeout, cfg.rona_threshold, cfg.rona_priority_boost) == (12.0, 2, 50)
    assert cfg.ewt_default_handle_time == pytest.approx((100 + 300 + 200 + 200) / 4)


def test_scripts_become_routing_script_objects(scenario: Scenario) -> None:
    scripts = scenario.acd_config().scripts
    assert scripts["billing"] == (
        rs.QueueTo("billing"),
        rs.Wait(20.0),
        rs.QueueTo("general"),
    )
    assert scripts["billing_gold"] == (
        rs.Announce("welcome"),
        rs.QueueTo("billing", 7, rs.AgentsAvailable("billing", 1)),
        rs.QueueTo("general"),
    )
    assert scripts["vip"] == (
        rs.QueueTo(
            "vip",
            None,
            rs.Any(
                (
                    rs.Attribute("tier", ("gold",)),
                    rs.Not(rs.TimeOfDay(79_200.0, 28_800.0)),
                    rs.QueueLengthAbove("vip", 3),
                    rs.StaffedBelow("vip", 2),
                )
            ),
        ),
        rs.Overflow("b", rs.EwtAbove("vip", 9.0)),
        rs.Disconnect("closed", rs.TimeOfDay(0.0, 3600.0)),
        rs.Stop(),
    )


def test_every_step_kind_converts() -> None:
    rp = RoutingPoint.model_validate(
        {
            "name": "all_steps",
            "steps": [
                {"op": "label", "name": "top"},
                {"op": "queue", "queue": "q", "priority": 1},
                {"op": "wait", "seconds": 5},
                {"op": "announce", "announcement": "a"},
                {
                    "op": "goto",
                    "label": "top",
                    "when": {"all": [{"agents_available": {"queue": "q"}}]},
                },
                {"op": "overflow", "destination": "d"},
                {"op": "callback"},
                {"op": "disconnect"},
                {"op": "stop"},
            ],
        }
    )
    assert rp.script() == (
        rs.Label("top"),
        rs.QueueTo("q", 1),
        rs.Wait(5.0),
        rs.Announce("a"),
        rs.Goto("top", rs.All((rs.AgentsAvailable("q", 1),))),
        rs.Overflow("d"),
        rs.OfferCallback(),
        rs.Disconnect("busy"),
        rs.Stop(),
    )


def test_service_without_routing_point_needs_a_skill_of_its_name() -> None:
    text = SMALL.replace('name = "general"\naht = 100', 'name = "enquiry"\naht = 100')
    with pytest.raises(ScenarioError) as info:
        Scenario.from_toml_string(text, "small.toml")
    assert str(info.value).startswith(
        "small.toml: services[0].routing_point: missing, and no skill is named 'enquiry'"
    )
