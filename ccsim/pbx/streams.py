"""Random streams: one seed, one independent generator per source of randomness.

Every source (arrivals, handle times, patience, IVR paths, ...) draws from its
own ``numpy.random.Generator`` spawned from a ``SeedSequence`` keyed by
(seed, replication, source). Two runs with the same seed and replication see
the same arrivals, handle times and patience even under different routing
policies — common random numbers — because a policy change cannot shift one
stream by consuming from another. There is no global or re-seeded RNG.
"""

from __future__ import annotations

import numpy as np

__all__ = ["SOURCES", "Streams"]

#: The sources, in a fixed order (their index is part of each stream's key).
SOURCES = (
    "arrivals",
    "service",
    "patience",
    "ivr",
    "redial",
    "agents",
    "attributes",
    "daily",
    "policy",
)


class Streams:
    """The generators of one replication; ``streams.service`` etc."""

    __slots__ = ("seed", "replication", *SOURCES)

    arrivals: np.random.Generator
    service: np.random.Generator
    patience: np.random.Generator
    ivr: np.random.Generator
    redial: np.random.Generator
    agents: np.random.Generator
    attributes: np.random.Generator
    daily: np.random.Generator
    policy: np.random.Generator

    def __init__(self, seed: int, replication: int = 0) -> None:
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ValueError(f"seed must be a non-negative int, got {seed!r}")
        if replication < 0:
            raise ValueError(f"replication must be >= 0, got {replication!r}")
        self.seed = seed
        self.replication = replication
        for index, name in enumerate(SOURCES):
            ss = np.random.SeedSequence(entropy=seed, spawn_key=(replication, index))
            setattr(self, name, np.random.Generator(np.random.PCG64(ss)))
