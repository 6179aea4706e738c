"""The shipped hotline (IVR, four skills, VIP priority, shifts and breaks, routing scripts
with waits, overflow and callbacks) routed live: the ACD and the switch stay in step."""

from __future__ import annotations

import asyncio

from livehelp import live_pair

from ccsim.events import AgentState, CallAnswered, CallOffered
from ccsim.live.acd import live_acd
from ccsim.live.binding import replay
from ccsim.live.emulator import SwitchOptions
from ccsim.scenario import example

#: the switch's agent state for each ACD state (a ringing agent is "ready" at the switch)
SWITCH_STATE = {
    AgentState.READY: "agentReady",
    AgentState.RESERVED: "agentReady",
    AgentState.BUSY: "agentBusy",
    AgentState.NOT_READY: "agentNotReady",
    AgentState.WORKING_AFTER_CALL: "agentWorkingAfterCall",
}


def test_hotline_morning_routed_by_the_live_acd() -> None:
    options = SwitchOptions(
        ring_time=3.0, route_timeout=0.0, routed_ring_timeout=0.0, start=9 * 3600.0
    )

    async def go() -> None:
        async with live_pair(example("hotline"), speed=100.0, options=options, seed=3) as p:
            # calls arrive, walk the IVR, reach the routing points and are answered
            await p.until(lambda: len(p.fed(CallAnswered)) >= 40, 1800)
            p.pbx.clock.stop()  # freeze the switch; let the messages in flight land
            await asyncio.sleep(0.3)
            stats = p.live.binding.stats
            assert stats.rejected == 0, stats.errors
            services = {e.service for e in p.fed(CallOffered)}
            assert {"general", "billing"} <= services
            acd = p.live.acd.snapshot()["agents"]
            mismatched = []
            for g in p.pbx.scenario.agent_groups:
                for a in g.agent_ids():
                    switch = p.station(a).state
                    mine = acd.get(a)
                    want = "agentNull" if mine is None else SWITCH_STATE[AgentState(mine["state"])]
                    if switch != want:
                        mismatched.append((a, switch, mine))
            assert mismatched == []
            assert len(acd) > 50  # the morning shifts, learned from GetAgentState and events
            # the session replays offline, with the scenario's policies, to the same commands
            events = [e for e, _ in p.log]
            assert replay(live_acd(example("hotline")), events) == [
                c for _, cs in p.log for c in cs
            ]

    asyncio.run(asyncio.wait_for(go(), 60))
