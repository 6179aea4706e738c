"""Never lose a call: link loss, resynchronisation and default-routed calls.

End to end against the emulator: the switch drops the CTI link in the middle of
traffic (calls talking, calls queued in the ACD), and while no router is
attached an agent hangs up and a new call arrives, both handled by the
switch's hunt groups. After reconnection the ACD resynchronises from
``SnapshotDevice`` before routing again, and at the end every call the switch
offered is accounted for exactly once: by the ACD (answered or withdrawn) or
as default-routed. The expected figures come from the emulator's own records
(which calls it asked a router about, how each ended), not from the ACD.

Then the binding alone (no sockets): the resync rules, the withdrawals, and
bad input from the switch.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from livehelp import Pair, two_skills
from resynchelp import DESK, desk, drop_link, hang_up, logged_live_pair
from sqlalchemy import create_engine, text

from ccsim.acd import ACD
from ccsim.csta import ConnectionID, DeviceID
from ccsim.csta import messages as m
from ccsim.events import (
    AgentNotReady,
    AgentReady,
    AgentState,
    CallAbandoned,
    CallAnswered,
    CallEnded,
    CallOffered,
    CallWithdrawn,
)
from ccsim.live.acd import LiveACD, live_config, roster, routing_devices
from ccsim.live.binding import Binding, Send
from ccsim.live.emulator import Emulator, SwitchOptions
from ccsim.live.emulator.switch import Call
from ccsim.scenario import Scenario

QUIET = SwitchOptions(ring_time=2.0, route_timeout=0.0, routed_ring_timeout=0.0, arrivals=())
TERMINAL = (CallEnded, CallAbandoned, CallWithdrawn)


def run(coro: Any) -> None:
    asyncio.run(asyncio.wait_for(coro, 40))


def terminal_events(p: Pair) -> Counter[str]:
    return Counter(e.call_id for e, _ in p.log if isinstance(e, TERMINAL))


def test_link_drop_mid_traffic_every_call_accounted_for(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'acd.sqlite'}"

    async def go() -> None:
        async with logged_live_pair(desk(), db, speed=100.0, options=QUIET) as p:
            calls: list[Call] = []

            def inject() -> Call:
                call = p.pbx.inject_call("sales")
                assert call is not None
                calls.append(call)
                return call

            # four calls talking, two queued in the ACD
            for _ in range(4):
                inject()
            await p.until(lambda: len(p.fed(CallAnswered)) == 4, 100)
            for _ in range(2):
                inject()
            await p.until(lambda: len(p.fed(CallOffered)) == 6, 50)
            dropped_at = p.pbx.clock.sim_now()
            await drop_link(p.pbx)
            # no router now: an agent hangs up (the switch's hunt group gives them the
            # first of the calls it took back) and a new call arrives (queued there)
            hung_up = calls[0]
            freed = hang_up(p.pbx, hung_up)
            outage_call = inject()
            await p.until(lambda: p.live.connections == 2 and p.live.ready.is_set(), 500)

            # after the resync, before any new traffic
            queued_then = [c.id for c in calls[4:6]]
            assert [e.call_id for e in p.fed(CallWithdrawn)] == queued_then
            assert all(e.reason == "default_route" for e in p.fed(CallWithdrawn))
            assert p.live.acd.counters("sales").abandoned == 0
            ended = [e for e in p.fed(CallEnded) if e.call_id == hung_up.id]
            assert len(ended) == 1 and ended[0].at >= dropped_at  # missed, found by resync
            assert p.live.binding.stats.foreign == 1  # the outage call, never offered to us
            assert set(p.live.binding.foreign) == {*queued_then, outage_call.id}
            assert p.live.binding.foreign[queued_then[0]] == freed  # ringing/talking there
            assert p.live.binding.foreign[outage_call.id] == "sales"  # queued at the VDN
            agent = p.live.acd.agent(freed)  # busy on a call the ACD did not route
            assert (agent.state, agent.reason) == (AgentState.NOT_READY, "busy")
            assert p.live.binding.calls.keys() == {c.id for c in calls[1:4]}  # still talking

            # the ACD routes again
            for _ in range(3):
                inject()
            await p.until(lambda: all(c.ended for c in calls), 2000)
            await p.until(lambda: not p.live.acd.snapshot()["calls"], 50)

        # the switch's truth: every call answered once
        assert [c.rec[4] if c.rec else None for c in calls] == ["answered"] * len(calls)
        asked = {c.id for c in calls if c.route_requests > 0}
        never_asked = {c.id for c in calls if c.route_requests == 0}
        assert never_asked == {outage_call.id}
        # the ACD's: each call it was offered has exactly one outcome
        offered = [e.call_id for e in p.fed(CallOffered)]
        assert sorted(offered) == sorted(asked)
        assert terminal_events(p) == Counter(asked)
        k = p.live.acd.counters("sales")
        outcomes = k.answered + k.abandoned + k.overflowed + k.disconnected + k.callback
        assert (k.offered, k.withdrawn, k.abandoned) == (len(asked), 2, 0)
        assert outcomes + k.withdrawn + p.live.binding.stats.foreign == len(calls)
        assert p.live.binding.calls == {} and p.live.binding.foreign == {}
        # the ACD's agents agree with the switch's
        for agent_id in ("301", "302", "303", "304"):
            assert p.live.acd.agent(agent_id).state is AgentState.READY
            assert p.station(agent_id).state == "agentReady"
        # the call log: every call once, the outage call as default-routed
        engine = create_engine(db)
        with engine.connect() as conn:
            logged: dict[str, str] = {
                r.call_id: r.outcome
                for r in conn.execute(text("SELECT call_id, outcome FROM acd_calls"))
            }
        engine.dispose()
        assert logged == {
            **{c: "answered" for c in asked},
            **dict.fromkeys(queued_then, "withdrawn"),
            outage_call.id: "default_routed",
        }

    run(go())


class SlowResync(LiveACD):
    """A LiveACD that notes when it resynchronised."""

    resync_at: float | None = None

    def _waiting_routes(self) -> set[str]:
        self.resync_at = self.now()
        return super()._waiting_routes()


class ArrivalsDuringResync(Emulator):
    """Two calls arrive while the ACD reads agent states: after its RouteRegister,
    before its SnapshotDevice (which then finds them queued at the routing point)."""

    def __init__(self, scenario: Scenario, **kwargs: Any) -> None:
        super().__init__(scenario, **kwargs)
        self.injected: list[Call] = []

    def _service(self, session: Any, msg: m.Request) -> m.Response | None:
        if isinstance(msg, m.GetAgentState) and msg.device.number == "304" and not self.injected:
            self.injected = [c for c in (self.switch.arrive("sales") for _ in range(2)) if c]
        return super()._service(session, msg)


def test_route_requests_during_resync_are_answered_after_it() -> None:
    scenario = desk()

    async def go() -> None:
        switch = ArrivalsDuringResync(scenario, speed=100.0, options=QUIET)
        async with switch as pbx:
            log: list[Any] = []
            live = SlowResync(
                scenario,
                "127.0.0.1",
                pbx.port,
                clock=pbx.clock.sim_now,
                on_record=lambda event, commands: log.append(event),
            )
            async with live:
                assert live.ready.is_set() and live.resync_at is not None
                ids = [c.id for c in switch.injected]
                assert len(ids) == 2 and all(c.route_requests == 1 for c in switch.injected)
                t0 = pbx.clock.sim_now()
                while live.acd.counters("sales").answered < 2:
                    assert pbx.clock.sim_now() < t0 + 100, "held route requests never answered"
                    await asyncio.sleep(0.005)
                offered = [e for e in log if isinstance(e, CallOffered)]
                assert [e.call_id for e in offered] == ids
                # held until the resync was done, then offered and routed
                assert all(e.at >= live.resync_at for e in offered)
                # queued at the routing point in the snapshot, yet not default-routed
                assert live.binding.stats.foreign == 0 and live.binding.foreign == {}
                assert pbx.switch.kpis()["all.answered"] == 2.0

    run(go())


def test_switch_refusing_requests_for_an_unknown_station_is_survived(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The ACD's roster has station 399, which the switch does not have: MonitorStart
    and SnapshotDevice are refused (logged); the ACD still resyncs and routes."""
    ghost = DESK + (
        '\n[[agent_groups]]\nname = "ghost"\nsize = 1\nstations = ["399"]\nskills = { sales = 1 }\n'
    )
    acd_scenario = Scenario.from_toml_string(ghost, "ghost.toml")

    async def go() -> None:
        async with (
            Emulator(desk(), speed=100.0, options=QUIET) as pbx,
            LiveACD(acd_scenario, "127.0.0.1", pbx.port, clock=pbx.clock.sim_now) as live,
        ):
            await asyncio.wait_for(live.ready.wait(), 5)
            pbx.inject_call("sales")
            t0 = pbx.clock.sim_now()
            while live.acd.counters("sales").answered < 1:
                assert pbx.clock.sim_now() < t0 + 100
                await asyncio.sleep(0.005)
            assert "399" not in live.acd.snapshot()["agents"]

    with caplog.at_level(logging.WARNING, logger="ccsim.live.acd"):
        run(go())
    refused = [r.getMessage() for r in caplog.records if "399" in r.getMessage()]
    assert any(msg.startswith("station 399") for msg in refused)
    assert any(msg.startswith("SnapshotDevice 399 refused") for msg in refused)


