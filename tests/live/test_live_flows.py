"""End to end: ``LiveACD`` routing the emulator's calls over loopback CSTA.

Every routing decision is the ACD's; these tests check that the switch carried
each one out (the agent the ACD chose answered), that the switch's reports come
back to the ACD as the right events (answer, end, abandon, ring-no-answer) and
that echoes of the ACD's own agent-state requests do not confuse it.
"""

from __future__ import annotations

import asyncio
import dataclasses

from livehelp import live_pair, two_skills

from ccsim.acd import ACD
from ccsim.events import (
    AgentState,
    CallAbandoned,
    CallAnswered,
    CallEnded,
    CallOffered,
    Deliver,
    DeliveryFailed,
    Retract,
    SetAgentState,
)
from ccsim.live.acd import live_config
from ccsim.live.emulator import SwitchOptions
from ccsim.scenario import Scenario, example

NOT_READY, READY, NULL = "agentNotReady", "agentReady", "agentNull"


def run(coro: object) -> None:
    asyncio.run(asyncio.wait_for(coro, 30))  # type: ignore[arg-type]


def test_single_skill_calls_routed_answered_ended() -> None:
    scenario = example("single_skill")

    async def go() -> None:
        quiet = SwitchOptions(
            ring_time=2.0, route_timeout=0.0, routed_ring_timeout=0.0, arrivals=()
        )
        async with live_pair(scenario, speed=500.0, options=quiet) as p:
            for _ in range(4):
                p.pbx.inject_call("general")
            await p.until(lambda: len(p.fed(CallEnded)) == 4, 3000)
            delivered = {c.call_id: c.agent_id for c in p.commands(Deliver)}
            answered = {e.call_id: e.agent_id for e in p.fed(CallAnswered)}
            assert len(answered) == 4 and answered == delivered  # the ACD's choice answered
            assert len(set(answered.values())) == 4  # four idle agents: four different ones
            assert p.pbx.switch.kpis()["all.answered"] == 4.0
            assert p.live.binding.stats.rejected == 0
            assert p.live.acd.counters("general").answered == 4

    run(go())


def test_skill_and_priority() -> None:
    async def go() -> None:
        async with live_pair(two_skills()) as p:
            # skill: only 302 has vip, though 301 is idle too
            p.pbx.inject_call("vip")
            await p.until(lambda: len(p.fed(CallAnswered)) == 1, 100)
            assert p.fed(CallAnswered)[0].agent_id == "302"
            # priority: 301 logs off; a sales call then a gold call wait for 302
            p.set_agent("301", NULL)
            await p.until(lambda: p.live.acd.queue("sales").staffed == 1, 50)
            p.pbx.inject_call("sales")
            await p.until(lambda: len(p.fed(CallOffered)) == 2, 50)
            p.pbx.inject_call("gold")
            await p.until(lambda: len(p.fed(CallAnswered)) == 3, 400)
            answered = [e.call_id for e in p.fed(CallAnswered)]
            services = {e.call_id: e.service for e in p.fed(CallOffered)}
            assert [services[c] for c in answered] == ["vip", "gold", "sales"]
            assert p.live.binding.stats.rejected == 0

    run(go())


def test_abandon_while_queued() -> None:
    async def go() -> None:
        async with live_pair(two_skills()) as p:
            p.set_agent("301", NOT_READY, "break")
            p.set_agent("302", NOT_READY, "break")
            await p.until(lambda: p.live.acd.queue("sales").available == 0, 50)
            p.pbx.inject_call("sales")  # patience 200 s
            await p.until(lambda: len(p.fed(CallAbandoned)) == 1, 300)
            assert p.live.acd.counters("sales").abandoned == 1
            assert p.live.acd.snapshot()["calls"] == {}
            assert p.live.acd.queue("sales").length == 0
            assert p.live.binding.calls == {}
            # the break's not-ready events were news; nothing was sent back to the switch
            assert p.commands(SetAgentState) and p.live.binding.stats.sent == 0

    run(go())


def test_ring_no_answer_redelivers_and_sets_agent_not_ready() -> None:
    async def go() -> None:
        async with live_pair(two_skills()) as p:
            p.set_agent("302", NOT_READY, "break")
            await p.until(lambda: p.live.acd.agent("302").state is AgentState.NOT_READY, 50)
            p.pbx.inject_call("sales")  # only lazy 301 is ready
            await p.until(lambda: len(p.commands(Deliver)) == 1, 50)
            assert p.commands(Deliver)[0].agent_id == "301"
            p.set_agent("302", READY)
            await p.until(lambda: len(p.fed(CallAnswered)) == 1, 100)
            assert p.commands(Retract)[0].agent_id == "301"
            assert p.fed(CallAnswered)[0].agent_id == "302"  # DeflectCall 301 -> 302
            # the ACD's RONA decision reached the switch; its echo changed nothing
            st = p.station("301")
            assert (st.state, st.reason) == (NOT_READY, "rona")
            await asyncio.sleep(0.05)
            a = p.live.acd.agent("301")
            assert (a.state, a.reason) == (AgentState.NOT_READY, "rona")
            assert p.live.binding.stats.rejected == 0 and p.live.binding.stats.failures == 0

    run(go())


