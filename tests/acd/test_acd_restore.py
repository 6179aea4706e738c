"""Warm start: an ACD restored from ``export_state()`` continues exactly like the original.

An event stream is produced by a small randomised driver (arrivals, answers,
misses, abandonment, breaks, scripts with waits and overflow); at several cut
points the state is exported, passed through JSON, restored, and the rest of
the stream is fed to both ACDs: every command must be identical.
"""

from __future__ import annotations

import heapq
import json
from typing import Any

import numpy as np
import pytest
from acdhelp import two_skill_config

from ccsim.acd import ACD, ACDConfig, ACDError
from ccsim.events import (
    AgentLoggedOn,
    AgentNotReady,
    AgentReady,
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


def config() -> ACDConfig:
    return two_skill_config(overflow_above=8)


def stream(n_events: int, seed: int) -> list[Event]:
    rng = np.random.default_rng(seed)
    acd = ACD(config())
    events: list[Event] = []
    heap: list[tuple[float, int, str, Any]] = []
    seq = 0

    def push(t: float, kind: str, data: Any) -> None:
        nonlocal seq
        seq += 1
        heapq.heappush(heap, (t, seq, kind, data))

    timers: dict[tuple[str, str], float] = {}
    ringing: dict[str, str] = {}
    talking: set[str] = set()

    def feed(ev: Event) -> None:
        try:
            out = acd.handle(ev)
        except ACDError:
            return
        events.append(ev)
        for cmd in out:
            if isinstance(cmd, Deliver):
                ringing[cmd.call_id] = cmd.agent_id
                if rng.random() > 0.15:  # sometimes nobody picks up: RONA
                    push(ev.at + rng.uniform(1, 4), "answer", (cmd.call_id, cmd.agent_id))
            elif isinstance(cmd, StartTimer):
                timers[cmd.key] = cmd.at
                push(cmd.at, "timer", cmd.key)
            elif isinstance(cmd, CancelTimer):
                timers.pop(cmd.key, None)

    skills = [{"gen": 1}, {"gen": 2, "vip": 1}, {"vip": 1}, {"gen": 1, "vip": 3}, {"gen": 1}]
    for i, sk in enumerate(skills):
        feed(AgentLoggedOn(at=0.0, agent_id=f"a{i}", skills=sk, ready=True))
    push(rng.exponential(20), "arrive", 0)
    push(50.0, "break", None)
    while len(events) < n_events:
        t, _, kind, data = heapq.heappop(heap)
        if kind == "arrive":
            push(t + rng.exponential(20), "arrive", data + 1)
            cid = f"c{data}"
            push(t + rng.exponential(90), "abandon", cid)
            feed(
                CallOffered(at=t, call_id=cid, service="gold" if rng.random() < 0.2 else "general")
            )
        elif kind == "answer":
            cid, agent = data
            if ringing.get(cid) == agent:
                del ringing[cid]
                talking.add(cid)
                push(t + rng.exponential(80), "end", cid)
                feed(CallAnswered(at=t, call_id=cid, agent_id=agent))
        elif kind == "end":
            talking.discard(data)
            feed(CallEnded(at=t, call_id=data))
        elif kind == "abandon":
            if data not in talking:
                ringing.pop(data, None)
                feed(CallAbandoned(at=t, call_id=data))
        elif kind == "timer" and timers.get(data) == t:
            del timers[data]
            if data[0] == "ring":
                ringing.pop(data[1], None)
            feed(TimerFired(at=t, key=data))
        elif kind == "break":
            agent = f"a{int(rng.integers(len(skills)))}"
            feed(AgentNotReady(at=t, agent_id=agent, reason="break"))
            push(t + 60, "back", agent)
            push(t + rng.exponential(100), "break", None)
        elif kind == "back":
            feed(AgentReady(at=t, agent_id=data))
    return events


@pytest.mark.parametrize("seed", [1, 2])
def test_restored_acd_continues_identically(seed: int) -> None:
    events = stream(3000, seed)
    for cut in (1, 400, 1500, 2999):
        original = ACD(config())
        for ev in events[:cut]:
            original.handle(ev)
        state = json.loads(json.dumps(original.export_state()))  # plain data, survives JSON
        copy = ACD.restore(config(), state)
        assert copy.snapshot() == original.snapshot()
        for ev in events[cut:]:
            assert copy.handle(ev) == original.handle(ev), (cut, ev)


def test_restore_refuses_unknown_version() -> None:
    with pytest.raises(ACDError, match="version"):
        ACD.restore(config(), {"version": 99})
