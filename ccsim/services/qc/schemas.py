"""QC request and response bodies (strict: unknown fields are refused).

Scores are finite floats (``NaN``/``inf`` refused at the edge); times given with
an offset are converted to naive UTC, the storage convention of the services.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    model_validator,
)

from ccsim.services.schemas import DbId, Line, ShortLine, Utc

QC_TYPES = ("routine", "sampled", "targeted", "complaint", "calibration")
INTERVENTION_KINDS = (
    "monitor",
    "barge_in",
    "intercept",
    "force_ready",
    "force_not_ready",
    "force_logout",
)
#: Interventions on a call (the others act on the agent's position).
CALL_KINDS = frozenset({"monitor", "barge_in", "intercept"})

QcType = Literal[QC_TYPES]  # type: ignore[valid-type]
InterventionKind = Literal[INTERVENTION_KINDS]  # type: ignore[valid-type]


def _naive_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)


def _one_line(value: str) -> str:
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValueError("control characters are not allowed")
    return value


def _no_controls(value: str) -> str:
    """Free text: newline, tab and CR allowed; NUL and other controls refused (PostgreSQL
    cannot store NUL, so this is a 422 at the edge instead of a driver error)."""
    if any((ord(c) < 32 and c not in "\n\t\r") or ord(c) == 127 for c in value):
        raise ValueError("control characters are not allowed")
    return value


_RECORDING = re.compile(r"^(https?://[^\s]+|/?[\w.\-/]+)$")


def _recording_ref(value: str) -> str:
    """A file path or an http(s) URL; no other schemes (``javascript:``) and no ``..``."""
    if value and (not _RECORDING.match(value) or ".." in value.split("/")):
        raise ValueError("a recording is a relative/absolute path or an http(s) URL")
    return value


Instant = Annotated[datetime, AfterValidator(_naive_utc)]
Points = Annotated[float, Field(ge=0, le=10000, allow_inf_nan=False)]
Weight = Annotated[float, Field(gt=0, le=1000, allow_inf_nan=False)]
Seconds = Annotated[float, Field(ge=0, le=7 * 86400, allow_inf_nan=False)]
Serial = Annotated[int, Field(ge=0, le=2**31 - 1)]
ItemKey = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
Grade = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9+\-]{0,7}$")]
CallId = Annotated[str, Field(min_length=1, max_length=64), AfterValidator(_one_line)]
Word = Annotated[str, Field(min_length=1, max_length=64), AfterValidator(_one_line)]
Recording = Annotated[str, Field(max_length=500), AfterValidator(_recording_ref)]
Comment = Annotated[str, Field(max_length=20000), AfterValidator(_no_controls)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---------------------------------------------------------------- scorecards


class ItemIn(_In):
    key: ItemKey
    label: Line
    max_points: Annotated[float, Field(gt=0, le=10000, allow_inf_nan=False)]
    weight: Weight = 1.0
    instant_fail: bool = False
    allow_na: bool = True


class SectionIn(_In):
    name: ShortLine
    weight: Weight = 1.0
    items: Annotated[list[ItemIn], Field(min_length=1, max_length=100)]


class ThresholdIn(_In):
    grade: Grade
    min_total: Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)]


class DefinitionIn(_In):
    """Sections with items, and grade thresholds (one must start at 0)."""

    sections: Annotated[list[SectionIn], Field(min_length=1, max_length=50)]
    thresholds: Annotated[list[ThresholdIn], Field(min_length=1, max_length=20)]

    @model_validator(mode="after")
    def _consistent(self) -> DefinitionIn:
        keys = [it.key for s in self.sections for it in s.items]
        if len(keys) != len(set(keys)):
            raise ValueError("item keys must be unique across the scorecard")
        grades = [t.grade for t in self.thresholds]
        mins = [t.min_total for t in self.thresholds]
        if len(set(grades)) != len(grades) or len(set(mins)) != len(mins):
            raise ValueError("threshold grades and minimum totals must be unique")
        if 0 not in mins:
            raise ValueError("one threshold must have min_total 0")
        return self


class ScorecardIn(DefinitionIn):
    name: ShortLine


class ScorecardEdit(DefinitionIn):
    """A new version; ``version`` is the current one the editor started from (409 if stale)."""

    version: DbId


class ScorecardOut(BaseModel):
    id: int
    name: str
    version: int
    definition: dict[str, Any]
    created_at: Utc


# ---------------------------------------------------------------- calls


class CallIn(_In):
    call_id: CallId
    agent_id: DbId
    business_type: Word
    started_at: Instant
    duration_s: Seconds
    recording: Recording = ""


class CallOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    call_id: str
    agent_id: int
    business_type: str
    started_at: Utc
    duration_s: float
    recording: str


class CallPage(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[CallOut]


# ---------------------------------------------------------------- evaluations


class ItemScoreIn(_In):
    key: ItemKey
    #: required, so a forgotten score is an error and not silently "not applicable"
    points: Points | None = Field(description="null = not applicable")
    comment: Comment = ""


_SERVER_FIELDS = ("total", "grade")


class _RefuseComputed(_In):
    @model_validator(mode="before")
    @classmethod
    def _no_total(cls, data: Any) -> Any:
        if isinstance(data, dict):
            given = [f for f in _SERVER_FIELDS if f in data]
            if given:
                raise ValueError(f"{given} are computed by the server and cannot be supplied")
        return data


class EvaluationIn(_RefuseComputed):
    scorecard_id: DbId
    call_ids: Annotated[list[CallId], Field(min_length=1, max_length=20)]
    agent_id: DbId
    start_serial: Serial
    end_serial: Serial
    qc_type: QcType
    business_type: Word
    started_at: Instant
    ended_at: Instant
    comments: Comment = ""
    call_duration: Seconds | None = None
    calibration_id: DbId | None = None
    items: Annotated[list[ItemScoreIn], Field(min_length=1, max_length=500)]


class EvaluationPatch(_RefuseComputed):
    """A correction: any subset of the fields; ``items`` replaces the listed items' scores."""

    version: DbId
    start_serial: Serial | None = None
    end_serial: Serial | None = None
    qc_type: QcType | None = None
    business_type: Word | None = None
    started_at: Instant | None = None
    ended_at: Instant | None = None
    comments: Comment | None = None
    call_duration: Seconds | None = None
    items: Annotated[list[ItemScoreIn], Field(min_length=1, max_length=500)] | None = None


class ItemScoreOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    key: str
    section: str
    points: float | None
    max_points: float
    weight: float
    comment: str


class InterventionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    kind: str
    supervisor_id: int
    agent_id: int
    call_id: str | None
    at: Utc
    reason: str
    recorded_at: Utc


class EvaluationOut(BaseModel):
    id: int
    version: int
    scorecard_id: int
    scorecard_version: int
    calibration_id: int | None
    call_ids: list[str]
    start_serial: int
    end_serial: int
    inspector_id: int
    agent_id: int
    qc_type: str
    business_type: str
    total: float
    grade: str
    started_at: Utc
    ended_at: Utc
    comments: str
    call_duration: float
    created_at: Utc
    updated_at: Utc
    items: list[ItemScoreOut]
    interventions: list[InterventionOut] = []
    appeal: AppealOut | None = None


class EvaluationPage(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[EvaluationOut]


class HistoryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    at: Utc
    user_id: int
    action: str
    field: str
    old_value: str | None
    new_value: str | None


# ---------------------------------------------------------------- appeals


class AppealIn(_In):
    reason: Annotated[str, Field(min_length=1, max_length=20000), AfterValidator(_no_controls)]


class AppealDecisionIn(_In):
    decision: Literal["upheld", "rejected"]
    note: Comment = ""
    items: Annotated[list[ItemScoreIn], Field(min_length=1, max_length=500)] | None = None

    @model_validator(mode="after")
    def _items_only_when_upheld(self) -> AppealDecisionIn:
        if self.items is not None and self.decision != "upheld":
            raise ValueError("corrected items only with an upheld appeal")
        return self


class AppealOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    evaluation_id: int
    agent_id: int
    reason: str
    state: str
    created_at: Utc
    decided_by: int | None
    decided_at: Utc | None
    decision_note: str


class AppealPage(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[AppealOut]


# ---------------------------------------------------------------- review queue


class SampleIn(_In):
    """Draw ``per_agent`` calls (or a ``share``) of each agent's calls in [start, end)."""

    period_start: Instant
    period_end: Instant
    per_agent: Annotated[int, Field(ge=1, le=1000)] | None = None
    share: Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)] | None = None
    salt: Annotated[str, Field(max_length=64), AfterValidator(_one_line)] = ""

    @model_validator(mode="after")
    def _one_size(self) -> SampleIn:
        if (self.per_agent is None) == (self.share is None):
            raise ValueError("give exactly one of per_agent and share")
        if self.period_end <= self.period_start:
            raise ValueError("period_end must be after period_start")
        return self


class QueueItemOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    sample_id: int
    call_id: str
    agent_id: int
    claimed_by: int | None
    claimed_at: Utc | None
    claim_expires_at: Utc | None
    evaluation_id: int | None
    state: str = ""


class SampleOut(BaseModel):
    id: int
    period_start: Utc
    period_end: Utc
    seed: str
    items: list[QueueItemOut]


class QueuePage(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[QueueItemOut]


# ---------------------------------------------------------------- calibration


class CalibrationIn(_In):
    call_id: CallId
    scorecard_id: DbId
    note: Comment = ""


class CalibrationOut(BaseModel):
    id: int
    call_id: str
    scorecard_id: int
    scorecard_version: int
    note: str
    created_at: Utc


class SpreadOut(BaseModel):
    n: int
    min: float | None
    max: float | None
    range: float | None
    mean: float | None
    stdev: float | None


class CalibrationReport(BaseModel):
    calibration_id: int
    call_id: str
    inspectors: list[int]
    total: SpreadOut
    items: dict[str, SpreadOut]


# ---------------------------------------------------------------- typical cases


class TypicalCaseIn(_In):
    """An evaluation, a call, or a segment [start, end) of a recording, with a category."""

    category: Word
    title: Line
    note: Comment = ""
    evaluation_id: DbId | None = None
    call_id: CallId | None = None
    recording: Recording = ""
    start_offset_s: Seconds | None = None
    end_offset_s: Seconds | None = None

    @model_validator(mode="after")
    def _segment(self) -> TypicalCaseIn:
        if self.evaluation_id is None and self.call_id is None and not self.recording:
            raise ValueError("give an evaluation, a call or a recording")
        if (self.start_offset_s is None) != (self.end_offset_s is None):
            raise ValueError("give both segment offsets or neither")
        if (
            self.start_offset_s is not None
            and self.end_offset_s is not None
            and self.end_offset_s <= self.start_offset_s
        ):
            raise ValueError("end_offset_s must be after start_offset_s")
        return self


class TypicalCaseOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    evaluation_id: int | None
    call_id: str | None
    category: str
    title: str
    note: str
    recording: str
    start_offset_s: float | None
    end_offset_s: float | None
    created_by: int
    created_at: Utc


class TypicalCasePage(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[TypicalCaseOut]


# ---------------------------------------------------------------- interventions


class InterventionIn(_In):
    kind: InterventionKind
    supervisor_id: DbId
    agent_id: DbId
    call_id: CallId | None = None
    at: Instant
    reason: Comment = ""

    @model_validator(mode="after")
    def _call_when_needed(self) -> InterventionIn:
        if self.kind in CALL_KINDS and self.call_id is None:
            raise ValueError(f"{self.kind} needs a call_id")
        return self


class InterventionPage(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[InterventionOut]


class CallDetailOut(BaseModel):
    call: CallOut
    evaluation_ids: list[int]
    interventions: list[InterventionOut]


# ---------------------------------------------------------------- reports


class ReportRow(BaseModel):
    group: str
    bucket: str
    count: int
    mean_total: float
    grades: dict[str, int]


class ReportOut(BaseModel):
    group_by: str
    bucket: str
    rows: list[ReportRow]


EvaluationOut.model_rebuild()
