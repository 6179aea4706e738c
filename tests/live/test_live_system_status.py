"""The switch's ECMA-269 ``SystemStatus`` reports drive a resync without dropping the link.

A switch that lost events (``messagesLost``) or comes back from being disabled
says so in a SystemStatus; the live ACD then reads agent states and calls again
(GetAgentState, SnapshotDevice) exactly as after a reconnection, holding route
requests meanwhile. The test loses events on purpose: the emulator's session
drops everything it would send while an agent hangs up and another goes not
ready, so the ACD's view is stale until the report.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

from livehelp import live_pair
from resynchelp import desk, hang_up

from ccsim.events import AgentState, CallAnswered, CallEnded, CallOffered
from ccsim.live.emulator import SwitchOptions
from ccsim.live.emulator.switch import Call

QUIET = SwitchOptions(ring_time=2.0, route_timeout=0.0, routed_ring_timeout=0.0, arrivals=())


def run(coro: Coroutine[Any, Any, None]) -> None:
    asyncio.run(asyncio.wait_for(coro, 60))


def test_messages_lost_makes_the_acd_resync_its_stale_view() -> None:
    async def go() -> None:
        async with live_pair(desk(), speed=100.0, options=QUIET) as p:
            pbx, live = p.pbx, p.live
            assert pbx.system_registrations == 1  # the ACD registered for status reports at connect
            assert live.resyncs == 1 and live.switch_status == "normal"
            calls: list[Call] = []
            for _ in range(2):
                call = pbx.inject_call("sales")
                assert call is not None
                calls.append(call)
            await p.until(lambda: len(p.fed(CallAnswered)) == 2, 60)
            talking = {e.call_id: e.agent_id for e in p.fed(CallAnswered)}
            idle = sorted({"301", "302", "303", "304"} - set(talking.values()))
            lost_call = calls[0]
            freed = talking[lost_call.id]

            # the switch's events are lost: an agent hangs up, an idle agent goes not ready
            for session in pbx.sessions:
                session.emit = lambda message: None  # type: ignore[method-assign]
            hang_up(pbx, lost_call)
            p.set_agent(idle[0], "notReady", reason="break")
            await asyncio.sleep(0.05)
            for session in pbx.sessions:
                del session.emit  # back to the class's method
            # the ACD's view is stale: the call still talking, the agent still ready
            assert live.acd.where_is(lost_call.id)["phase"] == "talking"
            assert live.acd.agent(idle[0]).state is AgentState.READY

            assert pbx.report_status("messagesLost") == 1
            await p.until(lambda: live.resyncs == 2 and live.ready.is_set(), 60)
            assert live.connections == 1  # no reconnection: the link stayed up
            assert live.switch_status == "messagesLost"
            assert lost_call.id in {e.call_id for e in p.fed(CallEnded)}
            assert live.acd.agent(idle[0]).state is AgentState.NOT_READY
            assert live.acd.agent(freed).state is not AgentState.BUSY

            # routing goes on with the repaired view: the not-ready agent gets nothing
            offered = len(p.fed(CallOffered))
            again = pbx.inject_call("sales")
            assert again is not None
            await p.until(lambda: again.id in {e.call_id for e in p.fed(CallAnswered)}, 60)
            assert len(p.fed(CallOffered)) == offered + 1
            answered_by = {e.call_id: e.agent_id for e in p.fed(CallAnswered)}[again.id]
            assert answered_by != idle[0]

    run(go())


def test_other_statuses_do_not_resync_until_the_switch_recovers() -> None:
    async def go() -> None:
        async with live_pair(desk(), speed=100.0, options=QUIET) as p:
            pbx, live = p.pbx, p.live
            pbx.report_status("overloadImminent")
            await p.until(lambda: live.switch_status == "overloadImminent", 30)
            pbx.report_status("disabled")
            await p.until(lambda: live.switch_status == "disabled", 30)
            await asyncio.sleep(0.05)
            assert live.resyncs == 1  # only the connection's own
            pbx.report_status("normal")  # back from disabled: calls may have gone
            await p.until(lambda: live.resyncs == 2 and live.ready.is_set(), 30)
            assert live.connections == 1

    run(go())
