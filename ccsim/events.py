"""Events into the ACD and commands out of it: the contract between the worlds.

Every value here is a frozen, slotted, keyword-only value object (the h11
``_events`` style): impossible to mutate after the ACD has seen it, and
validated at construction so a bad value fails where it was made, not deep
inside a policy. They are declared like dataclasses (annotated fields, defaults,
``field(...)``) but stored as tuples (``_Value``, below) because they are made
several times per simulated call: a frozen slotted dataclass took 1.2–2 µs to
build here, a tuple 0.3 µs. Trusted producers in hot loops (the ACD's
commands, the simulation's events) build them with ``Cls._make(values)``, which
takes the field values in declaration order and skips validation.

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
``CallWithdrawn``, ``DeliveryFailed``, ``AgentLoggedOn``, ``AgentSkillsChanged``,
``AgentReady``, ``AgentNotReady``, ``AgentLoggedOff``, ``WrapUpEnded``,
``TimerFired`` and the supervisor requests ``ForceReady``, ``ForceNotReady``,
``ForceLogout``, ``Monitor``, ``BargeIn``, ``Intercept``.

Commands: ``Deliver``, ``Retract``, ``Enqueue``, ``Announce``,
``Overflow``, ``OfferCallback``, ``Disconnect``, ``SetAgentState``,
``Conference``, ``Transfer``, ``StartTimer``, ``CancelTimer``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from dataclasses import field
from enum import StrEnum
from functools import partial
from operator import itemgetter
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar, Literal, TypeAlias, TypeVar, dataclass_transform

if TYPE_CHECKING:
    from typing import Self

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
    "fields",
    "replace",
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


# --------------------------------------------------------------------------- value objects

try:  # the C accessor namedtuple uses; a property over itemgetter elsewhere
    from collections import _tuplegetter  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - other Python implementations

    def _tuplegetter(index: int, doc: str) -> Any:
        return property(itemgetter(index), doc=doc)


_tnew = tuple.__new__
_V = TypeVar("_V", bound="_Value")
_MISSING: Any = dataclasses.MISSING


def _rebuild(cls: type[_Value], values: tuple[Any, ...]) -> _Value:
    """Unpickling: the stored values are already validated."""
    return cls._make(values)


@dataclass_transform(kw_only_default=True, frozen_default=True, field_specifiers=(field,))
class _ValueMeta(type):
    """Turns a class body of annotated fields into a tuple-backed, keyword-only value class.

    Fields are the annotations of the class and its bases, base fields first.
    A default is a plain value or ``field(default=..., default_factory=...,
    hash=False)``; ``hash=False`` keeps a mapping field out of ``__hash__``. A
    class may define ``_checked(self) -> Self`` to validate (and return a
    normalised copy); the keyword constructor calls it, ``_make`` does not.
    """

    _fields: tuple[str, ...]
    _defaults: dict[str, Any]
    _factories: dict[str, Callable[[], Any]]
    _unhashed: frozenset[str]
    _hashed: tuple[int, ...]

    def __new__(mcls, name: str, bases: tuple[type, ...], ns: dict[str, Any]) -> _ValueMeta:
        names: list[str] = []
        defaults: dict[str, Any] = {}
        factories: dict[str, Callable[[], Any]] = {}
        unhashed: set[str] = set()
        for base in bases:
            if isinstance(base, _ValueMeta):
                names.extend(n for n in base._fields if n not in names)
                defaults.update(base._defaults)
                factories.update(base._factories)
                unhashed.update(base._unhashed)
        for fname in ns.get("__annotations__", {}):
            if fname.startswith("_") or fname in names:
                continue
            names.append(fname)
            spec = ns.pop(fname, _MISSING)
            if isinstance(spec, dataclasses.Field):
                if spec.default is not _MISSING:
                    defaults[fname] = spec.default
                elif spec.default_factory is not _MISSING:
                    factories[fname] = spec.default_factory  # type: ignore[assignment]
                if spec.hash is False:
                    unhashed.add(fname)
            elif spec is not _MISSING:
                defaults[fname] = spec
        ns["__slots__"] = ()
        ns["__match_args__"] = ()
        cls = super().__new__(mcls, name, bases, ns)
        cls._fields = tuple(names)
        cls._defaults = defaults
        cls._factories = factories
        cls._unhashed = frozenset(unhashed)
        cls._hashed = tuple(i for i, n in enumerate(names) if n not in unhashed)
        for i, fname in enumerate(names):
            setattr(cls, fname, _tuplegetter(i, f"field {fname!r}"))
        setattr(cls, "_make", partial(_tnew, cls))  # noqa: B010 - set on the class, not typed
        setattr(cls, "__new__", mcls._constructor(cls, names, defaults, factories))  # noqa: B010
        return cls

    @staticmethod
    def _constructor(
        owner: type, names: list[str], defaults: dict[str, Any], factories: dict[str, Any]
    ) -> Any:
        """A keyword-only ``__new__`` written out for these fields (as namedtuple does)."""
        params = []
        body = []
        for n in names:
            if n in defaults:
                params.append(f"{n}=_d[{n!r}]")
            elif n in factories:
                params.append(f"{n}=_M")
                body.append(f"    if {n} is _M: {n} = _f[{n!r}]()")
            else:
                params.append(n)
        values = "".join(f"{n}, " for n in names)
        tail = "._checked()" if hasattr(owner, "_checked") else ""
        kw = f", *, {', '.join(params)}" if params else ""
        src = "\n".join(
            [f"def __new__(_cls{kw}):", *body, f"    return _tnew(_cls, ({values})){tail}"]
        )
        scope: dict[str, Any] = {"_d": defaults, "_f": factories, "_M": _MISSING, "_tnew": _tnew}
        exec(src, scope)  # generated from field names only, as collections.namedtuple does
        fn = scope["__new__"]
        fn.__qualname__ = f"{owner.__qualname__}.__new__"
        return fn


if TYPE_CHECKING:  # to the type checker a value is a plain (dataclass-like) object
    _Storage = object
else:
    _Storage = tuple


class _Value(_Storage, metaclass=_ValueMeta):
    """Base of events and commands: equality and hashing by type and values."""

    if TYPE_CHECKING:
        _fields: ClassVar[tuple[str, ...]]

        @classmethod
        def _make(cls, values: tuple[Any, ...], /) -> Self:
            """Build from values in field order, unchecked (trusted hot loops only)."""

    def _values(self) -> tuple[Any, ...]:
        """The stored field values, in order."""
        return self  # type: ignore[return-value]

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and tuple.__eq__(self._values(), other)

    def __ne__(self, other: object) -> bool:
        return not self == other

    def __hash__(self) -> int:
        values = self._values()
        return hash((type(self).__name__, *(values[i] for i in type(self)._hashed)))

    def __repr__(self) -> str:
        pairs = zip(self._fields, self._values(), strict=True)
        return f"{type(self).__name__}({', '.join(f'{n}={v!r}' for n, v in pairs)})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), tuple(self._values())))

    def _set(self, name: str, value: Any) -> Self:
        """A copy with one field replaced, unchecked (for normalising in ``_checked``)."""
        pairs = zip(self._fields, self._values(), strict=True)
        return self._make(tuple(value if n == name else v for n, v in pairs))

    def _with(self, **changes: Any) -> Self:
        """A copy with some fields replaced (checked like a new value)."""
        values = dict(zip(self._fields, self._values(), strict=True))
        values.update(changes)
        return type(self)(**values)


def fields(value: _Value | type[_Value]) -> tuple[str, ...]:
    """The field names of an event or command (class or instance), in order."""
    return value._fields


def replace(value: _V, /, **changes: Any) -> _V:
    """A copy of an event or command with some fields changed (validated again)."""
    return value._with(**changes)


# --------------------------------------------------------------------------- events


class Event(_Value):
    """Base of every input to the ACD; ``at`` is seconds since the scenario epoch."""

    at: float

    def _checked(self) -> Self:
        _check_time("at", self.at)
        return self


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

    def _checked(self) -> Self:
        _check_time("at", self.at)
        _check_id("call_id", self.call_id)
        _check_id("service", self.service)
        if not isinstance(self.priority, int) or isinstance(self.priority, bool):
            raise ValueError(f"priority must be an int, got {self.priority!r}")
        if not isinstance(self.attributes, MappingProxyType):
            return self._set("attributes", MappingProxyType(dict(self.attributes)))
        return self


class CallAnswered(Event):
    """The agent the ACD delivered the call to picked it up."""

    call_id: str
    agent_id: str

    def _checked(self) -> Self:
        _check_time("at", self.at)
        _check_id("call_id", self.call_id)
        _check_id("agent_id", self.agent_id)
        return self


class CallEnded(Event):
    """An answered call was released (by either party); the agent moves to wrap-up."""

    call_id: str

    def _checked(self) -> Self:
        _check_time("at", self.at)
        _check_id("call_id", self.call_id)
        return self


class CallAbandoned(Event):
    """The caller hung up before an agent answered (while queued or while ringing)."""

    call_id: str

    def _checked(self) -> Self:
        _check_time("at", self.at)
        _check_id("call_id", self.call_id)
        return self


class CallWithdrawn(Event):
    """The world took the call away from the ACD before an agent answered it.

    A switch hands a call to its own default routing when the router is
    unreachable or cannot place it (link loss, nobody staffed); the caller did
    not hang up, so counting it abandoned would distort abandonment figures.
    ``reason`` says why (e.g. ``default_route``).
    """

    call_id: str
    reason: str = "default_route"

    def _checked(self) -> Self:
        _check_time("at", self.at)
        _check_id("call_id", self.call_id)
        _check_id("reason", self.reason)
        return self


class DeliveryFailed(Event):
    """The world could not ring the chosen agent (station busy, route rejected).

    The call returns to the head of its queues; the agent is made not ready.
    """

    call_id: str
    agent_id: str
    cause: str = "failed"

    def _checked(self) -> Self:
        _check_time("at", self.at)
        _check_id("call_id", self.call_id)
        _check_id("agent_id", self.agent_id)
        return self


class AgentEvent(Event):
    """Base of the events an agent (or the station on their behalf) reports."""

    agent_id: str

    def _checked(self) -> Self:
        _check_time("at", self.at)
        _check_id("agent_id", self.agent_id)
        return self


class AgentLoggedOn(AgentEvent):
    """The agent logged on with ``skills`` (skill name -> proficiency level 1..16).

    ``ready`` logs the agent straight into READY (auto-in); otherwise the agent
    starts NOT_READY with ``reason``.
    """

    skills: Mapping[str, int] = field(hash=False)
    ready: bool = False
    reason: str = "logon"

    def _checked(self) -> Self:
        _check_time("at", self.at)
        _check_id("agent_id", self.agent_id)
        return self._set("skills", _check_skills(self.skills))


class AgentSkillsChanged(AgentEvent):
    """A logged-on agent's skills are replaced at run time (dynamic configuration).

    Supervisors move agents between queues during the day to follow the
    traffic; the change takes effect for the next call, never the current one.
    """

    skills: Mapping[str, int] = field(hash=False)

    def _checked(self) -> Self:
        _check_time("at", self.at)
        _check_id("agent_id", self.agent_id)
        return self._set("skills", _check_skills(self.skills))


class AgentReady(AgentEvent):
    """The agent asks to be ready (示闲)."""


class AgentNotReady(AgentEvent):
    """The agent asks to be not ready (示忙) with a reason code (break, lunch, training)."""

    reason: str = "break"


class AgentLoggedOff(AgentEvent):
    """The agent asks to log off; if on a call, the logoff is pending until wrap-up ends."""


class WrapUpEnded(AgentEvent):
    """The agent finished after-call work before the ACD's wrap-up timer (manual end)."""