def test_rona_back_to_routing_point_when_nobody_else_is_ready() -> None:
    async def go() -> None:
        async with live_pair(two_skills()) as p:
            p.set_agent("302", NOT_READY, "break")
            await p.until(lambda: p.live.acd.agent("302").state is AgentState.NOT_READY, 50)
            p.pbx.inject_call("gold")
            await p.until(lambda: len(p.commands(Retract)) == 1, 100)
            await p.until(lambda: p.station("301").state == NOT_READY, 50)
            assert p.live.acd.where_is(p.fed(CallOffered)[0].call_id)["phase"] == "queued"
            p.set_agent("302", READY)  # the call held at the routing point goes to 302
            await p.until(lambda: len(p.fed(CallAnswered)) == 1, 100)
            assert p.fed(CallAnswered)[0].agent_id == "302"
            assert p.live.binding.stats.failures == 0

    run(go())


def test_switch_reroute_after_its_own_ring_timeout() -> None:
    scenario = two_skills()
    acd = ACD(dataclasses.replace(live_config(scenario), ring_timeout=500.0))
    options = SwitchOptions(ring_time=2.0, route_timeout=0.0)  # the switch's RONA: 10 s

    async def go() -> None:
        async with live_pair(scenario, acd=acd, options=options) as p:
            p.set_agent("302", NOT_READY, "break")
            await p.until(lambda: p.live.acd.agent("302").state is AgentState.NOT_READY, 50)
            p.pbx.inject_call("sales")
            await p.until(lambda: len(p.commands(Deliver)) == 1, 50)
            p.set_agent("302", READY)
            await p.until(lambda: len(p.fed(CallAnswered)) == 1, 100)
            failed = p.fed(DeliveryFailed)
            assert len(failed) == 1 and failed[0].agent_id == "301"
            assert p.fed(CallAnswered)[0].agent_id == "302"
            await p.until(lambda: p.station("301").state == NOT_READY, 50)

    run(go())


def test_no_agent_logged_on_gets_the_default_route() -> None:
    async def go() -> None:
        async with live_pair(two_skills()) as p:
            p.set_agent("301", NULL)
            p.set_agent("302", NULL)
            await p.until(lambda: p.live.acd.queue("sales").staffed == 0, 50)
            p.pbx.inject_call("gold")
            await p.until(lambda: p.live.binding.stats.default_routed == 1, 50)
            assert p.live.acd.snapshot()["calls"] == {}
            p.set_agent("302", READY)  # the switch's hunt group now serves the call
            await p.until(lambda: p.pbx.switch.kpis()["all.answered"] == 1.0, 200)

    run(go())


def test_acd_that_cannot_take_the_call_ends_the_dialogue() -> None:
    other = Scenario.from_toml_string(
        'skills = ["x"]\n[[services]]\nname = "x"\naht = 10\n'
        '[[agent_groups]]\nname = "g"\nsize = 1\nstations = ["777"]\nskills = { x = 1 }\n'
    )

    async def go() -> None:
        async with live_pair(two_skills(), acd=ACD(live_config(other))) as p:
            p.pbx.inject_call("sales")  # a service the ACD has never heard of
            await p.until(lambda: p.pbx.switch.kpis()["all.answered"] == 1.0, 200)
            assert p.live.binding.stats.default_routed == 1
            assert p.live.binding.stats.rejected >= 1

    run(go())


def test_link_loss_hands_waiting_calls_to_the_switch_and_reconnects() -> None:
    async def go() -> None:
        async with live_pair(two_skills(), reconnect=True) as p:
            p.set_agent("301", NOT_READY, "break")
            p.set_agent("302", NOT_READY, "break")
            await p.until(lambda: p.live.acd.queue("sales").available == 0, 50)
            p.pbx.inject_call("gold")
            await p.until(lambda: len(p.fed(CallOffered)) == 1, 50)
            for session in list(p.pbx.sessions):  # the switch drops the CTI link
                await session.link.close("test: link lost")
            await p.until(lambda: p.live.connections == 2 and p.live.ready.is_set(), 500)
            gold = p.live.acd.counters("gold")  # the switch has it now: withdrawn, not abandoned
            assert (gold.withdrawn, gold.abandoned) == (1, 0)
            assert p.live.acd.snapshot()["calls"] == {} and p.live.binding.calls == {}
            p.set_agent("302", READY)  # the switch's hunt group serves the old call...
            await p.until(lambda: p.pbx.switch.kpis()["all.answered"] == 1.0, 100)
            p.pbx.inject_call("vip")  # ...and the ACD routes the new ones again
            await p.until(lambda: len(p.fed(CallAnswered)) == 1, 300)
            assert p.fed(CallAnswered)[0].agent_id == "302"
            assert p.fed(CallOffered)[-1].service == "vip"
            assert p.live.binding.stats.rejected == 0

    run(go())
