"""Live per-service KPIs for the wallboard: today so far and a sliding 15-minute window.

``KpiTracker`` is sans-I/O like the ACD it watches: it is fed exactly what the
live binding records (each event the ACD accepted and the commands it answered
with, ``LiveACD.record_listeners``) and reads no clock — every time comes from
the events, and a query says which ACD time it is asked at. Work per event is
O(1): the window is a deque of fixed-width buckets (10 s by default) with
running totals, so a bucket leaving the window is subtracted once.

Definitions (per service; a call counts where its *outcome* happened, its
offer where it was offered):

* ``offered``: ``CallOffered``; ``answered``, ``abandoned``, ``withdrawn`` (the
  switch routed it elsewhere — no ACD outcome), ``overflowed``,
  ``disconnected``, ``callback``: how calls left the ACD;
* ``service_level``: answered within the service's target seconds divided by
  the calls with an ACD outcome (answered + abandoned + overflowed +
  disconnected + callback); a call still waiting is not counted yet, a
  withdrawn one never. ``service_level_answered``: the same over answered calls;
* ``asa``: mean wait of answered calls (offer to answer);
* ``aht``: mean handle time = talk (answer to end) + after-call work (end to the
  agent's next state change), over the calls whose talk ended in the period;
* ``longest_wait``: the oldest call of the service not yet answered or gone.

A day is ACD time ``[k·86400, (k+1)·86400)``; "today" restarts at midnight.
"""

from __future__ import annotations

import math
from collections import OrderedDict, deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ccsim import events as ev
from ccsim.events import AgentState, Command, Event

__all__ = ["KpiTracker", "ServiceKpis"]

DAY = 86_400.0

# counter slots of one bucket (a plain list of floats: cheap to add and subtract)
_OFFERED, _ANSWERED, _ABANDONED, _WITHDRAWN, _OVERFLOWED, _DISCONNECTED, _CALLBACK = range(7)
_IN_TARGET, _WAIT_SUM, _HANDLED, _TALK_SUM, _WRAP_SUM = range(7, 12)
_SLOTS = 12

_OUTCOME_SLOT = {
    ev.Overflow: _OVERFLOWED,
    ev.Disconnect: _DISCONNECTED,
    ev.OfferCallback: _CALLBACK,
}
#: agent events that end after-call work (the agent moved on); so do the ACD's own
#: ``SetAgentState`` to another state and a ``Deliver`` to the agent
_LEAVES_WRAP = (
    ev.WrapUpEnded,
    ev.AgentReady,
    ev.AgentNotReady,
    ev.AgentLoggedOff,
    ev.ForceReady,
    ev.ForceNotReady,
    ev.ForceLogout,
)


@dataclass(frozen=True, slots=True)
class ServiceKpis:
    """One service's KPIs over one period (see the module docstring for definitions)."""

    offered: int
    answered: int
    abandoned: int
    withdrawn: int
    overflowed: int
    disconnected: int
    callback: int
    answered_in_target: int
    service_level: float | None
    service_level_answered: float | None
    asa: float | None
    aht: float | None
    target_fraction: float
    target_seconds: float

    def as_dict(self) -> dict[str, Any]:
        return {f: getattr(self, f) for f in self.__slots__}


class _Window:
    """Running totals over the last ``width`` buckets of one service."""

    __slots__ = ("buckets", "totals")

    def __init__(self) -> None:
        self.buckets: deque[tuple[int, list[float]]] = deque()
        self.totals = [0.0] * _SLOTS

    def slot(self, bucket: int) -> list[float]:
        if self.buckets and self.buckets[-1][0] == bucket:
            return self.buckets[-1][1]
        row = [0.0] * _SLOTS
        self.buckets.append((bucket, row))
        return row

    def expire(self, oldest: int) -> None:
        """Drop the buckets before ``oldest`` (each is subtracted once: amortised O(1))."""
        buckets, totals = self.buckets, self.totals
        while buckets and buckets[0][0] < oldest:
            _, row = buckets.popleft()
            for i in range(_SLOTS):
                totals[i] -= row[i]


