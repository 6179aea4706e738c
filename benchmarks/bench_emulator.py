"""PBX emulator in real time: CSTA events per second and clock lag, 1,000 agents, one router.

Workload: a 1,000-agent single-skill center (handle time exponential, mean 4 s;
wrap-up 4 s; agents pick up after 1 s), run by ``ccsim.live.emulator.Emulator``
at speed 1 (real time) on loopback TCP, with one router client attached -
written with ``ccsim.live.link`` as a live ACD would be: it monitors all 1,000
agent stations, reads their states with GetAgentState, registers as the router
of the routing point, and answers every RouteRequest / ReRoute with a RouteSelect
to its longest-idle agent (holding calls in its own FIFO while none is free).
Per call that is 8 CSTA messages out of the switch (RouteRequest, Delivered,
Established, AgentBusy, ConnectionCleared, AgentWorkingAfterCall, RouteEnd,
AgentReady).

The arrival rate is stepped up; at each level the emulator runs ``--seconds``
wall seconds after a warm-up and the benchmark prints CSTA events sent per
second and the clock lag (how late SimPy steps ran against their wall-clock due
time: mean, 99th percentile, max). The largest level whose 99th-percentile lag
stays under 100 ms is what the emulator sustains (target: >= 500 events/s with
lag under 100 ms). The router shares the process and the CPU, so the figures
are conservative.

Peer: ``simpy.rt.RealtimeEnvironment`` (strict=False) driving the same switch
model at the same rate in this process, without sockets or clients (its lag is
taken after each step, so it includes the step itself). It blocks in
``time.sleep`` and cannot serve clients; the ratio shows what the asyncio
integration and the CSTA traffic cost in timing accuracy.

Run: ``python benchmarks/bench_emulator.py [--quick] [--seconds S] [--rates R,R,...]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import time
from collections import deque
from typing import Any

import simpy
import simpy.rt

from ccsim.csta import DeviceID, EventReceived, RequestReceived
from ccsim.csta import messages as m
from ccsim.live.emulator import Emulator, LagStats, Switch, SwitchOptions
from ccsim.live.link import CstaClient, open_client
from ccsim.pbx.streams import Streams
from ccsim.scenario import Scenario

AGENTS = 1000
AHT = 4.0
WRAP = 4.0
RING = 1.0
WARMUP = 3.0


def scenario(calls_per_second: float) -> Scenario:
    return Scenario.from_toml_string(
        f"""
name = "bench"
skills = ["general"]
[[services]]
name = "general"
arrivals = {{ rate_per_hour = {calls_per_second * 3600.0} }}
aht = {{ kind = "exponential", mean = {AHT} }}
wrap_up = {WRAP}
[[agent_groups]]
name = "agents"
size = {AGENTS}
first_station = 10000
skills = {{ general = 1 }}
""",
        "bench.toml",
    )


class Router:
    """A minimal live-ACD router: longest-idle agent, FIFO of calls awaiting an agent."""

    def __init__(self, client: CstaClient, agents: list[str]) -> None:
        self.client = client
        self.agents = set(agents)
        self.idle: dict[str, None] = {}
        self.waiting: deque[tuple[str, str | None]] = deque()
        self.selects = 0

    async def setup(self, vdn: str) -> None:
        async def one(agent: str) -> None:
            await self.client.request(m.MonitorStart(device=DeviceID(agent)))
            state = await self.client.request(m.GetAgentState(device=DeviceID(agent)))
            assert isinstance(state, m.GetAgentStateResponse)
            info = state.agent_state_list[0].agent_info[0]
            if info.agent_state == "agentReady":
                self.idle[agent] = None

        for start in range(0, len(self.agents), 100):
            await asyncio.gather(*(one(a) for a in sorted(self.agents)[start : start + 100]))
        await self.client.request(m.RouteRegister(routeing_device=DeviceID(vdn)))

    async def run(self) -> None:
        async for item in self.client.events():
            if isinstance(item, EventReceived):
                msg = item.message
                if isinstance(msg, m.AgentReadyEvent):
                    self.idle[msg.agent_device.value] = None
                    await self._dispatch()
                elif isinstance(
                    msg,
                    (
                        m.AgentBusyEvent,
                        m.AgentNotReadyEvent,
                        m.AgentLoggedOffEvent,
                        m.AgentWorkingAfterCallEvent,
                    ),
                ):
                    self.idle.pop(msg.agent_device.value, None)
            elif isinstance(item, RequestReceived):
                req = item.message
                if isinstance(req, (m.RouteRequest, m.ReRoute)):
                    self.waiting.append((req.cross_ref_identifier, req.route_register_req_id))
                    await self._dispatch()
                elif isinstance(req, m.RouteEnd):
                    xref = req.cross_ref_identifier
                    self.waiting = deque(w for w in self.waiting if w[0] != xref)

    async def _dispatch(self) -> None:
        while self.waiting and self.idle:
            agent = next(iter(self.idle))
            del self.idle[agent]
            xref, reg = self.waiting.popleft()
            await self.client.send(
                m.RouteSelect(
                    cross_ref_identifier=xref,
                    route_register_req_id=reg,
                    route_selected=DeviceID(agent),
                )
            )
            self.selects += 1


async def emulate(rate: float, seconds: float) -> dict[str, Any]:
    sc = scenario(rate)
    options = SwitchOptions(ring_time=RING, route_timeout=0.0, record=False)
    emulator = Emulator(sc, speed=1.0, seed=1, options=options)
    agents = list(sc.agent_ids())
    async with emulator, open_client("127.0.0.1", emulator.port, reconnect=False) as client:
        router = Router(client, agents)
        setup_started = time.monotonic()
        await router.setup("general")
        setup = time.monotonic() - setup_started
        task = asyncio.create_task(router.run())
        await asyncio.sleep(WARMUP)
        emulator.clock.lag.reset()
        events0, steps0 = emulator.switch.events_out, emulator.clock.steps
        t0 = time.monotonic()
        await asyncio.sleep(seconds)
        elapsed = time.monotonic() - t0
        lag = emulator.clock.lag
        result = {
            "rate": rate,
            "events_per_s": (emulator.switch.events_out - events0) / elapsed,
            "steps_per_s": (emulator.clock.steps - steps0) / elapsed,
            "lag_mean": lag.mean,
            "lag_p99": lag.percentile(99),
            "lag_max": lag.max,
            "selects": router.selects,
            "setup": setup,
        }
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    return result


class _MeasuredRealtime(simpy.rt.RealtimeEnvironment):
    """simpy's real-time environment with the lateness of each step recorded."""

    def __init__(self, lag: LagStats) -> None:
        super().__init__(initial_time=0.0, factor=1.0, strict=False)
        self.lag = lag

    def step(self) -> None:
        due = self.real_start + (self.peek() - self.env_start) * self.factor
        super().step()
        self.lag.add(max(0.0, time.monotonic() - due))


