"""ccsim — contact-center simulation, capacity planning and a live CSTA ACD.

One pure policy core (``ccsim.acd``) runs in two worlds: a SimPy model of the
center and a live ACD bound to a PBX over CSTA. The public surface is listed in
``__all__``; everything else is internal.
"""

from ccsim._version import __version__

__all__ = ["__version__"]
