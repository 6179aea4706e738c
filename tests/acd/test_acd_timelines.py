"""Hand-written ACD timelines: tiny inputs, exact expected command lists (SimPy-test style)."""

from __future__ import annotations

import pytest

from ccsim.acd import ACD, ACDConfig, ACDError, QueueConfig
from ccsim.events import (
    AgentLoggedOff,
    AgentLoggedOn,
    AgentNotReady,
    AgentReady,
    AgentSkillsChanged,
    Announce,
    BargeIn,
    CallAbandoned,
    CallAnswered,
    CallEnded,
    CallOffered,
    CallWithdrawn,
    CancelTimer,
    Conference,
    Deliver,
    DeliveryFailed,
    Disconnect,
    Enqueue,
    ForceLogout,
    ForceNotReady,
    ForceReady,
    Intercept,
    Monitor,
    OfferCallback,
    Overflow,
    Retract,
    SetAgentState,
    StartTimer,
    TimerFired,
    Transfer,
    WrapUpEnded,
)
from ccsim.events import AgentState as S
from ccsim.routing import script as sc


def single(**kw: object) -> ACD:
    return ACD(ACDConfig.single_queue("gen", **kw))


def logon(acd: ACD, at: float, agent: str, skills: dict[str, int] | None = None) -> None:
    acd.handle(AgentLoggedOn(at=at, agent_id=agent, skills=skills or {"gen": 1}, ready=True))


def st(agent: str, state: S, reason: str | None = None, **kw: object) -> SetAgentState:
    return SetAgentState(agent_id=agent, state=state, reason=reason, **kw)  # type: ignore[arg-type]


def test_logon_ready_emits_state() -> None:
    acd = single()
    assert acd.handle(AgentLoggedOn(at=0, agent_id="a1", skills={"gen": 1}, ready=True)) == [
        st("a1", S.READY)
    ]
    assert acd.handle(AgentLoggedOn(at=0, agent_id="a2", skills={"gen": 1})) == [
        st("a2", S.NOT_READY, "logon")
    ]


def test_basic_call_with_wrap_up() -> None:
    acd = single(default_wrap_up=10.0, ring_timeout=15.0)
    logon(acd, 0, "a1")
    assert acd.handle(CallOffered(at=5, call_id="c1", service="gen")) == [
        Deliver(call_id="c1", agent_id="a1", queue="gen"),
        StartTimer(key=("ring", "c1"), at=20.0),
    ]
    # RESERVED and BUSY are implied by Deliver and by the answer: no SetAgentState
    assert acd.handle(CallAnswered(at=8, call_id="c1", agent_id="a1")) == [
        CancelTimer(key=("ring", "c1")),
    ]
    assert acd.agent("a1").state is S.BUSY
    assert acd.handle(CallEnded(at=100, call_id="c1")) == [
        st("a1", S.WORKING_AFTER_CALL),
        StartTimer(key=("wrap", "a1"), at=110.0),
    ]
    assert acd.handle(TimerFired(at=110, key=("wrap", "a1"))) == [st("a1", S.READY)]
    assert acd.counters("gen").answered == 1
    assert acd.queue("gen").answered_in_target == 1  # answered 3 s after entry, target 20 s
    assert acd.agent("a1").calls_handled == 1
    assert acd.agent("a1").busy_time == pytest.approx(105.0)


def test_call_waits_then_agent_ready_takes_it() -> None:
    acd = single()
    assert acd.handle(CallOffered(at=1, call_id="c1", service="gen")) == [
        Enqueue(call_id="c1", queue="gen", priority=0)
    ]
    assert acd.queue("gen").length == 1
    acd.handle(AgentLoggedOn(at=2, agent_id="a1", skills={"gen": 1}))
    assert acd.handle(AgentReady(at=30, agent_id="a1")) == [
        st("a1", S.READY),
        Deliver(call_id="c1", agent_id="a1", queue="gen"),
        StartTimer(key=("ring", "c1"), at=45.0),
    ]
    acd.handle(CallAnswered(at=31, call_id="c1", agent_id="a1"))
    assert acd.queue("gen").answered_in_target == 0  # waited 30 s > 20 s target
    assert acd.queue("gen").length == 0