def peer(rate: float, seconds: float) -> dict[str, float]:
    lag = LagStats()
    env = _MeasuredRealtime(lag)
    switch = Switch(scenario(rate), env=env, streams=Streams(1), options=SwitchOptions(RING))
    switch.start()
    env.run(until=WARMUP)
    lag.reset()
    env.run(until=WARMUP + seconds)
    return {"lag_mean": lag.mean, "lag_p99": lag.percentile(99), "lag_max": lag.max}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--quick", action="store_true", help="two short levels")
    ap.add_argument("--seconds", type=float, default=15.0, help="measured wall seconds per level")
    ap.add_argument("--rates", default="20,40,60,80,100", help="arrival rates, calls per second")
    args = ap.parse_args()
    rates = [float(r) for r in args.rates.split(",")]
    seconds = args.seconds
    if args.quick:
        rates, seconds = [30.0, 100.0], 5.0
    print(
        f"1,000 agents, AHT {AHT:.0f} s + wrap {WRAP:.0f} s + ring {RING:.0f} s, "
        f"speed 1, one router client; {seconds:.0f} s measured per level"
    )
    print(f"{'calls/s':>8} {'events/s':>9} {'lag mean':>9} {'p99':>8} {'max':>8}  status")
    best: dict[str, Any] | None = None
    for rate in rates:
        r = asyncio.run(emulate(rate, seconds))
        ok = r["lag_p99"] < 0.1
        if ok:
            best = r
        print(
            f"{rate:8.0f} {r['events_per_s']:9.0f} {r['lag_mean'] * 1e3:7.1f}ms "
            f"{r['lag_p99'] * 1e3:6.1f}ms {r['lag_max'] * 1e3:6.1f}ms  "
            f"{'keeps up' if ok else 'falls behind'} (router setup {r['setup']:.1f} s)"
        )
    if best is None:
        print("the emulator fell behind at every level")
        return
    p = peer(best["rate"], seconds)
    print(
        f"sustained: {best['events_per_s']:.0f} CSTA events/s at {best['rate']:.0f} calls/s, "
        f"p99 lag {best['lag_p99'] * 1e3:.1f} ms (target >= 500 events/s, lag < 100 ms)"
    )
    print(
        f"peer simpy.rt.RealtimeEnvironment, same model, no clients: p99 lag "
        f"{p['lag_p99'] * 1e3:.1f} ms, mean {p['lag_mean'] * 1e3:.2f} ms; "
        f"ratio emulator/peer p99 lag {best['lag_p99'] / max(p['lag_p99'], 1e-6):.1f}x"
    )


if __name__ == "__main__":
    main()
