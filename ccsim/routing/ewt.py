"""Expected-wait-time (EWT) estimators, shared by routing scripts and announcements.

Both estimators read only the queue's incremental statistics, so an estimate is
O(1): routing scripts may ask for it on every step of every call.

The model behind both: a call at 0-based ``position`` is served once
``position - available + 1`` agents have freed up (the first ``available``
calls go to the READY agents at once). With all ``staffed`` agents busy and
exponential handle times of mean ``mean_handle_time`` (AHT), agents free up at
rate ``staffed / AHT``, so the wait is the sum of ``k = position - available + 1``
exponential gaps: an Erlang(k) variable with mean ``k * AHT / staffed``.
Agents logged on but NOT_READY are counted as servers, so the estimate is
optimistic while many agents are on breaks.
"""

from __future__ import annotations

import math
from statistics import NormalDist

from ccsim.routing.base import Policy
from ccsim.routing.views import QueueView

__all__ = ["PositionEwt", "QuantileEwt"]


def _calls_to_wait_for(queue: QueueView, position: int) -> int:
    """How many agents must free up before the call at ``position`` is served (0: none)."""
    return max(position - queue.available + 1, 0)


class PositionEwt(Policy):
    """Mean wait ``k * AHT / staffed`` with ``k = position - available + 1`` (0 if k <= 0).

    * ``math.inf`` when no agent is staffed (nobody will ever answer; scripts
      compare with ``EwtAbove`` and overflow);
    * ``0.0`` when a READY agent is left for the call (``position < available``);
    * AHT is the queue's ``mean_handle_time``, or ``fallback_handle_time``
      until the queue has a positive one.

    E.g. 3 calls ahead (position 3), nobody READY, 10 staffed, AHT 200 s:
    4 * 200 / 10 = 80 s.
    """

    def __init__(self, *, fallback_handle_time: float = 180.0) -> None:
        self.fallback_handle_time = fallback_handle_time

    def estimate(self, queue: QueueView, position: int) -> float:
        staffed = queue.staffed
        if staffed <= 0:
            return math.inf
        k = _calls_to_wait_for(queue, position)
        if k == 0:
            return 0.0
        aht = queue.mean_handle_time
        if not aht > 0.0:
            aht = self.fallback_handle_time
        return k * aht / staffed


class QuantileEwt(Policy):
    """The ``quantile`` of the wait rather than its mean: "you will wait at most X".

    The wait is Erlang(k) with scale ``AHT / staffed`` (see the module doc).
    Its quantile is exact for ``k = 1`` (``-ln(1 - q)``) and uses the
    Wilson-Hilferty approximation for ``k >= 2`` (within 0.5 % of the exact
    value for 0.5 <= q <= 0.99), which keeps it O(1) and free of SciPy.
    Announcing the 90th percentile instead of the mean keeps promises that
    callers would otherwise see broken about half the time. Same ``inf`` /
    ``0.0`` / fallback rules as ``PositionEwt``.
    """

    def __init__(self, *, quantile: float = 0.9, fallback_handle_time: float = 180.0) -> None:
        self.quantile = quantile
        self.fallback_handle_time = fallback_handle_time
        self._reset()

    def _reset(self) -> None:
        self._z: float | None = None

    def estimate(self, queue: QueueView, position: int) -> float:
        staffed = queue.staffed
        if staffed <= 0:
            return math.inf
        k = _calls_to_wait_for(queue, position)
        if k == 0:
            return 0.0
        aht = queue.mean_handle_time
        if not aht > 0.0:
            aht = self.fallback_handle_time
        scale = aht / staffed
        q = self.quantile
        if k == 1:
            if not 0.0 < q < 1.0:
                raise ValueError(f"quantile must be in (0, 1), got {q!r}")
            return -math.log1p(-q) * scale
        z = self._z
        if z is None:
            if not 0.0 < q < 1.0:
                raise ValueError(f"quantile must be in (0, 1), got {q!r}")
            z = self._z = NormalDist().inv_cdf(q)
        c = 1.0 - 1.0 / (9.0 * k) + z / (3.0 * math.sqrt(k))
        return k * max(c, 0.0) ** 3 * scale
