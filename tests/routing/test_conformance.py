"""``check_policy`` over every built-in policy, and proof that it can fail."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest

from ccsim.routing import (
    BUILTIN_POLICIES,
    Candidate,
    HighestSkill,
    LinearAging,
    LongestIdle,
    LongestWeightedWait,
    Policy,
    QuantileEwt,
    RoundRobin,
    TopDown,
    WeightedRandom,
)
from ccsim.testing import FakeCall, PolicyCheckError, check_policy, parametrize_with_checks


@pytest.mark.parametrize("name", sorted(BUILTIN_POLICIES))
def test_every_builtin_policy_conforms(name):
    check_policy(BUILTIN_POLICIES[name]())


VARIANTS = [
    HighestSkill(levels_first=False),
    RoundRobin(order=["a3", "a1", "t2"]),
    TopDown(order=["a4", "a2"], levels_first=True),
    WeightedRandom(
        weights={"a1": 5.0, "a2": 0.0}, level_exponent=1.0, random_state=np.random.default_rng(5)
    ),
    LongestWeightedWait(weights={"vip": 4.0}),
    LinearAging(seconds_per_level=5.0),
    QuantileEwt(quantile=0.5),
]


@parametrize_with_checks(VARIANTS)
def test_parametrised_variants_conform(policy, check):
    check(policy)


# --------------------------------------------------------------- broken policies


class MutatesAgent(Policy):
    def select_agent(self, call, queue, candidates, ctx):
        for agent in candidates:
            object.__setattr__(agent, "calls_handled", agent.calls_handled + 1)
            return agent
        return None


class WritesSkills(Policy):
    def select_agent(self, call, queue, candidates, ctx):
        for agent in candidates:
            agent.skills[queue] = 1
            return agent
        return None


class SortsCandidates(Policy):
    def select_call(self, agent, candidates, ctx):
        if not candidates:
            return None
        candidates.sort(key=lambda c: c.queue)
        return candidates[0]


class WritesCallAttributes(Policy):
    def select_call(self, agent, candidates, ctx):
        for cand in candidates:
            cand.call.attributes["seen"] = "yes"
        return candidates[0] if candidates else None


class ReturnsCopy(Policy):
    def select_agent(self, call, queue, candidates, ctx):
        for agent in candidates:
            return dataclasses.replace(agent)
        return None


_shared = itertools.count()


class Nondeterministic(Policy):
    """Depends on state shared across instances (like a global RNG)."""

    def select_agent(self, call, queue, candidates, ctx):
        agents = list(candidates)
        return agents[next(_shared) % len(agents)] if agents else None


class DerivesInInit(Policy):
    def __init__(self, *, weights=None):
        self.weights = dict(weights or {})

    def select_agent(self, call, queue, candidates, ctx):
        return next(iter(candidates), None)


class RequiredParam(Policy):
    def __init__(self, *, order):
        self.order = order

    def select_agent(self, call, queue, candidates, ctx):
        return next(iter(candidates), None)


class ForgetsReset(RoundRobin):
    def _reset(self):  # keeps its cursor across set_params
        if not hasattr(self, "_cursor"):
            super()._reset()


class IteratesTwice(Policy):
    def select_agent(self, call, queue, candidates, ctx):
        n = sum(1 for _ in candidates)
        return next((a for a in candidates if n > 1), None)


class NoneForEmptyFails(Policy):
    def select_call(self, agent, candidates, ctx):
        return candidates[0] if candidates else ctx  # returns junk for no candidates


class LifoDiscipline(Policy):
    def key(self, call, enqueued_at):
        return (-enqueued_at, 0.0)


class ShrinkingEwt(Policy):
    def estimate(self, queue, position):
        return 100.0 / (position + 1)


class NotAPolicy:
    def select_agent(self, call, queue, candidates, ctx):
        return None


class NoKind(Policy):
    pass


class StrictSetParams(Policy):
    def set_params(self, **params):
        return self

    def estimate(self, queue, position):
        return 0.0


@pytest.mark.parametrize(
    ("policy", "failing_check"),
    [
        (MutatesAgent(), "check_does_not_mutate_inputs"),
        (WritesSkills(), "check_does_not_mutate_inputs"),
        (SortsCandidates(), "check_does_not_mutate_inputs"),
        (WritesCallAttributes(), "check_does_not_mutate_inputs"),
        (ReturnsCopy(), "check_returns_offered_candidate"),
        (Nondeterministic(), "check_deterministic"),
        (DerivesInInit(weights={"a": 1.0}), "check_params_round_trip"),
        (RequiredParam(order=()), "check_default_constructible"),
        (ForgetsReset(), "check_set_params_resets_state"),
        (IteratesTwice(), "check_accepts_iterator"),
        (NoneForEmptyFails(), "check_empty_candidates"),
        (LifoDiscipline(), "check_discipline_key"),
        (ShrinkingEwt(), "check_ewt_estimate"),
        (NotAPolicy(), "check_is_policy"),
        (NoKind(), "check_is_policy"),
        (StrictSetParams(), "check_set_params"),
    ],
    ids=lambda v: type(v).__name__ if not isinstance(v, str) else v,
)
def test_check_policy_catches_broken_policies(policy, failing_check):
    with pytest.raises(PolicyCheckError, match=failing_check):
        check_policy(policy)


def test_returning_an_unoffered_candidate_is_caught():
    stranger = Candidate(queue="x", call=FakeCall(call_id="x"), enqueued_at=0.0, level=1)

    class Stranger(Policy):
        def select_call(self, agent, candidates, ctx):
            return stranger if candidates else None

    with pytest.raises(PolicyCheckError, match="not one of the offered candidates"):
        check_policy(Stranger())


def test_check_policy_leaves_the_checked_instance_alone():
    rr = RoundRobin()
    check_policy(rr)
    assert rr._cursor == {}
    lone = LongestIdle()
    check_policy(lone)
    assert lone.get_params() == {}
