"""The scenario schema: a whole contact center described in one TOML file.

A scenario is validated into frozen pydantic models (``extra="forbid"``, so a
typo is an error rather than a silently ignored key) and every problem is
reported with the file, the field path and the offending value::

    center.toml: services[2].aht.mean: must be > 0, got -3

Checks that span sections (a skill named by a group must exist, an IVR exit
must name a known service, a ``goto`` must find its label ...) run after the
sections themselves validate, so all of them can point at exact paths too.

Durations, handle times and patience are :class:`Distribution` models with a
``sample(rng)`` method; the simulation draws from them with its own
``numpy.random.Generator`` (never a global one). Clock times accept seconds
after midnight of day 0 or ``"HH:MM"`` / ``"HH:MM:SS"`` strings; hours up to
47 describe times on the next day (a night shift ``22:00``-``30:00``).

This module is part of the pure core (DESIGN.md §1): it imports no SimPy,
asyncio, socket or clock. ``Scenario.acd_config()`` turns a scenario into the
``ACDConfig`` the ACD runs on; ``resolve_policy`` turns a policy spec into an
object lazily, given a registry of built-in names.
"""

from __future__ import annotations

import difflib
import importlib
import itertools
import math
import re
import tomllib
import types
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import (
    Annotated,
    Any,
    Literal,
    NamedTuple,
    Self,
    TypeAlias,
    TypeVar,
    Union,
    get_args,
    get_origin,
)
from typing import overload as _overload

import numpy as np
import numpy.typing as npt
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

from ccsim.acd_config import ACDConfig, QueueConfig
from ccsim.routing import script as rs

__all__ = [
    "AgentExitNode",
    "AgentGroup",
    "Arrivals",
    "Branch",
    "Break",
    "ConditionSpec",
    "Deterministic",
    "Distribution",
    "Empirical",
    "Exponential",
    "Gamma",
    "HangupNode",
    "Ivr",
    "IvrNode",
    "Lognormal",
    "MenuNode",
    "NoPatience",
    "Patience",
    "Policies",
    "PolicySpec",
    "RoutingPoint",
    "Scenario",
    "ScenarioError",
    "ScenarioIssue",
    "SelfServiceNode",
    "Service",
    "ServiceLevel",
    "Shift",
    "Skill",
    "StepSpec",
    "SupervisorAction",
    "Timing",
    "Trunks",
    "Uniform",
    "example",
    "example_names",
    "example_path",
    "load_scenario",
    "parse_clock",
    "resolve_policy",
]

DAY = 86_400.0
_PROBABILITY_TOLERANCE = 1e-6
FloatArray: TypeAlias = npt.NDArray[np.float64]
Size: TypeAlias = int | tuple[int, ...]
T = TypeVar("T")


# =========================================================================== errors


@dataclass(frozen=True, slots=True)
class ScenarioIssue:
    """One problem: where (``services[2].aht.mean``) and what (``must be > 0, got -3``)."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class ScenarioError(ValueError):
    """An invalid scenario; the message has one ``file: path: problem`` line per issue."""

    def __init__(self, source: str, issues: Sequence[ScenarioIssue]) -> None:
        self.source = source
        self.issues = tuple(issues)
        super().__init__("\n".join(f"{source}: {issue}" for issue in self.issues))


_NO_VALUE: Any = object()


@dataclass(frozen=True, slots=True)
class _Issue:
    """A problem found by a model validator, located relative to that model.

    ``path`` (absolute, already rendered) is used by the scenario-wide checks,
    whose locations cross discriminated unions that a ``loc`` tuple cannot
    name unambiguously.
    """

    message: str
    loc: tuple[str | int, ...] = ()
    value: Any = _NO_VALUE
    path: str | None = None


class _IssuesError(ValueError):
    """Raised by model validators; pydantic keeps it in ``ctx['error']`` for the formatter."""

    def __init__(self, issues: Sequence[_Issue]) -> None:
        self.issues = tuple(issues)
        super().__init__("; ".join(_plain(i) for i in self.issues))


def _plain(issue: _Issue) -> str:
    where = issue.path if issue.path is not None else _render_plain(issue.loc)
    text = (
        issue.message if issue.value is _NO_VALUE else f"{issue.message}, got {_show(issue.value)}"
    )
    return f"{where}: {text}" if where else text


def _render_plain(loc: Iterable[str | int]) -> str:
    out = ""
    for item in loc:
        out += _segment(item, first=not out)
    return out


def _raise_if(issues: list[_Issue]) -> None:
    if issues:
        raise _IssuesError(issues)


def _num(value: float) -> str:
    """``0.0`` -> ``0``, ``0.25`` -> ``0.25``: numbers as a person writes them."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def _show(value: object) -> str:
    text = _num(value) if isinstance(value, float) else repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _clock(seconds: float) -> str:
    """Seconds after midnight as ``HH:MM`` (or ``HH:MM:SS``), for messages."""
    whole = round(seconds)
    h, rest = divmod(whole, 3600)
    m, s = divmod(rest, 60)
    return f"{h:02d}:{m:02d}" + (f":{s:02d}" if s else "")


# =========================================================================== field types


def _check_name(value: str) -> str:
    if value != value.strip():
        raise ValueError("must not start or end with whitespace")
    return value


def _non_empty(value: T) -> T:
    """Used instead of ``min_length``, which pydantic also reports when only an item is bad."""
    if not value:
        raise ValueError("must not be empty")
    return value


Name = Annotated[str, StringConstraints(min_length=1), AfterValidator(_check_name)]
Probability = Annotated[float, Field(ge=0.0, le=1.0)]
PositiveFloat = Annotated[float, Field(gt=0.0)]
NonNegativeFloat = Annotated[float, Field(ge=0.0)]

_CLOCK_RE = re.compile(r"^\s*(\d{1,2}):([0-5]\d)(?::([0-5]\d(?:\.\d+)?))?\s*$")


def parse_clock(value: object) -> float:
    """Seconds after midnight of day 0 from a number or an ``"HH:MM[:SS]"`` string.

    Hours run to 47 so a time on the next day reads naturally (``"30:00"`` is
    06:00 tomorrow); numbers pass through for the field's own range check.
    """
    if isinstance(value, bool):
        raise ValueError("must be seconds or a clock time 'HH:MM'")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        match = _CLOCK_RE.match(value)
        if match and int(match.group(1)) < 48:
            h, m, s = match.group(1), match.group(2), match.group(3)
            return int(h) * 3600.0 + int(m) * 60.0 + (float(s) if s else 0.0)
    raise ValueError("must be seconds or a clock time 'HH:MM' or 'HH:MM:SS' (hours 0-47)")


Clock = Annotated[float, BeforeValidator(parse_clock), Field(ge=0.0)]


class _Model(BaseModel):
    """Frozen and strict about unknown keys: a misspelt option must not be ignored."""

    model_config = ConfigDict(frozen=True, extra="forbid")


# =========================================================================== distributions


class _DistributionBase(_Model):
    """Shared ``sample`` so every distribution draws the same way from a caller's RNG."""

    @_overload
    def sample(self, rng: np.random.Generator, size: None = None) -> float: ...
    @_overload
    def sample(self, rng: np.random.Generator, size: Size) -> FloatArray: ...
    def sample(self, rng: np.random.Generator, size: Size | None = None) -> float | FloatArray:
        """Draw one value (``size=None``) or an array of values from ``rng``."""
        drawn = self._draw(rng, size)
        if size is None:
            return float(drawn)
        return np.asarray(drawn, dtype=np.float64)

    def _draw(self, rng: np.random.Generator, size: Size | None) -> Any:
        raise NotImplementedError


class Exponential(_DistributionBase):
    """Memoryless durations: the M in M/M/N, so Erlang C and A apply exactly."""

    kind: Literal["exponential"] = "exponential"
    mean: PositiveFloat

    @property
    def std(self) -> float:
        return self.mean

    def _draw(self, rng: np.random.Generator, size: Size | None) -> Any:
        return rng.exponential(self.mean, size)


