"""Events into the ACD and commands out of it: the contract between the worlds.

Every value here is a frozen, slotted, keyword-only dataclass (the h11
``_events`` style): cheap to create in the simulation's hot loop, impossible to
mutate after the ACD has seen it, and validated at construction so a bad value
fails where it was made, not deep inside a policy.

*Events* carry ``at``: seconds since the scenario epoch, supplied by the world
(SimPy's ``env.now``, or the live link's wall clock converted once). The ACD
never reads a clock, so the same event sequence yields the same commands in the
simulation, in the live ACD and in an offline replay.

*Commands* are what the ACD asks the world to do. They carry no timestamp: they
happen "now", at the ``at`` of the event that caused them. Timers are commands
too: ``StartTimer(key=..., at=...)`` asks the world to feed back
``TimerFired(key=..., at=...)`` at that time unless ``CancelTimer(key=...)``
comes first.

The vocabulary
--------------
Events: ``CallOffered``, ``CallAnswered``, ``CallEnded``, ``CallAbandoned``,
``DeliveryFailed``, ``AgentLoggedOn``, ``AgentReady``, ``AgentNotReady``,
``AgentLoggedOff``, ``WrapUpEnded``, ``TimerFired`` and the supervisor requests
``ForceReady``, ``ForceNotReady``, ``ForceLogout``, ``Monitor``, ``BargeIn``,
``Intercept``.

Commands: ``Deliver``, ``Retract``, ``Enqueue``, ``Announce``,
``Overflow``, ``OfferCallback``, ``Disconnect``, ``SetAgentState``,
``Conference``, ``Transfer``, ``StartTimer``, ``CancelTimer``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Literal, TypeAlias

__all__ = [
    "AgentLoggedOff",
    "AgentLoggedOn",
    "AgentNotReady",
    "AgentReady",
    "AgentSkillsChanged",
    "AgentState",
    "Announce",
    "BargeIn",
    "CallAbandoned",
    "CallAnswered",
    "CallEnded",
    "CallOffered",
    "CallOutcome",
    "CallWithdrawn",
    "CancelTimer",
    "Command",
    "Conference",
    "Deliver",
    "DeliveryFailed",
    "Disconnect",
    "Enqueue",
    "Event",
    "ForceLogout",
    "ForceNotReady",
    "ForceReady",
    "Intercept",
    "Monitor",
    "OfferCallback",
    "Overflow",
    "Retract",
    "SetAgentState",
    "StartTimer",
    "TimerFired",
    "TimerKey",
    "Transfer",
    "WrapUpEnded",
]

#: A timer is named by a small tuple, e.g. ``("ring", call_id)`` or ``("wrap", agent_id)``.
TimerKey: TypeAlias = tuple[str, str]

_EMPTY: Mapping[str, str] = MappingProxyType({})


class AgentState(StrEnum):
    """Agent states, named after ECMA-269 so the live binding maps them 1:1."""

    LOGGED_OFF = "loggedOff"
    NOT_READY = "notReady"
    READY = "ready"
    RESERVED = "reserved"  # a call is alerting at the agent's station
    BUSY = "busy"
    WORKING_AFTER_CALL = "workingAfterCall"


class CallOutcome(StrEnum):
    """How an offered call left the ACD; each call has exactly one."""

    ANSWERED = "answered"
    ABANDONED = "abandoned"
    OVERFLOWED = "overflowed"
    DISCONNECTED = "disconnected"
    CALLBACK = "callback"
    #: the world routed the call elsewhere (a switch's default routing): no ACD outcome
    WITHDRAWN = "withdrawn"


def _check_skills(value: Mapping[str, int]) -> Mapping[str, int]:
    """A frozen copy of a skill -> level (1..16) mapping, checked."""
    skills = dict(value)
    for skill, level in skills.items():
        _check_id("skill name", skill)
        if isinstance(level, bool) or not isinstance(level, int) or not 1 <= level <= 16:
            raise ValueError(f"skills[{skill!r}] must be a level 1..16, got {level!r}")
    return MappingProxyType(skills)


def _check_id(name: str, value: object) -> None:
    if type(value) is str and value:  # the common case, decided without isinstance calls
        return
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name} must be a non-empty string, got {value!r}")


def _check_time(name: str, value: object) -> None:
    # fast path for the plain float every world sends: x - x is 0.0 only when x is finite
    if type(value) is float and value - value == 0.0:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number of seconds, got {value!r}")


# --------------------------------------------------------------------------- events


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """Base of every input to the ACD; ``at`` is seconds since the scenario epoch."""

    at: float

    def __post_init__(self) -> None:
        _check_time("at", self.at)


@dataclass(frozen=True, slots=True, kw_only=True)
class CallOffered(Event):
    """A call reached a routing point and asks the ACD where it should go.

    ``service`` is the call type (it selects the routing script unless
    ``routing_point`` names one); ``priority`` is the caller's base priority
    (larger is more urgent, e.g. a VIP tier); ``attributes`` carries caller data
    used by script conditions (language, tier, IVR choices).
    """

    call_id: str
    service: str
    routing_point: str | None = None
    priority: int = 0
    attributes: Mapping[str, str] = field(default_factory=lambda: _EMPTY, hash=False)

    def __post_init__(self) -> None:
        Event.__post_init__(self)
        _check_id("call_id", self.call_id)
        _check_id("service", self.service)
        if not isinstance(self.priority, int) or isinstance(self.priority, bool):
            raise ValueError(f"priority must be an int, got {self.priority!r}")
        if not isinstance(self.attributes, MappingProxyType):
            object.__setattr__(self, "attributes", MappingProxyType(dict(self.attributes)))


@dataclass(frozen=True, slots=True, kw_only=True)
class CallAnswered(Event):
    """The agent the ACD delivered the call to picked it up."""

    call_id: str
    agent_id: str

    def __post_init__(self) -> None:
        Event.__post_init__(self)
        _check_id("call_id", self.call_id)
        _check_id("agent_id", self.agent_id)


@dataclass(frozen=True, slots=True, kw_only=True)
class CallEnded(Event):
    """An answered call was released (by either party); the agent moves to wrap-up."""

    call_id: str

    def __post_init__(self) -> None:
        Event.__post_init__(self)
        _check_id("call_id", self.call_id)


@dataclass(frozen=True, slots=True, kw_only=True)
class CallAbandoned(Event):
    """The caller hung up before an agent answered (while queued or while ringing)."""

    call_id: str

    def __post_init__(self) -> None:
        Event.__post_init__(self)
        _check_id("call_id", self.call_id)


@dataclass(frozen=True, slots=True, kw_only=True)
class CallWithdrawn(Event):
    """The world took the call away from the ACD before an agent answered it.

    A switch hands a call to its own default routing when the router is
    unreachable or cannot place it (link loss, nobody staffed); the caller did
    not hang up, so counting it abandoned would distort abandonment figures.
    ``reason`` says why (e.g. ``default_route``).
    """

    call_id: str
    reason: str = "default_route"

    def __post_init__(self) -> None:
        Event.__post_init__(self)
        _check_id("call_id", self.call_id)
        _check_id("reason", self.reason)


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryFailed(Event):
    """The world could not ring the chosen agent (station busy, route rejected).

    The call returns to the head of its queues; the agent is made not ready.
    """

    call_id: str
    agent_id: str
    cause: str = "failed"

    def __post_init__(self) -> None:
        Event.__post_init__(self)
        _check_id("call_id", self.call_id)
        _check_id("agent_id", self.agent_id)


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentEvent(Event):
    """Base of the events an agent (or the station on their behalf) reports."""

    agent_id: str

    def __post_init__(self) -> None:
        Event.__post_init__(self)
        _check_id("agent_id", self.agent_id)


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentLoggedOn(AgentEvent):
    """The agent logged on with ``skills`` (skill name -> proficiency level 1..16).

    ``ready`` logs the agent straight into READY (auto-in); otherwise the agent
    starts NOT_READY with ``reason``.
    """

    skills: Mapping[str, int] = field(hash=False)
    ready: bool = False
    reason: str = "logon"

    def __post_init__(self) -> None:
        AgentEvent.__post_init__(self)
        object.__setattr__(self, "skills", _check_skills(self.skills))


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentSkillsChanged(AgentEvent):
    """A logged-on agent's skills are replaced at run time (dynamic configuration).

    Supervisors move agents between queues during the day to follow the
    traffic; the change takes effect for the next call, never the current one.
    """

    skills: Mapping[str, int] = field(hash=False)

    def __post_init__(self) -> None:
        AgentEvent.__post_init__(self)
        object.__setattr__(self, "skills", _check_skills(self.skills))


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentReady(AgentEvent):
    """The agent asks to be ready (示闲)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentNotReady(AgentEvent):
    """The agent asks to be not ready (示忙) with a reason code (break, lunch, training)."""

    reason: str = "break"


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentLoggedOff(AgentEvent):
    """The agent asks to log off; if on a call, the logoff is pending until wrap-up ends."""


