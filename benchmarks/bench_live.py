"""Live ACD under load: route requests per second and RouteRequest -> RouteSelect latency.

Workload: a 1,000-agent, 10-skill center (10 routing points, each queueing to
one skill; every agent has two skills), routed by ``ccsim acd`` running as its
own process (one asyncio loop: one core) at speed 1. The benchmark is the
switch: a CSTA server written with ``ccsim.live.link.serve`` that answers the
ACD's RouteRegister / MonitorStart / GetAgentState (all agents ready) and its
resync's SnapshotDevice (no calls anywhere), refuses an ECMA-354 session, then
offers RouteRequests at a fixed rate, evenly spaced. Each RouteSelect is timed
against its RouteRequest; the selected agent answers at once (Established),
talks ``--talk`` seconds (ConnectionCleared, RouteEnd) and is ready again
(wrap-up 0). At 1,000 requests/s with 0.2 s talk, 200 of the 1,000 agents are
busy, so every call finds a free agent and the latency is the ACD's alone plus
the loopback and the load generator's own jitter (it shares the machine).

The rate is stepped up; at each level the benchmark prints route requests
offered and answered per second and the latency p50 / p99 / max. Target: 1,000
route requests/s with p99 under 10 ms on one core.

Peer: the same route-request stream fed straight into an in-process
``ccsim.acd.ACD`` (CallOffered, CallAnswered, CallEnded; no CSTA, no sockets):
the ratio says what the CSTA binding, the codec and the event loop cost.

Run: ``python benchmarks/bench_live.py [--quick] [--seconds S] [--rates R,R,...]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from ccsim.acd import ACD
from ccsim.csta import ConnectionID, DeviceID, RequestReceived
from ccsim.csta import messages as m
from ccsim.events import AgentLoggedOn, CallAnswered, CallEnded, CallOffered, Deliver
from ccsim.live.acd import live_config
from ccsim.live.link import CstaLink, serve
from ccsim.scenario import Scenario

AGENTS = 1000
SKILLS = 10


def scenario_text() -> str:
    names = ", ".join(f'"s{k}"' for k in range(SKILLS))
    lines = ['name = "bench-live"', f"skills = [{names}]"]
    for k in range(SKILLS):
        lines += [
            "[[services]]",
            f'name = "s{k}"',
            f'routing_point = "rp{k}"',
            "aht = 0.2",
            "[[routing_points]]",
            f'name = "rp{k}"',
            f'steps = [{{ op = "queue", queue = "s{k}" }}]',
        ]
    per = AGENTS // SKILLS
    for k in range(SKILLS):
        lines += [
            "[[agent_groups]]",
            f'name = "g{k}"',
            f"size = {per}",
            f"first_station = {10000 + k * per}",
            f"skills = {{ s{k} = 1, s{(k + 1) % SKILLS} = 1 }}",
        ]
    lines += ["[timing]", "ring_timeout = 15", "wrap_up = 0"]
    return "\n".join(lines) + "\n"


class FakeSwitch:
    """The switch side: answers the ACD's set-up, offers calls, times the RouteSelects."""

    def __init__(self, scenario: Scenario, talk: float) -> None:
        self.stations = [a for g in scenario.agent_groups for a in g.agent_ids()]
        self.talk = talk
        self.link: CstaLink | None = None
        self.ready = asyncio.Event()
        self.states = 0
        self.sent: dict[str, float] = {}
        self.latencies: list[float] = []
        self.selected = 0
        self.other = 0
        self._ids = 0

    async def handler(self, link: CstaLink) -> None:
        self.link = link
        loop = asyncio.get_running_loop()
        async for item in link.events():
            if not isinstance(item, RequestReceived):
                continue
            msg = item.message
            if isinstance(msg, m.RouteSelect):
                t0 = self.sent.pop(msg.cross_ref_identifier, None)
                if t0 is not None:
                    self.latencies.append(time.perf_counter() - t0)
                    self.selected += 1
                self._answer(msg.cross_ref_identifier, msg.route_selected.number, loop)
            elif isinstance(msg, m.RouteRegister):
                self._ids += 1
                await link.respond(
                    item, m.RouteRegisterResponse(route_register_req_id=f"R{self._ids}")
                )
            elif isinstance(msg, m.MonitorStart):
                self._ids += 1
                await link.respond(
                    item, m.MonitorStartResponse(monitor_cross_ref_id=f"M{self._ids}")
                )
            elif isinstance(msg, m.GetAgentState):
                info = m.AgentInfo(agent_state="agentReady")
                entry = m.AgentStateEntry(
                    agent_id=msg.device.number, logged_on=True, agent_info=(info,)
                )
                await link.respond(item, m.GetAgentStateResponse(agent_state_list=(entry,)))
            elif isinstance(msg, m.SnapshotDevice):  # the ACD's resync: no calls anywhere
                await link.respond(item, m.SnapshotDeviceResponse())
                self.states += 1
                if self.states == len(self.stations) + SKILLS:  # stations + routing points
                    self.ready.set()
            elif isinstance(msg, m.SystemRegister):
                await link.respond(item, m.SystemRegisterResponse(sys_stat_register_id="S1"))
            elif isinstance(msg, m.StartApplicationSession):  # no ECMA-354 here
                await link.respond(item, m.CSTAErrorCode.of("operation", "serviceNotSupported"))
            elif isinstance(msg, m.SetAgentState):
                await link.respond(item, m.SetAgentStateResponse())
            else:
                self.other += 1

    def _answer(self, xref: str, station: str, loop: asyncio.AbstractEventLoop) -> None:
        call = xref[1:]
        conn = ConnectionID(call, DeviceID(station))
        self._emit(
            m.EstablishedEvent(
                monitor_cross_ref_id="M0", established_connection=conn,
                answering_device=DeviceID(station),
            )
        )  # fmt: skip

        def hang_up() -> None:
            self._emit(
                m.ConnectionClearedEvent(
                    monitor_cross_ref_id="M0", dropped_connection=conn,
                    releasing_device=DeviceID(station), local_connection_info="null",
                )
            )  # fmt: skip
            self._emit(m.RouteEnd(cross_ref_identifier=xref))

        loop.call_later(self.talk, hang_up)

    def _emit(self, msg: m.Message) -> None:
        if self.link is not None and not self.link.closed:
            self.link._send_quietly(msg)  # no drain per frame: the load generator must keep up

    def offer(self, call: int) -> None:
        rp = f"rp{call % SKILLS}"
        xref = f"X{call}"
        self.sent[xref] = time.perf_counter()
        self._emit(
            m.RouteRequest(
                cross_ref_identifier=xref, current_route=DeviceID(rp), routeing_device=DeviceID(rp),
                routed_call=ConnectionID(str(call), DeviceID(rp)),
                private_data=(("service", f"s{call % SKILLS}"),),
            )
        )  # fmt: skip


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (Linux /proc; NaN elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def step(
    switch: FakeSwitch, rate: float, seconds: float, first: int, pid: int
) -> dict[str, Any]:
    switch.latencies.clear()
    cpu0 = cpu_seconds(pid)
    selected0 = switch.selected
    n = int(rate * seconds)
    t0 = time.perf_counter()
    sent = 0
    while sent < n:
        due = min(n, int((time.perf_counter() - t0) * rate) + 1)
        while sent < due:
            switch.offer(first + sent)
            sent += 1
        await asyncio.sleep(0.001)
    elapsed = time.perf_counter() - t0
    cpu = (cpu_seconds(pid) - cpu0) / elapsed
    await asyncio.sleep(0.5)  # let the last answers arrive
    lat = np.array(switch.latencies) * 1000.0
    return {
        "rate": rate,
        "cpu": cpu,
        "offered": n / elapsed,
        "answered": (switch.selected - selected0) / elapsed,
        "unanswered": n - (switch.selected - selected0),
        "p50": float(np.percentile(lat, 50)) if lat.size else float("nan"),
        "p99": float(np.percentile(lat, 99)) if lat.size else float("nan"),
        "max": float(lat.max()) if lat.size else float("nan"),
    }


def peer(scenario: Scenario, calls: int) -> float:
    """Route requests per second of the bare ACD on the same stream (answer and end at once)."""
    acd = ACD(live_config(scenario))
    for g in scenario.agent_groups:
        for a in g.agent_ids():
            acd.handle(AgentLoggedOn(at=0.0, agent_id=a, skills=dict(g.skills), ready=True))
    t0 = time.perf_counter()
    at = 1.0
    for i in range(calls):
        at += 0.001
        cid = str(i)
        for cmd in acd.handle(CallOffered(at=at, call_id=cid, service=f"s{i % SKILLS}")):
            if type(cmd) is Deliver:
                acd.handle(CallAnswered(at=at, call_id=cid, agent_id=cmd.agent_id))
                acd.handle(CallEnded(at=at, call_id=cid))
    return calls / (time.perf_counter() - t0)


async def main(rates: list[float], seconds: float, talk: float) -> None:
    text = scenario_text()
    scenario = Scenario.from_toml_string(text, "bench-live.toml")
    switch = FakeSwitch(scenario, talk)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench-live.toml"
        path.write_text(text, encoding="utf-8")
        async with await serve("127.0.0.1", 0, switch.handler) as server:
            env = {**os.environ, "PYTHONUNBUFFERED": "1"}
            cmd = [sys.executable, "-m", "ccsim", "acd", "--pbx", f"127.0.0.1:{server.port}",
                   "--scenario", str(path)]  # fmt: skip
            proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, env=env)
            try:
                await asyncio.wait_for(switch.ready.wait(), 60)
                await asyncio.sleep(1.0)
                print(f"ccsim acd: {AGENTS} agents, {SKILLS} skills, talk {talk} s, speed 1")
                print(f"{'rate/s':>8} {'offered/s':>10} {'routed/s':>9} {'p50 ms':>8} "
                      f"{'p99 ms':>8} {'max ms':>8} {'lost':>5} {'acd cpu':>8}")  # fmt: skip
                first = 0
                best = 0.0
                for rate in rates:
                    r = await step(switch, rate, seconds, first, proc.pid)
                    first += int(rate * seconds)
                    print(f"{r['rate']:8.0f} {r['offered']:10.0f} {r['answered']:9.0f} "
                          f"{r['p50']:8.2f} {r['p99']:8.2f} {r['max']:8.1f} {r['unanswered']:5d} "
                          f"{r['cpu']:8.0%}")  # fmt: skip
                    if r["p99"] < 10.0 and r["unanswered"] == 0:
                        best = max(best, r["answered"])
            finally:
                proc.terminate()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=10)
    bare = peer(scenario, 50_000)
    print(f"sustained with p99 < 10 ms: {best:.0f} route requests/s (target 1000: "
          f"{best / 1000:.2f}x)")  # fmt: skip
    print(f"peer, bare ACD in-process: {bare:,.0f} route requests/s; "
          f"live/bare = {best / bare:.3f}")  # fmt: skip


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a short smoke run")
    ap.add_argument("--seconds", type=float, default=5.0, help="wall seconds per rate step")
    ap.add_argument("--rates", default="250,500,1000,1500,2000", help="route requests/s steps")
    ap.add_argument("--talk", type=float, default=0.2, help="wall seconds each call lasts")
    a = ap.parse_args()
    rates = [float(x) for x in a.rates.split(",")]
    if a.quick:
        rates, a.seconds = [100.0, 300.0], 1.0
    asyncio.run(main(rates, a.seconds, a.talk))