def test_priority_then_fifo_in_queue() -> None:
    acd = single()
    acd.handle(AgentLoggedOn(at=0, agent_id="a1", skills={"gen": 1}))
    acd.handle(CallOffered(at=1, call_id="low1", service="gen"))
    acd.handle(CallOffered(at=2, call_id="low2", service="gen"))
    acd.handle(CallOffered(at=3, call_id="vip", service="gen", priority=5))
    out = acd.handle(AgentReady(at=4, agent_id="a1"))
    assert Deliver(call_id="vip", agent_id="a1", queue="gen") in out
    acd.handle(CallAnswered(at=5, call_id="vip", agent_id="a1"))
    out = acd.handle(CallEnded(at=6, call_id="vip"))
    assert out[1] == Deliver(call_id="low1", agent_id="a1", queue="gen")


def test_longest_idle_agent_gets_the_call() -> None:
    acd = single()
    logon(acd, 0, "a1")
    logon(acd, 1, "a2")
    acd.handle(AgentNotReady(at=2, agent_id="a1", reason="break"))
    acd.handle(AgentReady(at=3, agent_id="a1"))  # a1 now idle since 3, a2 since 1
    out = acd.handle(CallOffered(at=4, call_id="c1", service="gen"))
    assert out[0] == Deliver(call_id="c1", agent_id="a2", queue="gen")


def test_rona_returns_call_to_head_and_agent_not_ready() -> None:
    acd = single(ring_timeout=10.0)
    acd.handle(CallOffered(at=0, call_id="old", service="gen"))
    logon(acd, 1, "a1")  # takes "old" at once
    acd.handle(CallOffered(at=2, call_id="new", service="gen"))
    out = acd.handle(TimerFired(at=11, key=("ring", "old")))
    assert out == [
        Retract(call_id="old", agent_id="a1", reason="rona"),
        Enqueue(call_id="old", queue="gen", priority=1000),
        st("a1", S.NOT_READY, "rona"),
    ]
    logon(acd, 12, "a2")
    assert acd.where_is("old")["agent_id"] == "a2"  # back at the head, ahead of "new"


def test_rona_threshold_two_retries_same_agent_first() -> None:
    acd = single(ring_timeout=10.0, rona_threshold=2)
    logon(acd, 0, "a1")
    acd.handle(CallOffered(at=1, call_id="c1", service="gen"))
    out = acd.handle(TimerFired(at=11, key=("ring", "c1")))
    assert out == [
        Retract(call_id="c1", agent_id="a1", reason="rona"),
        Enqueue(call_id="c1", queue="gen", priority=1000),
        st("a1", S.READY),
        Deliver(call_id="c1", agent_id="a1", queue="gen"),
        StartTimer(key=("ring", "c1"), at=21.0),
    ]
    out = acd.handle(TimerFired(at=21, key=("ring", "c1")))
    assert out[-1] == st("a1", S.NOT_READY, "rona")


def test_abandon_while_queued_and_while_ringing() -> None:
    acd = single()
    acd.handle(CallOffered(at=0, call_id="q", service="gen"))
    assert acd.handle(CallAbandoned(at=5, call_id="q")) == []
    assert acd.queue("gen").length == 0
    assert acd.queue("gen").abandoned == 1
    logon(acd, 6, "a1")
    acd.handle(CallOffered(at=7, call_id="r", service="gen"))
    assert acd.handle(CallAbandoned(at=9, call_id="r")) == [
        CancelTimer(key=("ring", "r")),
        st("a1", S.READY),
    ]
    assert acd.counters("gen").abandoned == 2
    with pytest.raises(ACDError):
        acd.where_is("r")


def test_withdrawn_calls_leave_without_counting_as_abandoned() -> None:
    acd = single()
    acd.handle(CallOffered(at=0, call_id="q", service="gen"))
    assert acd.handle(CallWithdrawn(at=5, call_id="q")) == []
    logon(acd, 6, "a1")
    acd.handle(CallOffered(at=7, call_id="r", service="gen"))
    assert acd.handle(CallWithdrawn(at=9, call_id="r", reason="link_lost")) == [
        CancelTimer(key=("ring", "r")),
        st("a1", S.READY),
    ]
    c = acd.counters("gen")
    assert (c.offered, c.withdrawn, c.abandoned) == (2, 2, 0)
    assert acd.queue("gen").abandoned == 0
    assert acd.queue("gen").length == 0
    acd.handle(CallOffered(at=10, call_id="t", service="gen"))
    acd.handle(CallAnswered(at=11, call_id="t", agent_id="a1"))
    with pytest.raises(ACDError, match="answered"):
        acd.handle(CallWithdrawn(at=12, call_id="t"))
    with pytest.raises(ACDError):
        acd.handle(CallWithdrawn(at=12, call_id="never-offered"))