class TimerFired(Event):
    """A timer the ACD started has expired (the world feeds it back)."""

    key: TimerKey


class SupervisorEvent(AgentEvent):
    """Base of supervisor requests; ``supervisor`` names who asked (for audit and QC)."""

    supervisor: str = "supervisor"


class ForceReady(SupervisorEvent):
    """Supervisor forces the agent ready (强制示闲)."""


class ForceNotReady(SupervisorEvent):
    """Supervisor forces the agent not ready (强制示忙); pending if the agent is on a call."""

    reason: str = "forced"


class ForceLogout(SupervisorEvent):
    """Supervisor logs the agent off (强制签出); pending if the agent is on a call."""


class Monitor(SupervisorEvent):
    """Supervisor silently listens to the agent's current call (监听)."""


class BargeIn(SupervisorEvent):
    """Supervisor joins the agent's current call audibly (插入)."""


class Intercept(SupervisorEvent):
    """Supervisor takes the agent's current call over; the agent is released (拦截)."""


# --------------------------------------------------------------------------- commands


class Command(_Value):
    """Base of every output of the ACD."""


class Deliver(Command):
    """Ring ``agent_id`` with the call (sim: start ringing; live: RouteSelect/DeflectCall)."""

    call_id: str
    agent_id: str
    queue: str | None = None