class Lognormal(_DistributionBase):
    """Handle times as observed in centers: skewed, with a long right tail.

    Given by the ``mean`` and standard deviation ``sd`` of the durations
    themselves (what a report shows), not of their logarithm.
    """

    kind: Literal["lognormal"] = "lognormal"
    mean: PositiveFloat
    sd: PositiveFloat

    @property
    def std(self) -> float:
        return self.sd

    @property
    def log_params(self) -> tuple[float, float]:
        """``(mu, sigma)`` of the underlying normal, for numpy's ``lognormal``."""
        sigma2 = math.log1p((self.sd / self.mean) ** 2)
        return math.log(self.mean) - sigma2 / 2.0, math.sqrt(sigma2)

    def _draw(self, rng: np.random.Generator, size: Size | None) -> Any:
        mu, sigma = self.log_params
        return rng.lognormal(mu, sigma, size)


class Gamma(_DistributionBase):
    """Durations with a chosen variability: by ``cv`` (sd / mean) or by ``shape`` k."""

    kind: Literal["gamma"] = "gamma"
    mean: PositiveFloat
    cv: PositiveFloat | None = None
    shape: PositiveFloat | None = None

    @model_validator(mode="after")
    def _one_of_cv_or_shape(self) -> Self:
        if (self.cv is None) == (self.shape is None):
            _raise_if([_Issue("give exactly one of cv or shape", ("cv",), self.cv)])
        return self

    @property
    def k(self) -> float:
        """The shape parameter (``1 / cv**2`` when given by cv)."""
        if self.shape is not None:
            return self.shape
        assert self.cv is not None
        return 1.0 / (self.cv * self.cv)

    @property
    def std(self) -> float:
        return self.mean / math.sqrt(self.k)

    def _draw(self, rng: np.random.Generator, size: Size | None) -> Any:
        return rng.gamma(self.k, self.mean / self.k, size)


class Deterministic(_DistributionBase):
    """A fixed duration (a recorded prompt, a scripted wrap-up); ``wrap_up = 15`` means this."""

    kind: Literal["deterministic"] = "deterministic"
    value: NonNegativeFloat

    @property
    def mean(self) -> float:
        return self.value

    @property
    def std(self) -> float:
        return 0.0

    def _draw(self, rng: np.random.Generator, size: Size | None) -> Any:
        return self.value if size is None else np.full(size, self.value)


class Uniform(_DistributionBase):
    """Durations equally likely anywhere in [low, high)."""

    kind: Literal["uniform"] = "uniform"
    low: NonNegativeFloat
    high: float

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if not self.high > self.low:
            _raise_if([_Issue(f"must be > low ({_num(self.low)})", ("high",), self.high)])
        return self

    @property
    def mean(self) -> float:
        return (self.low + self.high) / 2.0

    @property
    def std(self) -> float:
        return (self.high - self.low) / math.sqrt(12.0)

    def _draw(self, rng: np.random.Generator, size: Size | None) -> Any:
        return rng.uniform(self.low, self.high, size)


class Empirical(_DistributionBase):
    """Resampling of measured durations (optionally weighted), e.g. from a CDR extract."""

    kind: Literal["empirical"] = "empirical"
    values: Annotated[tuple[NonNegativeFloat, ...], AfterValidator(_non_empty)]
    weights: tuple[NonNegativeFloat, ...] | None = None

    @model_validator(mode="after")
    def _weights_match(self) -> Self:
        if self.weights is not None:
            if len(self.weights) != len(self.values):
                msg = f"must have one weight per value ({len(self.values)})"
                _raise_if([_Issue(msg, ("weights",), len(self.weights))])
            if not sum(self.weights) > 0:
                _raise_if([_Issue("must not all be 0", ("weights",), self.weights)])
        return self

    # Computed per call rather than cached: cached arrays in the instance would
    # take part in pydantic's equality and hashing.
    @property
    def _probabilities(self) -> FloatArray | None:
        if self.weights is None:
            return None
        w = np.asarray(self.weights, dtype=np.float64)
        p: FloatArray = w / w.sum()
        return p

    @property
    def _array(self) -> FloatArray:
        return np.asarray(self.values, dtype=np.float64)

    @property
    def mean(self) -> float:
        p = self._probabilities
        return float(self._array.mean() if p is None else self._array @ p)

    @property
    def std(self) -> float:
        p = self._probabilities
        dev = (self._array - self.mean) ** 2
        return math.sqrt(float(dev.mean() if p is None else dev @ p))

    def _draw(self, rng: np.random.Generator, size: Size | None) -> Any:
        return rng.choice(self._array, size, p=self._probabilities)


class NoPatience(_DistributionBase):
    """A caller who never abandons (``patience = "none"``): the Erlang C caller."""

    kind: Literal["none", "infinite"] = "none"

    @property
    def mean(self) -> float:
        return math.inf

    @property
    def std(self) -> float:
        return math.nan

    def _draw(self, rng: np.random.Generator, size: Size | None) -> Any:
        return math.inf if size is None else np.full(size, math.inf)


def _distribution_shorthand(value: object) -> object:
    """A bare number means a fixed duration: ``wrap_up = 15``."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return {"kind": "deterministic", "value": value}
    return value


def _patience_shorthand(value: object) -> object:
    if isinstance(value, str) and value.strip().lower() in ("none", "infinite", "never"):
        return {"kind": "none"}
    return _distribution_shorthand(value)


Distribution = Annotated[
    Exponential | Lognormal | Gamma | Deterministic | Uniform | Empirical,
    Field(discriminator="kind"),
    BeforeValidator(_distribution_shorthand),
]
Patience = Annotated[
    Exponential | Lognormal | Gamma | Deterministic | Uniform | Empirical | NoPatience,
    Field(discriminator="kind"),
    BeforeValidator(_patience_shorthand),
]


# =========================================================================== services


def _sum_issue(total: float, loc: tuple[str | int, ...]) -> list[_Issue]:
    if abs(total - 1.0) > _PROBABILITY_TOLERANCE:
        return [_Issue("probabilities must sum to 1", loc, round(total, 9))]
    return []


class ServiceLevel(_Model):
    """The goal "``fraction`` of calls answered within ``seconds``" (80/20 by default)."""

    fraction: Probability = 0.8
    seconds: NonNegativeFloat = 20.0


class Arrivals(_Model):
    """When calls arrive: a constant Poisson rate, or calls per interval over a day.

    The daily profile repeats every day; intervals not covered have no calls.
    ``daily_cv`` (> 0) multiplies each day's volume by a gamma factor of mean 1
    and that coefficient of variation, for forecasts known only roughly
    (over-dispersed arrivals).
    """

    rate_per_hour: NonNegativeFloat | None = None
    calls: tuple[NonNegativeFloat, ...] | None = None
    interval: PositiveFloat = 1800.0
    start: Clock = 0.0
    daily_cv: NonNegativeFloat = 0.0

    @model_validator(mode="after")
    def _one_profile(self) -> Self:
        issues: list[_Issue] = []
        if (self.rate_per_hour is None) == (self.calls is None):
            issues.append(_Issue("give exactly one of rate_per_hour or calls", ("calls",)))
        elif self.calls is not None:
            if not self.calls:
                issues.append(_Issue("must list at least one interval", ("calls",)))
            end = self.start + len(self.calls) * self.interval
            if end > DAY + 1e-9:
                msg = (
                    f"{len(self.calls)} intervals of {_num(self.interval)} s from "
                    f"{_clock(self.start)} run past midnight (to {_clock(end)})"
                )
                issues.append(_Issue(msg, ("calls",)))
        elif self.interval != 1800.0 or self.start != 0.0:
            issues.append(_Issue("interval and start apply to calls only", ("interval",)))
        _raise_if(issues)
        return self

    @property
    def daily_volume(self) -> float:
        """Expected calls per day (before the daily factor)."""
        if self.calls is not None:
            return float(sum(self.calls))
        assert self.rate_per_hour is not None
        return self.rate_per_hour * 24.0

    def rate_at(self, t: float) -> float:
        """Expected arrival rate in calls per second at ``t`` (seconds since epoch)."""
        if self.calls is None:
            assert self.rate_per_hour is not None
            return self.rate_per_hour / 3600.0
        index = math.floor(((t % DAY) - self.start) / self.interval)
        if 0 <= index < len(self.calls):
            return self.calls[index] / self.interval
        return 0.0

    def daily_factor(self, rng: np.random.Generator) -> float:
        """This day's volume multiplier (1.0 unless ``daily_cv`` > 0)."""
        if self.daily_cv == 0.0:
            return 1.0
        k = 1.0 / (self.daily_cv * self.daily_cv)
        return float(rng.gamma(k, 1.0 / k))