def test_skills_change_moves_the_agent_between_queues() -> None:
    cfg = ACDConfig(
        queues={"gen": QueueConfig(name="gen"), "vip": QueueConfig(name="vip")},
        default_wrap_up=0.0,
    )
    acd = ACD(cfg)
    logon(acd, 0, "a1", {"gen": 1})
    logon(acd, 1, "a2", {"vip": 1})
    acd.handle(CallOffered(at=2, call_id="v1", service="vip"))
    acd.handle(CallOffered(at=3, call_id="v2", service="vip"))  # a2 rings with v1; v2 waits
    assert acd.queue("vip").length == 1
    # a1 gains vip: the waiting vip call goes to a1 at once
    assert acd.handle(AgentSkillsChanged(at=4, agent_id="a1", skills={"gen": 1, "vip": 3})) == [
        Deliver(call_id="v2", agent_id="a1", queue="vip"),
        StartTimer(key=("ring", "v2"), at=4 + acd.config.ring_timeout),
    ]
    assert (acd.queue("vip").staffed, acd.queue("gen").staffed) == (2, 1)
    acd.handle(CallAnswered(at=5, call_id="v2", agent_id="a1"))
    # a1 drops gen while talking: the current call is unaffected, later gen calls wait
    assert acd.handle(AgentSkillsChanged(at=6, agent_id="a1", skills={"vip": 3})) == []
    assert acd.queue("gen").staffed == 0
    acd.handle(CallEnded(at=7, call_id="v2"))
    assert acd.agent("a1").state is S.READY
    assert acd.handle(CallOffered(at=8, call_id="g1", service="gen")) == [
        Enqueue(call_id="g1", queue="gen", priority=0)
    ]
    assert acd.queue("vip").available == 1 and acd.queue("gen").available == 0
    with pytest.raises(ACDError, match="unknown skills"):
        acd.handle(AgentSkillsChanged(at=9, agent_id="a1", skills={"nope": 1}))
    with pytest.raises(ACDError, match="not logged on"):
        acd.handle(AgentSkillsChanged(at=9, agent_id="zz", skills={"gen": 1}))
    assert dict(acd.agent("a1").skills) == {"vip": 3}


def test_skills_change_keeps_longest_idle_order() -> None:
    cfg = ACDConfig(
        queues={"gen": QueueConfig(name="gen"), "vip": QueueConfig(name="vip")},
        default_wrap_up=0.0,
    )
    acd = ACD(cfg)
    logon(acd, 0, "early", {"vip": 1})  # idle since 0
    logon(acd, 5, "late", {"gen": 1})  # idle since 5
    acd.handle(AgentSkillsChanged(at=6, agent_id="early", skills={"vip": 1, "gen": 1}))
    # the agent idle longest gets the call although it joined the gen queue last
    assert acd.handle(CallOffered(at=7, call_id="g", service="gen"))[0] == Deliver(
        call_id="g", agent_id="early", queue="gen"
    )


def test_delivery_failed_requeues_and_makes_agent_not_ready() -> None:
    acd = single()
    logon(acd, 0, "a1")
    acd.handle(CallOffered(at=1, call_id="c1", service="gen"))
    out = acd.handle(DeliveryFailed(at=2, call_id="c1", agent_id="a1", cause="busy"))
    assert out == [
        CancelTimer(key=("ring", "c1")),
        Enqueue(call_id="c1", queue="gen", priority=1000),
        st("a1", S.NOT_READY, "rona"),
    ]


def two_skill(script: sc.Script, **kw: object) -> ACD:
    cfg = ACDConfig(
        queues={"billing": QueueConfig(name="billing"), "backup": QueueConfig(name="backup")},
        scripts={"vdn1": script},
        service_routing={"bill": "vdn1"},
        **kw,  # type: ignore[arg-type]
    )
    return ACD(cfg)


