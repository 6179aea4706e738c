"""Supervisor functions of the live ACD, end to end against the emulator.

The effect of each function is proved by what the *switch* reports to an
independent CSTA client (``Watcher``) monitoring the supervisor's station and
the agents' stations — the conference with its participation type, the
cleared agent connection, the forced agent-state events — and by the switch's
own device state, not by the ACD's view of itself.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

import pytest
from livehelp import Pair, live_pair

from ccsim.csta import ConnectionID, DeviceID, EventReceived
from ccsim.csta import messages as m
from ccsim.errors import ACDError
from ccsim.events import (
    AgentLoggedOn,
    AgentState,
    CallAnswered,
    CallEnded,
    CallOffered,
    Deliver,
    ForceLogout,
    ForceNotReady,
    Intercept,
)
from ccsim.live.acd import SupervisorError, live_acd, roster
from ccsim.live.binding import Binding, Send, replay
from ccsim.live.emulator import SwitchOptions
from ccsim.live.link import CstaClient
from ccsim.scenario import Scenario

DESK = """
name = "desk"
skills = ["sales"]

[[services]]
name = "sales"
routing_point = "sales"
aht = { kind = "deterministic", value = 5000 }
wrap_up = 5
patience = 5000

[[routing_points]]
name = "sales"
steps = [{ op = "queue", queue = "sales" }]

[[agent_groups]]
name = "desk"
size = 2
stations = ["301", "302"]
skills = { sales = 1 }

[timing]
ring_timeout = 20
"""

SUP = "9001"  # a plain station of the emulator (supervisors' phones)
QUIET = SwitchOptions(ring_time=2.0, route_timeout=0.0, routed_ring_timeout=0.0, arrivals=())


def desk() -> Scenario:
    """Two sales agents, calls that last until someone hangs up (5,000 s talk)."""
    return Scenario.from_toml_string(DESK, "desk.toml")


def run(coro: Coroutine[Any, Any, None]) -> None:
    asyncio.run(asyncio.wait_for(coro, 20))


class Watcher:
    """An independent CSTA client monitoring stations: the switch's word on what happened."""

    def __init__(self, port: int) -> None:
        self.client = CstaClient("127.0.0.1", port, reconnect=False)
        self.events: list[m.Event] = []
        self.xref: dict[str, str] = {}  # monitor cross reference -> station
        self._task: asyncio.Task[None] | None = None

    async def start(self, *stations: str) -> None:
        await self.client.start()
        self._task = asyncio.create_task(self._read())
        for st in stations:
            resp = await self.client.request(m.MonitorStart(device=DeviceID(st)))
            assert isinstance(resp, m.MonitorStartResponse)
            self.xref[resp.monitor_cross_ref_id] = st

    async def _read(self) -> None:
        async for item in self.client.events():
            if isinstance(item, EventReceived):
                self.events.append(item.message)

    def at(self, station: str, kind: type[m.Event]) -> list[Any]:
        """Events of ``kind`` reported to the monitor of ``station``."""
        return [
            e
            for e in self.events
            if isinstance(e, kind)
            and self.xref.get(getattr(e, "monitor_cross_ref_id", "")) == station
        ]

    async def close(self) -> None:
        await self.client.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


@contextlib.asynccontextmanager
async def desk_pair(*stations: str) -> AsyncIterator[tuple[Pair, Watcher]]:
    async with live_pair(desk(), speed=200.0, options=QUIET) as p:
        w = Watcher(p.pbx.port)
        await w.start(*stations)
        try:
            yield p, w
        finally:
            await w.close()


async def wait(p: Pair, cond: Callable[[], bool], sim_seconds: float = 60) -> None:
    await p.until(cond, sim_seconds)


async def answered_call(p: Pair, n: int = 1) -> tuple[str, str]:
    """Offer one call; (call id, agent) once the ACD has seen the ``n``-th answer."""
    p.pbx.inject_call("sales")
    await wait(p, lambda: len(p.fed(CallAnswered)) >= n)
    e = p.fed(CallAnswered)[n - 1]
    return e.call_id, e.agent_id


def state(p: Pair, agent: str) -> AgentState:
    """The agent's state in the ACD (which forgets agents who logged off)."""
    try:
        return p.live.acd.agent(agent).state
    except ACDError:
        return AgentState.LOGGED_OFF


def hang_up(p: Pair, call_id: str, station: str) -> None:
    """``station`` leaves the call at the switch (as its user would)."""
    p.pbx.switch.clear_call_connection(ConnectionID(call_id, DeviceID(station)))
    p.pbx.clock.poke()


