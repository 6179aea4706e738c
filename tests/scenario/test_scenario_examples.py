"""The shipped examples load, convert into an ACD configuration and say what they promise."""

from __future__ import annotations

from pathlib import Path

import pytest

from ccsim.acd_config import ACDConfig
from ccsim.routing import script as rs
from ccsim.routing.registry import BUILTIN_POLICIES
from ccsim.routing.script import validate_script
from ccsim.scenario import (
    AgentExitNode,
    Exponential,
    MenuNode,
    NoPatience,
    Scenario,
    SelfServiceNode,
    example,
    example_names,
    example_path,
    load_scenario,
    resolve_policy,
)

REPO = Path(__file__).resolve().parents[2]


def test_the_promised_examples_are_shipped() -> None:
    assert {"single_skill", "hotline"} <= set(example_names())


@pytest.mark.parametrize("name", example_names())
def test_example_loads_and_round_trips_into_acd_config(name: str) -> None:
    scenario = example(name)
    config = scenario.acd_config()
    assert isinstance(config, ACDConfig)
    assert set(config.queues) == {s.name for s in scenario.skills}
    assert set(config.scripts) == {r.name for r in scenario.routing_points}
    for script in config.scripts.values():
        validate_script(script, frozenset(config.queues))
    for service, point in config.service_routing.items():
        assert scenario.service(service).routing_point == point


@pytest.mark.parametrize("name", example_names())
def test_example_survives_dump_and_reload(name: str) -> None:
    scenario = example(name)
    again = Scenario.model_validate(scenario.model_dump(by_alias=True))
    assert again == scenario
    assert again.acd_config().scripts == scenario.acd_config().scripts


@pytest.mark.parametrize("name", example_names())
def test_repository_examples_are_links_to_the_package_files(name: str) -> None:
    link = REPO / "examples" / f"{name}.toml"
    assert link.is_symlink()
    assert link.resolve() == example_path(name).resolve()
    assert load_scenario(link) == example(name)


def test_no_stray_files_in_examples_dir() -> None:
    linked = {p.stem for p in (REPO / "examples").glob("*.toml")}
    assert linked == set(example_names())


def test_unknown_example_lists_the_available_ones() -> None:
    with pytest.raises(ValueError, match="no example named 'nope'; available: hotline"):
        example("nope")


def test_single_skill_is_the_erlang_case() -> None:
    sc = example("single_skill")
    assert len(sc.services) == len(sc.skills) == len(sc.agent_groups) == 1
    svc = sc.services[0]
    assert svc.arrivals is not None and svc.arrivals.rate_per_hour is not None
    assert isinstance(svc.aht, Exponential)
    assert isinstance(svc.patience, NoPatience)
    assert sc.agent_groups[0].shifts == ()
    assert sc.acd_config().default_wrap_up == 0.0


class TestHotline:
    sc = example("hotline")

    def test_has_trunks_ivr_and_four_skills(self) -> None:
        assert self.sc.trunks is not None
        assert self.sc.ivr is not None
        assert {s.name for s in self.sc.skills} == {"general", "billing", "roaming", "vip"}

    def test_daily_curve_over_48_half_hours(self) -> None:
        entry = self.sc.service("hotline")
        assert entry.ivr == "main"
        assert entry.arrivals is not None and entry.arrivals.calls is not None
        assert len(entry.arrivals.calls) == 48
        assert entry.arrivals.interval == 1800
        calls = entry.arrivals.calls
        assert max(calls[16:24]) > 10 * max(calls[4:10])  # morning peak vs small hours

    def test_ivr_has_self_service_and_exits_to_agents(self) -> None:
        assert self.sc.ivr is not None
        nodes = self.sc.ivr.nodes
        assert any(isinstance(n, SelfServiceNode) and 0 < n.completion < 1 for n in nodes)
        exits = {n.service for n in nodes if isinstance(n, AgentExitNode)}
        assert exits == {"general", "billing", "roaming"}
        main = self.sc.ivr.node("main")
        assert isinstance(main, MenuNode)
        assert sum(b.probability for b in main.branches) == pytest.approx(1)

    def test_vip_has_priority_and_skips_the_ivr(self) -> None:
        vip = self.sc.service("vip")
        assert vip.ivr is None and vip.arrivals is not None
        assert vip.priority > max(s.priority for s in self.sc.services if s.name != "vip")

    def test_scripts_overflow_between_groups_and_check_ewt(self) -> None:
        scripts = self.sc.acd_config().scripts
        for name in ("general", "billing", "vip"):
            steps = scripts[name]
            queued = [s.queue for s in steps if isinstance(s, rs.QueueTo)]
            assert len(set(queued)) >= 2, name  # a backup skill is added
            assert any(isinstance(s, rs.Wait) for s in steps)
        general = scripts["general"]
        assert any(isinstance(s, rs.Goto) and isinstance(s.when, rs.EwtAbove) for s in general)
        assert any(isinstance(s, rs.OfferCallback) for s in general)

    def test_service_levels_are_80_20(self) -> None:
        for q in self.sc.acd_config().queues.values():
            assert (q.target_fraction, q.target_seconds) == (0.8, 20.0)

    def test_shifts_and_breaks_cover_the_day(self) -> None:
        assert all(g.shifts for g in self.sc.agent_groups)
        assert any(s.breaks for g in self.sc.agent_groups for s in g.shifts)
        general = self.sc.agent_group("general_team")
        for hour in range(24):
            t = hour * 3600.0 + 1800.0
            on = [
                s for s in general.shifts if s.start <= t < s.end or s.start <= t + 86_400 < s.end
            ]
            assert on, f"no general agent at {hour}:30"

    def test_policies_resolve_against_the_built_in_registry(self) -> None:
        p = self.sc.policies
        for slot, spec in (
            ("agent_selector", p.agent_selector),
            ("call_selector", p.call_selector),
            ("ewt", p.ewt),
        ):
            assert spec is not None
            policy = resolve_policy(spec, BUILTIN_POLICIES, where=f"policies.{slot}")
            assert policy.get_params() | spec.params == policy.get_params()

    def test_supervisor_actions_name_real_agents(self) -> None:
        ids = set(self.sc.agent_ids())
        assert {a.agent for a in self.sc.supervisor} <= ids
        assert "8001" in ids and "8015" in ids
