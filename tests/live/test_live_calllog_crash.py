"""A crashed ACD's call log: rows written at offer time, settled by the next run.

An ACD is killed (no ``close``) with calls talking and queued; while no ACD
runs, an agent hangs up and a call arrives (the switch's hunt group serves
both); a new ACD starts on the same database and the same switch, routes more
calls, and stops cleanly once the switch has finished every call. Every call
the switch offered must then be in the log exactly once, with the outcome the
switch's own records imply - computed here from the emulator's calls, not from
the log writer.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path
from typing import Any

from resynchelp import crash, desk, hang_up
from sqlalchemy import create_engine, text

from ccsim.events import CallAnswered, CallOffered
from ccsim.live.acd import LiveACD
from ccsim.live.emulator import Emulator, SwitchOptions
from ccsim.live.emulator.switch import Call

QUIET = SwitchOptions(ring_time=2.0, route_timeout=0.0, routed_ring_timeout=0.0, arrivals=())
SPEED = 100.0


def rows(db: str, sql: str) -> list[dict[str, Any]]:
    engine = create_engine(db)
    try:
        with engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(text(sql))]
    finally:
        engine.dispose()


async def wait(cond: Any, pbx: Emulator, sim_seconds: float) -> None:
    end = pbx.clock.sim_now() + sim_seconds
    while not cond():
        assert pbx.clock.sim_now() < end, "condition not reached in time"
        await asyncio.sleep(0.005)


def test_every_call_offered_before_a_crash_is_logged_once_with_a_final_outcome(
    tmp_path: Path,
) -> None:
    db = f"sqlite:///{tmp_path / 'acd.sqlite'}"
    scenario = desk()
    calls: list[Call] = []
    seen: dict[str, Any] = {}

    async def go() -> None:
        async with Emulator(scenario, speed=SPEED, options=QUIET) as pbx:

            def inject() -> Call:
                call = pbx.inject_call("sales")
                assert call is not None
                calls.append(call)
                return call

            def acd(log: list[Any]) -> LiveACD:
                return LiveACD(
                    scenario,
                    "127.0.0.1",
                    pbx.port,
                    clock=pbx.clock.sim_now,
                    db=db,
                    db_flush_interval=0.05,
                    reconnect=False,
                    on_record=lambda event, commands: log.append(event),
                )

            # run 1: four calls talking, two queued, all in the log (in progress)
            first: list[Any] = []
            live = acd(first)
            await live.start()
            await asyncio.wait_for(live.ready.wait(), 5)
            for _ in range(4):
                inject()
            await wait(lambda: sum(isinstance(e, CallAnswered) for e in first) == 4, pbx, 100)
            for _ in range(2):
                inject()
            await wait(lambda: sum(isinstance(e, CallOffered) for e in first) == 6, pbx, 50)
            assert live.call_log is not None
            await wait(lambda: live.call_log is not None and live.call_log.pending == 0, pbx, 50)
            await asyncio.sleep(0.1)  # the last batch is on disk
            before = rows(db, "SELECT call_id, outcome, answered_at FROM acd_calls")
            assert len(before) == 6 and all(r["outcome"] is None for r in before)
            assert sum(r["answered_at"] is not None for r in before) == 4
            await crash(live)
            while pbx.switch.registrations:  # the switch noticed
                await asyncio.sleep(0.002)
            # no ACD: an agent hangs up (their call is gone before anyone looks again),
            # the hunt group gives them a call the dead ACD had queued; a call arrives
            seen["hung_up"] = calls[0].id
            hang_up(pbx, calls[0])
            seen["gap_call"] = inject().id
            # run 2 on the same database: resync, then two more calls routed by it
            second: list[Any] = []
            async with acd(second) as live2:
                await asyncio.wait_for(live2.ready.wait(), 5)
                seen["foreign"] = dict(live2.binding.foreign)
                for _ in range(2):
                    inject()
                await wait(lambda: all(c.ended for c in calls), pbx, 3000)
                seen["routed_2"] = [e.call_id for e in second if isinstance(e, CallOffered)]

    asyncio.run(asyncio.wait_for(go(), 40))

    # the switch's truth: each call answered once
    assert all(c.rec is not None and c.rec[4] == "answered" for c in calls)
    log = rows(db, "SELECT * FROM acd_calls")
    sessions = rows(db, "SELECT id, stopped FROM acd_sessions ORDER BY started")
    assert len(sessions) == 2 and sessions[0]["stopped"] is None  # the crash
    assert sessions[1]["stopped"] is not None
    # every call exactly once, none left in progress
    assert Counter(r["call_id"] for r in log) == Counter(c.id for c in calls)
    outcome = {r["call_id"]: r for r in log}
    assert all(r["outcome"] is not None for r in log)
    # what each call's outcome must be, from the switch's side
    answered_1 = [c.id for c in calls[:4]]  # answered while run 1 routed
    queued_1 = [c.id for c in calls[4:6]]  # the switch's default route took them
    routed_2 = seen["routed_2"]
    assert routed_2 == [c.id for c in calls[7:]]
    expected = {
        **dict.fromkeys(answered_1, "answered"),
        **dict.fromkeys(queued_1, "default_routed"),
        seen["gap_call"]: "default_routed",
        **dict.fromkeys(routed_2, "answered"),
    }
    assert {k: r["outcome"] for k, r in outcome.items()} == expected
    first_session, second_session = sessions[0]["id"], sessions[1]["id"]
    # rows of run 1 stay run 1's (settled in place); the gap call is run 2's own row
    assert {outcome[c]["session"] for c in answered_1 + queued_1} == {first_session}
    assert {outcome[c]["session"] for c in [seen["gap_call"], *routed_2]} == {second_session}
    # calls seen again by run 2 got their end; the one that ended unseen has none
    assert outcome[seen["hung_up"]]["ended_at"] is None
    still_there = [c for c in answered_1 if c != seen["hung_up"]]
    for c in still_there:
        r = outcome[c]
        assert r["ended_at"] is not None and r["talk"] > 0
        assert abs(r["talk"] - (r["ended_at"] - r["answered_at"])) < 1e-6
    assert set(seen["foreign"]) == {*still_there, *queued_1, seen["gap_call"]}
    for c in [*queued_1, seen["gap_call"]]:
        assert outcome[c]["ended_at"] is not None  # seen ending at an agent's station
