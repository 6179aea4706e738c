"""Queue disciplines: the order of calls inside one skill queue.

A discipline maps a call to a key fixed when the call joins the queue; the
queue is a heap on that key, smallest first (see ``QueueDiscipline`` for why
keys are static). Keys that compare equal are left to the queue itself to
order (an insertion counter keeps them FIFO).
"""

from __future__ import annotations

from ccsim.routing.base import Policy
from ccsim.routing.views import CallView

__all__ = ["LinearAging", "PriorityFifo", "StrictFifo"]


class PriorityFifo(Policy):
    """Higher priority first; within a priority, first come first served.

    key = ``(-priority, enqueued_at)``. The usual ACD behaviour, and the one
    RONA relies on: a returned call's raised priority puts it at the head.
    A low-priority call can wait forever under sustained high-priority load;
    use ``LinearAging`` when that matters.
    """

    def key(self, call: CallView, enqueued_at: float) -> tuple[float, float]:
        return (float(-call.priority), enqueued_at)


class StrictFifo(Policy):
    """First come first served, priority ignored: key = ``(enqueued_at, 0.0)``.

    For studies that need a plain M/M/N queue (Erlang C validation). Note that
    it also ignores a RONA priority boost.
    """

    def key(self, call: CallView, enqueued_at: float) -> tuple[float, float]:
        return (enqueued_at, 0.0)


class LinearAging(Policy):
    """Priority as a head start of ``seconds_per_level`` seconds per level.

    key = ``(enqueued_at - priority * seconds_per_level, -priority)``: a call
    of priority p+Δ that joined at t is served before a call of priority p
    that joined at t' only while t - t' < Δ * seconds_per_level -- an older
    low-priority call overtakes once it has waited Δ * seconds_per_level
    longer. At exactly that difference the higher priority wins (second key
    element), so the order never depends on arrival counters.
    """

    def __init__(self, *, seconds_per_level: float = 60.0) -> None:
        self.seconds_per_level = seconds_per_level

    def key(self, call: CallView, enqueued_at: float) -> tuple[float, float]:
        p = call.priority
        return (enqueued_at - p * self.seconds_per_level, float(-p))