def _attribute_shorthand(value: object) -> object:
    """``language = "zh"`` means that value for every caller."""
    return {value: 1.0} if isinstance(value, str) else value


class Service(_Model):
    """A call type (general enquiry, billing, roaming, VIP ...).

    A service either reaches agents — it has a handle time ``aht`` and is
    offered at ``routing_point`` (or, without one, queued straight to the
    skill of its own name) — or it is a dialled number whose callers start in
    the IVR at node ``ivr``; the IVR exit they take then decides the service
    they are queued as (an entry service's ``redial_*`` apply to callers who
    hang up in the IVR). ``arrivals`` may be omitted for services reached
    only through the IVR. ``attributes`` give caller data used by routing
    conditions, each a fixed value or value -> probability; a call from the
    IVR keeps its entry attributes and draws any others from its new service.
    """

    name: Name
    description: str = ""
    arrivals: Arrivals | None = None
    ivr: Name | None = None
    routing_point: Name | None = None
    aht: Distribution | None = None
    #: handle-time multiplier by the answering agent's proficiency level in the call's skill:
    #: ``{1 = 0.9, 8 = 1.25}`` means levels 1-7 take 0.9x, levels 8-16 take 1.25x the drawn time
    aht_level_factors: dict[Annotated[int, Field(ge=1, le=16)], PositiveFloat] = Field(
        default_factory=dict
    )
    wrap_up: Distribution | None = None
    patience: Patience = NoPatience()
    redial_probability: Probability = 0.0
    redial_delay: Distribution | None = None
    priority: Annotated[int, Field(ge=0)] = 0
    attributes: dict[
        Name, Annotated[dict[Name, Probability], BeforeValidator(_attribute_shorthand)]
    ] = Field(default_factory=dict)
    service_level: ServiceLevel | None = None

    @model_validator(mode="after")
    def _coherent(self) -> Self:
        issues: list[_Issue] = []
        if self.ivr is not None:
            if self.routing_point is not None:
                msg = "an IVR entry service is routed by its IVR exits; remove routing_point"
                issues.append(_Issue(msg, ("routing_point",), self.routing_point))
            if self.arrivals is None:
                issues.append(_Issue("required for a service that enters the IVR", ("arrivals",)))
            for field in ("aht", "wrap_up"):
                if getattr(self, field) is not None:
                    msg = "an IVR entry service takes the handle times of its exits' services"
                    issues.append(_Issue(msg, (field,)))
            if not isinstance(self.patience, NoPatience):
                msg = "an IVR entry service's callers take the patience of their exit's service"
                issues.append(_Issue(msg, ("patience",)))
        elif self.aht is None:
            issues.append(_Issue("required for a service that reaches agents", ("aht",)))
        if self.redial_probability > 0 and self.redial_delay is None:
            issues.append(_Issue("required when redial_probability > 0", ("redial_delay",)))
        for key, probs in self.attributes.items():
            if not probs:
                issues.append(_Issue("must give at least one value", ("attributes", key)))
            else:
                issues += _sum_issue(sum(probs.values()), ("attributes", key))
        _raise_if(issues)
        return self

    @property
    def reaches_agents(self) -> bool:
        """False for an IVR entry number (its callers are re-typed by the IVR exits)."""
        return self.ivr is None

    def aht_factor(self, level: int) -> float:
        """Handle-time multiplier for an agent of proficiency ``level`` (1.0 if none applies)."""
        factor = 1.0
        for lv in sorted(self.aht_level_factors):
            if lv <= level:
                factor = self.aht_level_factors[lv]
        return factor

    def sample_attributes(self, rng: np.random.Generator) -> dict[str, str]:
        """One caller's attributes, drawing each probabilistic one independently.

        A plain cumulative search (no ``rng.choice``): this runs once per call.
        """
        out: dict[str, str] = {}
        for key, probs in self.attributes.items():
            if len(probs) == 1:
                out[key] = next(iter(probs))
                continue
            u = rng.random() * sum(probs.values())
            chosen = ""
            for value, p in probs.items():
                chosen = value
                u -= p
                if u < 0.0:
                    break
            out[key] = chosen
        return out


# =========================================================================== skills and agents


def _name_shorthand(value: object) -> object:
    """``skills = ["billing"]`` is short for ``[[skills]] name = "billing"``."""
    return {"name": value} if isinstance(value, str) else value


class Skill(_Model):
    """A skill = one ACD queue. ``service_level`` overrides the target taken from services."""

    name: Name
    description: str = ""
    service_level: ServiceLevel | None = None


class Break(_Model):
    """A break during a shift; agent k of the shift starts it at ``start + k * stagger``."""

    start: Clock
    duration: PositiveFloat
    reason: Name = "break"
    stagger: NonNegativeFloat = 0.0


class Shift(_Model):
    """``agents`` of the group (all of it if omitted) log on at ``start`` and off at ``end``."""

    start: Clock
    end: Clock
    agents: Annotated[int, Field(ge=1)] | None = None
    breaks: tuple[Break, ...] = ()

    @model_validator(mode="after")
    def _sane_times(self) -> Self:
        issues: list[_Issue] = []
        if self.start >= DAY:
            issues.append(_Issue("a shift must start before 24:00", ("start",), _clock(self.start)))
        if self.end <= self.start:
            msg = (
                f"must be after start {_clock(self.start)}"
                " (a shift past midnight ends at e.g. '30:00')"
            )
            issues.append(_Issue(msg, ("end",), _clock(self.end)))
        elif self.end - self.start > DAY:
            issues.append(_Issue("a shift lasts at most 24 h", ("end",), _clock(self.end)))
        _raise_if(issues)
        return self

    def break_windows(self, agent_index: int) -> list[tuple[float, float, str]]:
        """``(start, end, reason)`` of each break of the shift's ``agent_index``-th agent."""
        return [
            (
                b.start + agent_index * b.stagger,
                b.start + agent_index * b.stagger + b.duration,
                b.reason,
            )
            for b in self.breaks
        ]


def _stations_shorthand(value: object) -> object:
    if isinstance(value, list | tuple):
        return [str(v) if isinstance(v, int) and not isinstance(v, bool) else v for v in value]
    return value


def _skills_shorthand(value: object) -> object:
    """``skills = ["general"]`` gives each listed skill level 1."""
    if isinstance(value, list | tuple):
        return dict.fromkeys(value, 1)
    return value


SkillLevel = Annotated[int, Field(ge=1, le=16)]


