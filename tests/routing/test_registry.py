"""Building policies by name or import path."""

from __future__ import annotations

import pytest

from ccsim.routing import (
    BUILTIN_POLICIES,
    HighestSkill,
    LongestIdle,
    Policy,
    PriorityAging,
    make_policy,
    policy_kinds,
)


class VipFirst(Policy):
    """A user-written call selector, imported by path."""

    def __init__(self, *, tier: str = "vip") -> None:
        self.tier = tier

    def select_call(self, agent, candidates, ctx):
        return next((c for c in candidates if c.call.attributes.get("tier") == self.tier), None)


NOT_A_POLICY = object()


def test_builtin_by_name_with_params():
    p = make_policy("priority_aging", {"seconds_per_level": 30.0})
    assert isinstance(p, PriorityAging)
    assert p.get_params() == {"seconds_per_level": 30.0}
    assert isinstance(make_policy("longest_idle"), LongestIdle)


def test_names_are_snake_case_and_unique_per_class():
    assert all(n == n.lower() and " " not in n for n in BUILTIN_POLICIES)
    assert len(set(BUILTIN_POLICIES.values())) == len(BUILTIN_POLICIES)


def test_unknown_name_lists_valid_names():
    with pytest.raises(ValueError, match="unknown policy 'longest_idel'") as err:
        make_policy("longest_idel")
    for name in BUILTIN_POLICIES:
        assert name in str(err.value)
    assert "package.module:Class" in str(err.value)


def test_unknown_name_of_a_kind_lists_only_that_kind():
    with pytest.raises(ValueError) as err:
        make_policy("nope", kind="queue_discipline")
    assert "linear_aging, priority_fifo, strict_fifo" in str(err.value)
    assert "longest_idle" not in str(err.value)


def test_wrong_kind_is_rejected():
    with pytest.raises(
        ValueError, match="'fifo' is of kind call_selector, not agent_selector; valid: fewest_calls"
    ):
        make_policy("fifo", kind="agent_selector")
    assert isinstance(make_policy("highest_skill", kind="agent_selector"), HighestSkill)


def test_unknown_parameter_lists_valid_ones():
    with pytest.raises(
        ValueError, match=r"no parameter\(s\) \['level_first'\]; valid: \['levels_first'\]"
    ):
        make_policy("highest_skill", {"level_first": False})
    with pytest.raises(ValueError, match="valid: none"):
        make_policy("fifo", {"x": 1})


def test_import_path():
    p = make_policy(f"{__name__}:VipFirst", {"tier": "gold"}, kind="call_selector")
    assert isinstance(p, VipFirst) and p.tier == "gold"
    assert policy_kinds(p) == {"call_selector"}
    assert isinstance(make_policy("ccsim.routing.agent_selection:LongestIdle"), LongestIdle)


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("no_such_module_xyz:Thing", "cannot import module 'no_such_module_xyz'"),
        (f"{__name__}:Missing", "has no attribute 'Missing'"),
        (f"{__name__}:NOT_A_POLICY", "is not a ccsim.routing.Policy subclass"),
        (":Thing", "import path must look like"),
    ],
)
def test_bad_import_paths(path, message):
    with pytest.raises(ValueError, match=message):
        make_policy(path)


def test_policy_kinds_of_builtins():
    kinds = {name: policy_kinds(cls) for name, cls in BUILTIN_POLICIES.items()}
    assert kinds["longest_idle"] == {"agent_selector"}
    assert kinds["greatest_need"] == {"call_selector"}
    assert kinds["linear_aging"] == {"queue_discipline"}
    assert kinds["position_ewt"] == {"ewt"}
    assert all(len(k) == 1 for k in kinds.values())