def test_script_adds_backup_skill_after_wait() -> None:
    acd = two_skill((sc.QueueTo("billing"), sc.Wait(30), sc.QueueTo("backup", priority=2)))
    acd.handle(AgentLoggedOn(at=0, agent_id="b1", skills={"backup": 1}, ready=True))
    assert acd.handle(CallOffered(at=10, call_id="c1", service="bill")) == [
        Enqueue(call_id="c1", queue="billing", priority=0),
        StartTimer(key=("script", "c1"), at=40.0),
    ]
    assert acd.handle(TimerFired(at=40, key=("script", "c1"))) == [
        Deliver(call_id="c1", agent_id="b1", queue="backup"),
        StartTimer(key=("ring", "c1"), at=55.0),
    ]
    assert acd.queue("billing").length == 0


def test_script_answered_before_wait_ends_cancels_timer() -> None:
    acd = two_skill((sc.QueueTo("billing"), sc.Wait(30), sc.QueueTo("backup")))
    acd.handle(CallOffered(at=0, call_id="c1", service="bill"))
    out = acd.handle(AgentLoggedOn(at=5, agent_id="x", skills={"billing": 3}, ready=True))
    assert CancelTimer(key=("script", "c1")) in out
    assert acd.handle(TimerFired(at=30, key=("script", "c1"))) == []  # stale timer ignored


def test_script_ewt_branch_overflows() -> None:
    script = (
        sc.Goto("busy", when=sc.EwtAbove("billing", 200)),
        sc.QueueTo("billing"),
        sc.Announce("please-wait"),
        sc.Stop(),
        sc.Label("busy"),
        sc.Overflow("site-b"),
    )
    acd = two_skill(script)
    # nobody staffed: EWT is infinite -> overflow
    assert acd.handle(CallOffered(at=0, call_id="c1", service="bill")) == [
        Overflow(call_id="c1", destination="site-b")
    ]
    assert acd.counters("bill").overflowed == 1
    acd.handle(AgentLoggedOn(at=1, agent_id="a", skills={"billing": 1}, ready=True))
    acd.handle(CallOffered(at=2, call_id="c2", service="bill"))  # a takes it
    assert acd.handle(CallOffered(at=3, call_id="c3", service="bill")) == [
        Enqueue(call_id="c3", queue="billing", priority=0),
        Announce(call_id="c3", announcement="please-wait"),
    ]


def test_script_time_of_day_closed_and_callback() -> None:
    script = (
        sc.Disconnect("closed", when=sc.TimeOfDay(22 * 3600, 8 * 3600)),
        sc.OfferCallback(when=sc.QueueLengthAbove("billing", 0)),
        sc.QueueTo("billing"),
    )
    acd = two_skill(script)
    assert acd.handle(CallOffered(at=23 * 3600, call_id="night", service="bill")) == [
        Disconnect(call_id="night", cause="closed")
    ]
    day = 86_400 + 9 * 3600
    assert acd.handle(CallOffered(at=day, call_id="c1", service="bill"))[0] == Enqueue(
        call_id="c1", queue="billing", priority=0
    )
    assert acd.handle(CallOffered(at=day + 1, call_id="c2", service="bill")) == [
        OfferCallback(call_id="c2")
    ]
    assert acd.counters("bill").callback == 1


def test_script_attribute_condition_sets_vip_priority() -> None:
    script = (
        sc.QueueTo("billing", priority=9, when=sc.Attribute("tier", ("gold",))),
        sc.QueueTo("billing"),
    )
    acd = two_skill(script)
    out = acd.handle(CallOffered(at=0, call_id="v", service="bill", attributes={"tier": "gold"}))
    assert out == [Enqueue(call_id="v", queue="billing", priority=9)]


def test_script_without_queue_is_disconnected_no_route() -> None:
    acd = two_skill((sc.Announce("hello"),))
    assert acd.handle(CallOffered(at=0, call_id="c", service="bill")) == [
        Announce(call_id="c", announcement="hello"),
        Disconnect(call_id="c", cause="no-route"),
    ]


def test_goto_loop_without_wait_is_refused() -> None:
    acd = two_skill((sc.Label("top"), sc.QueueTo("billing"), sc.Goto("top")))
    with pytest.raises(ACDError, match="loops"):
        acd.handle(CallOffered(at=0, call_id="c", service="bill"))


