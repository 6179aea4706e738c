"""Helpers of the supervisor-API tests: emulator + ``LiveACD`` + the API in one event loop.

The emulator knows four agent stations (301-303 at start-up, 304 too); the
ACD's roster starts without 304 so the roster API has a real station to add.
Requests go through ``httpx.ASGITransport`` (the app in process) unless a
test serves it over TCP itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from ccsim.errors import ACDError
from ccsim.events import AgentState, Command, Event
from ccsim.live.acd import LiveACD
from ccsim.live.api import Audit, TokenStore, create_api
from ccsim.live.emulator import Emulator, SwitchOptions
from ccsim.live.emulator.switch import AgentStation
from ccsim.scenario import Scenario

CENTER = """
name = "api-desk"
skills = ["sales", "vip"]

[[services]]
name = "sales"
routing_point = "sales"
aht = { kind = "deterministic", value = 5000 }
wrap_up = 5
patience = 5000
service_level = { fraction = 0.9, seconds = 15 }

[[services]]
name = "vip"
routing_point = "vip"
priority = 10
aht = { kind = "deterministic", value = 5000 }
wrap_up = 5
patience = 5000

[[routing_points]]
name = "sales"
steps = [{ op = "queue", queue = "sales" }]

[[routing_points]]
name = "vip"
steps = [{ op = "queue", queue = "vip" }]

[[agent_groups]]
name = "desk"
size = 2
stations = ["301", "302"]
skills = { sales = 1 }

[[agent_groups]]
name = "vip"
size = 1
stations = ["303"]
skills = { vip = 1 }

[[agent_groups]]
name = "late"
size = 1
stations = ["304"]
skills = { sales = 1 }

[timing]
ring_timeout = 20
"""

QUIET = SwitchOptions(ring_time=2.0, route_timeout=0.0, routed_ring_timeout=0.0, arrivals=())
#: role -> token (each at least 16 characters, as the store requires)
TOKENS = {
    "viewer": "wallboard-token-0123456789",
    "supervisor": "supervisor-token-0123456789",
    "admin": "admin-token-0123456789abcdef",
}
NAMES = {"viewer": "wall", "supervisor": "lead", "admin": "ops"}


def center() -> Scenario:
    return Scenario.from_toml_string(CENTER, "api-desk.toml")


def token_store() -> TokenStore:
    store = TokenStore()
    for role, token in TOKENS.items():
        store.add(NAMES[role], role, token=token)
    return store


def auth(role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKENS[role]}"}


@dataclass
class ApiPair:
    pbx: Emulator
    live: LiveACD
    app: FastAPI
    client: httpx.AsyncClient
    audit: Audit
    audit_path: Path
    log: list[tuple[Event, list[Command]]] = field(default_factory=list)

    def station(self, number: str) -> AgentStation:
        dev = self.pbx.switch.devices[number]
        assert isinstance(dev, AgentStation)
        return dev

    def state(self, agent: str) -> AgentState:
        try:
            return self.live.acd.agent(agent).state
        except ACDError:
            return AgentState.LOGGED_OFF

    def audit_lines(self) -> list[dict[str, Any]]:
        text = self.audit_path.read_text(encoding="utf-8")
        return [json.loads(line) for line in text.splitlines()]

    async def until(self, cond: Callable[[], bool], sim_seconds: float = 60.0) -> None:
        end = self.pbx.clock.sim_now() + sim_seconds
        while not cond():
            if self.pbx.clock.sim_now() > end:
                raise AssertionError("condition not reached in time")
            await asyncio.sleep(0.005)


@contextlib.asynccontextmanager
async def api_pair(
    tmp: Path, *, db: str | None = None, open_reads: bool = False
) -> AsyncIterator[ApiPair]:
    """The emulator, the live ACD (roster without 304) and the API with a JSON-lines audit."""
    scenario = center()
    async with Emulator(scenario, speed=200.0, options=QUIET) as pbx:
        log: list[tuple[Event, list[Command]]] = []
        live = LiveACD(
            scenario,
            "127.0.0.1",
            pbx.port,
            speed=200.0,
            clock=pbx.clock.sim_now,
            reconnect=False,
            db=db,
            on_record=lambda e, c: log.append((e, c)),
        )
        live.remove_agent("304")  # not yet in the roster: the API adds it
        async with live:
            await asyncio.wait_for(live.ready.wait(), 10)
            audit_path = tmp / "audit.jsonl"
            audit = Audit(audit_path, call_log=live.call_log)
            app = create_api(live, tokens=token_store(), audit=audit, open_reads=open_reads)
            transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
            async with httpx.AsyncClient(transport=transport, base_url="http://acd") as client:
                pair = ApiPair(pbx, live, app, client, audit, audit_path, log)
                await pair.until(
                    lambda: all(pair.state(a) is AgentState.READY for a in ("301", "302", "303"))
                )
                yield pair
            audit.close()