def test_monitor_is_silent_and_ends_with_the_call() -> None:
    async def go() -> None:
        async with desk_pair(SUP) as (p, w):
            call_id, agent = await answered_call(p)
            res = await p.live.monitor(SUP, agent)
            assert (res.function, res.call_id, res.state) == ("Monitor", call_id, "busy")
            await wait(p, lambda: bool(w.at(SUP, m.ConferencedEvent)))
            conf = w.at(SUP, m.ConferencedEvent)[0]
            assert conf.cause == "silentParticipation"
            assert conf.added_party.number == SUP
            assert conf.primary_old_call.call_id == call_id
            assert SUP in p.pbx.switch.calls[call_id].silent
            # a silent monitor does not keep the call: the agent hangs up, all is cleared
            hang_up(p, call_id, agent)
            await wait(p, lambda: len(p.fed(CallEnded)) == 1)
            await wait(p, lambda: bool(w.at(SUP, m.ConnectionClearedEvent)))
            assert call_id not in p.pbx.switch.calls
            assert p.live.binding.stats.rejected == 0

    run(go())


def test_barge_in_is_an_active_party() -> None:
    async def go() -> None:
        async with desk_pair(SUP) as (p, w):
            call_id, agent = await answered_call(p)
            res = await p.live.barge_in(SUP, agent)
            assert res.call_id == call_id
            await wait(p, lambda: bool(w.at(SUP, m.ConferencedEvent)))
            assert w.at(SUP, m.ConferencedEvent)[0].cause == "activeParticipation"
            call = p.pbx.switch.calls[call_id]
            assert call.conns[SUP] == "connected" and SUP not in call.silent
            # the agent leaves: for the ACD the agent's call ended, at the switch the
            # caller and the supervisor still talk
            hang_up(p, call_id, agent)
            await wait(p, lambda: len(p.fed(CallEnded)) == 1)
            assert call_id in p.pbx.switch.calls
            assert p.pbx.switch.calls[call_id].conns[SUP] == "connected"

    run(go())


def test_intercept_hands_the_call_to_the_supervisor() -> None:
    async def go() -> None:
        async with desk_pair(SUP, "301", "302") as (p, w):
            call_id, agent = await answered_call(p)
            res = await p.live.intercept(SUP, agent)
            assert res.call_id == call_id and res.state == "workingAfterCall"
            # the switch: supervisor joined actively, then the agent's connection cleared
            await wait(p, lambda: bool(w.at(agent, m.ConnectionClearedEvent)))
            assert w.at(SUP, m.ConferencedEvent)[0].cause == "activeParticipation"
            dropped = w.at(agent, m.ConnectionClearedEvent)[0].dropped_connection
            assert dropped.device_id.number == agent and dropped.call_id == call_id
            conns = p.pbx.switch.calls[call_id].conns
            assert SUP in conns and agent not in conns
            assert p.fed(CallEnded) == []  # the call goes on, now the supervisor's
            # the agent is free: wrap-up at the switch, then ready, and takes the next call
            await wait(p, lambda: p.live.acd.agent(agent).state is AgentState.READY)
            other = "302" if agent == "301" else "301"
            p.pbx.switch.set_agent(p.station(other), "agentNotReady", reason="lunch")
            p.pbx.clock.poke()
            await wait(p, lambda: p.live.acd.agent(other).state is AgentState.NOT_READY)
            call2, agent2 = await answered_call(p, 2)
            assert agent2 == agent and call2 != call_id
            # the supervisor hangs up: the intercepted call ends for the ACD
            hang_up(p, call_id, SUP)
            await wait(p, lambda: len(p.fed(CallEnded)) == 1)
            assert p.fed(CallEnded)[0].call_id == call_id
            assert p.live.acd.agent(agent).call_id == call2
            # the session, supervisor request included, replays offline to the same commands
            events = [e for e, _ in p.log]
            assert any(isinstance(e, Intercept) for e in events)
            assert replay(live_acd(desk()), events) == [c for _, cs in p.log for c in cs]

    run(go())


def test_force_not_ready_then_ready() -> None:
    async def go() -> None:
        async with desk_pair("301", "302") as (p, w):
            res = await p.live.force_not_ready("301", "boss", "coaching")
            assert (res.state, res.pending) == ("notReady", None)
            await wait(p, lambda: bool(w.at("301", m.AgentNotReadyEvent)))
            nr = w.at("301", m.AgentNotReadyEvent)[0]
            assert dict(nr.private_data).get("reasonCode") == "coaching"
            assert p.station("301").state == "agentNotReady"
            # two calls: 302 takes one, the other waits rather than go to 301
            await answered_call(p)
            p.pbx.inject_call("sales")
            await wait(p, lambda: p.live.acd.queue("sales").length == 1)
            await asyncio.sleep(0.2)  # 40 simulated seconds: long enough to ring 301
            assert all(d.agent_id == "302" for d in p.commands(Deliver))
            assert not p.station("301").calls
            # force ready: the switch reports it, and the waiting call goes to 301
            res = await p.live.force_ready("301", "boss")
            await wait(p, lambda: bool(w.at("301", m.AgentReadyEvent)))
            await wait(p, lambda: len(p.fed(CallAnswered)) == 2)
            assert p.fed(CallAnswered)[1].agent_id == "301"
            assert p.live.binding.stats.rejected == 0

    run(go())