@dataclass(frozen=True, slots=True, kw_only=True)
class WrapUpEnded(AgentEvent):
    """The agent finished after-call work before the ACD's wrap-up timer (manual end)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class TimerFired(Event):
    """A timer the ACD started has expired (the world feeds it back)."""

    key: TimerKey


@dataclass(frozen=True, slots=True, kw_only=True)
class SupervisorEvent(AgentEvent):
    """Base of supervisor requests; ``supervisor`` names who asked (for audit and QC)."""

    supervisor: str = "supervisor"


@dataclass(frozen=True, slots=True, kw_only=True)
class ForceReady(SupervisorEvent):
    """Supervisor forces the agent ready (强制示闲)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ForceNotReady(SupervisorEvent):
    """Supervisor forces the agent not ready (强制示忙); pending if the agent is on a call."""

    reason: str = "forced"


@dataclass(frozen=True, slots=True, kw_only=True)
class ForceLogout(SupervisorEvent):
    """Supervisor logs the agent off (强制签出); pending if the agent is on a call."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Monitor(SupervisorEvent):
    """Supervisor silently listens to the agent's current call (监听)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class BargeIn(SupervisorEvent):
    """Supervisor joins the agent's current call audibly (插入)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Intercept(SupervisorEvent):
    """Supervisor takes the agent's current call over; the agent is released (拦截)."""


