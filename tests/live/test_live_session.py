"""ECMA-354 application sessions: the emulator's ``require_session`` and the live ACD.

A switch that requires a session refuses everything but StartApplicationSession
and SystemStatus until one is started, expires a session nobody renews, and
ends it on StopApplicationSession; the live ACD starts one when it can, renews
it at half the granted duration and stops it on close, and works the same
with a switch that has no sessions at all.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from resynchelp import DESK, desk

from ccsim import cli
from ccsim.csta import DeviceID
from ccsim.csta import messages as m
from ccsim.csta.connection import SessionState
from ccsim.live.acd import LiveACD
from ccsim.live.emulator import Emulator, ServiceError, SwitchOptions, read_trace
from ccsim.live.link import CstaError, open_client

QUIET = SwitchOptions(ring_time=2.0, route_timeout=0.0, routed_ring_timeout=0.0, arrivals=())


def run(coro: Any) -> None:
    asyncio.run(asyncio.wait_for(coro, 30))


def refusal(exc: CstaError) -> tuple[str, str]:
    response = exc.response
    assert isinstance(response, m.CSTAErrorCode)
    return response.error.category, response.error.value


def test_required_session_refuses_then_serves_then_expires() -> None:
    options = dataclasses.replace(QUIET, require_session=True, session_duration=1)

    async def go() -> None:
        # a client that never renews (its heartbeat would come after 10 durations)
        async with (
            Emulator(desk(), speed=100.0, options=options) as pbx,
            open_client("127.0.0.1", pbx.port, reconnect=False, heartbeat_fraction=10.0) as client,
        ):
            with pytest.raises(CstaError) as refused:
                await client.request(m.MonitorStart(device=DeviceID("301")))
            assert refusal(refused.value) == ("operation", "securityViolation")
            started = await client.request(
                m.StartApplicationSession(application_id="test", requested_session_duration=600)
            )
            assert isinstance(started, m.StartApplicationSessionPosResponse)
            assert started.actual_session_duration == 1  # the switch's limit
            await client.request(m.MonitorStart(device=DeviceID("301")))
            assert pbx.switch.monitors
            reset = await client.request(
                m.ResetApplicationSessionTimer(
                    session_id=started.session_id, requested_session_duration=1
                )
            )
            assert isinstance(reset, m.ResetApplicationSessionTimerPosResponse)
            await asyncio.sleep(1.5)  # not renewed: expired, monitors gone
            assert not pbx.switch.monitors
            with pytest.raises(CstaError) as again:
                await client.request(m.GetAgentState(device=DeviceID("301")))
            assert refusal(again.value) == ("operation", "securityViolation")

    run(go())


def test_live_acd_keeps_a_required_session_and_stops_it_on_close(tmp_path: Path) -> None:
    options = dataclasses.replace(QUIET, require_session=True, session_duration=2)
    trace = tmp_path / "csta.jsonl"

    async def go() -> None:
        async with (
            Emulator(desk(), speed=100.0, options=options, trace=trace) as pbx,
            LiveACD(desk(), "127.0.0.1", pbx.port, clock=pbx.clock.sim_now) as live,
        ):
            await asyncio.wait_for(live.ready.wait(), 5)
            assert live.client is not None and live.client.link is not None
            assert live.client.link.connection.session_id is not None
            # 1.5 session durations: only the ACD's renewals keep it alive (each second)
            for _ in range(6):
                pbx.inject_call("sales")
                await asyncio.sleep(0.5)
            assert live.acd.counters("sales").answered == 6
            assert live.connections == 1 and live.binding.stats.failures == 0
            [server] = list(pbx.sessions)
            assert server.link.connection.session_state is SessionState.ACTIVE

    run(go())
    names = [frame["xml"].split(">", 2)[1].split()[0].lstrip("<") for frame in read_trace(trace)]
    names = [n.split(":")[-1] for n in names]
    assert names.count("StartApplicationSession") == 1
    assert names.count("ResetApplicationSessionTimer") >= 2  # every second
    assert names.count("StopApplicationSession") == 1


class NoSessions(Emulator):
    """A switch without ECMA-354: StartApplicationSession is not supported."""

    def _service(self, session: Any, msg: m.Request) -> m.Response | None:
        if isinstance(msg, m.StartApplicationSession):
            raise ServiceError("operation", "serviceNotSupported")
        return super()._service(session, msg)


def test_live_acd_without_sessions() -> None:
    async def go() -> None:
        async with (
            NoSessions(desk(), speed=100.0, options=QUIET) as pbx,
            LiveACD(desk(), "127.0.0.1", pbx.port, clock=pbx.clock.sim_now) as live,
        ):
            await asyncio.wait_for(live.ready.wait(), 5)
            assert live.client is not None and live.client.link is not None
            assert live.client.link.connection.session_id is None
            for _ in range(2):
                pbx.inject_call("sales")
            t0 = pbx.clock.sim_now()
            while live.acd.counters("sales").answered < 2:
                assert pbx.clock.sim_now() < t0 + 100
                await asyncio.sleep(0.005)

    run(go())


def test_a_refused_renewal_reconnects_with_a_new_session() -> None:
    """The switch forgets the session (as after an expiry): the ACD's next renewal is
    refused, the link closes and the reconnection starts a new session and resyncs."""
    options = dataclasses.replace(QUIET, session_duration=1)

    async def go() -> None:
        async with (
            Emulator(desk(), speed=100.0, options=options) as pbx,
            LiveACD(desk(), "127.0.0.1", pbx.port, clock=pbx.clock.sim_now, reconnect=True) as live,
        ):
            await asyncio.wait_for(live.ready.wait(), 5)
            [server] = list(pbx.sessions)
            server.link.connection.session_state = SessionState.NONE  # forgotten
            t0 = asyncio.get_running_loop().time()
            while not (live.connections == 2 and live.ready.is_set()):
                assert asyncio.get_running_loop().time() < t0 + 5
                await asyncio.sleep(0.01)
            assert live.client is not None and live.client.link is not None
            assert live.client.link.connection.session_id is not None
            pbx.inject_call("sales")
            t1 = pbx.clock.sim_now()
            while live.acd.counters("sales").answered < 1:
                assert pbx.clock.sim_now() < t1 + 100
                await asyncio.sleep(0.005)

    run(go())


def test_cli_require_session(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``ccsim pbx --require-session`` as a process: a raw request is refused, the
    live ACD (which starts a session) routes a call through it."""
    path = tmp_path / "desk.toml"
    path.write_text(DESK, encoding="utf-8")
    ccsim = Path(sys.executable).with_name("ccsim")
    command = [str(ccsim), "pbx", "--scenario", str(path), "--port", "0", "--speed", "100"]
    command += ["--require-session", "--session-duration", "2", "--route-timeout", "0"]
    command += ["--routed-ring-timeout", "0", "--ring-time", "2"]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    async def go(port: int) -> None:
        async with open_client("127.0.0.1", port, reconnect=False) as client:
            with pytest.raises(CstaError) as refused:
                await client.request(m.GetAgentState(device=DeviceID("301")))
            assert refusal(refused.value) == ("operation", "securityViolation")
        async with LiveACD(desk(), "127.0.0.1", port, speed=100.0) as live:
            await asyncio.wait_for(live.ready.wait(), 5)
            assert live.client is not None and live.client.link is not None
            session = live.client.link.connection.session_id
            assert session is not None
            # the scenario's agents are on duty at the switch: the ACD learnt them
            assert live.acd.snapshot()["agents"].keys() == {"301", "302", "303", "304"}

    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        found = re.fullmatch(r"listening on 127\.0\.0\.1:(\d+)\n", line)
        assert found, line
        run(go(int(found.group(1))))
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert cli.main(["pbx", "--scenario", str(path), "--session-duration", "0"]) == 2
    assert "--session-duration must be >= 1" in capsys.readouterr().err