def test_force_logout_while_on_a_call_is_pending() -> None:
    async def go() -> None:
        async with desk_pair("301", "302") as (p, w):
            call_id, agent = await answered_call(p)
            res = await p.live.force_logout(agent, "boss")
            assert (res.state, res.pending) == ("busy", "loggedOff")
            await asyncio.sleep(0.1)
            assert p.station(agent).state == "agentBusy"  # still talking at the switch
            assert not w.at(agent, m.AgentLoggedOffEvent)
            hang_up(p, call_id, agent)
            await wait(p, lambda: bool(w.at(agent, m.AgentLoggedOffEvent)))
            assert p.station(agent).state == "agentNull"
            await wait(p, lambda: state(p, agent) is AgentState.LOGGED_OFF)
            assert p.live.acd.queue("sales").staffed == 1

    run(go())


def test_force_not_ready_while_on_a_call_is_pending() -> None:
    async def go() -> None:
        async with desk_pair("301", "302") as (p, w):
            call_id, agent = await answered_call(p)
            res = await p.live.force_not_ready(agent, "boss", "meeting")
            assert res.pending == "notReady"
            hang_up(p, call_id, agent)
            await wait(p, lambda: bool(w.at(agent, m.AgentNotReadyEvent)))
            nr = w.at(agent, m.AgentNotReadyEvent)[-1]
            assert dict(nr.private_data).get("reasonCode") == "meeting"
            view = p.live.acd.agent(agent)
            assert (view.state, view.reason) == (AgentState.NOT_READY, "meeting")

    run(go())


def test_supervisor_errors_change_nothing() -> None:
    async def go() -> None:
        async with desk_pair("301", "302") as (p, w):
            with pytest.raises(SupervisorError, match="unknown agent"):
                await p.live.monitor(SUP, "999")
            with pytest.raises(SupervisorError, match="not on a call"):
                await p.live.barge_in(SUP, "301")
            call_id, agent = await answered_call(p)
            with pytest.raises(SupervisorError, match="supervisor station 'nowhere'"):
                await p.live.intercept("nowhere", agent)
            with pytest.raises(SupervisorError, match="already a party"):
                await p.live.monitor(agent, agent)
            other = "301" if agent == "302" else "302"
            with pytest.raises(
                SupervisorError, match=f"belongs to agent '{other}', who is logged on"
            ):
                await p.live.barge_in(other, agent)
            # a second silent monitor from the same station: the switch refuses it
            await p.live.monitor(SUP, agent)
            with pytest.raises(SupervisorError, match=r"refused SingleStepConferenceCall \(") as e:
                await p.live.monitor(SUP, agent)
            assert "ACD already took it" not in str(e.value)
            with pytest.raises(SupervisorError, match="must be named"):
                await p.live.force_ready(agent, "")
            assert p.live.acd.agent(agent).state is AgentState.BUSY
            assert p.live.acd.agent(agent).call_id == call_id
            p.pbx.switch.set_agent(p.station(other), "agentNull")
            p.pbx.clock.poke()
            await wait(p, lambda: state(p, other) is AgentState.LOGGED_OFF)
            with pytest.raises(SupervisorError, match="not logged on"):
                await p.live.force_ready(other, "boss")
            assert len(w.at(agent, m.ConferencedEvent)) == 1  # only the one allowed monitor

    run(go())


def test_binding_refuses_pending_state_under_a_ringing_call() -> None:
    """Sans-I/O: a forced state of a ringing agent is refused; of a talking one it is
    sent to the switch at once (the switch holds it pending) with its reason code."""
    acd = live_acd(desk())
    binding = Binding(acd, roster(desk()), route_services={"sales": "sales"})
    acd.handle(AgentLoggedOn(at=0, agent_id="301", skills={"sales": 1}, ready=True))
    acd.handle(CallOffered(at=1, call_id="c1", service="sales", routing_point="sales"))
    assert acd.agent("301").state is AgentState.RESERVED
    for kind in (ForceLogout, ForceNotReady):
        with pytest.raises(SupervisorError, match="being offered a call"):
            binding.supervise(kind(at=2, agent_id="301", supervisor="boss"))
    assert acd.agent("301").pending is None
    acd.handle(CallAnswered(at=3, call_id="c1", agent_id="301"))
    _, actions = binding.supervise(
        ForceNotReady(at=4, agent_id="301", supervisor="boss", reason="meeting")
    )
    sent = [a.message for a in actions if isinstance(a, Send)]
    assert sent == [
        m.SetAgentState(
            device=DeviceID("301"),
            requested_agent_state="notReady",
            agent_id="301",
            private_data=(("reasonCode", "meeting"),),
        )
    ]
    assert acd.agent("301").pending is AgentState.NOT_READY
