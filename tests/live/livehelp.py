"""Shared helpers of the live-ACD tests: the emulator and ``LiveACD`` in one event loop.

The ACD reads the emulator's simulated clock (``clock=pbx.clock.sim_now``), so
its timers and the switch agree on time at any speed; both run on the test's
asyncio loop over loopback TCP (port 0).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from ccsim.acd import ACD
from ccsim.events import Command, Event
from ccsim.live.acd import LiveACD
from ccsim.live.emulator import Emulator, SwitchOptions
from ccsim.live.emulator.switch import AgentStation
from ccsim.scenario import Scenario

TWO_SKILLS = """
name = "two-skills"
skills = ["sales", "vip"]

[[services]]
name = "sales"
routing_point = "sales"
aht = 40
wrap_up = 5
patience = 200

[[services]]
name = "gold"
routing_point = "gold"
priority = 5
aht = 40
wrap_up = 5
patience = 1000

[[services]]
name = "vip"
routing_point = "vip"
priority = 10
aht = 40
wrap_up = 5
patience = 1000

[[routing_points]]
name = "sales"
steps = [{ op = "queue", queue = "sales" }]

[[routing_points]]
name = "gold"
steps = [{ op = "queue", queue = "sales" }]

[[routing_points]]
name = "vip"
steps = [{ op = "queue", queue = "vip" }]

[[agent_groups]]
name = "lazy"
size = 1
stations = ["301"]
skills = { sales = 1 }
no_answer_probability = 0.999999

[[agent_groups]]
name = "team"
size = 1
stations = ["302"]
skills = { sales = 1, vip = 1 }

[timing]
ring_timeout = 10
"""


def two_skills() -> Scenario:
    """Lazy 301 (sales, never answers), 302 (sales + vip); gold queues to sales at priority 5."""
    return Scenario.from_toml_string(TWO_SKILLS, "two-skills.toml")


@dataclass
class Pair:
    pbx: Emulator
    live: LiveACD
    log: list[tuple[Event, list[Command]]] = field(default_factory=list)

    def station(self, number: str) -> AgentStation:
        dev = self.pbx.switch.devices[number]
        assert isinstance(dev, AgentStation)
        return dev

    def set_agent(self, station: str, state: str, reason: str = "") -> None:
        """Change an agent's state at the switch (as the person at the phone would)."""
        self.pbx.switch.set_agent(self.station(station), state, reason=reason)
        self.pbx.clock.poke()

    def fed(self, kind: type[Event]) -> list[Any]:
        return [e for e, _ in self.log if isinstance(e, kind)]

    def commands(self, kind: type[Command]) -> list[Any]:
        return [c for _, cs in self.log for c in cs if isinstance(c, kind)]

    async def until(self, cond: Callable[[], bool], sim_seconds: float) -> None:
        """Wait (wall time) until ``cond`` holds or ``sim_seconds`` simulated seconds pass."""
        end = self.pbx.clock.sim_now() + sim_seconds
        while not cond():
            if self.pbx.clock.sim_now() > end:
                raise AssertionError("condition not reached in time")
            await asyncio.sleep(0.005)


@contextlib.asynccontextmanager
async def attach(
    scenario: Scenario,
    pbx: Emulator,
    *,
    speed: float,
    reconnect: bool = False,
    **live: Any,
) -> AsyncIterator[Pair]:
    """A ``LiveACD`` on ``pbx``'s clock, ready; every event it accepts is logged in the Pair.

    ``live`` goes to ``LiveACD`` as is (``acd``, ``record``, ``db``, ...).
    """
    log: list[tuple[Event, list[Command]]] = []
    acd = LiveACD(
        scenario,
        "127.0.0.1",
        pbx.port,
        speed=speed,
        clock=pbx.clock.sim_now,
        reconnect=reconnect,
        on_record=lambda e, c: log.append((e, c)),
        **live,
    )
    async with acd:
        await asyncio.wait_for(acd.ready.wait(), 10)
        yield Pair(pbx, acd, log)


@contextlib.asynccontextmanager
async def live_pair(
    scenario: Scenario,
    *,
    speed: float = 200.0,
    options: SwitchOptions | None = None,
    acd: ACD | None = None,
    record: str | None = None,
    reconnect: bool = False,
    **emulator: Any,
) -> AsyncIterator[Pair]:
    opts = options or SwitchOptions(ring_time=2.0, route_timeout=0.0, routed_ring_timeout=0.0)
    async with (
        Emulator(scenario, speed=speed, options=opts, **emulator) as pbx,
        attach(scenario, pbx, speed=speed, reconnect=reconnect, acd=acd, record=record) as pair,
    ):
        yield pair
