"""Scaled real time for a SimPy environment, inside one asyncio loop.

Why not ``simpy.rt.RealtimeEnvironment``: it sleeps in ``time.sleep``, which
would block the event loop that serves the CSTA clients. Here an asyncio task
sleeps until the wall time of the next SimPy event (``sim = (wall - wall0) *
speed``) and steps the environment; a client request first *advances* the
environment to the current simulated time (processing every event due until
then), so the request is handled at "now" on the simulated clock, and then
pokes the task in case the request scheduled something earlier than what it
was sleeping for. Neither world blocks the other: SimPy work runs in short
synchronous bursts between socket reads.

Lag is measured on every step: how late (wall seconds) the step ran after the
wall time it was due. ``speed=math.inf`` runs as fast as possible (tests).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from array import array

import simpy

__all__ = ["LagStats", "SimClock"]

log = logging.getLogger("ccsim.live.emulator")


class LagStats:
    """Running statistics of step lateness (wall seconds), cheap enough for every step."""

    __slots__ = ("count", "late", "max", "samples", "total")

    #: samples kept for percentiles (the first ones of a run; enough for a benchmark)
    KEEP = 1_000_000

    def __init__(self) -> None:
        self.count = 0
        self.total = 0.0
        self.max = 0.0
        self.late = 0  # steps more than 100 ms late
        self.samples = array("d")

    def add(self, lag: float) -> None:
        self.count += 1
        self.total += lag
        self.max = max(self.max, lag)
        if lag > 0.1:
            self.late += 1
        if len(self.samples) < self.KEEP:
            self.samples.append(lag)

    def percentile(self, q: float) -> float:
        """The ``q``-th percentile (0-100) of the kept samples (0 without samples)."""
        if not self.samples:
            return 0.0
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, int(q / 100.0 * len(ordered)))]

    @property
    def mean(self) -> float:
        return self.total / self.count if self.count else 0.0

    def reset(self) -> None:
        self.count = 0
        self.total = self.max = 0.0
        self.late = 0
        self.samples = array("d")


class SimClock:
    """Drives ``env`` in scaled real time; ``run()`` is the stepping task.

    ``start`` is the simulated time at wall time zero (e.g. 8 h to start a
    scenario at 08:00). ``until``: stop stepping at this simulated time.
    """

    def __init__(
        self,
        env: simpy.Environment,
        *,
        speed: float = 1.0,
        until: float = math.inf,
        batch: int = 200,
    ) -> None:
        if not speed > 0:
            raise ValueError(f"speed must be > 0, got {speed!r}")
        self.env = env
        self.speed = float(speed)
        self.until = float(until)
        self.batch = batch
        self.lag = LagStats()
        self.steps = 0
        self._wall0 = time.monotonic()
        self._sim0 = float(env.now)
        self._wake: asyncio.Event | None = None
        self._stopped = False
        self.finished: asyncio.Event | None = None

    @property
    def realtime(self) -> bool:
        return math.isfinite(self.speed)

    def sim_now(self) -> float:
        """The simulated time it is now (the environment may still be behind)."""
        if not self.realtime:
            return float(self.env.now)
        return self._sim0 + (time.monotonic() - self._wall0) * self.speed

    def wall_of(self, sim_time: float) -> float:
        """The monotonic wall time at which ``sim_time`` is due."""
        return self._wall0 + (sim_time - self._sim0) / self.speed

    def advance(self) -> float:
        """Process every event due by now and move the environment's clock to now."""
        target = min(self.sim_now(), self.until)
        env = self.env
        while env.peek() <= target:
            self._step()
        if target > env.now:
            env.run(until=target)  # nothing is due before it: this only moves the clock
        return float(env.now)

    def _step(self) -> None:
        """One SimPy step; a failing callback is logged, not allowed to stop the clock."""
        try:
            self.env.step()
        except Exception:
            log.exception("emulator: a simulation step failed at t=%s", self.env.now)

    def poke(self) -> None:
        """Something was scheduled: re-check the next event time."""
        if self._wake is not None:
            self._wake.set()

    def stop(self) -> None:
        self._stopped = True
        self.poke()

    async def run(self) -> None:
        """Step the environment in scaled real time until stopped or ``until``."""
        self._wake = asyncio.Event()
        self.finished = asyncio.Event()
        env = self.env
        wake = self._wake
        lag = self.lag
        realtime = self.realtime
        try:
            while not self._stopped:
                nxt = env.peek()
                if nxt > self.until or math.isinf(nxt):
                    if math.isinf(self.until):
                        await self._sleep(wake, None)  # idle until a request schedules something
                        continue
                    delay = self.wall_of(self.until) - time.monotonic() if realtime else 0.0
                    if delay > 0:
                        await self._sleep(wake, delay)
                        continue
                    if self.until > env.now:
                        env.run(until=self.until)
                    break
                if realtime:
                    due = self._wall0 + (nxt - self._sim0) / self.speed
                    delay = due - time.monotonic()
                    if delay > 0:
                        await self._sleep(wake, delay)
                        continue
                    lag.add(-delay)
                n = 0
                while n < self.batch and env.peek() <= nxt:
                    self._step()
                    n += 1
                self.steps += n
                if realtime:
                    # more due events: carry on, but let the sockets breathe now and then
                    if self.steps % 1000 < n:
                        await asyncio.sleep(0)
                else:
                    await asyncio.sleep(0)
        finally:
            self.finished.set()

    @staticmethod
    async def _sleep(wake: asyncio.Event, delay: float | None) -> None:
        wake.clear()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(delay):
                await wake.wait()
