"""ACD throughput: events per second through ``ccsim.acd.ACD`` against a pure-Python floor.

Workload: a 500-agent, 8-skill center at about 90% load (each agent holds 2-3
skills; calls of 8 services queue to their skill; exponential handle times
and patience, so calls abandon). A small event-driven driver produces the
event stream by reacting to each dispatcher's ``Deliver`` commands; the stream
is recorded once per dispatcher and then *replayed* into a fresh dispatcher
under the timer, so only ``handle`` is measured (the ACD is deterministic:
the replay yields the same commands as the recording).

The floor is a minimal dict-and-deque FIFO dispatcher written here: per-skill
deques of waiting calls and idle agents with lazy removal, FIFO across skills,
no timers, no agent state machine, no statistics. It is what plain Python can
do at best; the target is the ACD at >= 0.3x of it while doing real skills
routing (state table, timers, RONA, scripts, KPIs).

Run: ``python benchmarks/bench_acd.py [--events N]``.
"""

from __future__ import annotations

import argparse
import heapq
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import numpy as np

from ccsim._compiled import build_name
from ccsim.acd import ACD, ACDConfig, QueueConfig
from ccsim.events import (
    AgentLoggedOn,
    CallAbandoned,
    CallAnswered,
    CallEnded,
    CallOffered,
    CancelTimer,
    Deliver,
    Event,
    StartTimer,
    TimerFired,
)

SKILLS = [f"s{i}" for i in range(8)]
N_AGENTS = 500
AHT = 180.0
PATIENCE = 120.0
LOAD = 0.9


class FloorDispatcher:
    """Skills-based FIFO with dicts and deques: the pure-Python floor."""

    def __init__(self) -> None:
        self.waiting: dict[str, deque[tuple[float, str]]] = {s: deque() for s in SKILLS}
        self.idle: dict[str, deque[str]] = {s: deque() for s in SKILLS}
        self.skills: dict[str, tuple[str, ...]] = {}
        self.free: set[str] = set()
        self.calls: dict[str, str] = {}  # call -> skill while waiting
        self.agent_of: dict[str, str] = {}  # call -> agent once delivered

    def handle(self, ev: Event) -> list[Any]:
        t = type(ev)
        if t is CallOffered:
            skill = ev.service  # type: ignore[attr-defined]
            idle = self.idle[skill]
            while idle:
                a = idle.popleft()
                if a in self.free:
                    self.free.discard(a)
                    self.agent_of[ev.call_id] = a  # type: ignore[attr-defined]
                    return [Deliver(call_id=ev.call_id, agent_id=a, queue=skill)]  # type: ignore[attr-defined]
            self.calls[ev.call_id] = skill  # type: ignore[attr-defined]
            self.waiting[skill].append((ev.at, ev.call_id))  # type: ignore[attr-defined]
            return []
        if t is CallAnswered:
            return []
        if t is CallEnded:
            agent = self.agent_of.pop(ev.call_id)  # type: ignore[attr-defined]
            return self._free(agent)
        if t is CallAbandoned:
            self.calls.pop(ev.call_id, None)  # type: ignore[attr-defined]
            return []
        if t is AgentLoggedOn:
            self.skills[ev.agent_id] = tuple(ev.skills)  # type: ignore[attr-defined]
            return self._free(ev.agent_id)  # type: ignore[attr-defined]
        return []

    def _free(self, agent: str) -> list[Any]:
        best: tuple[float, str] | None = None
        best_skill = ""
        for s in self.skills[agent]:
            q = self.waiting[s]
            while q and q[0][1] not in self.calls:
                q.popleft()
            if q and (best is None or q[0][0] < best[0]):
                best, best_skill = q[0], s
        if best is not None:
            self.waiting[best_skill].popleft()
            del self.calls[best[1]]
            self.agent_of[best[1]] = agent
            return [Deliver(call_id=best[1], agent_id=agent, queue=best_skill)]
        self.free.add(agent)
        for s in self.skills[agent]:
            self.idle[s].append(agent)
        return []


def make_acd() -> ACD:
    return ACD(ACDConfig(queues={s: QueueConfig(name=s) for s in SKILLS}, ring_timeout=30.0))