# --------------------------------------------------------------------------- binding only


def make() -> Binding:
    sc = two_skills()
    b = Binding(ACD(live_config(sc)), roster(sc), route_services=routing_devices(sc))
    b.route_register_req_ids = {rp: f"R{i}" for i, rp in enumerate(routing_devices(sc))}
    return b


def ready(b: Binding, station: str, at: float) -> None:
    b.on_message(m.AgentReadyEvent(monitor_cross_ref_id="M1", agent_device=DeviceID(station)), at)


def offer(b: Binding, call: str, rp: str, xref: str, at: float) -> list[Any]:
    return b.on_message(
        m.RouteRequest(
            cross_ref_identifier=xref,
            current_route=DeviceID(rp),
            routeing_device=DeviceID(rp),
            routed_call=ConnectionID(call, DeviceID(rp)),
            private_data=(("service", rp),),
        ),
        at,
    )


def answer(b: Binding, call: str, station: str, at: float) -> None:
    b.on_message(
        m.EstablishedEvent(
            monitor_cross_ref_id="M1",
            established_connection=ConnectionID(call, DeviceID(station)),
            answering_device=DeviceID(station),
        ),
        at,
    )


def recording(b: Binding) -> list[Any]:
    fed: list[Any] = []
    b.record = lambda event, commands: fed.append(event)
    return fed


