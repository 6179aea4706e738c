"""Helpers of the resync, session and crash tests: a small desk and switch-side actions.

The desk is one skill, four agents and calls of a fixed 150 s (patience none),
so a test decides which calls are talking, queued or ended when the link
drops, instead of hoping the random traffic does.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from livehelp import Pair, attach

from ccsim.live.acd import LiveACD
from ccsim.live.emulator import Emulator, SwitchOptions
from ccsim.live.emulator.switch import Call
from ccsim.scenario import Scenario

DESK = """
name = "resync-desk"
skills = ["sales"]

[[services]]
name = "sales"
routing_point = "sales"
aht = { kind = "deterministic", value = 150 }
wrap_up = 0
patience = "none"

[[routing_points]]
name = "sales"
steps = [{ op = "queue", queue = "sales" }]

[[agent_groups]]
name = "desk"
size = 4
stations = ["301", "302", "303", "304"]
skills = { sales = 1 }

[timing]
ring_timeout = 10
"""


def desk() -> Scenario:
    """One skill (``sales``), agents 301-304, 150 s calls, no abandonment."""
    return Scenario.from_toml_string(DESK, "resync-desk.toml")


def hang_up(pbx: Emulator, call: Call) -> str:
    """The agent talking on ``call`` hangs up (as the person at the phone would)."""
    station = next(d for d, state in call.conns.items() if d.startswith("30"))
    pbx.clock.advance()
    pbx.switch.clear_connection(call, station)
    pbx.clock.poke()
    return station


async def drop_link(pbx: Emulator) -> None:
    """The switch drops every CTI link and has forgotten its routers when this returns."""
    for session in list(pbx.sessions):
        await session.link.close("test: link lost")
    while pbx.switch.registrations:
        await asyncio.sleep(0.002)


async def crash(live: LiveACD) -> None:
    """What a killed ACD process leaves behind: its socket closes, nothing else runs.

    No ``close``: the call log is not flushed, no StopApplicationSession, no
    timer fires; the switch sees the TCP connection reset.
    """
    for handle in live._timers.values():
        handle.cancel()
    tasks = [t for t in (live._reader, *live._tasks) if t is not None]
    client = live.client
    assert client is not None
    if client._supervisor is not None:
        tasks.append(client._supervisor)
    log = live.call_log
    if log is not None and log._task is not None:
        tasks.append(log._task)
    link = client.link
    if link is not None:
        link._writer.transport.abort()
        tasks += link._tasks
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
    if log is not None:
        log.engine.dispose()
    if live._record_file is not None:
        live._record_file.close()


@contextlib.asynccontextmanager
async def logged_live_pair(
    scenario: Scenario, db: str, *, speed: float, options: SwitchOptions
) -> AsyncIterator[Pair]:
    """``livehelp.live_pair`` with a call log on ``db`` and reconnection on."""
    async with (
        Emulator(scenario, speed=speed, options=options) as pbx,
        attach(scenario, pbx, speed=speed, reconnect=True, db=db, db_flush_interval=0.05) as p,
    ):
        yield p