class Retract(Command):
    """Take a ringing call back from an agent (ring-no-answer or intercept of alerting)."""

    call_id: str
    agent_id: str
    reason: str = "rona"


class Enqueue(Command):
    """The call now waits in ``queue`` (a skill) at ``priority``."""

    call_id: str
    queue: str
    priority: int = 0


class Announce(Command):
    """Play an announcement to the waiting caller (e.g. an EWT message)."""

    call_id: str
    announcement: str


class Overflow(Command):
    """Route the call out of this ACD to ``destination`` (another site, voicemail, IVR)."""

    call_id: str
    destination: str


class OfferCallback(Command):
    """Offer the caller a callback instead of waiting; the call leaves the queue."""

    call_id: str


class Disconnect(Command):
    """Release the call with a cause (e.g. ``busy``, ``closed``)."""

    call_id: str
    cause: str


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


class Conference(Command):
    """Add a supervisor to the agent's call: silently (monitor) or actively (barge-in)."""

    call_id: str
    supervisor: str
    mode: Literal["silent", "active"]


class Transfer(Command):
    """Move the call from the agent to ``destination`` (intercept by a supervisor)."""

    call_id: str
    agent_id: str
    destination: str


class StartTimer(Command):
    """Feed back ``TimerFired(key)`` at time ``at`` (replaces a timer with the same key)."""

    key: TimerKey
    at: float


class CancelTimer(Command):
    """Forget the timer ``key`` if it has not fired."""

    key: TimerKey
