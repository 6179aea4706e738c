"""ccsim — contact-center simulation, capacity planning and a live CSTA ACD.

One pure policy core (``ccsim.acd``) runs in two worlds: a SimPy model of the
center and a live ACD bound to a PBX over CSTA. The public surface is listed in
``__all__``; everything else is internal.
"""

from typing import TYPE_CHECKING, Any

from ccsim import _compiled

# before anything imports the hot modules: never run a compiled build older than its source
_compiled.install()

from ccsim._version import __version__  # noqa: E402
from ccsim.acd import ACD, ACDConfig, ACDError, QueueConfig  # noqa: E402
from ccsim.errors import IllegalTransitionError  # noqa: E402
from ccsim.scenario import Scenario, ScenarioError, example, load_scenario  # noqa: E402

if TYPE_CHECKING:
    from ccsim.pbx.run import SimulationResult, paired_difference, simulate

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
    "paired_difference",
    "simulate",
]


def __getattr__(name: str) -> Any:
    """Load the simulation world on first use, so importing the pure core never imports SimPy."""
    if name in ("simulate", "SimulationResult", "paired_difference"):
        from ccsim.pbx import run  # noqa: PLC0415 - deliberately lazy

        return getattr(run, name)
    raise AttributeError(f"module 'ccsim' has no attribute {name!r}")
