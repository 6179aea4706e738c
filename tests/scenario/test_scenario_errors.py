"""Invalid scenarios: every kind of mistake is reported as ``file: path: problem, got value``.

Each case changes one line of a small valid scenario and asserts on the exact
line of the error message, so the field path text is part of the contract.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ccsim.scenario import Scenario, ScenarioError, load_scenario

# Three services so that paths like services[2] occur; every section the
# cross-reference checks look at is present.
BASE = """\
name = "base"
skills = ["general", "billing"]

[[services]]
name = "general"
arrivals = { rate_per_hour = 100 }
aht = { kind = "exponential", mean = 180 }
patience = { kind = "exponential", mean = 120 }

[[services]]
name = "hotline"
ivr = "main"
arrivals = { rate_per_hour = 300 }
attributes = { tier = { standard = 0.9, gold = 0.1 } }

[[services]]
name = "billing"
routing_point = "billing_vdn"
aht = { kind = "lognormal", mean = 240, sd = 150 }
wrap_up = 20

[[routing_points]]
name = "billing_vdn"
steps = [
    { op = "queue", queue = "billing" },
    { op = "wait", seconds = 30 },
    { op = "goto", label = "overflow", when = { all = [
        { ewt_above = { queue = "billing", seconds = 120 } },
        { time_of_day = { start = "08:00", end = "20:00" } },
    ] } },
    { op = "stop" },
    { op = "label", name = "overflow" },
    { op = "queue", queue = "general" },
]

[ivr]
ports = 30

[[ivr.nodes]]
kind = "menu"
name = "main"
duration = 20
branches = [
    { key = "1", to = "balance", probability = 0.6 },
    { key = "0", to = "to_billing", probability = 0.4 },
]

[[ivr.nodes]]
kind = "self_service"
name = "balance"
duration = { kind = "uniform", low = 30, high = 60 }
completion = 0.8
otherwise = "to_billing"

[[ivr.nodes]]
kind = "agent"
name = "to_billing"
service = "billing"

[[agent_groups]]
name = "team"
size = 10
skills = { general = 1, billing = 2 }
shifts = [
    { start = "08:00", end = "16:00", agents = 6, breaks = [
        { start = "12:00", duration = 1800, reason = "lunch" },
    ] },
    { start = "12:00", end = "20:00", agents = 4 },
]

