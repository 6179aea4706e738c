"""SLA deadlines in business time.

Pure functions over a :class:`BusinessCalendar` (working hours on working
days, minus holidays, in one time zone). A deadline is "``target`` business
seconds after the start, not counting pauses": :func:`deadline` walks the
pauses in order, so a pause that begins after the deadline already fell does
not move it, and an open pause means there is no deadline yet. Recomputation
after a type or priority change is just calling :func:`deadline` again with
the new target from the same start and pauses.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

ORDER_TYPES: tuple[str, ...] = ("inquiry", "complaint", "suggestion")
PRIORITIES: tuple[str, ...] = ("low", "normal", "high", "urgent")


@dataclass(frozen=True)
class BusinessCalendar:
    """Working hours ``[start, end)`` on ``workdays`` (0=Monday) except ``holidays``."""

    tz: str = "Asia/Shanghai"
    start: time = time(9, 0)
    end: time = time(18, 0)
    workdays: frozenset[int] = frozenset({0, 1, 2, 3, 4})
    holidays: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        if not self.start < self.end:
            raise ValueError("working day must start before it ends")
        if not self.workdays:
            raise ValueError("a calendar needs at least one working weekday")

    def _zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)

    def is_working_day(self, day: date) -> bool:
        return day.weekday() in self.workdays and day not in self.holidays

    def _window(self, day: date) -> tuple[datetime, datetime]:
        z = self._zone()
        return datetime.combine(day, self.start, z), datetime.combine(day, self.end, z)

    def add(self, start: datetime, seconds: float) -> datetime:
        """The instant ``seconds`` business seconds after ``start`` (aware, UTC)."""
        at = _aware(start).astimezone(self._zone())
        remaining = timedelta(seconds=seconds)
        day = at.date()
        for _ in range(3700):  # ten years of calendar days: a hard stop, not a limit in practice
            if self.is_working_day(day):
                lo, hi = self._window(day)
                cursor = max(at, lo)
                if cursor < hi:
                    if cursor + remaining <= hi:
                        return (cursor + remaining).astimezone(UTC)
                    remaining -= hi - cursor
            day += timedelta(days=1)
        raise ValueError("deadline lies more than ten years ahead; check the calendar")

    def between(self, a: datetime, b: datetime) -> float:
        """Business seconds in ``[a, b)``; 0 if ``b <= a``."""
        a_, b_ = _aware(a).astimezone(self._zone()), _aware(b).astimezone(self._zone())
        total = 0.0
        day = a_.date()
        while day <= b_.date():
            if self.is_working_day(day):
                lo, hi = self._window(day)
                s, e = max(lo, a_), min(hi, b_)
                if e > s:
                    total += (e - s).total_seconds()
            day += timedelta(days=1)
        return total


@dataclass(frozen=True)
class SlaTargets:
    """Business hours allowed to accept, to return and to close."""

    accept_h: float
    return_h: float
    close_h: float


def _default_targets() -> dict[str, SlaTargets]:
    return {
        "urgent": SlaTargets(1, 4, 8),
        "high": SlaTargets(2, 8, 16),
        "normal": SlaTargets(4, 18, 27),
        "low": SlaTargets(8, 36, 54),
    }


@dataclass(frozen=True)
class SlaPolicy:
    """Targets per priority, with per-(type, priority) overrides (complaints are tighter)."""

    calendar: BusinessCalendar = field(default_factory=BusinessCalendar)
    by_priority: dict[str, SlaTargets] = field(default_factory=_default_targets)
    overrides: dict[tuple[str, str], SlaTargets] = field(default_factory=dict)

    def targets(self, order_type: str, priority: str) -> SlaTargets:
        return self.overrides.get((order_type, priority)) or self.by_priority[priority]

    def deadlines(
        self,
        order_type: str,
        priority: str,
        start: datetime,
        pauses: Sequence[tuple[datetime, datetime | None]] = (),
    ) -> tuple[datetime | None, datetime | None, datetime | None]:
        """(accept, return, close) deadlines as aware UTC datetimes, None while paused."""
        t = self.targets(order_type, priority)
        return tuple(  # type: ignore[return-value]
            deadline(self.calendar, start, h * 3600.0, pauses)
            for h in (t.accept_h, t.return_h, t.close_h)
        )


def deadline(
    cal: BusinessCalendar,
    start: datetime,
    target_seconds: float,
    pauses: Iterable[tuple[datetime, datetime | None]] = (),
) -> datetime | None:
    """``target_seconds`` of business time after ``start``, skipping ``pauses``."""
    cursor = _aware(start)
    remaining = target_seconds
    for p_start, p_end in sorted(pauses, key=lambda p: _aware(p[0])):
        ps = _aware(p_start)
        ps = max(ps, cursor)
        due = cal.add(cursor, remaining)
        if due <= ps:
            return due
        remaining -= cal.between(cursor, ps)
        if p_end is None:
            return None
        cursor = max(cursor, _aware(p_end))
    return cal.add(cursor, remaining)


def _aware(dt: datetime) -> datetime:
    """Treat naive datetimes as UTC (how the database stores them)."""
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)