def test_resync_rules_on_the_binding() -> None:
    b = make()
    fed = recording(b)
    seen: list[tuple[str, str, str, bool]] = []
    ended: list[str] = []
    b.on_default_routed = lambda c, dev, st, at, known: seen.append((c, dev, st, known))
    b.on_foreign_ended = lambda c, at: ended.append(c)
    ready(b, "301", 1.0)
    ready(b, "302", 1.0)
    offer(b, "1", "vip", "X1", 2.0)  # -> 302 (the only vip agent)
    answer(b, "1", "302", 4.0)
    offer(b, "2", "sales", "X2", 5.0)  # -> 301, ringing when the link drops
    offer(b, "3", "sales", "X3", 6.0)  # queued
    assert b.calls["2"].phase == "ringing" and b.calls["3"].phase == "routing"
    b.link_lost(10.0)
    withdrawn = [(e.call_id, e.reason) for e in fed if isinstance(e, CallWithdrawn)]
    assert withdrawn == [("2", "default_route"), ("3", "default_route")]
    assert list(b.calls) == ["1"] and b.acd.agent("301").state is AgentState.READY
    # the switch now: call 1 ended meanwhile; 2 (taken back) talks at 301; 7 arrived
    # meanwhile and waits in the hunt group; 8 waits with a route request already sent
    # to us; the supervisor's station and a device whose snapshot was refused are noise
    b.switch_state["302"] = ("ready", "")  # GetAgentState said so (dropped as an echo)
    out = b.resync(
        {
            "301": [("2", "connected")],
            "302": [],
            "sales": [("7", "queued"), ("8", "queued"), ("", "queued")],
            "vip": None,
            "9001": [("5", "connected")],
        },
        20.0,
        routing=["8"],
    )
    assert [(type(e).__name__, e.call_id) for e in fed if isinstance(e, CallEnded)] == [
        ("CallEnded", "1")
    ]
    assert b.calls == {}
    assert b.acd.agent("302").state is AgentState.READY  # wrap-up ended by the switch's state
    assert (b.acd.agent("301").state, b.acd.agent("301").reason) == (AgentState.NOT_READY, "busy")
    assert seen == [("2", "301", "connected", True), ("7", "sales", "queued", False)]
    assert b.stats.foreign == 1 and b.stats.withdrawn == 2
    assert not [a for a in out if isinstance(a, Send)]  # nothing to tell the switch
    # call 2 ends at 301 (the agent was answering it): the switch's ready frees 301
    b.on_message(
        m.ConnectionClearedEvent(
            monitor_cross_ref_id="M1", dropped_connection=ConnectionID("2", DeviceID("301"))
        ),
        30.0,
    )
    assert ended == ["2"] and "2" not in b.foreign
    ready(b, "301", 30.5)
    assert b.acd.agent("301").state is AgentState.READY
    # the hunt group rings 302 with call 7 and the caller hangs up while it rings: 302,
    # whom the switch still reports ready, is given back to the ACD
    b.on_message(
        m.DeliveredEvent(
            monitor_cross_ref_id="M1",
            connection=ConnectionID("7", DeviceID("302")),
            alerting_device=DeviceID("302"),
        ),
        31.0,
    )
    assert b.acd.agent("302").state is AgentState.NOT_READY
    b.on_message(
        m.ConnectionClearedEvent(
            monitor_cross_ref_id="M1", dropped_connection=ConnectionID("7", DeviceID("302"))
        ),
        32.0,
    )
    assert b.acd.agent("302").state is AgentState.READY and b.foreign == {}
    assert ended == ["2", "7"]
    assert [e.agent_id for e in fed if isinstance(e, AgentReady)][-1:] == ["302"]
    assert [e.reason for e in fed if isinstance(e, AgentNotReady)] == ["busy", "busy"]


