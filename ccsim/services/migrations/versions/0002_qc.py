"""Quality control schema: scorecards and their versions, the QC view of the ACD call
log, evaluations (calls, item scores, history), appeals, review-queue samples and
claims, calibrations, typical cases and supervisor interventions.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "qc_calls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.String(length=64), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("business_type", sa.String(length=64), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("duration_s", sa.Float(), nullable=False),
        sa.Column("recording", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["users.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("call_id"),
    )
    op.create_index("ix_qc_calls_agent_start", "qc_calls", ["agent_id", "started_at"], unique=False)
    op.create_table(
        "qc_samples",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period_start", sa.DateTime(), nullable=False),
        sa.Column("period_end", sa.DateTime(), nullable=False),
        sa.Column("per_agent", sa.Integer(), nullable=True),
        sa.Column("share", sa.Float(), nullable=True),
        sa.Column("seed", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("period_start", "period_end"),
    )
    op.create_table(
        "qc_scorecards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("current_version", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "qc_interventions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("supervisor_id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.String(length=64), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["users.id"],
        ),
        sa.ForeignKeyConstraint(
            ["call_id"],
            ["qc_calls.call_id"],
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by"],
            ["users.id"],
        ),
        sa.ForeignKeyConstraint(
            ["supervisor_id"],
            ["users.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_qc_interventions_agent_id"), "qc_interventions", ["agent_id"], unique=False
    )
    op.create_index(
        op.f("ix_qc_interventions_call_id"), "qc_interventions", ["call_id"], unique=False
    )
    op.create_table(
        "qc_scorecard_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scorecard_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("definition", sa.Text(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
        ),
        sa.ForeignKeyConstraint(["scorecard_id"], ["qc_scorecards.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("scorecard_id", "version"),
    )
    op.create_index(
        op.f("ix_qc_scorecard_versions_scorecard_id"),
        "qc_scorecard_versions",
        ["scorecard_id"],
        unique=False,
    )
    op.create_table(
        "qc_calibrations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.String(length=64), nullable=False),
        sa.Column("scorecard_version_id", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["call_id"],
            ["qc_calls.call_id"],
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
        ),
        sa.ForeignKeyConstraint(
            ["scorecard_version_id"],
            ["qc_scorecard_versions.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_qc_calibrations_call_id"), "qc_calibrations", ["call_id"], unique=False
    )
    op.create_table(
        "qc_evaluations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("scorecard_version_id", sa.Integer(), nullable=False),
        sa.Column("calibration_id", sa.Integer(), nullable=True),
        sa.Column("start_serial", sa.Integer(), nullable=False),
        sa.Column("end_serial", sa.Integer(), nullable=False),
        sa.Column("inspector_id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("qc_type", sa.String(length=32), nullable=False),
        sa.Column("business_type", sa.String(length=64), nullable=False),
        sa.Column("total", sa.Float(), nullable=False),
        sa.Column("grade", sa.String(length=8), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=False),
        sa.Column("comments", sa.Text(), nullable=False),
        sa.Column("call_duration", sa.Float(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["users.id"],
        ),
        sa.ForeignKeyConstraint(
            ["calibration_id"],
            ["qc_calibrations.id"],
        ),
        sa.ForeignKeyConstraint(
            ["inspector_id"],
            ["users.id"],
        ),
        sa.ForeignKeyConstraint(
            ["scorecard_version_id"],
            ["qc_scorecard_versions.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("calibration_id", "inspector_id"),
    )
    op.create_index(
        "ix_qc_evaluations_agent_started",
        "qc_evaluations",
        ["agent_id", "started_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_qc_evaluations_inspector_id"), "qc_evaluations", ["inspector_id"], unique=False
    )
    op.create_table(
        "qc_appeals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("evaluation_id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["users.id"],
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"],
            ["users.id"],
        ),
        sa.ForeignKeyConstraint(["evaluation_id"], ["qc_evaluations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("evaluation_id"),
    )
    op.create_table(
        "qc_evaluation_calls",
        sa.Column("evaluation_id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["call_id"],
            ["qc_calls.call_id"],
        ),
        sa.ForeignKeyConstraint(["evaluation_id"], ["qc_evaluations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("evaluation_id", "call_id"),
    )
    op.create_index(
        op.f("ix_qc_evaluation_calls_call_id"), "qc_evaluation_calls", ["call_id"], unique=False
    )
    op.create_table(
        "qc_evaluation_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("evaluation_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("field", sa.String(length=80), nullable=False),
        sa.Column("old_value", sa.Text(), nullable=True),
        sa.Column("new_value", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["evaluation_id"], ["qc_evaluations.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_qc_evaluation_history_evaluation_id"),
        "qc_evaluation_history",
        ["evaluation_id"],
        unique=False,
    )
    op.create_table(
        "qc_evaluation_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("evaluation_id", sa.Integer(), nullable=False),
        sa.Column("item_key", sa.String(length=64), nullable=False),
        sa.Column("section", sa.String(length=128), nullable=False),
        sa.Column("points", sa.Float(), nullable=True),
        sa.Column("max_points", sa.Float(), nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["evaluation_id"], ["qc_evaluations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("evaluation_id", "item_key"),
    )
    op.create_index(
        op.f("ix_qc_evaluation_items_evaluation_id"),
        "qc_evaluation_items",
        ["evaluation_id"],
        unique=False,
    )
    op.create_table(
        "qc_queue_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sample_id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.String(length=64), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("claimed_by", sa.Integer(), nullable=True),
        sa.Column("claimed_at", sa.DateTime(), nullable=True),
        sa.Column("claim_expires_at", sa.DateTime(), nullable=True),
        sa.Column("evaluation_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["users.id"],
        ),
        sa.ForeignKeyConstraint(
            ["call_id"],
            ["qc_calls.call_id"],
        ),
        sa.ForeignKeyConstraint(
            ["claimed_by"],
            ["users.id"],
        ),
        sa.ForeignKeyConstraint(["evaluation_id"], ["qc_evaluations.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["sample_id"], ["qc_samples.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("call_id"),
    )
    op.create_index(
        op.f("ix_qc_queue_items_sample_id"), "qc_queue_items", ["sample_id"], unique=False
    )
    op.create_table(
        "qc_typical_cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("evaluation_id", sa.Integer(), nullable=True),
        sa.Column("call_id", sa.String(length=64), nullable=True),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("recording", sa.String(length=500), nullable=False),
        sa.Column("start_offset_s", sa.Float(), nullable=True),
        sa.Column("end_offset_s", sa.Float(), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["call_id"],
            ["qc_calls.call_id"],
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
        ),
        sa.ForeignKeyConstraint(["evaluation_id"], ["qc_evaluations.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_qc_typical_cases_category"), "qc_typical_cases", ["category"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_qc_typical_cases_category"), table_name="qc_typical_cases")
    op.drop_table("qc_typical_cases")
    op.drop_index(op.f("ix_qc_queue_items_sample_id"), table_name="qc_queue_items")
    op.drop_table("qc_queue_items")
    op.drop_index(op.f("ix_qc_evaluation_items_evaluation_id"), table_name="qc_evaluation_items")
    op.drop_table("qc_evaluation_items")
    op.drop_index(
        op.f("ix_qc_evaluation_history_evaluation_id"), table_name="qc_evaluation_history"
    )
    op.drop_table("qc_evaluation_history")
    op.drop_index(op.f("ix_qc_evaluation_calls_call_id"), table_name="qc_evaluation_calls")
    op.drop_table("qc_evaluation_calls")
    op.drop_table("qc_appeals")
    op.drop_index(op.f("ix_qc_evaluations_inspector_id"), table_name="qc_evaluations")
    op.drop_index("ix_qc_evaluations_agent_started", table_name="qc_evaluations")
    op.drop_table("qc_evaluations")
    op.drop_index(op.f("ix_qc_calibrations_call_id"), table_name="qc_calibrations")
    op.drop_table("qc_calibrations")
    op.drop_index(op.f("ix_qc_scorecard_versions_scorecard_id"), table_name="qc_scorecard_versions")
    op.drop_table("qc_scorecard_versions")
    op.drop_index(op.f("ix_qc_interventions_call_id"), table_name="qc_interventions")
    op.drop_index(op.f("ix_qc_interventions_agent_id"), table_name="qc_interventions")
    op.drop_table("qc_interventions")
    op.drop_table("qc_scorecards")
    op.drop_table("qc_samples")
    op.drop_index("ix_qc_calls_agent_start", table_name="qc_calls")
    op.drop_table("qc_calls")