# --------------------------------------------------------------------------- commands


@dataclass(frozen=True, slots=True, kw_only=True)
class Command:
    """Base of every output of the ACD."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Deliver(Command):
    """Ring ``agent_id`` with the call (sim: start ringing; live: RouteSelect/DeflectCall)."""

    call_id: str
    agent_id: str
    queue: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Retract(Command):
    """Take a ringing call back from an agent (ring-no-answer or intercept of alerting)."""

    call_id: str
    agent_id: str
    reason: str = "rona"


@dataclass(frozen=True, slots=True, kw_only=True)
class Enqueue(Command):
    """The call now waits in ``queue`` (a skill) at ``priority``."""

    call_id: str
    queue: str
    priority: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class Announce(Command):
    """Play an announcement to the waiting caller (e.g. an EWT message)."""

    call_id: str
    announcement: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Overflow(Command):
    """Route the call out of this ACD to ``destination`` (another site, voicemail, IVR)."""

    call_id: str
    destination: str


@dataclass(frozen=True, slots=True, kw_only=True)
class OfferCallback(Command):
    """Offer the caller a callback instead of waiting; the call leaves the queue."""

    call_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Disconnect(Command):
    """Release the call with a cause (e.g. ``busy``, ``closed``)."""

    call_id: str
    cause: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SetAgentState(Command):
    """The agent's state changed (or a change is now pending); the world mirrors it.

    ``pending`` is the state that will apply when the current call ends (not
    ready or logged off requested while busy), or None.
    """

    agent_id: str
    state: AgentState
    reason: str | None = None
    forced: bool = False
    pending: AgentState | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Conference(Command):
    """Add a supervisor to the agent's call: silently (monitor) or actively (barge-in)."""

    call_id: str
    supervisor: str
    mode: Literal["silent", "active"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Transfer(Command):
    """Move the call from the agent to ``destination`` (intercept by a supervisor)."""

    call_id: str
    agent_id: str
    destination: str


@dataclass(frozen=True, slots=True, kw_only=True)
class StartTimer(Command):
    """Feed back ``TimerFired(key)`` at time ``at`` (replaces a timer with the same key)."""

    key: TimerKey
    at: float


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelTimer(Command):
    """Forget the timer ``key`` if it has not fired."""

    key: TimerKey
