"""Planning analytics: Erlang B/C/A and staffing (scheduling and forecasting to come).

Pure numerical code: no simulation, no I/O. Units are explicit everywhere:
rates per second, times in seconds, loads in erlangs.
"""

from ccsim.planning.erlang import (
    DEFAULT_SERVICE_LEVEL_DEFINITION,
    ErlangAResult,
    ErlangCResult,
    ServiceLevelDefinition,
    erlang_a,
    erlang_b,
    erlang_c,
    offered_load,
    rate_per_second,
)
from ccsim.planning.examples import example_day
from ccsim.planning.staffing import (
    AbandonmentTarget,
    AsaTarget,
    ForecastError,
    OccupancyTarget,
    QueueModel,
    ServiceLevelTarget,
    Target,
    achieved_kpis,
    daily_summary,
    required_agents,
    required_agents_fractional,
    scheduled_agents,
    square_root_staffing,
    staff_intervals,
)

__all__ = [
    "DEFAULT_SERVICE_LEVEL_DEFINITION",
    "AbandonmentTarget",
    "AsaTarget",
    "ErlangAResult",
    "ErlangCResult",
    "ForecastError",
    "OccupancyTarget",
    "QueueModel",
    "ServiceLevelDefinition",
    "ServiceLevelTarget",
    "Target",
    "achieved_kpis",
    "daily_summary",
    "erlang_a",
    "erlang_b",
    "erlang_c",
    "example_day",
    "offered_load",
    "rate_per_second",
    "required_agents",
    "required_agents_fractional",
    "scheduled_agents",
    "square_root_staffing",
    "staff_intervals",
]
