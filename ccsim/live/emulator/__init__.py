"""The CSTA PBX emulator: a scenario's center, simulated in SimPy, served over CSTA.

``Emulator`` (``server``) listens for CSTA clients; ``Switch`` (``switch``) is the
SimPy switch model; ``SimClock`` (``clock``) runs it in scaled real time inside the
asyncio loop; ``trace`` writes the CSTA trace log. ``ccsim pbx`` is the command
line; the guide is ``docs/emulator.md``.
"""

from ccsim.live.emulator.clock import LagStats, SimClock
from ccsim.live.emulator.server import Emulator, Session
from ccsim.live.emulator.switch import ServiceError, Switch, SwitchOptions
from ccsim.live.emulator.trace import Trace, TracingConnection, read_trace

__all__ = [
    "Emulator",
    "LagStats",
    "ServiceError",
    "Session",
    "SimClock",
    "Switch",
    "SwitchOptions",
    "Trace",
    "TracingConnection",
    "read_trace",
]
