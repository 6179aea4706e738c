"""The live ACD's call log (``LiveACD(db=...)``) against the in-process CSTA emulator.

The expected rows are derived from what the emulator and the ACD reported
independently (the events fed to the ACD, the switch's own agent states), not
from the log writer: an answered call, an abandoned call and a ring-no-answer
re-delivery give the right outcomes, agents and consistent times; agent-state
changes are logged; a restart on the same SQLite file appends to what was there.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from livehelp import Pair, attach, two_skills
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.exc import ArgumentError

from ccsim.cli import main
from ccsim.events import (
    AgentLoggedOn,
    AgentState,
    CallAbandoned,
    CallAnswered,
    CallEnded,
    CallOffered,
    Command,
    Deliver,
    Event,
    Retract,
    StartTimer,
    TimerFired,
)
from ccsim.live.acd import LiveACD, live_acd
from ccsim.live.calllog import CallLog
from ccsim.live.emulator import Emulator, SwitchOptions
from ccsim.scenario import Scenario

NOT_READY, READY = "agentNotReady", "agentReady"
SPEED = 200.0

#: SQLite always; PostgreSQL too when CCSIM_TEST_POSTGRES names a server URL
PG_URL = os.environ.get("CCSIM_TEST_POSTGRES", "")


@pytest.fixture(params=["sqlite", "postgresql"] if PG_URL else ["sqlite"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database per test on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'acd.sqlite'}"
        return
    name = f"ccsim_calllog_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextlib.asynccontextmanager
async def logged_pair(
    scenario: Scenario, db: str, pbx: Emulator | None = None
) -> AsyncIterator[Pair]:
    """``LiveACD`` with a call log on ``db``, attached to ``pbx`` (or a new emulator)."""
    async with contextlib.AsyncExitStack() as stack:
        if pbx is None:
            opts = SwitchOptions(
                ring_time=2.0, route_timeout=0.0, routed_ring_timeout=0.0, arrivals=()
            )
            pbx = await stack.enter_async_context(Emulator(scenario, speed=SPEED, options=opts))
        async with attach(scenario, pbx, speed=SPEED, db=db, db_flush_interval=0.05) as pair:
            yield pair


def rows(db: str, sql: str) -> list[dict[str, Any]]:
    engine = create_engine(db)
    try:
        with engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(text(sql))]
    finally:
        engine.dispose()


def run(coro: Any) -> None:
    asyncio.run(asyncio.wait_for(coro, 30))


def test_answered_abandoned_and_rona_calls_logged_then_restart_appends(db_url: str) -> None:
    db = db_url
    scenario = two_skills()
    first: dict[str, Any] = {}

    async def session_one() -> None:
        async with logged_pair(scenario, db) as p:
            # 1. RONA: only lazy 301 is ready; 302 comes back and gets the call
            p.set_agent("302", NOT_READY, "break")
            await p.until(lambda: p.live.acd.agent("302").state is AgentState.NOT_READY, 50)
            p.pbx.inject_call("sales")
            await p.until(lambda: len(p.commands(Deliver)) == 1, 50)
            p.set_agent("302", READY)
            await p.until(lambda: len(p.fed(CallEnded)) == 1, 400)
            # 2. abandoned while queued (sales patience 200 s): nobody is ready
            p.set_agent("302", NOT_READY, "lunch")
            await p.until(lambda: p.live.acd.agent("302").reason == "lunch", 100)
            p.pbx.inject_call("sales")
            await p.until(lambda: len(p.fed(CallAbandoned)) == 1, 400)
            await p.live.call_log.flush()  # type: ignore[union-attr]
            first["log"] = list(p.log)
            first["rona_call"] = p.fed(CallOffered)[0].call_id
            first["lost_call"] = p.fed(CallAbandoned)[0].call_id

    run(session_one())
    log = first["log"]
    fed = {type(e).__name__: [x for x, _ in log if type(x) is type(e)] for e, _ in log}
    offered = {e.call_id: e.at for e in fed["CallOffered"]}
    answered = {e.call_id: e for e in fed["CallAnswered"]}
    ended = {e.call_id: e.at for e in fed["CallEnded"]}
    abandoned = {e.call_id: e.at for e in fed["CallAbandoned"]}
    retracts = [c for _, cs in log for c in cs if isinstance(c, Retract)]

    calls = {r["call_id"]: r for r in rows(db, "SELECT * FROM acd_calls")}
    assert set(calls) == {first["rona_call"], first["lost_call"]}
    done = calls[first["rona_call"]]
    assert done["outcome"] == "answered" and done["agent_id"] == "302"
    assert answered[done["call_id"]].agent_id == "302"
    assert done["service"] == "sales" and done["routing_point"] == "sales"
    assert done["calling_number"]  # the switch's caller, from the RouteRequest
    assert done["offered_at"] == offered[done["call_id"]]
    assert done["answered_at"] == answered[done["call_id"]].at
    assert done["ended_at"] == ended[done["call_id"]]
    assert done["offered_at"] <= done["delivered_at"] <= done["answered_at"] <= done["ended_at"]
    assert abs(done["wait"] - (done["answered_at"] - done["offered_at"])) < 1e-9
    assert abs(done["talk"] - (done["ended_at"] - done["answered_at"])) < 1e-9
    # the RONA: delivered twice (301, then 302), one ring-no-answer
    assert len(retracts) == 1 and retracts[0].agent_id == "301"
    assert (done["deliveries"], done["ronas"]) == (2, 1)
    deliveries = rows(
        db, f"""SELECT * FROM acd_deliveries WHERE "call" = '{done["id"]}' ORDER BY seq"""
    )
    assert [(d["agent_id"], d["result"]) for d in deliveries] == [
        ("301", "rona"),
        ("302", "answered"),
    ]
    assert deliveries[0]["at"] <= deliveries[0]["result_at"] <= deliveries[1]["at"]
    assert deliveries[1]["result_at"] == done["answered_at"]

    lost = calls[first["lost_call"]]
    assert lost["outcome"] == "abandoned" and lost["agent_id"] is None
    assert lost["answered_at"] is None and lost["deliveries"] == 0
    assert lost["queued_at"] == lost["offered_at"] and lost["queue"] == "sales"
    assert lost["ended_at"] == abandoned[lost["call_id"]]
    assert abs(lost["wait"] - (lost["ended_at"] - lost["offered_at"])) < 1e-9

    # agent states: 301 RONA'd to not ready
    states = rows(db, "SELECT agent_id, state, reason, at FROM acd_agent_states ORDER BY id")
    a301 = [(s["state"], s["reason"]) for s in states if s["agent_id"] == "301"]
    a302 = [(s["state"], s["reason"]) for s in states if s["agent_id"] == "302"]
    assert a301[0][0] == "ready" and ("reserved", "") in a301 and a301[-1] == ("notReady", "rona")
    # logged on ready at start-up (GetAgentState), then the break, ..., the lunch
    assert a302[:2] == [("ready", ""), ("notReady", "break")] and a302[-1] == ("notReady", "lunch")
    assert ("busy", "") in a302 and ("reserved", "") in a302
    times = [s["at"] for s in states]
    assert times == sorted(times)
    busy_at = next(s["at"] for s in states if s["agent_id"] == "302" and s["state"] == "busy")
    assert busy_at == done["answered_at"]

    # 3. restart on the same file: a new session, earlier rows kept, new ones appended
    async def session_two() -> None:
        async with logged_pair(scenario, db) as p:
            await p.until(lambda: p.live.acd.queue("sales").available >= 1, 50)
            p.pbx.inject_call("vip")
            await p.until(lambda: len(p.fed(CallEnded)) == 1, 400)
            first["vip"] = p.fed(CallAnswered)[0].call_id
        # a clean stop wrote the call (no flush was asked for)

    run(session_two())
    sessions = rows(db, "SELECT * FROM acd_sessions ORDER BY started")
    assert len(sessions) == 2 and all(s["stopped"] is not None for s in sessions)
    after = rows(db, "SELECT * FROM acd_calls")
    assert len(after) == 3
    old = {r["id"]: r for r in after if r["session"] == sessions[0]["id"]}
    assert {r["call_id"] for r in old.values()} == set(calls)
    assert all(old[r["id"]] == r for r in calls.values())  # untouched
    new = [r for r in after if r["session"] == sessions[1]["id"]]
    assert [(r["service"], r["outcome"], r["agent_id"]) for r in new] == [
        ("vip", "answered", "302")
    ]
    assert len(rows(db, "SELECT * FROM acd_agent_states")) > len(states)


def test_no_db_means_no_log() -> None:
    async def go() -> None:
        scenario = two_skills()
        opts = SwitchOptions(ring_time=2.0, route_timeout=0.0, routed_ring_timeout=0.0)
        async with Emulator(scenario, speed=SPEED, options=opts) as pbx:
            live = LiveACD(scenario, "127.0.0.1", pbx.port, clock=pbx.clock.sim_now)
            assert live.call_log is None

    run(go())


def test_bad_url_is_a_clear_error() -> None:
    with pytest.raises(ArgumentError):
        LiveACD(two_skills(), "127.0.0.1", 1, db="not a url")


def test_rona_and_redelivery_in_one_batch_offline(db_url: str) -> None:
    """Fed straight from an ACD (no switch): the retract and the redelivery the ACD
    answers one ring timer with settle the right deliveries, and the log is written
    only at close (nothing was flushed before)."""
    acd = live_acd(two_skills())
    call_log = CallLog(db_url, acd, call_info=lambda _: ("sales", "13800000000"))
    log: list[Command] = []

    def feed(event: Event) -> list[Command]:
        commands = acd.handle(event)
        call_log.record(event, commands)
        log.extend(commands)
        return commands

    feed(AgentLoggedOn(at=0.0, agent_id="301", skills={"sales": 1}, ready=True))
    feed(AgentLoggedOn(at=0.0, agent_id="302", skills={"sales": 1, "vip": 1}, ready=True))
    first = feed(CallOffered(at=5.0, call_id="c1", service="sales"))
    [deliver] = [c for c in first if isinstance(c, Deliver)]
    [ring] = [c for c in first if isinstance(c, StartTimer)]
    assert ring.at == 15.0  # the scenario's ring_timeout = 10
    again = feed(TimerFired(at=ring.at, key=ring.key))
    other = ({"301", "302"} - {deliver.agent_id}).pop()
    assert any(isinstance(c, Retract) and c.agent_id == deliver.agent_id for c in again)
    assert any(isinstance(c, Deliver) and c.agent_id == other for c in again)
    feed(CallAnswered(at=17.0, call_id="c1", agent_id=other))
    feed(CallEnded(at=47.0, call_id="c1"))
    assert rows(db_url, "SELECT * FROM acd_calls") == []  # buffered, not written yet
    asyncio.run(call_log.close())

    [call] = rows(db_url, "SELECT * FROM acd_calls")
    assert (call["calling_number"], call["agent_id"], call["outcome"]) == (
        "13800000000",
        other,
        "answered",
    )
    assert (call["offered_at"], call["delivered_at"], call["answered_at"], call["ended_at"]) == (
        5.0,
        15.0,
        17.0,
        47.0,
    )
    assert (call["wait"], call["talk"], call["deliveries"], call["ronas"]) == (12.0, 30.0, 2, 1)
    got = rows(db_url, "SELECT agent_id, at, result, result_at FROM acd_deliveries ORDER BY seq")
    assert [tuple(d.values()) for d in got] == [
        (deliver.agent_id, 5.0, "rona", 15.0),
        (other, 15.0, "answered", 17.0),
    ]
    lazy = rows(
        db_url,
        f"SELECT state, reason, at FROM acd_agent_states WHERE agent_id = '{deliver.agent_id}' "
        "ORDER BY id",
    )
    assert [tuple(s.values()) for s in lazy] == [
        ("ready", "", 0.0),
        ("reserved", "", 5.0),
        ("notReady", "rona", 15.0),
    ]


def test_cli_db_accepted_and_bad_url_named(capsys: pytest.CaptureFixture[str]) -> None:
    """``--db`` is no longer "not yet available"; a bad URL is a clear error (exit 2)."""
    base = ["acd", "--pbx", "127.0.0.1:1", "--scenario", "hotline"]
    assert main([*base, "--db", "no-such-scheme"]) == 2
    err = capsys.readouterr().err
    assert "--db no-such-scheme" in err and "not yet available" not in err
    # an API on a non-loopback address without tokens is refused before connecting
    assert main([*base, "--api", "0.0.0.0:8000"]) == 2
    assert "not a loopback address" in capsys.readouterr().err
