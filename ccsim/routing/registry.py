"""Policies by name, so scenario files and experiments can select them as data.

``make_policy("priority_aging", {"seconds_per_level": 30})`` builds a built-in
policy; ``make_policy("mypkg.routing:VipFirst", {...})`` imports a user-written
one (any ``Policy`` subclass). Bad names and bad parameters raise
``ValueError`` listing what is valid, so a scenario loader can report them
with the file and field path.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

from ccsim.routing import agent_selection as _a
from ccsim.routing import call_selection as _c
from ccsim.routing import disciplines as _d
from ccsim.routing import ewt as _e
from ccsim.routing.base import Policy
from ccsim.routing.views import AgentSelector, CallSelector, EwtEstimator, QueueDiscipline

__all__ = ["BUILTIN_POLICIES", "PolicyKind", "make_policy", "policy_kinds"]

PolicyKind: TypeAlias = Literal["agent_selector", "call_selector", "queue_discipline", "ewt"]

#: Built-in policies by snake_case name. Peer (Asterisk / FreeSWITCH) names are
#: listed in docs/routing-policies.md rather than aliased, so each class has one name.
BUILTIN_POLICIES: Mapping[str, type[Policy]] = MappingProxyType(
    {
        # agent selectors
        "longest_idle": _a.LongestIdle,
        "least_occupied": _a.LeastOccupied,
        "fewest_calls": _a.FewestCalls,
        "least_talk_time": _a.LeastTalkTime,
        "highest_skill": _a.HighestSkill,
        "round_robin": _a.RoundRobin,
        "top_down": _a.TopDown,
        "weighted_random": _a.WeightedRandom,
        # call selectors
        "fifo": _c.Fifo,
        "priority_aging": _c.PriorityAging,
        "longest_weighted_wait": _c.LongestWeightedWait,
        "greatest_need": _c.GreatestNeed,
        "skill_level_first": _c.SkillLevelFirst,
        # queue disciplines
        "priority_fifo": _d.PriorityFifo,
        "strict_fifo": _d.StrictFifo,
        "linear_aging": _d.LinearAging,
        # expected-wait-time estimators
        "position_ewt": _e.PositionEwt,
        "quantile_ewt": _e.QuantileEwt,
    }
)

_KIND_METHOD: Mapping[PolicyKind, str] = MappingProxyType(
    {
        "agent_selector": "select_agent",
        "call_selector": "select_call",
        "queue_discipline": "key",
        "ewt": "estimate",
    }
)


def policy_kinds(policy: object) -> frozenset[PolicyKind]:
    """Which policy protocols ``policy`` (an instance or a class) implements."""
    return frozenset(
        kind for kind, method in _KIND_METHOD.items() if callable(getattr(policy, method, None))
    )


def _names_of_kind(kind: PolicyKind | None) -> list[str]:
    return sorted(
        n for n, cls in BUILTIN_POLICIES.items() if kind is None or kind in policy_kinds(cls)
    )


def _import(path: str) -> object:
    module_name, _, attr = path.partition(":")
    if not module_name or not attr:
        raise ValueError(f"import path must look like 'package.module:Class', got {path!r}")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ValueError(
            f"cannot import module {module_name!r} for policy {path!r}: {exc}"
        ) from exc
    obj: object = module
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise ValueError(f"module {module_name!r} has no attribute {attr!r}") from None
    return obj


def make_policy(
    name: str, params: Mapping[str, Any] | None = None, *, kind: PolicyKind | None = None
) -> Policy:
    """Build a policy from a built-in ``name`` or a ``module:Class`` import path.

    ``kind``, if given, requires the policy to be of that kind (so an agent
    selector cannot be configured as a queue discipline by mistake).
    """
    if ":" in name:
        cls = _import(name)
        if not (isinstance(cls, type) and issubclass(cls, Policy)):
            raise ValueError(f"{name!r} is not a ccsim.routing.Policy subclass")
    else:
        try:
            cls = BUILTIN_POLICIES[name]
        except KeyError:
            raise ValueError(
                f"unknown policy {name!r}; valid: {', '.join(_names_of_kind(kind))} "
                "(or a 'package.module:Class' import path)"
            ) from None
    if kind is not None and kind not in policy_kinds(cls):
        actual = ", ".join(sorted(policy_kinds(cls))) or "no policy kind"
        raise ValueError(
            f"policy {name!r} is of kind {actual}, not {kind}; "
            f"valid: {', '.join(_names_of_kind(kind))}"
        )
    params = dict(params or {})
    valid = cls._param_names()
    unknown = sorted(set(params) - set(valid))
    if unknown:
        raise ValueError(
            f"policy {name!r} has no parameter(s) {unknown}; valid: {sorted(valid) or 'none'}"
        )
    return cls(**params)


if TYPE_CHECKING:
    # mypy proves every built-in satisfies its protocol; never executed.
    _agent_selectors: tuple[AgentSelector, ...] = (
        _a.LongestIdle(),
        _a.LeastOccupied(),
        _a.FewestCalls(),
        _a.LeastTalkTime(),
        _a.HighestSkill(),
        _a.RoundRobin(),
        _a.TopDown(),
        _a.WeightedRandom(),
    )
    _call_selectors: tuple[CallSelector, ...] = (
        _c.Fifo(),
        _c.PriorityAging(),
        _c.LongestWeightedWait(),
        _c.GreatestNeed(),
        _c.SkillLevelFirst(),
    )
    _disciplines: tuple[QueueDiscipline, ...] = (
        _d.PriorityFifo(),
        _d.StrictFifo(),
        _d.LinearAging(),
    )
    _estimators: tuple[EwtEstimator, ...] = (_e.PositionEwt(), _e.QuantileEwt())
