"""The live ACD binding: CSTA messages in, ``ccsim.acd.ACD`` events; ACD commands out, CSTA.

``Binding`` is sans-I/O, like the ACD it wraps: ``on_message(msg, at)``,
``on_timer(key, at)``, ``on_failure(...)`` and ``on_agent_state(...)`` return
*actions* (``Send`` a CSTA request, ``ArmTimer``, ``DisarmTimer``) for the
asyncio runner (``ccsim.live.acd``) to carry out. It takes no routing decision:
every route, queue, ring-no-answer and agent-state change comes from the ACD.
What it does decide is *translation*:

* ``RouteRequest`` -> ``CallOffered``; ``Deliver`` -> ``RouteSelect`` (or
  ``DeflectCall`` station -> station when the ACD retracts and redelivers a
  ringing call in one step); ``Retract`` alone -> ``DeflectCall`` back to the
  routing point, where the routeing dialogue stays open;
* ``Established`` at the delivered station -> ``CallAnswered``;
  ``ConnectionCleared`` of a talking call -> ``CallEnded``, of a ringing one
  -> ``CallAbandoned``; ``RouteEnd`` of a call still waiting -> ``CallAbandoned``
  when the caller left, ``CallWithdrawn`` when the switch took the call back
  (its reply timer); the switch's ``ReRoute`` (busy station, its own
  ring-no-answer) -> ``DeliveryFailed``;
* agent events -> agent events, *only when they tell the ACD something new*:
  an event that agrees with the ACD's view of the agent (the echo of a
  ``SetAgentState`` the binding sent, a ready agent who is merely ringing) is
  dropped. The first state event of an agent the ACD does not know logs them on
  with the scenario's skills (so a binding started after the shift began
  learns the roster from ``GetAgentState`` or from the next event);
* ACD ``SetAgentState`` -> CSTA ``SetAgentState`` only for the ACD's own
  decisions (after a timer, a failed delivery, a supervisor request) and only
  when the switch's last reported state differs: states the switch reported
  itself are never sent back;
* supervisor functions (``supervise``): ``Monitor`` / ``BargeIn`` -> the ACD's
  ``Conference`` -> ``SingleStepConferenceCall`` (``silent`` / ``active``) of
  the supervisor's station into the agent's call; ``Intercept`` -> the ACD's
  ``Transfer`` -> an active conference, then ``ClearConnection`` of the agent's
  connection (the supervisor is connected at once, nobody has to answer a
  transferred call, and the caller never hears a gap); ``ForceReady`` /
  ``ForceNotReady`` / ``ForceLogout`` -> ``SetAgentState`` (pending at the
  switch while the agent is on a call).

A request the ACD cannot answer still gets one: an ``ACDError`` on
``CallOffered`` ends the dialogue (``RouteEnd``: the switch's default routing
takes the call), ``Disconnect`` / ``OfferCallback`` reject the route
(``RouteReject``), ``Overflow`` deflects the call to its destination. A call
the ACD had taken and hands to the switch's default routing (nobody staffed,
the link lost) is ``CallWithdrawn``, never ``CallAbandoned``: only a caller
hanging up is an abandon.

Never lose a call: ``link_lost`` withdraws the calls the switch takes back when
the link goes down; after reconnection ``resync`` reconciles the ACD with the
switch's ``SnapshotDevice`` of every station and routing point: calls that
ended or went elsewhere meanwhile leave the ACD, and calls the switch's default
routing placed while nobody routed (*foreign* calls) make their agents busy
and are reported through ``on_default_routed`` (the call log records them).

Every event fed into the ACD goes to ``record`` (and ``event_to_json``), so a
session can be replayed offline (``replay``) into a fresh ACD: same commands.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ccsim import events as ev
from ccsim.acd import ACD, ACDError
from ccsim.csta import ConnectionID, DeviceID
from ccsim.csta import messages as m
from ccsim.events import AgentState, Command, Event, TimerKey

__all__ = [
    "Action",
    "AgentInfo",
    "ArmTimer",
    "Binding",
    "DisarmTimer",
    "Send",
    "SupervisorError",
    "event_from_json",
    "event_to_json",
    "replay",
]

log = logging.getLogger("ccsim.live.binding")

#: ACD agent states the switch can be asked for (RESERVED/BUSY follow calls)
_REQUESTABLE = {
    AgentState.READY: "ready",
    AgentState.NOT_READY: "notReady",
    AgentState.WORKING_AFTER_CALL: "workingAfterCall",
    AgentState.LOGGED_OFF: "loggedOff",
}
#: bound on the foreign calls tracked (calls the ACD did not route, at its stations)
_MAX_FOREIGN = 65_536
#: events whose ``SetAgentState`` commands are the ACD's own decisions (sent to the switch)
_DECISIONS = (ev.TimerFired, ev.DeliveryFailed, ev.ForceReady, ev.ForceNotReady, ev.ForceLogout)


# --------------------------------------------------------------------------- actions


@dataclass(frozen=True, slots=True)
class Send:
    """Send ``message`` to the switch; ``call_id``/``agent_id`` say what a failure concerns."""

    message: m.Request
    call_id: str | None = None
    agent_id: str | None = None
    purpose: str = ""
    xref: str | None = None  # the routeing dialogue, when the request leaves it open


@dataclass(frozen=True, slots=True)
class ArmTimer:
    """Call ``Binding.on_timer(key, at)`` at ACD time ``at``."""

    key: TimerKey
    at: float


@dataclass(frozen=True, slots=True)
class DisarmTimer:
    key: TimerKey


Action = Send | ArmTimer | DisarmTimer


class SupervisorError(Exception):
    """A supervisor function cannot be carried out (unknown agent, no call, illegal state,
    or the switch refused it); nothing was changed unless the message says so."""


@dataclass(frozen=True, slots=True)
class AgentInfo:
    """An agent of the roster: the station it works at and its skills."""

    agent_id: str
    station: str
    skills: Mapping[str, int]


@dataclass(slots=True)
class _LiveCall:
    call_id: str
    xref: str
    rp: str
    service: str
    caller: str = ""
    phase: str = "routing"  # routing | ringing | talking
    agent_id: str | None = None
    station: str | None = None  # where it rings or talks
    retracting: str | None = None  # station a Retract in this batch takes it from
    retracted_from: str | None = None  # the last station ring-no-answer took it from


@dataclass(slots=True)
class Stats:
    """Counters for logs, tests and the benchmark."""

    fed: int = 0
    rejected: int = 0
    ignored: int = 0
    sent: int = 0
    failures: int = 0
    default_routed: int = 0
    route_requests: int = 0
    #: calls the ACD had taken and handed to the switch's default routing
    withdrawn: int = 0
    #: calls found at resync that the switch routed by default (the ACD never saw them)
    foreign: int = 0
    errors: list[str] = field(default_factory=list)


class Binding:
    """Translation between one switch's CSTA dialogue and one ``ACD``.

    ``roster``: the agents (scenario ``agent_groups``) with station and skills.
    ``route_services``: routing point device -> the service of its calls.
    ``priorities``: service -> base priority (as ``ccsim.simulate`` offers it).
    ``record``: called with every event the ACD accepted and the commands it returned.
    """

    def __init__(
        self,
        acd: ACD,
        roster: Iterable[AgentInfo],
        *,
        route_services: Mapping[str, str],
        priorities: Mapping[str, int] | None = None,
        record: Callable[[Event, list[Command]], None] | None = None,
    ) -> None:
        self.acd = acd
        self.agents = {a.agent_id: a for a in roster}
        #: station -> agent id (the inverse of ``agents``; kept by ``add_agent``/``remove_agent``)
        self.agent_at = {a.station: a.agent_id for a in self.agents.values()}
        self.route_services = dict(route_services)
        self.priorities = dict(priorities or {})
        self.record = record
        self.route_register_req_ids: dict[str, str] = {}  # routing point -> registration
        self.calls: dict[str, _LiveCall] = {}
        self._xref_call: dict[str, str] = {}
        #: the switch's last reported agent state and reason
        self.switch_state: dict[str, tuple[str, str]] = {}
        self.stats = Stats()
        #: calls at our stations or routing points that the ACD did not route -> device
        self.foreign: dict[str, str] = {}
        #: called with (call_id, device, local state, at, known) for each foreign call
        #: found at resync; ``known``: the ACD had the call before the link went down
        self.on_default_routed: Callable[[str, str, str, float, bool], None] | None = None
        #: called with (call_id, at) when a foreign call leaves our devices
        self.on_foreign_ended: Callable[[str, float], None] | None = None
        self._lost: set[str] = set()  # calls withdrawn at the last link loss
        self._reported: set[str] = set()  # foreign calls given to on_default_routed

    # ------------------------------------------------------------------ inputs

    def on_message(self, msg: m.Message, at: float) -> list[Action]:
        """A message from the switch (event or request) at ACD time ``at``."""
        handler = _HANDLERS.get(type(msg))
        if handler is None:
            return []
        return handler(self, msg, at)

    def on_timer(self, key: TimerKey, at: float) -> list[Action]:
        """An ACD timer came due."""
        return self.feed(ev.TimerFired(at=self._at(at), key=key))

    def on_failure(self, action: Send, failure: str, at: float) -> list[Action]:
        """The switch refused a request we sent (or it could not be sent)."""
        self.stats.failures += 1
        log.warning("%s (%s) failed: %s", type(action.message).__name__, action.purpose, failure)
        # A RouteSelect that cannot go out means the dialogue just closed (the caller hung
        # up): the RouteEnd on its way tells the ACD. A refused DeflectCall is a delivery
        # the switch could not make.
        deflect = isinstance(action.message, m.DeflectCall)
        if action.purpose == "deliver" and deflect and action.call_id and action.agent_id:
            call = self.calls.get(action.call_id)
            if call is not None and call.agent_id == action.agent_id and call.phase == "ringing":
                return self.feed(
                    ev.DeliveryFailed(
                        at=self._at(at), call_id=call.call_id, agent_id=action.agent_id
                    )
                )
        if action.purpose == "overflow" and action.xref is not None:
            # the destination was refused: the switch's default routing rather than silence
            self.stats.default_routed += 1
            return [
                Send(
                    m.RouteEnd(cross_ref_identifier=action.xref),
                    call_id=action.call_id,
                    purpose="default-route",
                )
            ]
        return []

    def on_agent_state(self, station: str, entry: m.AgentStateEntry, at: float) -> list[Action]:
        """A ``GetAgentState`` result (start-up): learn an agent already on duty."""
        agent = self.agent_at.get(station)
        if agent is None:
            return []
        if not entry.logged_on or not entry.agent_info:
            return self._agent_report(agent, "loggedOff", "", at)
        info = entry.agent_info[0]
        state = _GET_AGENT_STATE.get(info.agent_state, info.agent_state)
        return self._agent_report(agent, state, "", at)

    def link_lost(self, at: float) -> list[Action]:
        """The link went down: the switch took back every call not yet answered.

        A switch whose router disappears routes the calls of its open dialogues
        itself (the emulator falls back to its hunt groups), so the ACD lets go of
        them: ``CallWithdrawn(reason="default_route")``, not abandoned (the caller
        did not hang up). A call ringing at an agent goes too: its ring timer and
        any redelivery would act on a dialogue that no longer exists; if it is
        still at the station at ``resync`` it is tracked as a foreign call.
        Answered calls go on; ``resync`` (after re-monitoring) checks they are
        still there. The switch's agent states are re-read then too.
        """
        out: list[Action] = []
        for call in [c for c in self.calls.values() if c.phase != "talking"]:
            self._forget(call)
            self._lost.add(call.call_id)
            out += self._withdraw(call.call_id, at)
        self.switch_state.clear()
        return out

    def resync(
        self,
        snapshots: Mapping[str, Iterable[tuple[str, str]] | None],
        at: float,
        *,
        routing: Iterable[str] = (),
    ) -> list[Action]:
        """Reconcile the ACD with the switch after (re)connection, before routing again.

        ``snapshots``: device (agent station or routing point) -> the
        ``(call_id, local connection state)`` pairs of its ``SnapshotDevice``, or
        None when the switch would not say (those devices are left alone).
        ``routing``: calls with a route request already waiting to be handled
        (queued at a routing point for the ACD, not foreign).

        * a call the ACD has at an agent that the switch no longer has there:
          talking -> ``CallEnded`` (it ended while the link was down); ringing ->
          ``CallWithdrawn``; ringing but connected at the switch -> ``CallAnswered``;
        * a call at a station or routing point the ACD did not route (the
          switch's default routing placed it, or it was withdrawn at link loss):
          tracked in ``foreign``, reported to ``on_default_routed``, and its agent,
          if the ACD has them ready, is busy on it: ``AgentNotReady(reason="busy")``;
        * a foreign call seen before that is gone now: ``on_foreign_ended``.
        """
        t = self._at(at)
        waiting = set(routing)
        seen: dict[str, tuple[str, str]] = {}
        known_devices: set[str] = set()
        for device, items in snapshots.items():
            if items is None:
                continue
            known_devices.add(device)
            for call_id, state in items:
                if not call_id:
                    continue
                # a station says more than a routing point (where the call is handled)
                if call_id not in seen or device in self.agent_at:
                    seen[call_id] = (device, state or "")
        out: list[Action] = []
        settled: list[str] = []  # agents whose call the resync ended
        for call in list(self.calls.values()):
            if call.phase == "routing" or call.station not in known_devices:
                continue
            where = seen.get(call.call_id)
            here = where is not None and where[0] == call.station
            if here and call.phase == "ringing" and where is not None:
                if where[1] == "connected" and call.agent_id is not None:
                    call.phase = "talking"
                    out += self.feed(
                        ev.CallAnswered(at=t, call_id=call.call_id, agent_id=call.agent_id)
                    )
                continue
            if here:
                continue
            self._forget(call)
            if call.agent_id is not None:
                settled.append(call.agent_id)
            if call.phase == "talking":
                out += self.feed(ev.CallEnded(at=t, call_id=call.call_id))
            else:
                out += self._withdraw(call.call_id, t, reason="link_lost")
        for call_id in [c for c, dev in self.foreign.items() if dev in known_devices]:
            if call_id not in seen or call_id in self.calls:
                self._foreign_gone(call_id, t)
        for call_id, (device, state) in seen.items():
            if call_id in self.calls or call_id in waiting:
                continue
            agent = self.agent_at.get(device)
            if agent is None and device not in self.route_services:
                continue  # not ours to account for (a supervisor's station)
            self.foreign[call_id] = device
            if call_id not in self._reported:  # (a Delivered may have shown it already)
                self._reported.add(call_id)
                known = call_id in self._lost
                if not known:
                    self.stats.foreign += 1
                log.info("call %s at %s (%s) was routed by the switch", call_id, device, state)
                if self.on_default_routed is not None:
                    self.on_default_routed(call_id, device, state, t, known)
            if agent is not None and state in ("alerting", "connected", "hold"):
                out += self._busy_elsewhere(agent, t)
        for agent in settled:
            # the switch's state (read before the snapshot) was dropped as an echo while
            # the ACD still had the call; now that it has not, it is news (end of wrap-up)
            reported = self.switch_state.get(agent)
            if reported is not None:
                out += self._agent_report(agent, reported[0], reported[1], t)
        self._lost.clear()
        return out

    def _busy_elsewhere(self, agent: str, at: float) -> list[Action]:
        """The agent has a call the ACD did not route: not available for its calls."""
        try:
            state = self.acd.agent(agent).state
        except ACDError:
            return []
        if state is AgentState.READY:
            return self.feed(ev.AgentNotReady(at=at, agent_id=agent, reason="busy"))
        return []

    def _foreign_gone(self, call_id: str, at: float) -> list[Action]:
        """A foreign call left our devices: tell the log; free an agent it kept busy.

        An agent answering a foreign call is given back by the switch's own state
        events (wrap-up, ready); one it merely rang at never is, so an agent the
        switch still reports ready gets ``AgentReady`` here.
        """
        device = self.foreign.pop(call_id, None)
        if device is None:
            return []
        self._reported.discard(call_id)
        if self.on_foreign_ended is not None:
            self.on_foreign_ended(call_id, at)
        agent = self.agent_at.get(device)
        if agent is None or self.switch_state.get(agent, ("", ""))[0] != "ready":
            return []
        if any(d == device for d in self.foreign.values()):
            return []  # another foreign call is still there
        try:
            view = self.acd.agent(agent)
        except ACDError:
            return []
        if view.state is AgentState.NOT_READY and view.reason == "busy":
            return self.feed(ev.AgentReady(at=self._at(at), agent_id=agent))
        return []

    def _withdraw(self, call_id: str, at: float, reason: str = "default_route") -> list[Action]:
        self.stats.withdrawn += 1
        return self.feed(ev.CallWithdrawn(at=self._at(at), call_id=call_id, reason=reason))

    # ------------------------------------------------------------------ supervisor

    def supervise(self, event: ev.SupervisorEvent) -> tuple[list[Command], list[Action]]:
        """A supervisor's request: the ACD's commands and the actions carrying them out.

        Unlike ``feed`` it raises ``SupervisorError`` (and changes nothing) when the
        request cannot be carried out: an agent not in the roster or not logged on,
        no answered call to monitor, barge into or intercept, a state change the
        ACD's agent model forbids.
        """
        agent = event.agent_id
        if agent not in self.agents:
            raise SupervisorError(f"unknown agent {agent!r}")
        try:
            view = self.acd.agent(agent)
        except ACDError:
            raise SupervisorError(f"agent {agent!r} is not logged on") from None
        if isinstance(event, ev.Monitor | ev.BargeIn | ev.Intercept):
            talking = [
                c for c in self.calls.values() if c.agent_id == agent and c.phase == "talking"
            ]
            if view.state is not AgentState.BUSY or not talking:
                raise SupervisorError(
                    f"agent {agent!r} is not on a call (state {view.state.value})"
                )
            if event.supervisor in (self.agents[agent].station, talking[0].caller):
                raise SupervisorError(
                    f"supervisor {event.supervisor!r} is already a party to the call"
                )
            other = self.agent_at.get(event.supervisor)
            if other is not None and self.logged_on(other):
                # the ACD may deliver calls there any moment: not a supervisor's phone now
                raise SupervisorError(
                    f"station {event.supervisor!r} belongs to agent {other!r}, who is logged on"
                )
        elif view.state is AgentState.LOGGED_OFF:
            raise SupervisorError(f"agent {agent!r} is not logged on")
        elif view.state is AgentState.RESERVED and not isinstance(event, ev.ForceReady):
            # the ACD would make it pending on a call that is only ringing, which a
            # switch (with no reserved state) applies at once, under the ringing call
            raise SupervisorError(
                f"agent {agent!r} is being offered a call: try again once it is answered"
            )
        event = ev.replace(event, at=self._at(event.at))
        try:
            commands = self.acd.handle(event)
        except ACDError as exc:
            raise SupervisorError(f"agent {agent!r}: {exc}") from None
        self.stats.fed += 1
        if self.record is not None:
            self.record(event, commands)
        to_switch = commands
        if isinstance(event, ev.ForceNotReady):
            # the ACD keeps a pending state's reason to itself; the switch needs it too,
            # to report it when the pending state applies at the end of the call
            to_switch = [
                ev.replace(c, reason=event.reason)
                if isinstance(c, ev.SetAgentState) and c.pending is AgentState.NOT_READY
                else c
                for c in commands
            ]
        # an intercepted agent's next state follows the switch (its connection clears
        # there, as at any call end), so only forced states are sent
        return commands, self.execute(to_switch, decision=not isinstance(event, ev.Intercept))

    def add_agent(self, info: AgentInfo) -> None:
        """Put an agent in the roster (run-time change): its station's events now count."""
        self.agents[info.agent_id] = info
        self.agent_at[info.station] = info.agent_id

    def remove_agent(self, agent_id: str) -> AgentInfo | None:
        """Take an agent out of the roster; its station's events are ignored from now on."""
        info = self.agents.pop(agent_id, None)
        if info is not None:
            self.agent_at.pop(info.station, None)
            self.switch_state.pop(agent_id, None)
        return info

    def logged_on(self, agent: str) -> bool:
        """Whether the ACD has ``agent`` logged on (in any state)."""
        try:
            return self.acd.agent(agent).state is not AgentState.LOGGED_OFF
        except ACDError:
            return False

    # ------------------------------------------------------------------ feeding

    def _at(self, at: float) -> float:
        return max(float(at), self.acd.now)

    def feed(self, event: Event) -> list[Action]:
        """Hand one event to the ACD (recording it) and translate its commands."""
        try:
            commands = self.acd.handle(event)
        except ACDError as exc:
            self.stats.rejected += 1
            log.warning("ACD rejected %r: %s", event, exc)
            self.stats.errors.append(str(exc))
            del self.stats.errors[:-20]
            if isinstance(event, ev.CallOffered):
                return self._default_route(event.call_id)
            return []
        self.stats.fed += 1
        if self.record is not None:
            self.record(event, commands)
        return self.execute(commands, decision=isinstance(event, _DECISIONS))

    def execute(self, commands: list[Command], *, decision: bool = False) -> list[Action]:
        """Translate a batch of ACD commands (``decision``: SetAgentStates go to the switch)."""
        out: list[Action] = []
        retracting: list[_LiveCall] = []
        for cmd in commands:
            t = type(cmd)
            if t is ev.Deliver:
                self._deliver(cmd, out)  # type: ignore[arg-type]
            elif t is ev.StartTimer:
                if math.isfinite(cmd.at):  # type: ignore[attr-defined]
                    out.append(ArmTimer(cmd.key, cmd.at))  # type: ignore[attr-defined]
            elif t is ev.CancelTimer:
                out.append(DisarmTimer(cmd.key))  # type: ignore[attr-defined]
            elif t is ev.Enqueue:
                pass  # the call stays held at its routing point (the dialogue is open)
            elif t is ev.Retract:
                call = self.calls.get(cmd.call_id)  # type: ignore[attr-defined]
                if call is not None and call.station is not None:
                    call.retracting = call.retracted_from = call.station
                    call.phase, call.agent_id, call.station = "routing", None, None
                    retracting.append(call)
            elif t is ev.SetAgentState:
                if decision:
                    self._set_agent_state(cmd, out)  # type: ignore[arg-type]
            elif t in (ev.Disconnect, ev.OfferCallback):
                call = self.calls.pop(cmd.call_id, None)  # type: ignore[attr-defined]
                if call is not None:
                    self._xref_call.pop(call.xref, None)
                    cause = getattr(cmd, "cause", "callback")
                    out.append(
                        Send(
                            m.RouteReject(
                                cross_ref_identifier=call.xref,
                                route_register_req_id=self._req_id(call.rp),
                                reject_cause=cause,
                            ),
                            call_id=call.call_id,
                            purpose="reject",
                        )
                    )
            elif t is ev.Overflow:
                call = self.calls.pop(cmd.call_id, None)  # type: ignore[attr-defined]
                if call is not None:
                    self._xref_call.pop(call.xref, None)
                    out.append(
                        Send(
                            m.DeflectCall(
                                call_to_be_diverted=ConnectionID(call.call_id, DeviceID(call.rp)),
                                new_destination=DeviceID(cmd.destination),  # type: ignore[attr-defined]
                            ),
                            call_id=call.call_id,
                            purpose="overflow",
                            xref=call.xref,
                        )
                    )
            elif t is ev.Conference:
                self._conference(cmd, out)  # type: ignore[arg-type]
            elif t is ev.Transfer:
                self._intercept(cmd, out)  # type: ignore[arg-type]
            else:  # Announce: the switch plays no announcements for the ACD
                log.info("ACD command not carried out live: %r", cmd)
        for call in retracting:
            if call.retracting is not None:  # taken back and not redelivered: to the routing point
                out.append(
                    Send(
                        m.DeflectCall(
                            call_to_be_diverted=ConnectionID(
                                call.call_id, DeviceID(call.retracting)
                            ),
                            new_destination=DeviceID(call.rp),
                        ),
                        call_id=call.call_id,
                        purpose="retract",
                    )
                )
                call.retracting = None
        self.stats.sent += sum(1 for a in out if isinstance(a, Send))
        return out

    def _req_id(self, rp: str) -> str | None:
        return self.route_register_req_ids.get(rp) or self.route_register_req_ids.get("")

    def _deliver(self, cmd: ev.Deliver, out: list[Action]) -> None:
        call = self.calls.get(cmd.call_id)
        info = self.agents.get(cmd.agent_id)
        if call is None or info is None:
            log.warning("Deliver for an unknown call or agent: %r", cmd)
            return
        call.phase, call.agent_id, call.station = "ringing", cmd.agent_id, info.station
        if call.retracting is not None:
            frm, call.retracting = call.retracting, None
            msg: m.Request = m.DeflectCall(
                call_to_be_diverted=ConnectionID(call.call_id, DeviceID(frm)),
                new_destination=DeviceID(info.station),
            )
        else:
            msg = m.RouteSelect(
                cross_ref_identifier=call.xref,
                route_register_req_id=self._req_id(call.rp),
                route_selected=DeviceID(info.station),
            )
        out.append(Send(msg, call_id=call.call_id, agent_id=cmd.agent_id, purpose="deliver"))

    def _set_agent_state(self, cmd: ev.SetAgentState, out: list[Action]) -> None:
        requested = _REQUESTABLE.get(cmd.pending or cmd.state)
        info = self.agents.get(cmd.agent_id)
        if requested is None or info is None:
            return
        reason = (cmd.reason or "") if (cmd.pending or cmd.state) is AgentState.NOT_READY else ""
        known = self.switch_state.get(cmd.agent_id)
        if known is not None and known == (requested, reason):
            return
        self.switch_state[cmd.agent_id] = (requested, reason)  # expected; the echo confirms
        out.append(
            Send(
                m.SetAgentState(
                    device=DeviceID(info.station),
                    requested_agent_state=requested,
                    agent_id=cmd.agent_id,
                    private_data=(("reasonCode", reason),) if reason else (),
                ),
                agent_id=cmd.agent_id,
                purpose="agent-state",
            )
        )

    def _conference(self, cmd: ev.Conference, out: list[Action]) -> None:
        call = self.calls.get(cmd.call_id)
        if call is None or call.station is None:
            log.warning("Conference for a call not at a station: %r", cmd)
            return
        out.append(
            Send(
                m.SingleStepConferenceCall(
                    active_call=ConnectionID(call.call_id, DeviceID(call.station)),
                    device_to_join=DeviceID(cmd.supervisor),
                    participation_type=cmd.mode,
                ),
                call_id=call.call_id,
                agent_id=call.agent_id,
                purpose="monitor" if cmd.mode == "silent" else "barge-in",
            )
        )

    def _intercept(self, cmd: ev.Transfer, out: list[Action]) -> None:
        """The supervisor takes the call: join actively, then clear the agent's connection.

        From here the call is the supervisor's: the agent's ConnectionCleared is
        ignored, and the call ends for the ACD when the caller or the supervisor
        leaves (the runner monitors the supervisor's station).
        """
        call = self.calls.get(cmd.call_id)
        if call is None or call.station is None:
            log.warning("Transfer for a call not at a station: %r", cmd)
            return
        agent_conn = ConnectionID(call.call_id, DeviceID(call.station))
        out.append(
            Send(
                m.SingleStepConferenceCall(
                    active_call=agent_conn,
                    device_to_join=DeviceID(cmd.destination),
                    participation_type="active",
                ),
                call_id=call.call_id,
                agent_id=cmd.agent_id,
                purpose="intercept",
            )
        )
        out.append(
            Send(
                m.ClearConnection(connection_to_be_cleared=agent_conn),
                call_id=call.call_id,
                agent_id=cmd.agent_id,
                purpose="intercept-clear",
            )
        )
        call.agent_id = call.station = cmd.destination

    def _default_route(self, call_id: str) -> list[Action]:
        """The ACD could not take the call: end the dialogue, the switch routes by default."""
        call = self.calls.pop(call_id, None)
        if call is None:
            return []
        self._xref_call.pop(call.xref, None)
        self.stats.default_routed += 1
        return [
            Send(
                m.RouteEnd(
                    cross_ref_identifier=call.xref,
                    route_register_req_id=self._req_id(call.rp),
                ),
                call_id=call_id,
                purpose="default-route",
            )
        ]

    def _forget(self, call: _LiveCall) -> None:
        self.calls.pop(call.call_id, None)
        self._xref_call.pop(call.xref, None)

    def _ignore(self, what: str, *args: object) -> list[Action]:
        self.stats.ignored += 1
        log.debug("ignored: " + what, *args)
        return []

    # ------------------------------------------------------------------ routeing dialogue

    def _route_request(self, msg: m.RouteRequest, at: float) -> list[Action]:
        self.stats.route_requests += 1
        xref = msg.cross_ref_identifier
        conn = msg.routed_call
        rp = msg.routeing_device.number if msg.routeing_device is not None else ""
        if conn is None or not conn.call_id:
            log.warning("RouteRequest %s without a routed call: ending it", xref)
            return [Send(m.RouteEnd(cross_ref_identifier=xref), purpose="default-route")]
        call_id = conn.call_id
        private = dict(msg.private_data)
        service = private.pop("service", "") or self.route_services.get(rp) or rp
        if call_id in self.calls:  # a second dialogue for a call we hold: the newer wins
            self._forget(self.calls[call_id])
        caller = msg.calling_device.number if msg.calling_device is not None else ""
        call = _LiveCall(call_id=call_id, xref=xref, rp=rp, service=service, caller=caller)
        self.calls[call_id] = call
        self._xref_call[xref] = call_id
        point = rp if rp in self.acd.config.scripts else None
        try:
            offered = ev.CallOffered(
                at=self._at(at),
                call_id=call_id,
                service=service,
                routing_point=point,
                priority=self.priorities.get(service, 0),
                attributes={k: v for k, v in private.items() if isinstance(v, str)},
            )
        except ValueError as exc:
            log.warning("RouteRequest %s: %s", xref, exc)
            return self._default_route(call_id)
        actions = self.feed(offered)
        if call_id in self.calls and self._unstaffed(call_id):
            # No agent logged on for any queue the call waits in and no script step to
            # come: the ACD cannot answer it. Withdraw it (CallWithdrawn: the caller did
            # not hang up) and let the switch's default routing take it, never silence.
            actions += self._withdraw(call_id, self.acd.now)
            actions += self._default_route(call_id)
        return actions

    def _unstaffed(self, call_id: str) -> bool:
        try:
            call = self.acd.call(call_id)
        except ACDError:
            return False
        if call.phase != "queued" or call.script_waiting:
            return False
        return all(self.acd.queue(q).staffed == 0 for q in call.queues)

    def _reroute(self, msg: m.ReRoute, at: float) -> list[Action]:
        call = self._call_of(msg.cross_ref_identifier)
        if call is None:
            return self._ignore("ReRoute for unknown dialogue %s", msg.cross_ref_identifier)
        if call.phase != "ringing" or call.agent_id is None:
            return self._ignore("ReRoute of call %s not ringing", call.call_id)
        agent = call.agent_id
        call.phase, call.agent_id, call.station = "routing", None, None
        return self.feed(
            ev.DeliveryFailed(
                at=self._at(at), call_id=call.call_id, agent_id=agent, cause="reroute"
            )
        )

    def _route_end(self, msg: m.RouteEnd, at: float) -> list[Action]:
        call = self._call_of(msg.cross_ref_identifier)
        if call is None:
            return []  # a call we already finished (answered and ended, overflowed, rejected)
        self._forget(call)
        if call.phase == "talking":
            return self.feed(ev.CallEnded(at=self._at(at), call_id=call.call_id))
        error = msg.error_value.value if msg.error_value is not None else ""
        if error and error != "invalidCallID":
            # the switch took the call back (its reply timer, ...): its default route
            log.warning("switch took call %s back (%s)", call.call_id, error)
            return self._withdraw(call.call_id, at)
        # no error, or the call is gone: the caller hung up while waiting
        return self.feed(ev.CallAbandoned(at=self._at(at), call_id=call.call_id))

    def _call_of(self, xref: str) -> _LiveCall | None:
        cid = self._xref_call.get(xref)
        return None if cid is None else self.calls.get(cid)

    # ------------------------------------------------------------------ call events

    def _delivered(self, msg: m.DeliveredEvent, at: float) -> list[Action]:
        """A call rings at a station: news only if the ACD did not route it there.

        Such a call (the switch's default routing, a direct call) keeps the agent
        from the ACD's calls: ``AgentNotReady(reason="busy")`` if the ACD has them
        ready, until the switch reports them ready again or the call leaves.
        """
        conn = msg.connection
        call_id = conn.call_id or ""
        dev = msg.alerting_device.number if msg.alerting_device is not None else ""
        dev = dev or (conn.device_id.number if conn.device_id is not None else "")
        agent = self.agent_at.get(dev)
        if agent is None or not call_id or call_id in self.calls:
            return []
        self.foreign[call_id] = dev
        if len(self.foreign) > _MAX_FOREIGN:  # ends we never saw must not grow it forever
            self._reported.discard(next(iter(self.foreign)))
            del self.foreign[next(iter(self.foreign))]
        return self._busy_elsewhere(agent, self._at(at))

    def _established(self, msg: m.EstablishedEvent, at: float) -> list[Action]:
        conn = msg.established_connection
        call = self.calls.get(conn.call_id or "")
        if call is None:
            return self._ignore("Established for unknown call %s", conn.call_id)
        dev = msg.answering_device.number if msg.answering_device is not None else ""
        dev = dev or (conn.device_id.number if conn.device_id is not None else "")
        if dev and dev == call.retracted_from and dev != call.station:
            # answered just as the ACD's ring timer took it back: the switch connected it,
            # so the ACD lets go of the call (withdrawn: the caller did not hang up)
            # instead of routing a call that is already talking; the agent's not-ready
            # is pending at the switch
            log.warning("call %s answered at %s as it was retracted", call.call_id, dev)
            self._forget(call)
            return self._withdraw(call.call_id, at, reason="answered_on_retract")
        if call.phase != "ringing" or dev != call.station or call.agent_id is None:
            return self._ignore("Established of call %s at %s", call.call_id, dev)
        call.phase = "talking"
        return self.feed(
            ev.CallAnswered(at=self._at(at), call_id=call.call_id, agent_id=call.agent_id)
        )

    def _cleared(self, msg: m.ConnectionClearedEvent, at: float) -> list[Action]:
        conn = msg.dropped_connection
        call = self.calls.get(conn.call_id or "")
        if call is None:
            if conn.call_id in self.foreign:  # a default-routed call ends (or leaves us)
                return self._foreign_gone(conn.call_id or "", at)
            return self._ignore("ConnectionCleared for unknown call %s", conn.call_id)
        dropped = conn.device_id.number if conn.device_id is not None else ""
        if dropped not in (call.station, call.caller):
            # another party left (a supervisor's silent monitor, a consulted station)
            return self._ignore("ConnectionCleared of %s in call %s", dropped, call.call_id)
        self._forget(call)
        if call.phase == "talking":
            return self.feed(ev.CallEnded(at=self._at(at), call_id=call.call_id))
        # not answered: the caller hung up (the ACD learns it here first, not at RouteEnd)
        return self.feed(ev.CallAbandoned(at=self._at(at), call_id=call.call_id))

    # ------------------------------------------------------------------ agents

    def _agent_event(self, msg: m.Event, at: float) -> list[Action]:
        dev = getattr(msg, "agent_device", None)
        station = dev.number if dev is not None else ""
        agent = self.agent_at.get(station)
        if agent is None:
            return self._ignore("agent event for unknown station %s", station)
        state = _AGENT_EVENT_STATE[type(msg)]
        reason = dict(msg.private_data).get("reasonCode", "") if state == "notReady" else ""
        forced = getattr(msg, "agent_state_condition", None) == "forcedPause"
        return self._agent_report(agent, state, reason, at, forced=forced)

    def _agent_report(
        self, agent: str, state: str, reason: str, at: float, *, forced: bool = False
    ) -> list[Action]:
        """The switch says ``agent`` is in ``state``: feed the ACD only what is news to it."""
        self.switch_state[agent] = (state, reason)
        try:
            view = self.acd.agent(agent)
            have: AgentState | None = view.state
        except ACDError:
            have = None
        if have is AgentState.LOGGED_OFF:
            have = None
        t = self._at(at)
        if state == "loggedOn":
            return []  # the state event that follows says ready or not ready
        if have is None:
            if state in ("ready", "notReady"):
                info = self.agents[agent]
                return self.feed(
                    ev.AgentLoggedOn(
                        at=t,
                        agent_id=agent,
                        skills=info.skills,
                        ready=state == "ready",
                        reason=reason or "logon",
                    )
                )
            if state in ("busy", "workingAfterCall"):  # on a call we never saw: not available
                info = self.agents[agent]
                return self.feed(
                    ev.AgentLoggedOn(at=t, agent_id=agent, skills=info.skills, reason=state)
                )
            return []
        if state == "loggedOff":
            return self.feed(ev.AgentLoggedOff(at=t, agent_id=agent))
        if state == "ready":
            if have in (AgentState.READY, AgentState.RESERVED, AgentState.BUSY):
                return []  # echo, or a ready agent merely ringing / just answering
            if have is AgentState.WORKING_AFTER_CALL:
                return self.feed(ev.WrapUpEnded(at=t, agent_id=agent))
            return self.feed(ev.AgentReady(at=t, agent_id=agent))
        if state == "notReady":
            if have is AgentState.NOT_READY and view.reason == (reason or view.reason):
                return []  # echo of our own request (or a repeat)
            cls = ev.ForceNotReady if forced else ev.AgentNotReady
            return self.feed(cls(at=t, agent_id=agent, reason=reason or "break"))
        if state == "busy":
            if have is AgentState.READY:  # busy on a call the ACD did not route
                return self.feed(ev.AgentNotReady(at=t, agent_id=agent, reason="busy"))
            return []
        return []  # workingAfterCall: the ACD moved there itself at CallEnded


_AGENT_EVENT_STATE: dict[type[m.Message], str] = {
    m.AgentLoggedOnEvent: "loggedOn",
    m.AgentLoggedOffEvent: "loggedOff",
    m.AgentReadyEvent: "ready",
    m.AgentNotReadyEvent: "notReady",
    m.AgentBusyEvent: "busy",
    m.AgentWorkingAfterCallEvent: "workingAfterCall",
}

#: GetAgentState's ECMA-269 agent states -> the names the agent events use
_GET_AGENT_STATE = {
    "agentNull": "loggedOff",
    "agentNotReady": "notReady",
    "agentReady": "ready",
    "agentBusy": "busy",
    "agentWorkingAfterCall": "workingAfterCall",
}

_HANDLERS: dict[type[m.Message], Callable[[Binding, Any, float], list[Action]]] = {
    m.RouteRequest: Binding._route_request,
    m.ReRoute: Binding._reroute,
    m.RouteEnd: Binding._route_end,
    m.DeliveredEvent: Binding._delivered,
    m.EstablishedEvent: Binding._established,
    m.ConnectionClearedEvent: Binding._cleared,
    **dict.fromkeys(_AGENT_EVENT_STATE, Binding._agent_event),
}


# --------------------------------------------------------------------------- recording, replay

_EVENT_TYPES: dict[str, type[Event]] = {
    name: obj
    for name, obj in vars(ev).items()
    if isinstance(obj, type) and issubclass(obj, Event) and obj is not Event
}


def event_to_json(event: Event) -> dict[str, Any]:
    """One ACD event as plain JSON data (``type`` plus its fields)."""
    out: dict[str, Any] = {"type": type(event).__name__}
    for name in ev.fields(event):
        value = getattr(event, name)
        if isinstance(value, Mapping):
            value = dict(value)
        elif isinstance(value, tuple):
            value = list(value)
        out[name] = value
    return out


def event_from_json(data: Mapping[str, Any]) -> Event:
    """Inverse of ``event_to_json``; an unknown type raises ValueError."""
    kw = dict(data)
    cls = _EVENT_TYPES.get(kw.pop("type", ""))
    if cls is None:
        raise ValueError(f"unknown ACD event type {data.get('type')!r}")
    if "key" in kw:
        kw["key"] = tuple(kw["key"])
    return cls(**kw)


def replay(acd: ACD, events: Iterable[Event]) -> list[Command]:
    """Feed recorded events into ``acd`` (a fresh one); all commands, in order.

    An event the ACD rejects is skipped, as the live binding skipped it (the
    recording holds only accepted events, so none should be).
    """
    out: list[Command] = []
    for event in events:
        out.extend(acd.handle(event))
    return out