def record(make: Callable[[], Any], n_events: int, seed: int = 1) -> list[Event]:
    """Drive a dispatcher with a small event loop; return the events it was fed."""
    rng = np.random.default_rng(seed)
    d = make()
    events: list[Event] = []
    heap: list[tuple[float, int, str, Any]] = []
    seq = 0

    def push(t: float, kind: str, data: Any) -> None:
        nonlocal seq
        seq += 1
        heapq.heappush(heap, (t, seq, kind, data))

    def feed(ev: Event) -> None:
        events.append(ev)
        for cmd in d.handle(ev):
            if type(cmd) is Deliver:
                ringing[cmd.call_id] = cmd.agent_id
                push(ev.at + 1.0 + rng.random(), "answer", (cmd.call_id, cmd.agent_id))
            elif type(cmd) is StartTimer:
                timers[cmd.key] = cmd.at
                push(cmd.at, "timer", cmd.key)
            elif type(cmd) is CancelTimer:
                timers.pop(cmd.key, None)

    ringing: dict[str, str] = {}
    timers: dict[tuple[str, str], float] = {}
    talking: set[str] = set()
    done: set[str] = set()
    for i in range(N_AGENTS):
        k = 2 + i % 2
        start = i % len(SKILLS)
        skills = {SKILLS[(start + j) % len(SKILLS)]: 1 + j for j in range(k)}
        feed(AgentLoggedOn(at=0.0, agent_id=f"a{i}", skills=skills, ready=True))
    rate = LOAD * N_AGENTS / AHT
    push(rng.exponential(1 / rate), "arrive", None)
    n_calls = 0
    while len(events) < n_events:
        t, _, kind, data = heapq.heappop(heap)
        if kind == "arrive":
            n_calls += 1
            cid = f"c{n_calls}"
            svc = SKILLS[int(rng.integers(len(SKILLS)))]
            push(t + rng.exponential(1 / rate), "arrive", None)
            push(t + rng.exponential(PATIENCE), "abandon", cid)
            feed(CallOffered(at=t, call_id=cid, service=svc))
        elif kind == "answer":
            cid, agent = data
            if ringing.get(cid) == agent:
                del ringing[cid]
                talking.add(cid)
                push(t + rng.exponential(AHT), "end", cid)
                feed(CallAnswered(at=t, call_id=cid, agent_id=agent))
        elif kind == "end":
            talking.discard(data)
            done.add(data)
            feed(CallEnded(at=t, call_id=data))
        elif kind == "abandon":
            if data not in talking and data not in done and data not in ringing:
                done.add(data)
                feed(CallAbandoned(at=t, call_id=data))
        elif kind == "timer" and timers.get(data) == t:
            del timers[data]
            feed(TimerFired(at=t, key=data))
    return events


def replay(make: Callable[[], Any], events: list[Event]) -> float:
    d = make()
    handle = d.handle
    t0 = time.perf_counter()
    for ev in events:
        handle(ev)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    acd_events = record(make_acd, args.events)
    floor_events = record(FloorDispatcher, args.events)
    # interleaved, best of each: a load change on a shared machine hits both alike
    acd_t = floor_t = float("inf")
    for _ in range(args.repeat):
        acd_t = min(acd_t, replay(make_acd, acd_events))
        floor_t = min(floor_t, replay(FloorDispatcher, floor_events))
    acd_rate = len(acd_events) / acd_t
    floor_rate = len(floor_events) / floor_t
    print(f"agents={N_AGENTS} skills={len(SKILLS)} load={LOAD}")
    print(f"ccsim build: {build_name()}  (ccsim/_compiled.py; CCSIM_PURE=1 for the sources)")
    print(f"ccsim ACD : {len(acd_events):,} events in {acd_t:.2f} s = {acd_rate:,.0f} events/s")
    print(
        f"dict+deque: {len(floor_events):,} events in {floor_t:.2f} s = {floor_rate:,.0f} events/s"
    )
    print(f"ratio ACD/floor = {acd_rate / floor_rate:.2f}x  (target >= 0.30x)")


if __name__ == "__main__":
    main()
