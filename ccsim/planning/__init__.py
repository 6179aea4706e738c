"""Planning analytics: Erlang B/C/A, staffing, shift scheduling, forecasting, sweeps.

Importing the package needs no simulation engine or event loop: the modules
that run simulations (simulation-based staffing, schedule checks, Dask sweeps)
import the simulator or Dask only when called. Units are explicit everywhere:
rates per second, times in seconds, loads in erlangs.

``sim_staffing`` is not re-exported here: it shares its name with its module
(``from ccsim.planning.sim_staffing import sim_staffing``).
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
from ccsim.planning.forecast import (
    Backtest,
    Forecast,
    ForecastModel,
    HistoryError,
    SyntheticHistory,
    backtest,
    error_metrics,
    fit_forecast,
    read_history,
    synthetic_history,
)
from ccsim.planning.scheduling import (
    BreakRule,
    Schedule,
    ScheduleError,
    ShiftPattern,
    load_patterns,
    pattern_grid,
    schedule_shifts,
    simulate_schedule,
    standard_breaks,
)
from ccsim.planning.sim_staffing import SimStaffing, erlang_staffing
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
from ccsim.planning.sweep import (
    DaskExecutor,
    Executor,
    ProcessExecutor,
    SerialExecutor,
    executor_scope,
    make_executor,
)

__all__ = [
    "DEFAULT_SERVICE_LEVEL_DEFINITION",
    "AbandonmentTarget",
    "AsaTarget",
    "Backtest",
    "BreakRule",
    "DaskExecutor",
    "ErlangAResult",
    "ErlangCResult",
    "Executor",
    "Forecast",
    "ForecastError",
    "ForecastModel",
    "HistoryError",
    "OccupancyTarget",
    "ProcessExecutor",
    "QueueModel",
    "Schedule",
    "ScheduleError",
    "SerialExecutor",
    "ServiceLevelDefinition",
    "ServiceLevelTarget",
    "ShiftPattern",
    "SimStaffing",
    "SyntheticHistory",
    "Target",
    "achieved_kpis",
    "backtest",
    "daily_summary",
    "erlang_a",
    "erlang_b",
    "erlang_c",
    "erlang_staffing",
    "error_metrics",
    "example_day",
    "executor_scope",
    "fit_forecast",
    "load_patterns",
    "make_executor",
    "offered_load",
    "pattern_grid",
    "rate_per_second",
    "read_history",
    "required_agents",
    "required_agents_fractional",
    "schedule_shifts",
    "scheduled_agents",
    "simulate_schedule",
    "square_root_staffing",
    "staff_intervals",
    "standard_breaks",
    "synthetic_history",
]