class AgentGroup(_Model):
    """A team of ``size`` agents with the same skills (level 1 = best ... 16, as in Avaya).

    Agent ids are the ``stations`` (or ``first_station`` counting up) when
    given, otherwise ``<name>-001`` ... . Without ``shifts`` every agent works
    all day. ``no_answer_probability`` makes an agent miss an offered call
    now and then, to exercise ring-no-answer (RONA).
    """

    name: Name
    description: str = ""
    size: Annotated[int, Field(ge=1)]
    skills: Annotated[
        dict[Name, SkillLevel], BeforeValidator(_skills_shorthand), AfterValidator(_non_empty)
    ]
    stations: Annotated[tuple[Name, ...], BeforeValidator(_stations_shorthand)] | None = None
    first_station: Annotated[int, Field(ge=0)] | None = None
    shifts: tuple[Shift, ...] = ()
    no_answer_probability: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.0

    @model_validator(mode="after")
    def _coherent(self) -> Self:
        issues: list[_Issue] = []
        if self.stations is not None:
            if self.first_station is not None:
                msg = "give stations or first_station, not both"
                issues.append(_Issue(msg, ("first_station",), self.first_station))
            if len(self.stations) != self.size:
                msg = f"must list one station per agent ({self.size})"
                issues.append(_Issue(msg, ("stations",), len(self.stations)))
            seen: set[str] = set()
            for i, st in enumerate(self.stations):
                if st in seen:
                    issues.append(_Issue("duplicate station", ("stations", i), st))
                seen.add(st)
        staffed = 0
        for i, shift in enumerate(self.shifts):
            n = shift.agents if shift.agents is not None else self.size
            if n > self.size:
                msg = f"exceeds the group size {self.size}"
                issues.append(_Issue(msg, ("shifts", i, "agents"), n))
            staffed += n
            issues += _break_issues(shift, n, ("shifts", i))
        if staffed > self.size:
            msg = f"shifts staff {staffed} agents but the group has {self.size}"
            issues.append(_Issue(msg, ("shifts",)))
        _raise_if(issues)
        return self

    def agent_ids(self) -> tuple[str, ...]:
        """The ids the ACD and the simulation use for this group's agents, in order."""
        if self.stations is not None:
            return self.stations
        if self.first_station is not None:
            return tuple(str(self.first_station + k) for k in range(self.size))
        return tuple(f"{self.name}-{k + 1:03d}" for k in range(self.size))


def _break_issues(shift: Shift, agents: int, loc: tuple[str | int, ...]) -> list[_Issue]:
    issues: list[_Issue] = []
    span = f"{_clock(shift.start)}-{_clock(shift.end)}"
    for j, b in enumerate(shift.breaks):
        last_end = b.start + (agents - 1) * b.stagger + b.duration
        if b.start < shift.start or b.start >= shift.end:
            msg = f"must fall within the shift {span}"
            issues.append(_Issue(msg, (*loc, "breaks", j, "start"), _clock(b.start)))
        elif last_end > shift.end:
            msg = f"the last agent's break ends at {_clock(last_end)}, after the shift {span}"
            issues.append(_Issue(msg, (*loc, "breaks", j, "duration"), b.duration))
    if not issues:
        for k in range(agents):
            windows = sorted(shift.break_windows(k))
            for (s0, e0, _), (s1, _e1, _) in itertools.pairwise(windows):
                if s1 < e0:
                    msg = f"agent {k + 1} of the shift has overlapping breaks"
                    issues.append(_Issue(msg, (*loc, "breaks"), f"{_clock(s0)} and {_clock(s1)}"))
                    return issues
    return issues


class Trunks(_Model):
    """Lines into the center; a call finding all busy is blocked (``trunks = 300`` for short)."""

    count: Annotated[int, Field(ge=1)]


def _count_shorthand(value: object) -> object:
    return {"count": value} if isinstance(value, int) and not isinstance(value, bool) else value


# =========================================================================== IVR


class Branch(_Model):
    """One menu choice: callers go ``to`` a node with ``probability`` (``key``: the DTMF digit)."""

    to: Name
    probability: Probability
    key: str = ""


class MenuNode(_Model):
    """A menu: callers listen for ``duration``, may hang up (``abandon``), else pick a branch."""

    kind: Literal["menu"] = "menu"
    name: Name
    description: str = ""
    duration: Distribution
    abandon: Probability = 0.0
    branches: Annotated[tuple[Branch, ...], AfterValidator(_non_empty)]

    @model_validator(mode="after")
    def _sums_to_one(self) -> Self:
        _raise_if(_sum_issue(sum(b.probability for b in self.branches), ("branches",)))
        return self


class SelfServiceNode(_Model):
    """Self-service (balance, bill enquiry): ``completion`` of callers finish here.

    The others go to node ``otherwise`` (typically an agent exit).
    """

    kind: Literal["self_service"] = "self_service"
    name: Name
    description: str = ""
    duration: Distribution
    abandon: Probability = 0.0
    completion: Probability
    otherwise: Name | None = None

    @model_validator(mode="after")
    def _has_fallback(self) -> Self:
        if self.completion < 1.0 and self.otherwise is None:
            msg = "required when completion < 1 (where do the other callers go?)"
            _raise_if([_Issue(msg, ("otherwise",))])
        return self


class AgentExitNode(_Model):
    """'Ask for an agent' (转人工): the caller leaves the IVR as a call of ``service``.

    It is offered at ``routing_point`` if given, else at the service's own.
    """

    kind: Literal["agent"] = "agent"
    name: Name
    description: str = ""
    service: Name
    routing_point: Name | None = None


class HangupNode(_Model):
    """The IVR releases the call (a closing message of ``duration``)."""

    kind: Literal["hangup"] = "hangup"
    name: Name
    description: str = ""
    duration: Distribution = Deterministic(value=0.0)


IvrNode = Annotated[
    MenuNode | SelfServiceNode | AgentExitNode | HangupNode, Field(discriminator="kind")
]


class Ivr(_Model):
    """The voice-response unit: ``ports`` simultaneous callers and a tree of ``nodes``."""

    ports: Annotated[int, Field(ge=1)]
    nodes: Annotated[tuple[IvrNode, ...], AfterValidator(_non_empty)]

    @model_validator(mode="after")
    def _tree(self) -> Self:
        issues = _unique_names(self.nodes, ("nodes",), "node")
        names = {n.name for n in self.nodes}
        for i, node in enumerate(self.nodes):
            if isinstance(node, MenuNode):
                for j, branch in enumerate(node.branches):
                    if branch.to not in names:
                        issues.append(
                            _unknown("node", branch.to, names, ("nodes", i, "branches", j, "to"))
                        )
            elif (
                isinstance(node, SelfServiceNode)
                and node.otherwise is not None
                and node.otherwise not in names
            ):
                issues.append(_unknown("node", node.otherwise, names, ("nodes", i, "otherwise")))
        if not issues:
            for i, node in enumerate(self.nodes):
                if node.name in self._trapped():
                    msg = "callers here can never leave the IVR (a loop with no exit)"
                    issues.append(_Issue(msg, ("nodes", i, "name"), node.name))
        _raise_if(issues)
        return self

    def _trapped(self) -> set[str]:
        """Nodes from which no exit, hang-up or completion is reachable."""
        by_name = {n.name: n for n in self.nodes}
        can_leave: set[str] = set()
        changed = True
        while changed:
            changed = False
            for name, node in by_name.items():
                if name in can_leave:
                    continue
                leaves = isinstance(node, AgentExitNode | HangupNode)
                if isinstance(node, MenuNode):
                    leaves = node.abandon > 0 or any(
                        b.probability > 0 and b.to in can_leave for b in node.branches
                    )
                elif isinstance(node, SelfServiceNode):
                    leaves = node.abandon > 0 or node.completion > 0 or node.otherwise in can_leave
                if leaves:
                    can_leave.add(name)
                    changed = True
        return set(by_name) - can_leave

    def node(self, name: str) -> MenuNode | SelfServiceNode | AgentExitNode | HangupNode:
        """The node called ``name`` (``KeyError`` if none)."""
        for n in self.nodes:
            if n.name == name:
                return n
        raise KeyError(name)

    def walk(self, entry: str, rng: np.random.Generator) -> IvrPath:
        """One caller's path through the tree from node ``entry``.

        Shared by the simulation and the PBX emulator so both walk the tree the
        same way: the draws come from ``rng`` in a fixed order (node duration,
        abandonment, then the branch or the self-service completion).
        """
        duration = 0.0
        node = self.node(entry)
        while True:
            if isinstance(node, MenuNode):
                duration += node.duration.sample(rng)
                if node.abandon and rng.random() < node.abandon:
                    return IvrPath("ivr_abandoned", None, None, duration)
                u = rng.random()
                nxt = node.branches[-1].to
                for br in node.branches:
                    u -= br.probability
                    if u < 0:
                        nxt = br.to
                        break
                node = self.node(nxt)
            elif isinstance(node, SelfServiceNode):
                duration += node.duration.sample(rng)
                if node.abandon and rng.random() < node.abandon:
                    return IvrPath("ivr_abandoned", None, None, duration)
                if rng.random() < node.completion or node.otherwise is None:
                    return IvrPath("self_served", None, None, duration)
                node = self.node(node.otherwise)
            elif isinstance(node, AgentExitNode):
                return IvrPath("agent", node.service, node.routing_point, duration)
            else:
                duration += node.duration.sample(rng)
                return IvrPath("self_served", None, None, duration)


