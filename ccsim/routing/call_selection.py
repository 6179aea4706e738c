"""Call selection: which waiting call a freed agent takes.

The ACD offers one ``Candidate`` per non-empty queue of the agent's skills: the
head of that queue under its ``QueueDiscipline``. A call selector therefore
only arbitrates *between* queues; order *within* a queue is the discipline's
job. Each decision is a single pass over at most one candidate per skill.

Every selector breaks ties the same way, FIFO: earlier ``enqueued_at``, then
higher priority, then queue name -- so a decision never depends on the order
in which the ACD happened to list the agent's skills.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ccsim.routing.base import Policy
from ccsim.routing.views import AgentView, Candidate, RoutingContext

__all__ = [
    "Fifo",
    "GreatestNeed",
    "LongestWeightedWait",
    "PriorityAging",
    "SkillLevelFirst",
    "fifo_before",
]


def fifo_before(a: Candidate, b: Candidate) -> bool:
    """True when ``a`` comes before ``b`` in FIFO order (the common tie-break)."""
    if a.enqueued_at != b.enqueued_at:
        return a.enqueued_at < b.enqueued_at
    pa, pb = a.call.priority, b.call.priority
    if pa != pb:
        return pa > pb
    return a.queue < b.queue


class Fifo(Policy):
    """The call that has waited longest in its queue, across the agent's skills.

    The default: simple, fair to callers, and what ``answered_in_target``
    rewards. Priority only breaks exact ties here; use ``PriorityAging`` to let
    priority outrank wait across queues.
    """

    def select_call(
        self, agent: AgentView, candidates: Sequence[Candidate], ctx: RoutingContext
    ) -> Candidate | None:
        best: Candidate | None = None
        for cand in candidates:
            if best is None or fifo_before(cand, best):
                best = cand
        return best


class PriorityAging(Policy):
    """Highest score ``priority * seconds_per_level + wait`` wins (wait = now - enqueued_at).

    One priority level is worth ``seconds_per_level`` seconds of waiting, so a
    VIP goes first but an ordinary caller who has waited long enough is not
    starved. ``seconds_per_level=inf`` would be strict priority; use a large
    finite value instead (e.g. 1e9). Ties: FIFO.
    """

    def __init__(self, *, seconds_per_level: float = 60.0) -> None:
        self.seconds_per_level = seconds_per_level

    def select_call(
        self, agent: AgentView, candidates: Sequence[Candidate], ctx: RoutingContext
    ) -> Candidate | None:
        now = ctx.now
        step = self.seconds_per_level
        best: Candidate | None = None
        best_score = 0.0
        for cand in candidates:
            score = cand.call.priority * step + (now - cand.enqueued_at)
            if (
                best is None
                or score > best_score
                or (score == best_score and fifo_before(cand, best))
            ):
                best, best_score = cand, score
        return best


class LongestWeightedWait(Policy):
    """Highest ``(now - enqueued_at) * weight`` wins; weights per queue name.

    Lets a planner say "a billing second hurts twice as much as a general one"
    (``weights={"billing": 2.0}``). Queues not in ``weights`` get
    ``default_weight``. Priority is ignored between queues. Ties: FIFO.
    """

    def __init__(
        self, *, weights: Mapping[str, float] | None = None, default_weight: float = 1.0
    ) -> None:
        self.weights = weights
        self.default_weight = default_weight

    def select_call(
        self, agent: AgentView, candidates: Sequence[Candidate], ctx: RoutingContext
    ) -> Candidate | None:
        now = ctx.now
        weights = self.weights
        default = self.default_weight
        best: Candidate | None = None
        best_score = 0.0
        for cand in candidates:
            w = default if weights is None else weights.get(cand.queue, default)
            score = (now - cand.enqueued_at) * w
            if (
                best is None
                or score > best_score
                or (score == best_score and fifo_before(cand, best))
            ):
                best, best_score = cand, score
        return best


class GreatestNeed(Policy):
    """The queue furthest behind its service-level target gets the agent.

    need = ``target_fraction - answered_in_target / answered`` for a queue
    with at least ``min_answered`` answers (positive: behind target).

    Before that, the queue's record says nothing, so its head call speaks for
    it: need = ``target_fraction * min(wait / target_seconds, 1)`` with
    wait = now - enqueued_at of the head. A fresh call adds no need; a call
    that has used up the whole threshold counts as a queue at 0 % service level.
    (``target_seconds`` of 0 counts every waiting call as late.)

    Ties: FIFO. Use it to hit per-queue targets with a shared pool; it starves
    a queue that is over target while others are behind, by design.
    """

    def __init__(self, *, min_answered: int = 1) -> None:
        self.min_answered = min_answered

    def select_call(
        self, agent: AgentView, candidates: Sequence[Candidate], ctx: RoutingContext
    ) -> Candidate | None:
        now = ctx.now
        min_answered = max(self.min_answered, 1)
        best: Candidate | None = None
        best_need = 0.0
        for cand in candidates:
            q = ctx.queue(cand.queue)
            answered = q.answered
            if answered >= min_answered:
                need = q.target_fraction - q.answered_in_target / answered
            else:
                threshold = q.target_seconds
                wait = now - cand.enqueued_at
                late = min(wait / threshold, 1.0) if threshold > 0.0 else 1.0
                need = q.target_fraction * late
            if best is None or need > best_need or (need == best_need and fifo_before(cand, best)):
                best, best_need = cand, need
        return best


class SkillLevelFirst(Policy):
    """The call from the queue the agent is best at (lowest level), then FIFO.

    Keeps experts on their speciality and lets them help elsewhere only when
    their own queue is empty (Avaya's "skill level" call selection).
    """

    def select_call(
        self, agent: AgentView, candidates: Sequence[Candidate], ctx: RoutingContext
    ) -> Candidate | None:
        best: Candidate | None = None
        for cand in candidates:
            if (
                best is None
                or cand.level < best.level
                or (cand.level == best.level and fifo_before(cand, best))
            ):
                best = cand
        return best
