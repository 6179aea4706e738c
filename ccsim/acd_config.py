"""The ACD's configuration: what the pure core needs to know about a center.

Kept apart from ``ccsim.scenario`` on purpose: a scenario describes a whole
center (arrivals, trunks, IVR, shifts) for the simulation, while the ACD needs
only queues, scripts and timings. The live ACD builds this from a scenario or
from its run-time configuration API; tests build it by hand.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from ccsim.routing.script import Script, validate_script

__all__ = ["ACDConfig", "QueueConfig"]


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueConfig:
    """One skill queue and its service-level goal (used by greatest-need selection)."""

    name: str
    target_fraction: float = 0.8
    target_seconds: float = 20.0

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("queue name must be non-empty")
        if not 0.0 <= self.target_fraction <= 1.0:
            raise ValueError(f"target_fraction must be in [0, 1], got {self.target_fraction!r}")
        if not self.target_seconds >= 0.0:
            raise ValueError(f"target_seconds must be >= 0, got {self.target_seconds!r}")


@dataclass(frozen=True, kw_only=True)
class ACDConfig:
    """Queues, routing scripts and timings of one ACD.

    * ``scripts``: routing point -> script. A ``CallOffered`` names its routing
      point, or its service is looked up in ``service_routing``; a service with
      neither is queued straight to the queue of the same name.
    * ``wrap_up``: wrap-up seconds per service (``default_wrap_up`` otherwise);
      after it the agent returns READY unless a not-ready or logoff is pending.
    * ``ring_timeout``: seconds a delivered call may ring before ring-no-answer
      (RONA) takes it back; ``rona_threshold`` consecutive misses make the agent
      NOT_READY with reason ``rona``; ``rona_priority_boost`` is added to the
      returned call's priority so it goes to the head of its queues. An
      infinite ``ring_timeout`` turns ring-no-answer off: no ring timer is
      started (a timer at infinity would never fire).
    * ``ewt_default_handle_time``: seconds assumed per call by EWT estimates
      before any call of a queue has been answered.
    """

    queues: Mapping[str, QueueConfig]
    scripts: Mapping[str, Script] = field(default_factory=dict)
    service_routing: Mapping[str, str] = field(default_factory=dict)
    wrap_up: Mapping[str, float] = field(default_factory=dict)
    default_wrap_up: float = 0.0
    ring_timeout: float = 15.0
    rona_threshold: int = 1
    rona_priority_boost: int = 1000
    ewt_default_handle_time: float = 180.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "queues", MappingProxyType(dict(self.queues)))
        object.__setattr__(self, "scripts", MappingProxyType(dict(self.scripts)))
        object.__setattr__(self, "service_routing", MappingProxyType(dict(self.service_routing)))
        object.__setattr__(self, "wrap_up", MappingProxyType(dict(self.wrap_up)))
        for name, q in self.queues.items():
            if q.name != name:
                raise ValueError(f"queues[{name!r}].name is {q.name!r}; keys must match names")
        names = frozenset(self.queues)
        for point, script in self.scripts.items():
            try:
                validate_script(script, names)
            except ValueError as exc:
                raise ValueError(f"scripts[{point!r}].{exc}") from None
        for service, point in self.service_routing.items():
            if point not in self.scripts:
                raise ValueError(f"service_routing[{service!r}]: no script for {point!r}")
        for service, secs in self.wrap_up.items():
            if not secs >= 0:
                raise ValueError(f"wrap_up[{service!r}]: must be >= 0, got {secs!r}")
        if not self.default_wrap_up >= 0:
            raise ValueError(f"default_wrap_up: must be >= 0, got {self.default_wrap_up!r}")
        if not self.ring_timeout > 0:
            raise ValueError(f"ring_timeout: must be > 0, got {self.ring_timeout!r}")
        if self.rona_threshold < 1:
            raise ValueError(f"rona_threshold: must be >= 1, got {self.rona_threshold!r}")

    @classmethod
    def single_queue(cls, name: str = "general", **kwargs: object) -> ACDConfig:
        """A one-queue center (no scripts): every call waits in ``name``."""
        return cls(queues={name: QueueConfig(name=name)}, **kwargs)  # type: ignore[arg-type]