class IvrPath(NamedTuple):
    """Where a caller left the IVR: ``outcome`` is ``agent`` (asked for ``service``,
    optionally at ``routing_point``), ``self_served`` or ``ivr_abandoned``."""

    outcome: str
    service: str | None
    routing_point: str | None
    duration: float


# =========================================================================== routing scripts


class EwtAboveSpec(_Model):
    queue: Name
    seconds: NonNegativeFloat


class QueueLengthAboveSpec(_Model):
    queue: Name
    calls: Annotated[int, Field(ge=0)]


class AgentCountSpec(_Model):
    queue: Name
    agents: Annotated[int, Field(ge=1)] = 1


class TimeOfDaySpec(_Model):
    start: Clock
    end: Clock

    @model_validator(mode="after")
    def _within_day(self) -> Self:
        issues = [
            _Issue("must be at most 24:00", (field,), _clock(value))
            for field, value in (("start", self.start), ("end", self.end))
            if value > DAY
        ]
        if not issues and self.start == self.end:
            issues.append(
                _Issue(
                    "must differ from start (the window would be empty)", ("end",), _clock(self.end)
                )
            )
        _raise_if(issues)
        return self


def _values_shorthand(value: object) -> object:
    return [value] if isinstance(value, str) else value


class AttributeSpec(_Model):
    name: Name
    values: Annotated[
        tuple[str, ...], BeforeValidator(_values_shorthand), AfterValidator(_non_empty)
    ]


_CONDITION_KEYS = (
    "ewt_above",
    "queue_length_above",
    "agents_available",
    "staffed_below",
    "time_of_day",
    "attribute",
    "not",
    "all",
    "any",
)


