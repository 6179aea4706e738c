"""Agent selection: which of several READY agents takes a call.

The ACD offers the READY agents with the call's skill *longest idle first*
(see ``AgentSelector``). Every selector here relies on that order: it makes
``LongestIdle`` O(1) and turns "ties go to the longest idle agent" into "ties
keep the first agent seen", so no selector sorts, copies or reads
``idle_since`` just to break ties. Each decision is one pass at most.

Peers: Asterisk ``app_queue`` strategies and FreeSWITCH ``mod_callcenter``
strategies map onto these classes as listed in ``docs/routing-policies.md``
(ring-all has no equivalent: the ACD delivers a call to exactly one agent).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from ccsim.routing.base import Policy, as_generator
from ccsim.routing.views import AgentView, CallView, RoutingContext

__all__ = [
    "FewestCalls",
    "HighestSkill",
    "LeastOccupied",
    "LeastTalkTime",
    "LongestIdle",
    "RoundRobin",
    "TopDown",
    "WeightedRandom",
]

#: Proficiency levels run 1 (best) to 16 (Avaya). An agent offered without the
#: skill (a caller bug) ranks after every real level instead of crashing.
BEST_LEVEL = 1
_NO_LEVEL = 1 << 30


class LongestIdle(Policy):
    """The agent READY the longest: spreads work evenly and is what callers expect.

    Asterisk ``leastrecent``, FreeSWITCH ``longest-idle-agent``, Avaya UCD-MIA.
    O(1): takes the first candidate and never looks at the rest.
    """

    def select_agent(
        self,
        call: CallView,
        queue: str,
        candidates: Iterable[AgentView],
        ctx: RoutingContext,
    ) -> AgentView | None:
        for agent in candidates:
            return agent
        return None


class LeastOccupied(Policy):
    """The agent with the lowest occupancy ``busy_time / (now - logged_on_at)``.

    Balances workload across agents with different shift starts (Avaya UCD-LOA);
    an agent logged on for no time yet counts as 0 % occupied. Ties: longest idle.
    """

    def select_agent(
        self,
        call: CallView,
        queue: str,
        candidates: Iterable[AgentView],
        ctx: RoutingContext,
    ) -> AgentView | None:
        now = ctx.now

        def occupancy(agent: AgentView) -> float:
            span = now - agent.logged_on_at
            return agent.busy_time / span if span > 0.0 else 0.0

        # min() keeps the first of equal keys: ties go to the longest idle
        return min(candidates, key=occupancy, default=None)


class FewestCalls(Policy):
    """The agent who has handled the fewest calls since logon. Ties: longest idle.

    Asterisk ``fewestcalls`` (which counts per queue; here calls are counted
    across all the agent's skills), FreeSWITCH ``agent-with-fewest-calls``.
    """

    def select_agent(
        self,
        call: CallView,
        queue: str,
        candidates: Iterable[AgentView],
        ctx: RoutingContext,
    ) -> AgentView | None:
        return min(candidates, key=lambda agent: agent.calls_handled, default=None)


class LeastTalkTime(Policy):
    """The agent with the least ``busy_time`` (ringing + talk + wrap-up) since logon.

    FreeSWITCH ``agent-with-least-talk-time``. The views expose no separate
    talk time, so ringing and wrap-up count too. Unlike ``LeastOccupied`` this
    is absolute, so an agent who logged on late is favoured. Ties: longest idle.
    """

    def select_agent(
        self,
        call: CallView,
        queue: str,
        candidates: Iterable[AgentView],
        ctx: RoutingContext,
    ) -> AgentView | None:
        return min(candidates, key=lambda agent: agent.busy_time, default=None)


class HighestSkill(Policy):
    """The agent most proficient in the call's skill (level 1 is best, as Avaya).

    ``levels_first=True`` (default): the best level wins and idle time breaks
    ties among agents of that level -- Avaya EAD-MIA, FreeSWITCH tier levels
    with ``longest-idle-agent``. Experts get calls first; novices get the overflow.

    ``levels_first=False``: longest idle wins and the level only breaks exact
    ties in ``idle_since`` (common in simulation, where a whole shift turns READY
    at the same instant). This is fair like ``LongestIdle`` yet deterministic
    about which agent of a simultaneous group goes first.
    """

    def __init__(self, *, levels_first: bool = True) -> None:
        self.levels_first = levels_first

    def select_agent(
        self,
        call: CallView,
        queue: str,
        candidates: Iterable[AgentView],
        ctx: RoutingContext,
    ) -> AgentView | None:
        best: AgentView | None = None
        best_level = _NO_LEVEL
        if self.levels_first:
            for agent in candidates:
                level = agent.skills.get(queue, _NO_LEVEL)
                if level < best_level:
                    if level <= BEST_LEVEL:
                        return agent  # the first best-level agent is the longest idle one
                    best, best_level = agent, level
                elif best is None:
                    best = agent
            return best
        first_idle = 0.0
        for agent in candidates:
            if best is None:
                best, first_idle = agent, agent.idle_since
                best_level = agent.skills.get(queue, _NO_LEVEL)
                continue
            if agent.idle_since != first_idle:
                break  # longest-idle order: no later agent ties with the first
            level = agent.skills.get(queue, _NO_LEVEL)
            if level < best_level:
                best, best_level = agent, level
        return best


class _OrderedPolicy(Policy):
    """Shared lazy ``order`` -> rank index (derived state, rebuilt after ``set_params``)."""

    order: Sequence[str]
    _rank: dict[str, int] | None

    def _reset(self) -> None:
        self._rank = None

    def _ranks(self) -> dict[str, int]:
        rank = self._rank
        if rank is None:
            rank = {}
            for i, agent_id in enumerate(self.order):
                rank.setdefault(agent_id, i)
            self._rank = rank
        return rank


class RoundRobin(_OrderedPolicy):
    """Rotate over the agents: the next free agent after the one chosen last, per queue.

    Agents are ranked by their position in ``order`` (agent ids); agents not
    listed come after the listed ones, in agent-id order. With the default
    empty ``order`` the rotation is simply by agent id (string order). Asterisk
    ``rrmemory`` (``rrordered`` with an ``order``), FreeSWITCH ``round-robin``.
    Use it when fairness of *call counts* matters more than idle time.

    The cursor (last choice per queue) is derived state: ``set_params`` resets it.
    """

    def __init__(self, *, order: Sequence[str] = ()) -> None:
        self.order = order
        self._reset()

    def _reset(self) -> None:
        super()._reset()
        self._cursor: dict[str, tuple[int, str]] = {}

    def select_agent(
        self,
        call: CallView,
        queue: str,
        candidates: Iterable[AgentView],
        ctx: RoutingContext,
    ) -> AgentView | None:
        rank = self._ranks()
        unlisted = len(self.order)
        last = self._cursor.get(queue)
        first: AgentView | None = None  # smallest key overall (wrap-around)
        first_key: tuple[int, str] = (0, "")
        after: AgentView | None = None  # smallest key strictly after the cursor
        after_key: tuple[int, str] = (0, "")
        for agent in candidates:
            agent_id = agent.agent_id
            key = (rank.get(agent_id, unlisted), agent_id)
            if first is None or key < first_key:
                first, first_key = agent, key
            if last is not None and key > last and (after is None or key < after_key):
                after, after_key = agent, key
        if after is not None:
            self._cursor[queue] = after_key
            return after
        if first is not None:
            self._cursor[queue] = first_key
        return first


class TopDown(_OrderedPolicy):
    """Always the first free agent in a fixed ``order`` (a hunt group).

    Concentrates work on the agents listed first, keeping the others free for
    back-office work. Agents not in ``order`` come after the listed ones, longest
    idle first. ``levels_first=True`` ranks by skill level, then ``order``
    (FreeSWITCH ``sequentially-by-agent-order``); the default is FreeSWITCH
    ``top-down`` / Asterisk ``linear``.
    """

    def __init__(self, *, order: Sequence[str] = (), levels_first: bool = False) -> None:
        self.order = order
        self.levels_first = levels_first
        self._reset()

    def select_agent(
        self,
        call: CallView,
        queue: str,
        candidates: Iterable[AgentView],
        ctx: RoutingContext,
    ) -> AgentView | None:
        rank = self._ranks()
        unlisted = len(self.order)
        by_level = self.levels_first
        best: AgentView | None = None
        best_level = _NO_LEVEL
        best_rank = unlisted
        for agent in candidates:
            r = rank.get(agent.agent_id, unlisted)
            level = agent.skills.get(queue, _NO_LEVEL) if by_level else BEST_LEVEL
            if best is None or level < best_level or (level == best_level and r < best_rank):
                if r == 0 and level <= BEST_LEVEL:
                    return agent  # nothing can rank before the head of the order
                best, best_level, best_rank = agent, level, r
        return best


class WeightedRandom(Policy):
    """A random free agent, chosen with probability proportional to its weight.

    weight = ``weights.get(agent_id, default_weight) * level ** -level_exponent``.
    The defaults give a uniform choice (Asterisk ``random``, FreeSWITCH
    ``random``); ``level_exponent=1`` makes a level-1 agent twice as likely as a
    level-2 one (in the spirit of Asterisk ``wrandom``, which weights by
    penalty). Agents whose weight is not positive are chosen only when no agent
    has a positive weight, and then the longest idle one -- a free agent is
    never left idle while a call waits.

    ``random_state`` (int seed or ``numpy.random.Generator``) drives the draws;
    the generator is built on first use and rebuilt by ``set_params``, so a
    fixed seed gives a reproducible sequence of choices.
    """

    def __init__(
        self,
        *,
        weights: Mapping[str, float] | None = None,
        default_weight: float = 1.0,
        level_exponent: float = 0.0,
        random_state: int | np.random.Generator | None = None,
    ) -> None:
        self.weights = weights
        self.default_weight = default_weight
        self.level_exponent = level_exponent
        self.random_state = random_state
        self._reset()

    def _reset(self) -> None:
        self._rng: np.random.Generator | None = None

    def select_agent(
        self,
        call: CallView,
        queue: str,
        candidates: Iterable[AgentView],
        ctx: RoutingContext,
    ) -> AgentView | None:
        weights = self.weights
        default = self.default_weight
        exponent = self.level_exponent
        chosen: list[AgentView] = []
        cumulative: list[float] = []
        total = 0.0
        fallback: AgentView | None = None
        for agent in candidates:
            w = default if weights is None else weights.get(agent.agent_id, default)
            if exponent:
                w *= float(agent.skills.get(queue, _NO_LEVEL)) ** -exponent
            if w > 0.0:
                total += w
                chosen.append(agent)
                cumulative.append(total)
            elif fallback is None:
                fallback = agent
        if not chosen:
            return fallback
        if len(chosen) == 1:
            return chosen[0]
        rng = self._rng
        if rng is None:
            rng = self._rng = as_generator(self.random_state)
        i = bisect.bisect_right(cumulative, rng.random() * total)
        return chosen[min(i, len(chosen) - 1)]