[[supervisor]]
at = "10:00"
action = "force_not_ready"
agent = "team-003"
"""


def mutate(old: str, new: str, text: str = BASE) -> str:
    """Replace exactly one occurrence, so a case cannot silently test nothing."""
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in the base scenario"
    return text.replace(old, new)


def error_of(text: str, source: str = "center.toml") -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        Scenario.from_toml_string(text, source)
    return info.value


def test_base_scenario_is_valid() -> None:
    scenario = Scenario.from_toml_string(BASE, "center.toml")
    assert [s.name for s in scenario.services] == ["general", "hotline", "billing"]


CASES = [
    # --- values out of range
    pytest.param(
        ("mean = 240", "mean = -3"),
        "services[2].aht.mean: must be > 0, got -3",
        id="negative-mean",
    ),
    pytest.param(
        ('{ kind = "exponential", mean = 120 }', '{ kind = "exponential", mean = 0.0 }'),
        "services[0].patience.mean: must be > 0, got 0",
        id="zero-patience",
    ),
    pytest.param(
        ("ports = 30", "ports = 0"),
        "ivr.ports: must be >= 1, got 0",
        id="zero-ports",
    ),
    pytest.param(
        ("general = 1, billing = 2", "general = 1, billing = 17"),
        "agent_groups[0].skills.billing: must be <= 16, got 17",
        id="skill-level-above-16",
    ),
    pytest.param(
        ("size = 10", "size = 10.5"),
        "agent_groups[0].size: must be a whole number, got 10.5",
        id="fractional-size",
    ),
    pytest.param(
        ("completion = 0.8", "completion = 1.5"),
        "ivr.nodes[1].completion: must be <= 1, got 1.5",
        id="probability-above-1",
    ),
    pytest.param(
        ("mean = 240, sd = 150", 'mean = "long", sd = 150'),
        "services[2].aht.mean: must be a number, got 'long'",
        id="not-a-number",
    ),
    # --- discriminated unions
    pytest.param(
        ('{ kind = "exponential", mean = 180 }', '{ kind = "weibull", mean = 180 }'),
        "services[0].aht.kind: must be one of 'exponential', 'lognormal', 'gamma', "
        "'deterministic', 'uniform', 'empirical', got 'weibull'",
        id="bad-distribution-kind",
    ),
    pytest.param(
        ('{ kind = "exponential", mean = 180 }', "{ mean = 180 }"),
        "services[0].aht.kind: missing; expected one of 'exponential', 'lognormal', 'gamma', "
        "'deterministic', 'uniform', 'empirical'",
        id="missing-kind",
    ),
    pytest.param(
        ('{ op = "wait", seconds = 30 }', '{ op = "sleep", seconds = 30 }'),
        "routing_points[0].steps[1].op: must be one of 'queue', 'wait', 'announce', 'goto', "
        "'label', 'overflow', 'callback', 'disconnect', 'stop', got 'sleep'",
        id="bad-step-op",
    ),
    pytest.param(
        ('kind = "self_service"', 'kind = "selfservice"'),
        "ivr.nodes[1].kind: must be one of 'menu', 'self_service', 'agent', 'hangup', "
        "got 'selfservice'",
        id="bad-ivr-node-kind",
    ),
    pytest.param(
        ('{ op = "wait", seconds = 30 }', '{ op = "wait", seconds = -30 }'),
        "routing_points[0].steps[1].seconds: must be > 0, got -30",
        id="negative-wait-inside-union",
    ),
    # --- unknown fields (typos)
    pytest.param(
        ('aht = { kind = "exponential"', 'ahtt = { kind = "exponential"'),
        "services[0].ahtt: unknown field (did you mean 'aht'?), "
        "got {'kind': 'exponential', 'mean': 180}",
        id="typo-in-service-field",
    ),
    pytest.param(
        ("mean = 240, sd = 150", "mean = 240, stdev = 150"),
        "services[2].aht.stdev: unknown field (allowed: kind, mean, sd), got 150",
        id="typo-in-distribution-field",
    ),
    pytest.param(
        ("{ ewt_above = { queue", "{ ewt_abov = { queue"),
        "routing_points[0].steps[2].when.all[0].ewt_abov: unknown field "
        "(did you mean 'ewt_above'?), got {'queue': 'billing', 'seconds': 120}",
        id="typo-in-condition",
    ),
    pytest.param(
        ('name = "base"', 'name = "base"\nagent_group = []'),
        "agent_group: unknown field (did you mean 'agent_groups'?), got []",
        id="typo-at-top-level",
    ),
    # --- missing required fields
    pytest.param(
        ("size = 10\n", ""),
        "agent_groups[0].size: required field is missing",
        id="missing-size",
    ),
    pytest.param(
        ('aht = { kind = "exponential", mean = 180 }\n', ""),
        "services[0].aht: required for a service that reaches agents",
        id="service-without-handle-time",
    ),
    # --- probabilities
    pytest.param(
        ('to = "to_billing", probability = 0.4', 'to = "to_billing", probability = 0.3'),
        "ivr.nodes[0].branches: probabilities must sum to 1, got 0.9",
        id="branches-not-summing-to-1",
    ),
    pytest.param(
        ("standard = 0.9, gold = 0.1", "standard = 0.9, gold = 0.2"),
        "services[1].attributes.tier: probabilities must sum to 1, got 1.1",
        id="attribute-probabilities-not-summing-to-1",
    ),
    # --- cross references
    pytest.param(
        ("general = 1, billing = 2", "general = 1, biling = 2"),
        "agent_groups[0].skills.biling: unknown skill (did you mean 'billing'?), got 'biling'",
        id="unknown-skill-in-group",
    ),
    pytest.param(
        ('{ op = "queue", queue = "billing" }', '{ op = "queue", queue = "roaming" }'),
        "routing_points[0].steps[0].queue: unknown skill (known: billing, general), got 'roaming'",
        id="unknown-skill-in-script",
    ),
    pytest.param(
        ('{ queue = "billing", seconds = 120 }', '{ queue = "vip", seconds = 120 }'),
        "routing_points[0].steps[2].when.all[0].ewt_above.queue: unknown skill "
        "(known: billing, general), got 'vip'",
        id="unknown-skill-in-nested-condition",
    ),
    pytest.param(
        ('routing_point = "billing_vdn"', 'routing_point = "billing_vnd"'),
        "services[2].routing_point: unknown routing point (did you mean 'billing_vdn'?), "
        "got 'billing_vnd'",
        id="unknown-routing-point",
    ),
    pytest.param(
        ('service = "billing"', 'service = "billing"\nrouting_point = "nowhere"'),
        "ivr.nodes[2].routing_point: unknown routing point (known: billing_vdn), got 'nowhere'",
        id="unknown-routing-point-in-ivr-exit",
    ),
    pytest.param(
        ('service = "billing"', 'service = "bill"'),
        "ivr.nodes[2].service: unknown service (did you mean 'billing'?), got 'bill'",
        id="unknown-service-in-ivr-exit",
    ),
    pytest.param(
        ('service = "billing"', 'service = "hotline"'),
        "ivr.nodes[2].service: is an IVR entry number; an exit must name a service that "
        "reaches agents, got 'hotline'",
        id="ivr-exit-to-ivr-entry",
    ),
    pytest.param(
        ('to = "balance"', 'to = "balanse"'),
        "ivr.nodes[0].branches[0].to: unknown node (did you mean 'balance'?), got 'balanse'",
        id="unknown-ivr-node",
    ),
    pytest.param(
        ('ivr = "main"', 'ivr = "mian"'),
        "services[1].ivr: unknown IVR node (did you mean 'main'?), got 'mian'",
        id="unknown-ivr-entry-node",
    ),
    pytest.param(
        ('agent = "team-003"', 'agent = "team-011"'),
        "supervisor[0].agent: unknown agent id (ids are stations, or '<group>-001' ...), "
        "got 'team-011'",
        id="unknown-agent-in-supervisor-action",
    ),
    pytest.param(
        ('name = "billing"\nrouting_point', 'name = "general"\nrouting_point'),
        "services[2].name: duplicate service name (also services[0]), got 'general'",
        id="duplicate-service",
    ),
    pytest.param(
        ('ivr = "main"', 'ivr = "main"\naht = 100'),
        "services[1].aht: an IVR entry service takes the handle times of its exits' services",
        id="handle-time-on-ivr-entry",
    ),
    pytest.param(
        ("[ivr]\nports = 30", "[ivx]\nports = 30"),
        "ivx: unknown field (did you mean 'ivr'?), got {'ports': 30}",
        id="misspelt-section",
    ),
    # --- scripts
    pytest.param(
        ('label = "overflow"', 'label = "overflw"'),
        "routing_points[0].steps[2].label: unknown label (did you mean 'overflow'?), got 'overflw'",
        id="bad-label-in-script",
    ),
    pytest.param(
        ('{ op = "stop" }', '{ op = "label", name = "overflow" }'),
        "routing_points[0].steps[4].name: duplicate label (also steps[3]), got 'overflow'",
        id="duplicate-label",
    ),
    pytest.param(
        ('{ op = "stop" }', '{ op = "stop", when = { } }'),
        "routing_points[0].steps[3].when: a condition needs exactly one of ewt_above, "
        "queue_length_above, agents_available, staffed_below, time_of_day, attribute, not, "
        "all, any, got []",
        id="empty-condition",
    ),
    pytest.param(
        ('end = "20:00" }', 'end = "08:00" }'),
        "routing_points[0].steps[2].when.all[1].time_of_day.end: must differ from start "
        "(the window would be empty), got '08:00'",
        id="empty-time-window",
    ),
    # --- shifts and times
    pytest.param(
        ('start = "08:00", end = "16:00"', 'start = "25:99", end = "16:00"'),
        "agent_groups[0].shifts[0].start: must be seconds or a clock time 'HH:MM' or "
        "'HH:MM:SS' (hours 0-47), got '25:99'",
        id="bad-shift-time",
    ),
    pytest.param(
        ('start = "12:00", end = "20:00"', 'start = "12:00", end = "06:00"'),
        "agent_groups[0].shifts[1].end: must be after start 12:00 (a shift past midnight "
        "ends at e.g. '30:00'), got '06:00'",
        id="shift-ending-before-start",
    ),
    pytest.param(
        ('start = "12:00", duration = 1800', 'start = "17:00", duration = 1800'),
        "agent_groups[0].shifts[0].breaks[0].start: must fall within the shift 08:00-16:00, "
        "got '17:00'",
        id="break-outside-shift",
    ),
    pytest.param(
        ("agents = 4 }", "agents = 5 }"),
        "agent_groups[0].shifts: shifts staff 11 agents but the group has 10",
        id="shifts-overstaffed",
    ),
    # --- distributions and arrivals
    pytest.param(
        ("low = 30, high = 60", "low = 30, high = 20"),
        "ivr.nodes[1].duration.high: must be > low (30), got 20",
        id="uniform-high-below-low",
    ),
    pytest.param(
        ("arrivals = { rate_per_hour = 100 }", "arrivals = { rate_per_hour = 100, calls = [1] }"),
        "services[0].arrivals.calls: give exactly one of rate_per_hour or calls",
        id="two-arrival-profiles",
    ),
    pytest.param(
        ("arrivals = { rate_per_hour = 100 }", 'arrivals = { start = "23:00", calls = [5, 5, 5] }'),
        "services[0].arrivals.calls: 3 intervals of 1800 s from 23:00 run past midnight (to 24:30)",
        id="profile-past-midnight",
    ),
    # --- policies
    pytest.param(
        ('name = "base"', 'name = "base"\npolicies = { agent_selector = "my module:Cls" }'),
        "policies.agent_selector.name: must be a built-in policy name or an import path "
        "'module:Class', got 'my module:Cls'",
        id="malformed-policy-name",
    ),
]


@pytest.mark.parametrize(("change", "expected"), CASES)
def test_error_names_file_field_and_value(change: tuple[str, str], expected: str) -> None:
    err = error_of(mutate(*change))
    lines = str(err).splitlines()
    assert f"center.toml: {expected}" in lines, str(err)


def test_ivr_loop_without_exit() -> None:
    text = mutate('to = "to_billing", probability = 0.4', 'to = "main", probability = 0.4')
    text = mutate(
        'completion = 0.8\notherwise = "to_billing"', 'completion = 0\notherwise = "main"', text
    )
    assert str(error_of(text)).splitlines() == [
        "center.toml: ivr.nodes[0].name: callers here can never leave the IVR "
        "(a loop with no exit), got 'main'",
        "center.toml: ivr.nodes[1].name: callers here can never leave the IVR "
        "(a loop with no exit), got 'balance'",
    ]


def test_station_used_by_two_groups() -> None:
    text = mutate("size = 10", "size = 10\nfirst_station = 100")
    group_b = (
        '[[agent_groups]]\nname = "b"\nsize = 2\nskills = ["general"]\nstations = ["x", "101"]'
    )
    text = mutate("[[supervisor]]", f"{group_b}\n\n[[supervisor]]", text)
    lines = str(error_of(text)).splitlines()
    assert (
        "center.toml: agent_groups[1].stations: 1 agent id(s) also used by group 'team', got '101'"
        in lines
    )


def test_toml_syntax_error_names_file_and_line() -> None:
    err = error_of(mutate("ports = 30", "ports = = 30"))
    line = BASE.splitlines().index("ports = 30") + 1
    assert str(err).startswith(f"center.toml: line {line}, column 9: invalid TOML: ")


def test_several_errors_are_listed_one_per_line() -> None:
    text = mutate("mean = 240", "mean = -3")
    text = mutate("ports = 30", "ports = 0", text)
    text = mutate("size = 10", "size = -1", text)
    err = error_of(text)
    assert str(err).splitlines() == [
        "center.toml: services[2].aht.mean: must be > 0, got -3",
        "center.toml: agent_groups[0].size: must be >= 1, got -1",
        "center.toml: ivr.ports: must be >= 1, got 0",
    ]
    assert [i.path for i in err.issues] == [
        "services[2].aht.mean",
        "agent_groups[0].size",
        "ivr.ports",
    ]
    assert err.source == "center.toml"


def test_cross_reference_errors_are_all_reported() -> None:
    text = mutate("general = 1, billing = 2", "general = 1, biling = 2")
    text = mutate('routing_point = "billing_vdn"', 'routing_point = "vdn"', text)
    text = mutate('{ op = "queue", queue = "general" }', '{ op = "queue", queue = "gen" }', text)
    paths = [i.path for i in error_of(text).issues]
    assert paths == [
        "agent_groups[0].skills.biling",
        "services[2].routing_point",
        "routing_points[0].steps[5].queue",
    ]


def test_cross_section_checks_wait_for_valid_sections() -> None:
    """A section that fails its own checks hides cross-section errors until it is fixed."""
    text = mutate("general = 1, billing = 2", "general = 1, biling = 2")
    text = mutate('label = "overflow"', 'label = "later"', text)
    paths = [i.path for i in error_of(text).issues]
    assert paths == ["routing_points[0].steps[2].label"]


def test_scenario_error_is_a_value_error() -> None:
    assert issubclass(ScenarioError, ValueError)


def test_load_scenario_names_the_path(tmp_path: Path) -> None:
    path = tmp_path / "center.toml"
    path.write_text(mutate("mean = 240", "mean = -3"), encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert str(info.value) == f"{path}: services[2].aht.mean: must be > 0, got -3"


def test_non_utf8_file_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "center.toml"
    path.write_bytes(BASE.replace('"base"', '"中心"').encode("gb18030"))
    with pytest.raises(ScenarioError, match=r"center\.toml: byte \d+: the file is not UTF-8 text"):
        load_scenario(path)


def test_chinese_names_load_and_appear_in_errors(tmp_path: Path) -> None:
    text = mutate('name = "base"', 'name = "客服中心"\ndescription = "省移动客服热线"')
    text = mutate('name = "team"', 'name = "综合组"\ndescription = "综合查询"', text)
    text = mutate('agent = "team-003"', 'agent = "综合组-003"', text)
    path = tmp_path / "中心.toml"
    path.write_text(text, encoding="utf-8")
    scenario = load_scenario(path)
    assert scenario.name == "客服中心"
    assert scenario.agent_groups[0].agent_ids()[2] == "综合组-003"

    bad = mutate("general = 1, billing = 2", 'general = 1, "国际漫游" = 2', text)
    path.write_text(bad, encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert str(info.value) == (
        f"{path}: agent_groups[0].skills.国际漫游: unknown skill (known: billing, general), "
        "got '国际漫游'"
    )


def test_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "center.toml"
    path.write_bytes(b"\xef\xbb\xbf" + BASE.encode("utf-8"))
    assert load_scenario(path).name == "base"


def test_from_dict_reports_with_the_given_source() -> None:
    with pytest.raises(ScenarioError, match=r"^notebook: skills: required field is missing"):
        Scenario.from_dict({"services": [], "agent_groups": []}, source="notebook")