class ConditionSpec(_Model):
    """A ``when`` condition in TOML: a table with exactly one key.

    ``{ ewt_above = { queue = "billing", seconds = 120 } }``,
    ``{ not = { attribute = { name = "tier", values = ["gold"] } } }``,
    ``{ all = [ {...}, {...} ] }`` ...
    """

    ewt_above: EwtAboveSpec | None = None
    queue_length_above: QueueLengthAboveSpec | None = None
    agents_available: AgentCountSpec | None = None
    staffed_below: AgentCountSpec | None = None
    time_of_day: TimeOfDaySpec | None = None
    attribute: AttributeSpec | None = None
    not_: ConditionSpec | None = Field(default=None, alias="not")
    all_: Annotated[tuple[ConditionSpec, ...], AfterValidator(_non_empty)] | None = Field(
        default=None, alias="all"
    )
    any_: Annotated[tuple[ConditionSpec, ...], AfterValidator(_non_empty)] | None = Field(
        default=None, alias="any"
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        given = [k for k in _CONDITION_KEYS if self._get(k) is not None]
        if len(given) != 1:
            msg = f"a condition needs exactly one of {', '.join(_CONDITION_KEYS)}"
            _raise_if([_Issue(msg, (), given)])
        return self

    def _get(self, key: str) -> Any:
        return getattr(self, key + "_" if key in ("not", "all", "any") else key)

    def queues(self) -> Iterable[tuple[str, str]]:
        """``(relative path, queue)`` of every queue named in this condition tree."""
        for key in ("ewt_above", "queue_length_above", "agents_available", "staffed_below"):
            spec = self._get(key)
            if spec is not None:
                yield f".{key}.queue", spec.queue
        if self.not_ is not None:
            for path, q in self.not_.queues():
                yield ".not" + path, q
        for key, subs in (("all", self.all_), ("any", self.any_)):
            for j, sub in enumerate(subs or ()):
                for path, q in sub.queues():
                    yield f".{key}[{j}]{path}", q

    def to_condition(self) -> rs.Condition:
        """The ``ccsim.routing.script`` condition object."""
        if self.ewt_above is not None:
            return rs.EwtAbove(self.ewt_above.queue, self.ewt_above.seconds)
        if self.queue_length_above is not None:
            return rs.QueueLengthAbove(self.queue_length_above.queue, self.queue_length_above.calls)
        if self.agents_available is not None:
            return rs.AgentsAvailable(self.agents_available.queue, self.agents_available.agents)
        if self.staffed_below is not None:
            return rs.StaffedBelow(self.staffed_below.queue, self.staffed_below.agents)
        if self.time_of_day is not None:
            return rs.TimeOfDay(self.time_of_day.start, self.time_of_day.end)
        if self.attribute is not None:
            return rs.Attribute(self.attribute.name, self.attribute.values)
        if self.not_ is not None:
            return rs.Not(self.not_.to_condition())
        if self.all_ is not None:
            return rs.All(tuple(c.to_condition() for c in self.all_))
        assert self.any_ is not None
        return rs.Any(tuple(c.to_condition() for c in self.any_))


class _StepSpec(_Model):
    when: ConditionSpec | None = None

    def _when(self) -> rs.Condition | None:
        return None if self.when is None else self.when.to_condition()


class QueueStep(_StepSpec):
    """``{ op = "queue", queue = "billing", priority = 5 }``: queue to a skill (several allowed)."""

    op: Literal["queue"] = "queue"
    queue: Name
    priority: Annotated[int, Field(ge=0)] | None = None

    def to_step(self) -> rs.Step:
        return rs.QueueTo(self.queue, self.priority, self._when())


class WaitStep(_StepSpec):
    """``{ op = "wait", seconds = 30 }``: the call keeps waiting; the script pauses."""

    op: Literal["wait"] = "wait"
    seconds: PositiveFloat

    def to_step(self) -> rs.Step:
        return rs.Wait(self.seconds, self._when())


class AnnounceStep(_StepSpec):
    """``{ op = "announce", announcement = "all_busy" }``."""

    op: Literal["announce"] = "announce"
    announcement: Name

    def to_step(self) -> rs.Step:
        return rs.Announce(self.announcement, self._when())


class GotoStep(_StepSpec):
    """``{ op = "goto", label = "overflow", when = {...} }``."""

    op: Literal["goto"] = "goto"
    label: Name

    def to_step(self) -> rs.Step:
        return rs.Goto(self.label, self._when())


class LabelStep(_Model):
    """``{ op = "label", name = "overflow" }``: a jump target."""

    op: Literal["label"] = "label"
    name: Name

    def to_step(self) -> rs.Step:
        return rs.Label(self.name)


class OverflowStep(_StepSpec):
    """``{ op = "overflow", destination = "partner_site" }``: route out of this center."""

    op: Literal["overflow"] = "overflow"
    destination: Name

    def to_step(self) -> rs.Step:
        return rs.Overflow(self.destination, self._when())


class CallbackStep(_StepSpec):
    """``{ op = "callback" }``: offer a callback and release the call."""

    op: Literal["callback"] = "callback"

    def to_step(self) -> rs.Step:
        return rs.OfferCallback(self._when())


class DisconnectStep(_StepSpec):
    """``{ op = "disconnect", cause = "closed" }``."""

    op: Literal["disconnect"] = "disconnect"
    cause: Name = "busy"

    def to_step(self) -> rs.Step:
        return rs.Disconnect(self.cause, self._when())


class StopStep(_StepSpec):
    """``{ op = "stop" }``: end the script; the call keeps waiting in its queues."""

    op: Literal["stop"] = "stop"

    def to_step(self) -> rs.Step:
        return rs.Stop(self._when())


StepSpec = Annotated[
    QueueStep
    | WaitStep
    | AnnounceStep
    | GotoStep
    | LabelStep
    | OverflowStep
    | CallbackStep
    | DisconnectStep
    | StopStep,
    Field(discriminator="op"),
]


class RoutingPoint(_Model):
    """A routing point (VDN) and the script run for each call offered there."""

    name: Name
    description: str = ""
    steps: Annotated[tuple[StepSpec, ...], AfterValidator(_non_empty)]

    @model_validator(mode="after")
    def _labels(self) -> Self:
        issues: list[_Issue] = []
        labels: dict[str, int] = {}
        for i, step in enumerate(self.steps):
            if isinstance(step, LabelStep):
                if step.name in labels:
                    msg = f"duplicate label (also steps[{labels[step.name]}])"
                    issues.append(_Issue(msg, ("steps", i, "name"), step.name))
                labels.setdefault(step.name, i)
        for i, step in enumerate(self.steps):
            if isinstance(step, GotoStep) and step.label not in labels:
                issues.append(_unknown("label", step.label, labels, ("steps", i, "label")))
        _raise_if(issues)
        return self

    def script(self) -> rs.Script:
        """The ``ccsim.routing.script`` steps the ACD executes."""
        return tuple(step.to_step() for step in self.steps)

    def primary_skill(self) -> str | None:
        """The skill of the script's first ``queue`` step: where its calls mainly wait.

        Later queue steps are overflow (backup skills), so they do not set the
        service-level target of a skill.
        """
        for step in self.steps:
            if isinstance(step, QueueStep):
                return step.queue
        return None


# =========================================================================== timing, policies


class Timing(_Model):
    """ACD timings: ring-no-answer and the default wrap-up.

    ``ewt_default_handle_time`` (seconds per call assumed by wait estimates
    before any answer) defaults to the mean handle time over the services.
    """

    ring_timeout: PositiveFloat = 15.0
    rona_threshold: Annotated[int, Field(ge=1)] = 1
    rona_priority_boost: Annotated[int, Field(ge=0)] = 1000
    wrap_up: Distribution = Deterministic(value=0.0)
    ewt_default_handle_time: PositiveFloat | None = None


class SupervisorAction(_Model):
    """A scripted supervisor request at time ``at`` on one ``agent`` or a whole ``group``."""

    at: Clock
    action: Literal["force_ready", "force_not_ready", "force_logout"]
    agent: Name | None = None
    group: Name | None = None
    reason: Name = "supervisor"

    @model_validator(mode="after")
    def _one_target(self) -> Self:
        if (self.agent is None) == (self.group is None):
            _raise_if([_Issue("give exactly one of agent or group", ("agent",), self.agent)])
        return self


_POLICY_NAME = re.compile(r"^[A-Za-z_][\w.]*(:[A-Za-z_][\w.]*)?$")


def _policy_name(value: str) -> str:
    if not _POLICY_NAME.match(value):
        raise ValueError("must be a built-in policy name or an import path 'module:Class'")
    return value


def _policy_shorthand(value: object) -> object:
    """``agent_selector = "longest_idle"`` is short for ``{ name = "longest_idle" }``."""
    return {"name": value} if isinstance(value, str) else value


class PolicySpec(_Model):
    """A policy by built-in ``name`` or import path ``module:Class``, with keyword ``params``.

    Only stored here; ``resolve_policy`` builds the object when a run needs it,
    so loading a scenario never imports user code.
    """

    name: Annotated[str, AfterValidator(_policy_name)]
    params: dict[str, Any] = Field(default_factory=dict)

    @property
    def is_import_path(self) -> bool:
        return ":" in self.name


PolicyField = Annotated[PolicySpec, BeforeValidator(_policy_shorthand)]


class Policies(_Model):
    """Which policy fills each slot of the ACD (``None``: the ACD's default)."""

    agent_selector: PolicyField | None = None
    call_selector: PolicyField | None = None
    queue_discipline: PolicyField | None = None
    ewt: PolicyField | None = None


def resolve_policy(
    spec: PolicySpec,
    registry: Mapping[str, Callable[..., T]],
    *,
    where: str = "policy",
    source: str = "<scenario>",
) -> T:
    """Build the policy ``spec`` names, with its params as keyword arguments.

    ``registry`` maps built-in names to classes (supplied by ``ccsim.routing``);
    a ``module:Class`` name is imported instead. Failures raise
    ``ScenarioError`` naming ``where`` (e.g. ``policies.agent_selector``).
    """

    def fail(field: str, message: str) -> ScenarioError:
        return ScenarioError(source, [ScenarioIssue(f"{where}.{field}", message)])

    factory: Callable[..., Any]
    if spec.is_import_path:
        module_name, _, attr_path = spec.name.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise fail("name", f"cannot import module {module_name!r} ({exc})") from exc
        obj: Any = module
        for part in attr_path.split("."):
            if not hasattr(obj, part):
                msg = f"module {module_name!r} has no attribute {attr_path!r}"
                raise fail("name", msg)
            obj = getattr(obj, part)
        if not callable(obj):
            raise fail("name", f"{spec.name!r} is not a class or callable")
        factory = obj
    elif spec.name in registry:
        factory = registry[spec.name]
    else:
        known = sorted(registry)
        hint = difflib.get_close_matches(spec.name, known, n=1)
        msg = f"unknown policy {spec.name!r}"
        if hint:
            msg += f"; did you mean {hint[0]!r}?"
        msg += f" (known: {', '.join(known) or 'none'}; or give 'module:Class')"
        raise fail("name", msg)
    try:
        policy: T = factory(**spec.params)
    except (TypeError, ValueError) as exc:
        raise fail("params", f"{spec.name!r} rejected {spec.params!r}: {exc}") from exc
    return policy


# =========================================================================== the scenario


def _unique_names(items: Sequence[Any], loc: tuple[str | int, ...], what: str) -> list[_Issue]:
    issues: list[_Issue] = []
    first: dict[str, int] = {}
    for i, item in enumerate(items):
        if item.name in first:
            msg = f"duplicate {what} name (also {_render_plain(loc)}[{first[item.name]}])"
            issues.append(_Issue(msg, (*loc, i, "name"), item.name))
        first.setdefault(item.name, i)
    return issues


def _unknown(
    what: str,
    value: str,
    known: Iterable[str],
    loc: tuple[str | int, ...] = (),
    path: str | None = None,
) -> _Issue:
    names = sorted(known)
    hint = difflib.get_close_matches(value, names, n=1)
    msg = f"unknown {what}"
    if hint:
        msg += f" (did you mean {hint[0]!r}?)"
    elif not names:
        msg += " (none defined)"
    elif len(names) <= 12:
        msg += f" (known: {', '.join(names)})"
    return _Issue(msg, loc, value, path)


class Scenario(_Model):
    """A whole contact center: what arrives, who answers, and how calls are routed.

    ``service_level`` is the default target for services and skills that set
    none. Build one with :func:`load_scenario`, :meth:`from_toml_string` or
    :func:`example`.
    """

    name: str = "scenario"
    description: str = ""
    service_level: ServiceLevel = ServiceLevel()
    skills: Annotated[
        tuple[Annotated[Skill, BeforeValidator(_name_shorthand)], ...], AfterValidator(_non_empty)
    ]
    services: Annotated[tuple[Service, ...], AfterValidator(_non_empty)]
    agent_groups: Annotated[tuple[AgentGroup, ...], AfterValidator(_non_empty)]
    routing_points: tuple[RoutingPoint, ...] = ()
    trunks: Annotated[Trunks, BeforeValidator(_count_shorthand)] | None = None
    ivr: Ivr | None = None
    timing: Timing = Timing()
    supervisor: tuple[SupervisorAction, ...] = ()
    policies: Policies = Policies()

    # ---------------------------------------------------------------- loading

    @classmethod
    def from_toml_string(cls, text: str, source: str = "<string>") -> Scenario:
        """Parse and validate TOML text; errors name ``source`` as the file."""
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ScenarioError(source, [_toml_issue(exc)]) from None
        return cls.from_dict(data, source)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str = "<dict>") -> Scenario:
        """Validate already-parsed data (e.g. built in a notebook)."""
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise ScenarioError(source, _issues_from(exc, cls)) from None

    # ---------------------------------------------------------------- cross-references

    @model_validator(mode="after")
    def _cross_references(self) -> Self:
        _raise_if(_cross_issues(self))
        return self

    # ---------------------------------------------------------------- lookups

    def service(self, name: str) -> Service:
        return _by_name(self.services, name)

    def skill(self, name: str) -> Skill:
        return _by_name(self.skills, name)

    def agent_group(self, name: str) -> AgentGroup:
        return _by_name(self.agent_groups, name)

    def routing_point(self, name: str) -> RoutingPoint:
        return _by_name(self.routing_points, name)

    def agent_ids(self) -> tuple[str, ...]:
        """Every agent id of the center, group by group."""
        return tuple(a for g in self.agent_groups for a in g.agent_ids())

    def primary_skill(self, service: str) -> str | None:
        """The skill whose queue first receives the service's calls (None for IVR entries)."""
        svc = self.service(service)
        if not svc.reaches_agents:
            return None
        if svc.routing_point is None:
            return svc.name
        return self.routing_point(svc.routing_point).primary_skill()

    def skill_target(self, skill: str) -> ServiceLevel:
        """The skill's SL goal: its own, else the strictest of the services it is primary for."""
        own = self.skill(skill).service_level
        if own is not None:
            return own
        targets = [
            s.service_level or self.service_level
            for s in self.services
            if s.reaches_agents and self.primary_skill(s.name) == skill
        ]
        if not targets:
            return self.service_level
        return min(targets, key=lambda t: (t.seconds, -t.fraction))

    # ---------------------------------------------------------------- the ACD's view

    def acd_config(self) -> ACDConfig:
        """Queues (one per skill), scripts, service routing and timings for ``ccsim.acd``."""
        queues = {}
        for skill in self.skills:
            target = self.skill_target(skill.name)
            queues[skill.name] = QueueConfig(
                name=skill.name, target_fraction=target.fraction, target_seconds=target.seconds
            )
        agent_services = [s for s in self.services if s.reaches_agents]
        ewt_default = self.timing.ewt_default_handle_time
        if ewt_default is None:
            means = [s.aht.mean for s in agent_services if s.aht is not None]
            ewt_default = float(np.mean(means)) if means else 180.0
        return ACDConfig(
            queues=queues,
            scripts={rp.name: rp.script() for rp in self.routing_points},
            service_routing={
                s.name: s.routing_point for s in agent_services if s.routing_point is not None
            },
            wrap_up={s.name: s.wrap_up.mean for s in agent_services if s.wrap_up is not None},
            default_wrap_up=self.timing.wrap_up.mean,
            ring_timeout=self.timing.ring_timeout,
            rona_threshold=self.timing.rona_threshold,
            rona_priority_boost=self.timing.rona_priority_boost,
            ewt_default_handle_time=ewt_default,
        )