def busy_agent() -> ACD:
    acd = single()
    logon(acd, 0, "a1")
    acd.handle(CallOffered(at=1, call_id="c1", service="gen"))
    acd.handle(CallAnswered(at=2, call_id="c1", agent_id="a1"))
    return acd


def test_supervisor_monitor_barge_intercept() -> None:
    acd = busy_agent()
    assert acd.handle(Monitor(at=3, agent_id="a1", supervisor="s1")) == [
        Conference(call_id="c1", supervisor="s1", mode="silent")
    ]
    assert acd.handle(BargeIn(at=4, agent_id="a1", supervisor="s1")) == [
        Conference(call_id="c1", supervisor="s1", mode="active")
    ]
    assert acd.handle(Intercept(at=5, agent_id="a1", supervisor="s1")) == [
        Transfer(call_id="c1", agent_id="a1", destination="s1"),
        st("a1", S.READY),
    ]
    assert acd.where_is("c1")["agent_id"] == "s1"
    assert acd.handle(CallEnded(at=9, call_id="c1")) == []  # agent not involved any more


def test_monitor_idle_agent_is_an_error() -> None:
    acd = single()
    logon(acd, 0, "a1")
    with pytest.raises(ACDError, match="no call"):
        acd.handle(Monitor(at=1, agent_id="a1"))


def test_force_not_ready_while_busy_is_pending_and_forced() -> None:
    acd = busy_agent()
    assert acd.handle(ForceNotReady(at=3, agent_id="a1", reason="qc")) == [
        st("a1", S.BUSY, None, pending=S.NOT_READY)
    ]
    assert acd.handle(CallEnded(at=4, call_id="c1")) == [st("a1", S.NOT_READY, "qc", forced=True)]
    assert acd.handle(ForceReady(at=5, agent_id="a1")) == [st("a1", S.READY, forced=True)]


def test_force_logout_while_busy_then_gone() -> None:
    acd = busy_agent()
    acd.handle(ForceLogout(at=3, agent_id="a1"))
    assert acd.handle(CallEnded(at=4, call_id="c1")) == [
        st("a1", S.LOGGED_OFF, "forced", forced=True)
    ]
    assert acd.queue("gen").staffed == 0
    with pytest.raises(ACDError):
        acd.handle(AgentReady(at=5, agent_id="a1"))


def test_wrap_up_ended_early_and_logoff() -> None:
    acd = single(default_wrap_up=60.0)
    logon(acd, 0, "a1")
    acd.handle(CallOffered(at=1, call_id="c1", service="gen"))
    acd.handle(CallAnswered(at=2, call_id="c1", agent_id="a1"))
    acd.handle(CallEnded(at=3, call_id="c1"))
    assert acd.handle(WrapUpEnded(at=10, agent_id="a1")) == [
        CancelTimer(key=("wrap", "a1")),
        st("a1", S.READY),
    ]
    assert acd.handle(AgentLoggedOff(at=11, agent_id="a1")) == [st("a1", S.LOGGED_OFF)]


def test_errors_change_nothing() -> None:
    acd = busy_agent()
    before = acd.snapshot()
    bad = [
        CallAnswered(at=3, call_id="c1", agent_id="zz"),
        CallAnswered(at=3, call_id="nope", agent_id="a1"),
        CallOffered(at=3, call_id="c1", service="gen"),
        CallOffered(at=3, call_id="c9", service="unknown"),
        AgentLoggedOn(at=3, agent_id="a1", skills={"gen": 1}),
        AgentLoggedOn(at=3, agent_id="a9", skills={"nosuch": 1}),
        AgentReady(at=3, agent_id="ghost"),
        CallAbandoned(at=3, call_id="c1"),
        WrapUpEnded(at=3, agent_id="a1"),
        CallOffered(at=0.5, call_id="late", service="gen"),
    ]
    for ev in bad:
        with pytest.raises(ACDError):
            acd.handle(ev)
        assert acd.snapshot() == before, ev


def test_snapshot_shape() -> None:
    acd = busy_agent()
    acd.handle(CallOffered(at=3, call_id="c2", service="gen"))
    snap = acd.snapshot()
    assert snap["queues"]["gen"]["length"] == 1
    assert snap["queues"]["gen"]["oldest_wait"] == 0.0
    assert snap["agents"]["a1"]["state"] == "busy"
    assert snap["calls"]["c2"]["phase"] == "queued"
    assert snap["services"]["gen"]["offered"] == 2
