"""Read-only views that policies see, and the policy protocols.

Policies never receive the ACD's internals: they get objects typed as these
protocols (the ACD's own records, so no copy is made per decision) and return
a choice. A policy that needs to write is a bug; ``ccsim.testing.check_policy``
verifies none does.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import NamedTuple, Protocol, runtime_checkable

from ccsim.events import AgentState

__all__ = [
    "AgentSelector",
    "AgentView",
    "CallSelector",
    "CallView",
    "Candidate",
    "EwtEstimator",
    "QueueDiscipline",
    "QueueView",
    "RoutingContext",
]


class AgentView(Protocol):
    """What a policy may know about an agent."""

    @property
    def agent_id(self) -> str: ...
    @property
    def state(self) -> AgentState: ...
    @property
    def skills(self) -> Mapping[str, int]:
        """Skill name -> proficiency level (1 = best ... 16, as in Avaya; see levels doc)."""
        ...

    @property
    def idle_since(self) -> float:
        """When the agent last became READY (seconds since epoch)."""
        ...

    @property
    def logged_on_at(self) -> float: ...
    @property
    def calls_handled(self) -> int: ...
    @property
    def busy_time(self) -> float:
        """Seconds spent ringing, talking and in wrap-up since logon (for occupancy)."""
        ...


class CallView(Protocol):
    """What a policy may know about a call."""

    @property
    def call_id(self) -> str: ...
    @property
    def service(self) -> str: ...
    @property
    def priority(self) -> int:
        """Current priority (larger is more urgent); RONA and scripts may raise it."""
        ...

    @property
    def attributes(self) -> Mapping[str, str]: ...
    @property
    def offered_at(self) -> float: ...


class QueueView(Protocol):
    """Per-skill queue statistics kept incrementally by the ACD."""

    @property
    def name(self) -> str: ...
    @property
    def length(self) -> int:
        """Calls waiting in this queue now."""
        ...

    @property
    def staffed(self) -> int:
        """Agents logged on with this skill."""
        ...

    @property
    def available(self) -> int:
        """Agents with this skill who are READY now."""
        ...

    @property
    def mean_handle_time(self) -> float:
        """Smoothed talk + wrap-up seconds of calls answered from this queue."""
        ...

    @property
    def answered(self) -> int: ...
    @property
    def answered_in_target(self) -> int:
        """Answered calls whose wait was within the queue's service-level threshold."""
        ...

    @property
    def abandoned(self) -> int: ...
    @property
    def target_fraction(self) -> float:
        """Service-level goal, e.g. 0.8 for 80% within ``target_seconds``."""
        ...

    @property
    def target_seconds(self) -> float: ...


class RoutingContext(Protocol):
    """The read-only window on the ACD a policy or script condition may use."""

    @property
    def now(self) -> float: ...
    def queue(self, name: str) -> QueueView: ...
    def expected_wait(self, queue: str, position: int | None = None) -> float:
        """EWT in seconds for a new call (``position`` None) or the call at ``position``."""
        ...


class Candidate(NamedTuple):
    """A call at the head of one of an agent's skill queues, offered to a call selector.

    A named tuple, not a dataclass: the ACD builds one per non-empty skill queue
    each time an agent frees, and tuples are the cheapest immutable record.
    """

    queue: str
    call: CallView
    enqueued_at: float
    level: int  # the agent's proficiency in this queue's skill


@runtime_checkable
class AgentSelector(Protocol):
    """Chooses which idle agent takes a call (several are free)."""

    def select_agent(
        self,
        call: CallView,
        queue: str,
        candidates: Iterable[AgentView],
        ctx: RoutingContext,
    ) -> AgentView | None:
        """``candidates`` are READY agents with skill ``queue``, longest idle first."""
        ...


@runtime_checkable
class CallSelector(Protocol):
    """Chooses which waiting call a freed agent takes (calls wait in several skills)."""

    def select_call(
        self, agent: AgentView, candidates: Sequence[Candidate], ctx: RoutingContext
    ) -> Candidate | None:
        """``candidates`` holds the head of each non-empty queue of the agent's skills."""
        ...


@runtime_checkable
class QueueDiscipline(Protocol):
    """Orders calls inside one queue by a key fixed when the call joins it.

    A static key keeps each queue a heap (O(log n) per operation). Linear
    priority aging fits: a call whose score grows at the same rate as every
    other call's keeps its relative order, so ``enqueued_at - priority * step``
    is a correct static key.
    """

    def key(self, call: CallView, enqueued_at: float) -> tuple[float, float]: ...


@runtime_checkable
class EwtEstimator(Protocol):
    """Expected-wait-time estimator shared by routing scripts and announcements."""

    def estimate(self, queue: QueueView, position: int) -> float:
        """EWT in seconds for the call at 0-based ``position`` (``length`` for a new call)."""
        ...