def test_ringing_call_answered_during_the_outage_and_route_ends() -> None:
    b = make()
    fed = recording(b)
    ready(b, "302", 1.0)
    offer(b, "1", "vip", "X1", 2.0)
    # a resync without link loss (an ACD restart keeps nothing; this checks the rule):
    # the call the ACD has ringing is connected at the switch -> answered
    b.resync({"302": [("1", "connected")]}, 3.0)
    assert [e.call_id for e in fed if isinstance(e, CallAnswered)] == ["1"]
    assert b.calls["1"].phase == "talking"
    # the switch's reply timer took a waiting call back -> withdrawn; the caller hanging
    # up while waiting -> abandoned
    offer(b, "2", "vip", "X2", 4.0)
    b.on_message(
        m.RouteEnd(
            cross_ref_identifier="X2", error_value=m.Failure("operation", "routeingTimerExpired")
        ),
        5.0,
    )
    offer(b, "3", "vip", "X3", 6.0)
    b.on_message(
        m.RouteEnd(cross_ref_identifier="X3", error_value=m.Failure("operation", "invalidCallID")),
        7.0,
    )
    assert [e.call_id for e in fed if isinstance(e, CallWithdrawn)] == ["2"]
    assert [e.call_id for e in fed if isinstance(e, CallAbandoned)] == ["3"]
    # nobody logged on for gold's queue: withdrawn and given the default route
    empty = make()
    fed2 = recording(empty)
    actions = offer(empty, "4", "gold", "X4", 9.0)
    assert [type(a.message) for a in actions if isinstance(a, Send)] == [m.RouteEnd]
    assert [(type(e), e.call_id) for e in fed2] == [(CallOffered, "4"), (CallWithdrawn, "4")]
    gold = empty.acd.counters("gold")
    assert (gold.withdrawn, gold.abandoned, empty.stats.default_routed) == (1, 0, 1)


def test_bad_input_during_and_after_resync_is_survived() -> None:
    b = make()
    ready(b, "301", 1.0)
    junk: list[m.Message] = [
        # events for devices we do not monitor, calls we never heard of
        m.DeliveredEvent(
            monitor_cross_ref_id="M9",
            connection=ConnectionID("77", DeviceID("9005")),
            alerting_device=DeviceID("9005"),
        ),
        m.DeliveredEvent(monitor_cross_ref_id="M9", connection=ConnectionID(None, DeviceID("301"))),
        m.ConnectionClearedEvent(
            monitor_cross_ref_id="M9", dropped_connection=ConnectionID("77", DeviceID("9005"))
        ),
        m.AgentBusyEvent(monitor_cross_ref_id="M9", agent_device=DeviceID("9005")),
        m.ReRoute(cross_ref_identifier="X404"),
        m.RouteEnd(
            cross_ref_identifier="X404", error_value=m.Failure("operation", "routeingTimerExpired")
        ),
    ]
    for msg in junk:
        assert b.on_message(msg, 2.0) == []
    # a snapshot naming devices and states we do not know
    assert b.resync({"nowhere": [("5", "weird")], "301": [("", "")]}, 3.0) == []
    assert b.acd.agent("301").state is AgentState.READY and b.foreign == {}
    # routing still works afterwards
    sends = [a for a in offer(b, "9", "sales", "X9", 4.0) if isinstance(a, Send)]
    assert isinstance(sends[0].message, m.RouteSelect)
    assert list(b.acd.snapshot()["calls"]) == ["9"]
    assert b.stats.rejected == 0 and b.stats.ignored >= 3


def test_a_call_seen_ringing_before_the_resync_is_reported_once() -> None:
    b = make()
    seen: list[tuple[str, bool]] = []
    b.on_default_routed = lambda c, dev, st, at, known: seen.append((c, known))
    ready(b, "301", 1.0)
    b.link_lost(2.0)
    # reconnected, monitors back: the hunt group rings 301 before the snapshots are in
    b.on_message(
        m.DeliveredEvent(
            monitor_cross_ref_id="M1",
            connection=ConnectionID("9", DeviceID("301")),
            alerting_device=DeviceID("301"),
        ),
        3.0,
    )
    assert (b.acd.agent("301").state, b.acd.agent("301").reason) == (AgentState.NOT_READY, "busy")
    assert seen == []  # a ringing call alone does not say the switch routed it by default
    b.resync({"301": [("9", "connected")], "sales": []}, 4.0)
    b.resync({"301": [("9", "connected")], "sales": []}, 5.0)  # a later resync: not again
    assert seen == [("9", False)] and b.stats.foreign == 1