def _by_name(items: Sequence[T], name: str) -> T:
    for item in items:
        if getattr(item, "name", None) == name:
            return item
    raise KeyError(name)


def _cross_issues(sc: Scenario) -> list[_Issue]:
    """Checks between sections; paths are rendered here because they cross unions."""
    issues: list[_Issue] = []
    issues += _unique_names(sc.skills, ("skills",), "skill")
    issues += _unique_names(sc.services, ("services",), "service")
    issues += _unique_names(sc.agent_groups, ("agent_groups",), "group")
    issues += _unique_names(sc.routing_points, ("routing_points",), "routing point")
    skills = {s.name for s in sc.skills}
    points = {r.name for r in sc.routing_points}
    services = {s.name: s for s in sc.services}
    groups = {g.name for g in sc.agent_groups}
    nodes = {n.name for n in sc.ivr.nodes} if sc.ivr is not None else set()

    for i, g in enumerate(sc.agent_groups):
        for skill in g.skills:
            if skill not in skills:
                issues.append(
                    _unknown(
                        "skill",
                        skill,
                        skills,
                        path=f"agent_groups[{i}].skills{_segment(skill, first=False)}",
                    )
                )

    for i, s in enumerate(sc.services):
        at = f"services[{i}]"
        if s.ivr is not None:
            if sc.ivr is None:
                issues.append(
                    _Issue("the scenario has no [ivr] section", value=s.ivr, path=f"{at}.ivr")
                )
            elif s.ivr not in nodes:
                issues.append(_unknown("IVR node", s.ivr, nodes, path=f"{at}.ivr"))
        elif s.routing_point is not None:
            if s.routing_point not in points:
                issues.append(
                    _unknown("routing point", s.routing_point, points, path=f"{at}.routing_point")
                )
        elif s.name not in skills:
            msg = (
                f"missing, and no skill is named {s.name!r} "
                "(a service without a routing point queues to the skill of its own name)"
            )
            issues.append(_Issue(msg, path=f"{at}.routing_point"))

    for i, rp in enumerate(sc.routing_points):
        for j, step in enumerate(rp.steps):
            at = f"routing_points[{i}].steps[{j}]"
            if isinstance(step, QueueStep) and step.queue not in skills:
                issues.append(_unknown("skill", step.queue, skills, path=f"{at}.queue"))
            when = getattr(step, "when", None)
            if when is not None:
                for sub, queue in when.queues():
                    if queue not in skills:
                        issues.append(_unknown("skill", queue, skills, path=f"{at}.when{sub}"))

    if sc.ivr is not None:
        for k, node in enumerate(sc.ivr.nodes):
            if not isinstance(node, AgentExitNode):
                continue
            at = f"ivr.nodes[{k}]"
            target = services.get(node.service)
            if target is None:
                issues.append(_unknown("service", node.service, services, path=f"{at}.service"))
            elif not target.reaches_agents:
                msg = "is an IVR entry number; an exit must name a service that reaches agents"
                issues.append(_Issue(msg, value=node.service, path=f"{at}.service"))
            if node.routing_point is not None and node.routing_point not in points:
                issues.append(
                    _unknown(
                        "routing point", node.routing_point, points, path=f"{at}.routing_point"
                    )
                )

    agent_ids: dict[str, str] = {}
    for i, g in enumerate(sc.agent_groups):
        clashes = [aid for aid in g.agent_ids() if aid in agent_ids]
        if clashes:
            other = agent_ids[clashes[0]]
            msg = f"{len(clashes)} agent id(s) also used by group {other!r}"
            issues.append(_Issue(msg, value=clashes[0], path=f"agent_groups[{i}].stations"))
        agent_ids.update(dict.fromkeys(g.agent_ids(), g.name))

    for i, act in enumerate(sc.supervisor):
        if act.agent is not None and act.agent not in agent_ids:
            msg = "unknown agent id (ids are stations, or '<group>-001' ...)"
            issues.append(_Issue(msg, value=act.agent, path=f"supervisor[{i}].agent"))
        if act.group is not None and act.group not in groups:
            issues.append(_unknown("group", act.group, groups, path=f"supervisor[{i}].group"))
    return issues


# =========================================================================== error rendering


_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")


def _toml_issue(exc: tomllib.TOMLDecodeError) -> ScenarioIssue:
    text = str(exc)
    match = _TOML_POSITION.search(text)
    if match:
        where = f"line {match.group(1)}, column {match.group(2)}"
        return ScenarioIssue(where, f"invalid TOML: {text[: match.start()]}")
    return ScenarioIssue("", f"invalid TOML: {text}")


