"""Replay parity: the events the live binding fed into the ACD, replayed offline into a
fresh ACD, give the identical command list; and ``ccsim acd`` end to end as processes."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from livehelp import live_pair, two_skills

from ccsim.acd import ACD
from ccsim.events import (
    AgentLoggedOn,
    CallAbandoned,
    CallAnswered,
    CallOffered,
    Command,
    Event,
    Retract,
    TimerFired,
)
from ccsim.live.acd import live_acd, live_config, read_recording
from ccsim.live.binding import event_from_json, event_to_json, replay
from ccsim.scenario import example


def test_recorded_session_replays_to_the_same_commands(tmp_path: Path) -> None:
    path = tmp_path / "acd.jsonl"
    scenario = two_skills()

    async def go() -> list[tuple[Event, list[Command]]]:
        async with live_pair(scenario, record=str(path), speed=300.0) as p:
            for service in ("sales", "gold", "vip", "sales", "gold", "sales", "sales", "gold"):
                p.pbx.inject_call(service)
                await asyncio.sleep(0.02)
            await p.until(lambda: len(p.fed(CallAnswered)) + len(p.fed(CallAbandoned)) >= 8, 2000)
            assert p.commands(Retract)  # ring-no-answer happened (lazy 301)
            p.live.flush()
            return p.log

    log = asyncio.run(asyncio.wait_for(go(), 30))
    live_commands = [c for _, cs in log for c in cs]
    recorded = list(read_recording(path))
    assert recorded == [e for e, _ in log]
    assert replay(ACD(live_config(scenario)), recorded) == live_commands
    assert len(live_commands) > 40


def test_event_json_round_trip() -> None:
    events = [
        AgentLoggedOn(at=1.0, agent_id="301", skills={"sales": 2}, ready=True),
        CallOffered(at=2.5, call_id="7", service="sales", priority=3, attributes={"tier": "金"}),
        TimerFired(at=3.0, key=("ring", "7")),
    ]
    again = [event_from_json(json.loads(json.dumps(event_to_json(e)))) for e in events]
    assert again == events


def test_ccsim_pbx_and_ccsim_acd_processes(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    pbx = subprocess.Popen(
        [sys.executable, "-m", "ccsim", "pbx", "--scenario", "single_skill", "--speed", "200",
         "--route-timeout", "0", "--routed-ring-timeout", "0"],
        stdout=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    acd = None
    try:
        assert pbx.stdout is not None
        line = pbx.stdout.readline()
        assert line.startswith("listening on "), line
        address = line.split()[-1]
        record = tmp_path / "events.jsonl"
        acd = subprocess.Popen(
            [sys.executable, "-m", "ccsim", "acd", "--pbx", address, "--scenario",
             "single_skill", "--speed", "200", "--record", str(record)],
            stdout=subprocess.PIPE, text=True, env=env,
        )  # fmt: skip
        assert acd.stdout is not None
        assert acd.stdout.readline().startswith("routing for ")
        time.sleep(2.0)  # 400 simulated seconds: about 40 calls
        acd.send_signal(signal.SIGINT)
        out, _ = acd.communicate(timeout=10)
        assert acd.returncode == 0, out
        assert "route_requests" in out
        events = list(read_recording(record))
        kinds = {type(e).__name__ for e in events}
        assert {"AgentLoggedOn", "CallOffered", "CallAnswered", "CallEnded"} <= kinds
        assert replay(live_acd(example("single_skill")), events)  # replays cleanly
    finally:
        for proc in (acd, pbx):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGINT)
                proc.wait(timeout=10)