class _Service:
    __slots__ = ("day", "today", "waiting", "window")

    def __init__(self) -> None:
        self.day = -1
        self.today = [0.0] * _SLOTS
        self.window = _Window()
        #: calls not yet answered or gone, oldest first (call id -> offered at)
        self.waiting: OrderedDict[str, float] = OrderedDict()


class KpiTracker:
    """Today-so-far and sliding-window KPIs per service, fed the ACD's records.

    ``targets``: service -> (target fraction, target seconds), e.g. from
    ``ccsim.scenario.Scenario`` (``from_scenario``); a service not listed uses
    ``default_target``. ``window``: the sliding period in seconds (900);
    ``bucket``: its resolution in seconds (10): the window covers the last
    ``window / bucket`` whole buckets, the current one included.
    """

    def __init__(
        self,
        targets: Mapping[str, tuple[float, float]] | None = None,
        *,
        default_target: tuple[float, float] = (0.8, 20.0),
        window: float = 900.0,
        bucket: float = 10.0,
    ) -> None:
        if not (bucket > 0 and math.isfinite(bucket)):
            raise ValueError(f"bucket must be a finite number > 0, got {bucket!r}")
        if not (window >= bucket and math.isfinite(window)):
            raise ValueError(f"window must be finite and >= bucket ({bucket}), got {window!r}")
        self.targets = dict(targets or {})
        self.default_target = default_target
        self.window = float(window)
        self.bucket = float(bucket)
        self._width = max(1, round(window / bucket))
        self._services: dict[str, _Service] = {}
        #: open calls: call id -> [service, offered at, answered at or None]
        self._calls: dict[str, list[Any]] = {}
        #: agents in after-call work: agent -> (service, since)
        self._wrap: dict[str, tuple[str, float]] = {}
        #: call id -> agent who answered it
        self._agent_of: dict[str, str] = {}
        self.now = 0.0

    @classmethod
    def from_scenario(cls, scenario: Any, **kwargs: Any) -> KpiTracker:
        """Targets from a ``Scenario``'s services (their own or the scenario's default)."""
        default = scenario.service_level
        targets = {
            s.name: (
                (s.service_level or default).fraction,
                (s.service_level or default).seconds,
            )
            for s in scenario.services
        }
        return cls(targets, default_target=(default.fraction, default.seconds), **kwargs)

    # ------------------------------------------------------------------ feeding

    def _add(self, service: str, at: float, *values: tuple[int, float]) -> None:
        """Add ``(slot, value)`` pairs to today, the current bucket and the window's totals."""
        svc = self._services.get(service)
        if svc is None:
            svc = self._services[service] = _Service()
        day = int(at // DAY)
        if day != svc.day:
            svc.day = day
            svc.today = [0.0] * _SLOTS
        b = int(at // self.bucket)
        window = svc.window
        window.expire(b - self._width + 1)
        today, row, totals = svc.today, window.slot(b), window.totals
        for i, v in values:
            today[i] += v
            row[i] += v
            totals[i] += v

    def record(self, event: Event, commands: list[Command]) -> None:
        """One event the ACD accepted and the commands it answered with."""
        at = float(event.at)
        self.now = max(self.now, at)
        if isinstance(event, ev.CallOffered):
            self._calls[event.call_id] = [event.service, at, None]
            self._add(event.service, at, (_OFFERED, 1.0))
            self._services[event.service].waiting[event.call_id] = at
        elif isinstance(event, ev.CallAnswered):
            call = self._calls.get(event.call_id)
            if call is not None and call[2] is None:
                call[2] = at
                service = call[0]
                wait = at - call[1]
                self._services[service].waiting.pop(event.call_id, None)
                self._agent_of[event.call_id] = event.agent_id
                _, target = self.targets.get(service, self.default_target)
                self._add(
                    service,
                    at,
                    (_ANSWERED, 1.0),
                    (_WAIT_SUM, wait),
                    (_IN_TARGET, 1.0 if wait <= target else 0.0),
                )
        elif isinstance(event, ev.CallEnded):
            call = self._calls.pop(event.call_id, None)
            agent = self._agent_of.pop(event.call_id, None)
            if call is not None and call[2] is not None:
                self._add(call[0], at, (_HANDLED, 1.0), (_TALK_SUM, at - call[2]))
                if agent is not None and any(
                    isinstance(c, ev.SetAgentState)
                    and c.agent_id == agent
                    and c.state is AgentState.WORKING_AFTER_CALL
                    for c in commands
                ):
                    self._wrap[agent] = (call[0], at)
        elif isinstance(event, ev.CallAbandoned):
            self._gone(event.call_id, at, _ABANDONED)
        elif isinstance(event, ev.CallWithdrawn):
            self._gone(event.call_id, at, _WITHDRAWN)
        elif isinstance(event, _LEAVES_WRAP):
            self._end_wrap(event.agent_id, at)
        for cmd in commands:
            slot = _OUTCOME_SLOT.get(type(cmd))
            if slot is not None:
                self._gone(cmd.call_id, at, slot)  # type: ignore[attr-defined]
            elif self._wrap and (
                isinstance(cmd, ev.Deliver)
                or (
                    isinstance(cmd, ev.SetAgentState)
                    and cmd.state is not AgentState.WORKING_AFTER_CALL
                )
            ):
                self._end_wrap(cmd.agent_id, at)

    def _end_wrap(self, agent: str, at: float) -> None:
        """The agent left after-call work at ``at``: its length joins the handle time."""
        wrap = self._wrap.pop(agent, None)
        if wrap is not None:
            self._add(wrap[0], at, (_WRAP_SUM, at - wrap[1]))

    def _gone(self, call_id: str, at: float, slot: int) -> None:
        call = self._calls.pop(call_id, None)
        self._agent_of.pop(call_id, None)
        if call is None:
            return
        self._services[call[0]].waiting.pop(call_id, None)
        self._add(call[0], at, (slot, 1.0))

    # ------------------------------------------------------------------ reading

    def services(self) -> list[str]:
        return sorted(set(self._services) | set(self.targets))

    def today(self, service: str, at: float | None = None) -> ServiceKpis:
        """``service``'s KPIs since midnight of the day of ``at`` (default: the last event)."""
        t = self.now if at is None else max(at, self.now)
        svc = self._services.get(service)
        row = svc.today if svc is not None and svc.day == int(t // DAY) else [0.0] * _SLOTS
        return self._kpis(service, row)

    def last(self, service: str, at: float | None = None) -> ServiceKpis:
        """``service``'s KPIs over the sliding window ending at ``at`` (default: the last event)."""
        t = self.now if at is None else max(at, self.now)
        svc = self._services.get(service)
        if svc is None:
            return self._kpis(service, [0.0] * _SLOTS)
        svc.window.expire(int(t // self.bucket) - self._width + 1)
        return self._kpis(service, svc.window.totals)

    def longest_wait(self, service: str, at: float | None = None) -> float:
        """Seconds the service's oldest call not yet answered or gone has waited (0: none)."""
        t = self.now if at is None else max(at, self.now)
        svc = self._services.get(service)
        if svc is None or not svc.waiting:
            return 0.0
        return t - next(iter(svc.waiting.values()))

    def _kpis(self, service: str, row: list[float]) -> ServiceKpis:
        fraction, seconds = self.targets.get(service, self.default_target)
        answered = round(row[_ANSWERED])
        finished = answered + sum(
            round(row[i]) for i in (_ABANDONED, _OVERFLOWED, _DISCONNECTED, _CALLBACK)
        )
        in_target = round(row[_IN_TARGET])
        handled = round(row[_HANDLED])
        return ServiceKpis(
            offered=round(row[_OFFERED]),
            answered=answered,
            abandoned=round(row[_ABANDONED]),
            withdrawn=round(row[_WITHDRAWN]),
            overflowed=round(row[_OVERFLOWED]),
            disconnected=round(row[_DISCONNECTED]),
            callback=round(row[_CALLBACK]),
            answered_in_target=in_target,
            service_level=in_target / finished if finished else None,
            service_level_answered=in_target / answered if answered else None,
            asa=row[_WAIT_SUM] / answered if answered else None,
            aht=(row[_TALK_SUM] + row[_WRAP_SUM]) / handled if handled else None,
            target_fraction=fraction,
            target_seconds=seconds,
        )