def _segment(item: str | int, *, first: bool) -> str:
    if isinstance(item, int):
        return f"[{item}]"
    if not item or any(c in item for c in ".[] \t\"'"):
        return f"[{item!r}]"
    return item if first else f".{item}"


def _unwrap(tp: Any) -> Any:
    while True:
        origin = get_origin(tp)
        if origin is Annotated:
            tp = get_args(tp)[0]
            continue
        if origin in (Union, types.UnionType):
            members = [a for a in get_args(tp) if a is not type(None)]
            if len(members) == 1:
                tp = members[0]
                continue
        return tp


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _field_by_key(model: type[BaseModel], key: str) -> Any:
    for name, info in model.model_fields.items():
        if (info.alias or name) == key:
            return info.annotation
    return _NO_VALUE


def _tag_member(tp: Any, tag: object) -> Any:
    """The member of a discriminated union whose ``Literal`` tag is ``tag``, if any."""
    for member in get_args(tp):
        if not _is_model(member):
            continue
        for info in member.model_fields.values():
            ann = _unwrap(info.annotation)
            if get_origin(ann) is Literal and tag in get_args(ann):
                return member
    return None


def _walk(
    root: type[BaseModel], loc: Sequence[str | int], extra: Sequence[str | int] = ()
) -> tuple[str, Any]:
    """Render a pydantic ``loc`` as ``services[2].aht.mean``, skipping union tags.

    Pydantic puts the tag of a discriminated union into ``loc``
    (``aht.exponential.mean``); ``extra`` (a validator's relative location)
    has none, so there a field named like a tag (``label``) is kept.
    Returns the path and the type at the last step's parent (for suggestions).
    """
    path = ""
    tp: Any = root
    parent: Any = None
    steps = [(item, True) for item in loc] + [(item, False) for item in extra]
    for item, tagged in steps:
        tp = _unwrap(tp)
        if tagged and get_origin(tp) in (Union, types.UnionType) and isinstance(item, str):
            member = _tag_member(tp, item)
            if member is not None:
                tp = member
                continue
        parent = tp
        path += _segment(item, first=not path)
        origin = get_origin(tp)
        if _is_model(tp) and isinstance(item, str):
            found = _field_by_key(tp, item)
            tp = None if found is _NO_VALUE else found
        elif origin in (list, tuple) and isinstance(item, int):
            tp = get_args(tp)[0]
        elif origin is dict:
            tp = get_args(tp)[1]
        else:
            tp = None
    return path, _unwrap(parent)


_TYPE_WORDS = {
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "int_type": "must be an integer",
    "int_parsing": "must be an integer",
    "int_from_float": "must be a whole number",
    "string_type": "must be a string",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "list_type": "must be a list",
    "tuple_type": "must be a list",
    "dict_type": "must be a table",
    "model_type": "must be a table",
    "model_attributes_type": "must be a table",
    "string_too_short": "must not be empty",
    "finite_number": "must be a finite number",
}


def _issues_from(exc: ValidationError, root: type[BaseModel]) -> list[ScenarioIssue]:
    out: list[ScenarioIssue] = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        kind = err["type"]
        ctx = err.get("ctx") or {}
        value = err.get("input", _NO_VALUE)
        error = ctx.get("error")
        if kind == "value_error" and isinstance(error, _IssuesError):
            base, _ = _walk(root, loc)
            for issue in error.issues:
                if issue.path is not None:
                    path = issue.path
                else:
                    path, _ = _walk(root, loc, issue.loc)
                msg = issue.message
                if issue.value is not _NO_VALUE:
                    msg += f", got {_show(issue.value)}"
                out.append(ScenarioIssue(path or base, msg))
            continue
        path, parent = _walk(root, loc)
        if kind == "value_error":
            msg = str(error) if error is not None else err["msg"].removeprefix("Value error, ")
        elif kind in ("union_tag_invalid", "union_tag_not_found"):
            field = str(ctx.get("discriminator", "kind")).strip("'")
            path = f"{path}.{field}" if path else field
            tags = _tags_of(root, loc)
            if kind == "union_tag_not_found":
                out.append(ScenarioIssue(path, f"missing; expected one of {tags}"))
                continue
            msg = f"must be one of {tags}"
            value = ctx.get("tag", _NO_VALUE)
        elif kind == "extra_forbidden":
            msg = "unknown field"
            if _is_model(parent):
                allowed = [info.alias or name for name, info in parent.model_fields.items()]
                hint = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
                msg += (
                    f" (did you mean {hint[0]!r}?)" if hint else f" (allowed: {', '.join(allowed)})"
                )
        elif kind == "missing":
            out.append(ScenarioIssue(path, "required field is missing"))
            continue
        elif kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
            op = {
                "greater_than": ">",
                "greater_than_equal": ">=",
                "less_than": "<",
                "less_than_equal": "<=",
            }[kind]
            bound = next(iter(ctx.values()))
            msg = f"must be {op} {_num(bound) if isinstance(bound, float) else bound}"
        elif kind == "literal_error":
            msg = f"must be one of {ctx.get('expected', '')}"
        elif kind in ("too_short", "too_long"):
            n = ctx.get("min_length" if kind == "too_short" else "max_length")
            word = "at least" if kind == "too_short" else "at most"
            msg = f"must have {word} {n} item{'s' if n != 1 else ''}"
            value = _NO_VALUE
        elif kind in _TYPE_WORDS:
            msg = _TYPE_WORDS[kind]
        else:
            msg = err["msg"][:1].lower() + err["msg"][1:]
        if value is not _NO_VALUE:
            msg += f", got {_show(value)}"
        out.append(ScenarioIssue(path, msg))
    return out


def _tags_of(root: type[BaseModel], loc: Sequence[str | int]) -> str:
    """The allowed tags of the discriminated union at ``loc``, for the error message."""
    tp: Any = root
    for item in loc:
        tp = _unwrap(tp)
        if get_origin(tp) in (Union, types.UnionType) and isinstance(item, str):
            member = _tag_member(tp, item)
            if member is not None:
                tp = member
                continue
        if _is_model(tp) and isinstance(item, str):
            tp = _field_by_key(tp, item)
        elif get_origin(tp) in (list, tuple):
            tp = get_args(tp)[0]
        elif get_origin(tp) is dict:
            tp = get_args(tp)[1]
    tags: list[str] = []
    for member in get_args(_unwrap(tp)):
        for info in getattr(member, "model_fields", {}).values():
            ann = _unwrap(info.annotation)
            if get_origin(ann) is Literal:
                tags += [repr(t) for t in get_args(ann)]
    return ", ".join(tags)


# =========================================================================== files and examples


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a UTF-8 TOML scenario file; errors name ``path`` as given."""
    source = str(path)
    raw = Path(path).read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        issue = ScenarioIssue(f"byte {exc.start}", "the file is not UTF-8 text")
        raise ScenarioError(source, [issue]) from None
    return Scenario.from_toml_string(text, source)


def _examples_dir() -> Any:
    return resources.files("ccsim").joinpath("data", "examples")


def example_names() -> tuple[str, ...]:
    """Names of the scenarios shipped with ccsim (``single_skill``, ``hotline`` ...)."""
    return tuple(
        sorted(
            p.name.removesuffix(".toml")
            for p in _examples_dir().iterdir()
            if p.name.endswith(".toml")
        )
    )


def example_path(name: str) -> Path:
    """The file of a shipped example, found on any install (package data)."""
    names = example_names()
    if name not in names:
        raise ValueError(f"no example named {name!r}; available: {', '.join(names)}")
    return Path(str(_examples_dir().joinpath(f"{name}.toml")))


def example(name: str) -> Scenario:
    """A shipped example scenario, validated."""
    path = example_path(name)
    return Scenario.from_toml_string(path.read_text(encoding="utf-8"), f"{name}.toml")
