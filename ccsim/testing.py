"""Conformance checks for routing policies, in the spirit of scikit-learn's ``check_estimator``.

``check_policy(policy)`` runs every applicable check and raises
``PolicyCheckError`` (an ``AssertionError``) naming the first one that fails.
The checks encode the policy contract of DESIGN.md §4.5:

* parameters: every ``__init__`` parameter has a default, ``__init__`` stores
  its arguments verbatim, ``type(p)(**p.get_params())`` reproduces ``p`` and
  ``set_params`` rejects unknown names;
* decisions: a selector returns one of the offered candidates (the very
  object) or ``None``, returns ``None`` for no candidates, accepts a one-shot
  iterator of agents, is deterministic under a fixed ``random_state`` (two
  fresh clones fed the same inputs choose alike), forgets its derived state on
  ``set_params``, and never mutates the views, the candidate list or the context;
* disciplines give a static, comparable 2-tuple key that keeps FIFO within a
  priority; EWT estimators give a non-negative wait that never shrinks with
  the queue position.

The fakes below implement the view protocols with frozen dataclasses whose
mappings are plain dicts on purpose: writing into them is possible, so a
policy that does it is caught by comparing snapshots taken before and after.
For pytest, ``parametrize_with_checks(policies)`` yields one test per
(policy, check) pair, like scikit-learn's helper of the same name.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ccsim.events import AgentState
from ccsim.routing.base import Policy
from ccsim.routing.ewt import PositionEwt
from ccsim.routing.registry import PolicyKind, policy_kinds
from ccsim.routing.views import (
    AgentSelector,
    AgentView,
    CallSelector,
    Candidate,
    EwtEstimator,
    QueueDiscipline,
    QueueView,
)

if TYPE_CHECKING:
    import pytest

__all__ = [
    "FakeAgent",
    "FakeCall",
    "FakeContext",
    "FakeQueue",
    "PolicyCheck",
    "PolicyCheckError",
    "check_policy",
    "parametrize_with_checks",
    "policy_checks",
]


# --------------------------------------------------------------------------- fakes


@dataclass(frozen=True, slots=True, kw_only=True)
class FakeAgent:
    """An ``AgentView`` for tests."""

    agent_id: str
    state: AgentState = AgentState.READY
    skills: dict[str, int] = field(default_factory=dict)
    idle_since: float = 0.0
    logged_on_at: float = 0.0
    calls_handled: int = 0
    busy_time: float = 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class FakeCall:
    """A ``CallView`` for tests."""

    call_id: str
    service: str = "general"
    priority: int = 0
    attributes: dict[str, str] = field(default_factory=dict)
    offered_at: float = 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class FakeQueue:
    """A ``QueueView`` for tests."""

    name: str
    length: int = 0
    staffed: int = 0
    available: int = 0
    mean_handle_time: float = 180.0
    answered: int = 0
    answered_in_target: int = 0
    abandoned: int = 0
    target_fraction: float = 0.8
    target_seconds: float = 20.0


@dataclass(frozen=True, slots=True, kw_only=True)
class FakeContext:
    """A ``RoutingContext`` for tests: a clock reading, queues by name, an EWT estimator."""

    now: float = 0.0
    queues: dict[str, FakeQueue] = field(default_factory=dict)
    ewt: EwtEstimator = field(default_factory=PositionEwt)

    def queue(self, name: str) -> QueueView:
        return self.queues[name]

    def expected_wait(self, queue: str, position: int | None = None) -> float:
        q = self.queues[queue]
        return self.ewt.estimate(q, q.length if position is None else position)


# --------------------------------------------------------------------------- inputs


def _agent_scenarios() -> list[tuple[FakeCall, str, list[FakeAgent], FakeContext]]:
    """(call, queue, READY agents longest idle first, context) decisions to replay."""
    queues = {
        "billing": FakeQueue(name="billing", length=1, staffed=6, available=4),
        "general": FakeQueue(name="general", length=1, staffed=4, available=3),
    }
    ctx = FakeContext(now=1000.0, queues=queues)
    varied = [
        FakeAgent(
            agent_id="a1",
            skills={"billing": 3, "general": 1},
            idle_since=100.0,
            calls_handled=5,
            busy_time=600.0,
        ),
        FakeAgent(
            agent_id="a2", skills={"billing": 1}, idle_since=200.0, calls_handled=2, busy_time=700.0
        ),
        FakeAgent(
            agent_id="a3",
            skills={"billing": 2, "general": 2},
            idle_since=300.0,
            logged_on_at=500.0,
            calls_handled=2,
            busy_time=100.0,
        ),
        FakeAgent(agent_id="a4", skills={"billing": 1, "general": 3}, idle_since=300.0),
    ]
    tied = [FakeAgent(agent_id=f"t{i}", skills={"general": 2}) for i in (3, 1, 2)]
    general = [a for a in varied if "general" in a.skills]
    call = FakeCall(call_id="c1", service="billing", priority=1, attributes={"tier": "gold"})
    other = FakeCall(call_id="c2", offered_at=990.0)
    return [
        (call, "billing", varied, ctx),
        (call, "billing", varied[1:2], ctx),
        (other, "general", tied, ctx),
        (other, "general", general, ctx),
        (call, "billing", varied, ctx),
        (other, "general", tied, ctx),
        (call, "billing", varied[2:], ctx),
        (call, "billing", varied, ctx),
    ]


def _call_scenarios() -> list[tuple[FakeAgent, list[Candidate], FakeContext]]:
    """(freed agent, queue heads, context) decisions to replay."""
    agent = FakeAgent(agent_id="a1", skills={"billing": 1, "general": 2, "vip": 3})
    queues = {
        "billing": FakeQueue(
            name="billing", length=3, staffed=5, answered=10, answered_in_target=6
        ),
        "general": FakeQueue(
            name="general", length=2, staffed=8, answered=40, answered_in_target=36
        ),
        "vip": FakeQueue(name="vip", length=1, staffed=2, target_fraction=0.9, target_seconds=10.0),
    }
    ctx = FakeContext(now=500.0, queues=queues)
    c_bill = FakeCall(call_id="b1", service="billing", priority=0, offered_at=400.0)
    c_gen = FakeCall(call_id="g1", priority=0, offered_at=380.0)
    c_vip = FakeCall(call_id="v1", service="vip", priority=5, attributes={"tier": "vip"})
    heads = [
        Candidate(queue="billing", call=c_bill, enqueued_at=400.0, level=1),
        Candidate(queue="general", call=c_gen, enqueued_at=380.0, level=2),
        Candidate(queue="vip", call=c_vip, enqueued_at=495.0, level=3),
    ]
    tied = [
        Candidate(queue="general", call=c_gen, enqueued_at=450.0, level=2),
        Candidate(queue="billing", call=c_bill, enqueued_at=450.0, level=2),
    ]
    return [
        (agent, heads, ctx),
        (agent, heads[:1], ctx),
        (agent, tied, ctx),
        (agent, heads[::-1], ctx),
        (agent, heads[1:], ctx),
    ]


def _discipline_calls() -> list[FakeCall]:
    return [FakeCall(call_id=f"p{p}", priority=p) for p in (0, 1, 2, 5, 1000)]


def _ewt_queues() -> list[FakeQueue]:
    return [
        FakeQueue(name="q", staffed=0, length=3),
        FakeQueue(name="q", staffed=5, available=0, length=4, mean_handle_time=200.0),
        FakeQueue(name="q", staffed=5, available=2, length=0, mean_handle_time=200.0),
        FakeQueue(name="q", staffed=3, available=0, length=7, mean_handle_time=0.0),
        FakeQueue(name="q", staffed=100, available=0, length=40, mean_handle_time=300.0),
    ]


# --------------------------------------------------------------------------- helpers


class PolicyCheckError(AssertionError):
    """A policy broke the policy contract; the message names the check."""


PolicyCheck = Callable[[Policy], None]


def _fail(policy: object, check: str, message: str) -> PolicyCheckError:
    return PolicyCheckError(f"{check}: {policy!r}: {message}")


def _clone(policy: Policy) -> Policy:
    """A fresh copy built from the params; a ``random_state`` is pinned to 0 (sklearn's rule)."""
    params = policy.get_params()
    if "random_state" in params:
        params["random_state"] = 0
    return type(policy)(**params)


def _freeze(value: object) -> object:
    """A deep, comparable snapshot of fakes, candidates, dicts, lists and tuples.

    List items are recorded with their identity too, so reordering or
    replacing the candidates in place is caught.
    """
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return (
            type(value).__name__,
            tuple(_freeze(getattr(value, f.name)) for f in dataclasses.fields(value)),
        )
    if isinstance(value, dict):
        return ("dict", tuple((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, list):
        return ("list", tuple((id(v), _freeze(v)) for v in value))
    if isinstance(value, tuple):  # named tuples such as Candidate included
        return (type(value).__name__, tuple(_freeze(v) for v in value))
    return value


def _name(choice: object) -> object:
    """Comparable identity of a choice (agent id, queue/call id, or the value itself)."""
    if choice is None:
        return None
    if isinstance(choice, Candidate):
        return (choice.queue, choice.call.call_id)
    agent_id = getattr(choice, "agent_id", None)
    return agent_id if agent_id is not None else choice


def _kinds(policy: Policy) -> frozenset[PolicyKind]:
    return policy_kinds(policy)


def _agent_choices(policy: Policy, one_shot: bool = False) -> list[object]:
    assert isinstance(policy, AgentSelector)
    out: list[object] = []
    for call, queue, agents, ctx in _agent_scenarios():
        offered: Iterable[AgentView] = (a for a in agents) if one_shot else agents
        out.append(_name(policy.select_agent(call, queue, offered, ctx)))
    return out


def _call_choices(policy: Policy) -> list[object]:
    assert isinstance(policy, CallSelector)
    return [_name(policy.select_call(agent, cands, ctx)) for agent, cands, ctx in _call_scenarios()]


def _keys(policy: Policy) -> list[object]:
    assert isinstance(policy, QueueDiscipline)
    return [policy.key(c, t) for c in _discipline_calls() for t in (0.0, 37.5, 600.0)]


def _estimates(policy: Policy) -> list[object]:
    assert isinstance(policy, EwtEstimator)
    return [policy.estimate(q, pos) for q in _ewt_queues() for pos in range(12)]


def _decisions(policy: Policy) -> list[object]:
    """Every decision of every kind ``policy`` implements, over the fixed inputs."""
    kinds = _kinds(policy)
    out: list[object] = []
    if "agent_selector" in kinds:
        out += _agent_choices(policy)
    if "call_selector" in kinds:
        out += _call_choices(policy)
    if "queue_discipline" in kinds:
        out += _keys(policy)
    if "ewt" in kinds:
        out += _estimates(policy)
    return out


# --------------------------------------------------------------------------- checks


def check_is_policy(policy: Policy) -> None:
    """A ``Policy`` subclass implementing at least one policy protocol."""
    if not isinstance(policy, Policy):
        raise _fail(policy, "check_is_policy", "does not subclass ccsim.routing.Policy")
    if not _kinds(policy):
        raise _fail(
            policy,
            "check_is_policy",
            "implements none of select_agent, select_call, key, estimate",
        )


def check_default_constructible(policy: Policy) -> None:
    """Every parameter has a default, so the registry can build the policy by name alone."""
    try:
        type(policy)()
    except TypeError as exc:
        raise _fail(policy, "check_default_constructible", str(exc)) from exc


def check_params_round_trip(policy: Policy) -> None:
    """``type(p)(**p.get_params())`` stores each value verbatim and has the same params."""
    params = policy.get_params()
    clone = type(policy)(**params)
    for name, value in params.items():
        stored = getattr(clone, name)
        if stored is not value:
            raise _fail(
                policy,
                "check_params_round_trip",
                f"__init__ must store {name!r} verbatim (got {stored!r} for {value!r})",
            )
    if clone.get_params() != params:
        raise _fail(policy, "check_params_round_trip", "get_params differs after reconstruction")


def check_set_params(policy: Policy) -> None:
    """``set_params`` returns the policy, keeps valid params and rejects unknown names."""
    clone = _clone(policy)
    params = clone.get_params()
    if clone.set_params(**params) is not clone:
        raise _fail(policy, "check_set_params", "set_params must return self")
    if clone.get_params() != params:
        raise _fail(policy, "check_set_params", "set_params(**get_params()) changed the params")
    try:
        clone.set_params(no_such_parameter_xyz=1)
    except ValueError:
        pass
    else:
        raise _fail(policy, "check_set_params", "set_params accepted an unknown parameter")


def check_returns_offered_candidate(policy: Policy) -> None:
    """A selector returns the very object offered (never a copy or a stranger) or ``None``."""
    clone = _clone(policy)
    kinds = _kinds(clone)
    if "agent_selector" in kinds:
        assert isinstance(clone, AgentSelector)
        for call, queue, agents, ctx in _agent_scenarios():
            choice = clone.select_agent(call, queue, agents, ctx)
            if choice is not None and not any(choice is a for a in agents):
                raise _fail(
                    policy,
                    "check_returns_offered_candidate",
                    f"select_agent returned {choice!r}, not one of the offered agents",
                )
    if "call_selector" in kinds:
        assert isinstance(clone, CallSelector)
        for agent, cands, ctx in _call_scenarios():
            picked = clone.select_call(agent, cands, ctx)
            if picked is not None and not any(picked is c for c in cands):
                raise _fail(
                    policy,
                    "check_returns_offered_candidate",
                    f"select_call returned {picked!r}, not one of the offered candidates",
                )


def check_empty_candidates(policy: Policy) -> None:
    """No candidates, no choice: ``None`` (from an empty list and an empty iterator)."""
    clone = _clone(policy)
    kinds = _kinds(clone)
    if "agent_selector" in kinds:
        assert isinstance(clone, AgentSelector)
        call, queue, _, ctx = _agent_scenarios()[0]
        empties: tuple[Iterable[AgentView], ...] = ([], iter(()))
        for empty in empties:
            got = clone.select_agent(call, queue, empty, ctx)
            if got is not None:
                raise _fail(policy, "check_empty_candidates", f"select_agent returned {got!r}")
    if "call_selector" in kinds:
        assert isinstance(clone, CallSelector)
        agent, _, ctx = _call_scenarios()[0]
        got_call = clone.select_call(agent, [], ctx)
        if got_call is not None:
            raise _fail(policy, "check_empty_candidates", f"select_call returned {got_call!r}")


def check_accepts_iterator(policy: Policy) -> None:
    """An agent selector decides the same from a one-shot iterator as from a list.

    The ACD passes a lazy iterator (no copy); a policy that iterates twice
    would silently see nothing the second time.
    """
    if "agent_selector" not in _kinds(policy):
        return
    from_list = _agent_choices(_clone(policy))
    from_iter = _agent_choices(_clone(policy), one_shot=True)
    if from_list != from_iter:
        raise _fail(
            policy,
            "check_accepts_iterator",
            f"choices from a list {from_list} differ from an iterator {from_iter}",
        )


def check_deterministic(policy: Policy) -> None:
    """Two fresh clones (``random_state`` fixed) make the same decisions on the same inputs."""
    first = _decisions(_clone(policy))
    second = _decisions(_clone(policy))
    if first != second:
        raise _fail(policy, "check_deterministic", f"{first} != {second}")


def check_set_params_resets_state(policy: Policy) -> None:
    """After ``set_params`` a used policy decides like a fresh one (derived state dropped)."""
    used = _clone(policy)
    _decisions(used)
    used.set_params(**used.get_params())
    after = _decisions(used)
    fresh = _decisions(_clone(policy))
    if after != fresh:
        raise _fail(
            policy,
            "check_set_params_resets_state",
            f"decisions after set_params {after} differ from a fresh clone's {fresh}",
        )


def check_does_not_mutate_inputs(policy: Policy) -> None:
    """Views, candidate lists and the context are exactly as they were after each decision."""
    clone = _clone(policy)
    kinds = _kinds(clone)

    def guard(
        what: str, inputs: tuple[object, ...], decide: Callable[..., object], *args: object
    ) -> None:
        before = _freeze(list(inputs))
        try:
            decide(*args)
        except dataclasses.FrozenInstanceError as exc:
            raise _fail(policy, "check_does_not_mutate_inputs", f"{what}: {exc}") from exc
        if _freeze(list(inputs)) != before:
            raise _fail(policy, "check_does_not_mutate_inputs", f"{what} changed its inputs")

    if "agent_selector" in kinds:
        assert isinstance(clone, AgentSelector)
        for call, queue, agents, ctx in _agent_scenarios():
            guard("select_agent", (call, agents, ctx), clone.select_agent, call, queue, agents, ctx)
    if "call_selector" in kinds:
        assert isinstance(clone, CallSelector)
        for agent, cands, ctx in _call_scenarios():
            guard("select_call", (agent, cands, ctx), clone.select_call, agent, cands, ctx)
    if "queue_discipline" in kinds:
        assert isinstance(clone, QueueDiscipline)
        for call in _discipline_calls():
            guard("key", (call,), clone.key, call, 10.0)
    if "ewt" in kinds:
        assert isinstance(clone, EwtEstimator)
        for q in _ewt_queues():
            guard("estimate", (q,), clone.estimate, q, 3)


def check_discipline_key(policy: Policy) -> None:
    """A static, comparable key: a 2-tuple of non-NaN numbers, FIFO within a priority.

    A later call of the same priority never sorts first, and at the same
    instant a higher priority never sorts after a lower one.
    """
    if "queue_discipline" not in _kinds(policy):
        return
    disc = _clone(policy)
    assert isinstance(disc, QueueDiscipline)
    calls = _discipline_calls()
    for call in calls:
        for t in (0.0, 37.5, 600.0):
            key = disc.key(call, t)
            if (
                not isinstance(key, tuple)
                or len(key) != 2
                or not all(
                    isinstance(x, int | float) and not isinstance(x, bool) and not math.isnan(x)
                    for x in key
                )
            ):
                raise _fail(
                    policy, "check_discipline_key", f"key must be a (float, float), got {key!r}"
                )
            if disc.key(call, t) != key:
                raise _fail(policy, "check_discipline_key", "key is not static")
            if disc.key(call, t + 1.0) < key:
                raise _fail(
                    policy,
                    "check_discipline_key",
                    f"a later call of priority {call.priority} sorts before an earlier one",
                )
    for low, high in itertools.pairwise(calls):
        if disc.key(high, 50.0) > disc.key(low, 50.0):
            raise _fail(
                policy,
                "check_discipline_key",
                f"priority {high.priority} sorts after priority {low.priority} at the same time",
            )


def check_ewt_estimate(policy: Policy) -> None:
    """A non-negative (possibly infinite) wait that never shrinks with the position."""
    if "ewt" not in _kinds(policy):
        return
    est = _clone(policy)
    assert isinstance(est, EwtEstimator)
    for q in _ewt_queues():
        previous = 0.0
        for pos in range(12):
            value = est.estimate(q, pos)
            if not isinstance(value, int | float) or math.isnan(value) or value < 0:
                raise _fail(policy, "check_ewt_estimate", f"estimate {value!r} for {q!r}")
            if value < previous:
                raise _fail(
                    policy,
                    "check_ewt_estimate",
                    f"estimate falls from {previous} to {value} at position {pos} for {q!r}",
                )
            previous = value


_CHECKS: tuple[PolicyCheck, ...] = (
    check_is_policy,
    check_default_constructible,
    check_params_round_trip,
    check_set_params,
    check_returns_offered_candidate,
    check_empty_candidates,
    check_deterministic,
    check_accepts_iterator,
    check_set_params_resets_state,
    check_does_not_mutate_inputs,
    check_discipline_key,
    check_ewt_estimate,
)


def policy_checks(policy: Policy) -> Iterator[PolicyCheck]:
    """The checks ``check_policy`` runs, in order (each takes the policy)."""
    yield from _CHECKS


def check_policy(policy: Policy) -> None:
    """Run every conformance check; raise ``PolicyCheckError`` at the first failure."""
    for check in policy_checks(policy):
        check(policy)


def parametrize_with_checks(policies: Sequence[Policy]) -> pytest.MarkDecorator:
    """A ``pytest.mark.parametrize("policy, check", ...)`` over every (policy, check) pair.

    Usage::

        @parametrize_with_checks([LongestIdle(), Fifo()])
        def test_conformance(policy, check):
            check(policy)
    """
    import pytest  # noqa: PLC0415 - pytest is a test-time dependency only

    cases = [(p, c) for p in policies for c in policy_checks(p)]
    ids = [f"{type(p).__name__}-{c.__name__}" for p, c in cases]
    return pytest.mark.parametrize(("policy", "check"), cases, ids=ids)
