"""ccsim — contact-center simulation, capacity planning and a live CSTA ACD.

One pure policy core (``ccsim.acd``) runs in two worlds: a SimPy model of the
center and a live ACD bound to a PBX over CSTA. The public surface is listed in
``__all__``; everything else is internal.
"""

from ccsim._version import __version__
from ccsim.acd import ACD, ACDConfig, ACDError, QueueConfig
from ccsim.errors import IllegalTransitionError
from ccsim.pbx.run import SimulationResult, simulate
from ccsim.scenario import Scenario, ScenarioError, example, load_scenario

__all__ = [
    "ACD",
    "ACDConfig",
    "ACDError",
    "IllegalTransitionError",
    "QueueConfig",
    "Scenario",
    "ScenarioError",
    "SimulationResult",
    "__version__",
    "example",
    "load_scenario",
    "simulate",
]
