"""Routing scripts ("vectors") run per call at a routing point.

A script is a tuple of steps, executed from the top when a call is offered,
in the spirit of Avaya call vectors: queue the call to one or more skills, wait,
check the expected wait and branch, announce, overflow, offer a callback or
disconnect. Every step may carry a condition (``when``); a step whose
condition is false is skipped. ``Wait`` suspends the script (the call keeps
waiting in its queues) and the ACD resumes it with a timer, so "add a second
skill after 30 s" is simply ``Wait(30)`` then ``QueueTo("billing_backup")``.
The script stops when it reaches its end or a step that ends the call; a call
that is answered or abandoned stops its script.

Steps and conditions are frozen data: they can be loaded from a scenario file,
compared, printed and reused by the simulation and the live ACD alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

from ccsim.routing.views import CallView, RoutingContext

__all__ = [
    "AgentsAvailable",
    "All",
    "Announce",
    "Any",
    "Attribute",
    "Condition",
    "Disconnect",
    "EwtAbove",
    "Goto",
    "Label",
    "Not",
    "OfferCallback",
    "Overflow",
    "QueueLengthAbove",
    "QueueTo",
    "Script",
    "StaffedBelow",
    "Step",
    "Stop",
    "TimeOfDay",
    "Wait",
    "validate_script",
]

DAY = 86_400.0


# --------------------------------------------------------------------------- conditions


@dataclass(frozen=True, slots=True)
class EwtAbove:
    """True when the expected wait for a new call in ``queue`` exceeds ``seconds``."""

    queue: str
    seconds: float

    def holds(self, ctx: RoutingContext, call: CallView) -> bool:
        return ctx.expected_wait(self.queue) > self.seconds


@dataclass(frozen=True, slots=True)
class QueueLengthAbove:
    """True when more than ``calls`` wait in ``queue``."""

    queue: str
    calls: int

    def holds(self, ctx: RoutingContext, call: CallView) -> bool:
        return ctx.queue(self.queue).length > self.calls


@dataclass(frozen=True, slots=True)
class AgentsAvailable:
    """True when at least ``agents`` agents with skill ``queue`` are READY."""

    queue: str
    agents: int = 1

    def holds(self, ctx: RoutingContext, call: CallView) -> bool:
        return ctx.queue(self.queue).available >= self.agents


@dataclass(frozen=True, slots=True)
class StaffedBelow:
    """True when fewer than ``agents`` agents with skill ``queue`` are logged on."""

    queue: str
    agents: int = 1

    def holds(self, ctx: RoutingContext, call: CallView) -> bool:
        return ctx.queue(self.queue).staffed < self.agents


@dataclass(frozen=True, slots=True)
class TimeOfDay:
    """True when the time of day is in [start, end) seconds after midnight.

    ``start > end`` wraps midnight (e.g. 22:00-08:00 night service). The
    scenario epoch is midnight of day 0.
    """

    start: float
    end: float

    def holds(self, ctx: RoutingContext, call: CallView) -> bool:
        t = ctx.now % DAY
        if self.start <= self.end:
            return self.start <= t < self.end
        return t >= self.start or t < self.end


@dataclass(frozen=True, slots=True)
class Attribute:
    """True when the caller attribute ``name`` is one of ``values`` (VIP tier, language)."""

    name: str
    values: tuple[str, ...]

    def holds(self, ctx: RoutingContext, call: CallView) -> bool:
        return call.attributes.get(self.name) in self.values


@dataclass(frozen=True, slots=True)
class Not:
    """Negation of a condition."""

    condition: Condition

    def holds(self, ctx: RoutingContext, call: CallView) -> bool:
        return not self.condition.holds(ctx, call)


@dataclass(frozen=True, slots=True)
class All:
    """True when every condition holds."""

    conditions: tuple[Condition, ...]

    def holds(self, ctx: RoutingContext, call: CallView) -> bool:
        return all(c.holds(ctx, call) for c in self.conditions)


@dataclass(frozen=True, slots=True)
class Any:
    """True when at least one condition holds."""

    conditions: tuple[Condition, ...]

    def holds(self, ctx: RoutingContext, call: CallView) -> bool:
        return any(c.holds(ctx, call) for c in self.conditions)


Condition: TypeAlias = (
    EwtAbove
    | QueueLengthAbove
    | AgentsAvailable
    | StaffedBelow
    | TimeOfDay
    | Attribute
    | Not
    | All
    | Any
)


# --------------------------------------------------------------------------- steps


@dataclass(frozen=True, slots=True)
class QueueTo:
    """Queue the call to skill ``queue`` (it may wait in several) at ``priority``.

    ``priority`` None keeps the call's own priority; a number replaces it if
    higher (a script can raise, never lower, a VIP's priority).
    """

    queue: str
    priority: int | None = None
    when: Condition | None = None


@dataclass(frozen=True, slots=True)
class Wait:
    """Suspend the script for ``seconds`` while the call waits (music, ringback)."""

    seconds: float
    when: Condition | None = None


@dataclass(frozen=True, slots=True)
class Announce:
    """Play ``announcement`` to the caller (the world decides its duration)."""

    announcement: str
    when: Condition | None = None


@dataclass(frozen=True, slots=True)
class Goto:
    """Jump to ``label`` (conditionally, with ``when``)."""

    label: str
    when: Condition | None = None


@dataclass(frozen=True, slots=True)
class Label:
    """A jump target; does nothing when executed."""

    name: str


@dataclass(frozen=True, slots=True)
class Overflow:
    """Route the call out to ``destination`` (another site, voicemail); leaves all queues."""

    destination: str
    when: Condition | None = None


@dataclass(frozen=True, slots=True)
class OfferCallback:
    """Offer a callback and release the call (counted as outcome ``callback``)."""

    when: Condition | None = None


@dataclass(frozen=True, slots=True)
class Disconnect:
    """Release the call with ``cause`` (``busy``, ``closed`` ...)."""

    cause: str = "busy"
    when: Condition | None = None


@dataclass(frozen=True, slots=True)
class Stop:
    """End the script; the call keeps waiting in its queues."""

    when: Condition | None = None


Step: TypeAlias = (
    QueueTo | Wait | Announce | Goto | Label | Overflow | OfferCallback | Disconnect | Stop
)
Script: TypeAlias = tuple[Step, ...]


def validate_script(script: Script, queues: set[str] | frozenset[str]) -> None:
    """Check labels and queue names up front, so a bad script fails at load, not mid-call.

    Raises ``ValueError`` naming the step index and the offending value.
    """
    labels = [s.name for s in script if isinstance(s, Label)]
    dupes = {n for n in labels if labels.count(n) > 1}
    if dupes:
        raise ValueError(f"duplicate labels: {sorted(dupes)}")
    for i, step in enumerate(script):
        if isinstance(step, Goto) and step.label not in labels:
            raise ValueError(f"steps[{i}].label: no label named {step.label!r}")
        if isinstance(step, QueueTo) and step.queue not in queues:
            raise ValueError(f"steps[{i}].queue: unknown queue {step.queue!r}")
        if isinstance(step, Wait) and not step.seconds > 0:
            raise ValueError(f"steps[{i}].seconds: must be > 0, got {step.seconds!r}")
        cond = getattr(step, "when", None)
        if cond is not None:
            _validate_condition(cond, queues, f"steps[{i}].when")


def _validate_condition(cond: Condition, queues: set[str] | frozenset[str], path: str) -> None:
    if isinstance(cond, Not):
        _validate_condition(cond.condition, queues, f"{path}.condition")
    elif isinstance(cond, All | Any):
        for j, c in enumerate(cond.conditions):
            _validate_condition(c, queues, f"{path}.conditions[{j}]")
    elif (
        isinstance(cond, EwtAbove | QueueLengthAbove | AgentsAvailable | StaffedBelow)
        and cond.queue not in queues
    ):
        raise ValueError(f"{path}.queue: unknown queue {cond.queue!r}")
