"""SQLAlchemy models of quality control (mirrored by migration 0002).

A scorecard's definition is immutable once saved: an edit stores a new
``QcScorecardVersion`` and evaluations point at the version they were scored
with, so their totals and grades never move under them. Each item score is
stored with the item's maximum and weight copied from that version, which keeps
calibration and reports single queries.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from ccsim.services.models import Base

__all__ = [
    "QcAppeal",
    "QcCalibration",
    "QcCall",
    "QcEvaluation",
    "QcEvaluationCall",
    "QcEvaluationHistory",
    "QcEvaluationItem",
    "QcIntervention",
    "QcQueueItem",
    "QcSample",
    "QcScorecard",
    "QcScorecardVersion",
    "QcTypicalCase",
]


class QcScorecard(Base):
    __tablename__ = "qc_scorecards"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    current_version: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime)


class QcScorecardVersion(Base):
    """One immutable definition: sections/items and grade thresholds as JSON."""

    __tablename__ = "qc_scorecard_versions"
    __table_args__ = (UniqueConstraint("scorecard_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scorecard_id: Mapped[int] = mapped_column(
        ForeignKey("qc_scorecards.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[int] = mapped_column(Integer)
    definition: Mapped[str] = mapped_column(Text)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime)


class QcCall(Base):
    """A call from the ACD call log, as far as QC needs it (fed by ``POST /qc/calls``)."""

    __tablename__ = "qc_calls"
    __table_args__ = (Index("ix_qc_calls_agent_start", "agent_id", "started_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_id: Mapped[str] = mapped_column(String(64), unique=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    business_type: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(DateTime)
    duration_s: Mapped[float] = mapped_column(Float)
    recording: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime)


class QcCalibration(Base):
    """A calibration session: several inspectors score one call on one scorecard version."""

    __tablename__ = "qc_calibrations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("qc_calls.call_id"), index=True)
    scorecard_version_id: Mapped[int] = mapped_column(ForeignKey("qc_scorecard_versions.id"))
    note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime)


class QcEvaluation(Base):
    """A QC result with every field of the original system, plus row version for edits."""

    __tablename__ = "qc_evaluations"
    __table_args__ = (
        UniqueConstraint("calibration_id", "inspector_id"),
        Index("ix_qc_evaluations_agent_started", "agent_id", "started_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    scorecard_version_id: Mapped[int] = mapped_column(ForeignKey("qc_scorecard_versions.id"))
    calibration_id: Mapped[int | None] = mapped_column(
        ForeignKey("qc_calibrations.id"), nullable=True
    )
    start_serial: Mapped[int] = mapped_column(Integer)
    end_serial: Mapped[int] = mapped_column(Integer)
    inspector_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    qc_type: Mapped[str] = mapped_column(String(32))
    business_type: Mapped[str] = mapped_column(String(64))
    total: Mapped[float] = mapped_column(Float)
    grade: Mapped[str] = mapped_column(String(8))
    started_at: Mapped[datetime] = mapped_column(DateTime)
    ended_at: Mapped[datetime] = mapped_column(DateTime)
    comments: Mapped[str] = mapped_column(Text, default="")
    call_duration: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class QcEvaluationCall(Base):
    """The call ID(s) an evaluation covers."""

    __tablename__ = "qc_evaluation_calls"

    evaluation_id: Mapped[int] = mapped_column(
        ForeignKey("qc_evaluations.id", ondelete="CASCADE"), primary_key=True
    )
    call_id: Mapped[str] = mapped_column(
        ForeignKey("qc_calls.call_id"), primary_key=True, index=True
    )


class QcEvaluationItem(Base):
    """One item's score (NULL = not applicable), with max and weight of the version."""

    __tablename__ = "qc_evaluation_items"
    __table_args__ = (UniqueConstraint("evaluation_id", "item_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(
        ForeignKey("qc_evaluations.id", ondelete="CASCADE"), index=True
    )
    item_key: Mapped[str] = mapped_column(String(64))
    section: Mapped[str] = mapped_column(String(128))
    points: Mapped[float | None] = mapped_column(Float, nullable=True)
    max_points: Mapped[float] = mapped_column(Float)
    weight: Mapped[float] = mapped_column(Float)
    comment: Mapped[str] = mapped_column(Text, default="")


class QcEvaluationHistory(Base):
    """One changed field of an evaluation (corrections, appeal decisions)."""

    __tablename__ = "qc_evaluation_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(
        ForeignKey("qc_evaluations.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(DateTime)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(32))
    field: Mapped[str] = mapped_column(String(80))
    old_value: Mapped[str | None] = mapped_column(Text, nullable=True)
    new_value: Mapped[str | None] = mapped_column(Text, nullable=True)


class QcAppeal(Base):
    """An agent's appeal; one per evaluation (the unique constraint is the rule)."""

    __tablename__ = "qc_appeals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(
        ForeignKey("qc_evaluations.id", ondelete="CASCADE"), unique=True
    )
    agent_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    decision_note: Mapped[str] = mapped_column(Text, default="")


class QcSample(Base):
    """One drawing of the review queue for a period (drawn once per period)."""

    __tablename__ = "qc_samples"
    __table_args__ = (UniqueConstraint("period_start", "period_end"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    period_start: Mapped[datetime] = mapped_column(DateTime)
    period_end: Mapped[datetime] = mapped_column(DateTime)
    per_agent: Mapped[int | None] = mapped_column(Integer, nullable=True)
    share: Mapped[float | None] = mapped_column(Float, nullable=True)
    seed: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime)


class QcQueueItem(Base):
    """A sampled call waiting for review; a call is queued at most once."""

    __tablename__ = "qc_queue_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sample_id: Mapped[int] = mapped_column(
        ForeignKey("qc_samples.id", ondelete="CASCADE"), index=True
    )
    call_id: Mapped[str] = mapped_column(ForeignKey("qc_calls.call_id"), unique=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    claimed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    claim_expires_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    evaluation_id: Mapped[int | None] = mapped_column(
        ForeignKey("qc_evaluations.id", ondelete="SET NULL"), nullable=True
    )


class QcTypicalCase(Base):
    """An evaluated call or a segment of its recording, filed for agents to study."""

    __tablename__ = "qc_typical_cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    evaluation_id: Mapped[int | None] = mapped_column(
        ForeignKey("qc_evaluations.id", ondelete="SET NULL"), nullable=True
    )
    call_id: Mapped[str | None] = mapped_column(ForeignKey("qc_calls.call_id"), nullable=True)
    category: Mapped[str] = mapped_column(String(64), index=True)
    title: Mapped[str] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text, default="")
    recording: Mapped[str] = mapped_column(String(500), default="")
    start_offset_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    end_offset_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime)


class QcIntervention(Base):
    """A supervisor intervention done through the live ACD (monitor, barge-in, force ...)."""

    __tablename__ = "qc_interventions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(24))
    supervisor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    agent_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    call_id: Mapped[str | None] = mapped_column(
        ForeignKey("qc_calls.call_id"), nullable=True, index=True
    )
    at: Mapped[datetime] = mapped_column(DateTime)
    reason: Mapped[str] = mapped_column(Text, default="")
    recorded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(DateTime)
