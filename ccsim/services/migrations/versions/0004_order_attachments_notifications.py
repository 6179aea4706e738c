"""Work-order attachments, notifications (SLA escalations), and PostgreSQL trigram indexes.

On PostgreSQL the orders' text columns get ``pg_trgm`` GIN indexes, so the
search's ``LIKE '%term%'`` conditions are answered from an index (its own
implementation behind the same search interface as SQLite's FTS5). Creating
the extension needs a privileged role; without it the indexes are skipped and
search stays correct, only slower.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.exc import DBAPIError

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger(__name__)

#: (index name, column) of the trigram indexes; names start with ``work_orders_trgm``
#: so ``ccsim.services.db.include_name`` keeps them out of model comparisons.
TRGM_INDEXES = (
    ("work_orders_trgm_title", "title"),
    ("work_orders_trgm_description", "description"),
    ("work_orders_trgm_result", "result"),
)


def upgrade() -> None:
    op.create_table(
        "work_order_attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=128), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("uploaded_by", sa.Integer(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["order_id"], ["work_orders.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["uploaded_by"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_work_order_attachments_order_id"),
        "work_order_attachments",
        ["order_id"],
        unique=False,
    )
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("read_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["order_id"], ["work_orders.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id", "kind", "order_id", "stage"),
    )
    op.create_index(op.f("ix_notifications_user_id"), "notifications", ["user_id"], unique=False)
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        try:
            with bind.begin_nested():
                op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        except DBAPIError as exc:  # no privilege: search works without the index
            log.warning("pg_trgm unavailable, work-order search unindexed: %s", exc)
            return
        for name, column in TRGM_INDEXES:
            op.execute(
                f"CREATE INDEX IF NOT EXISTS {name} ON work_orders "
                f"USING gin ({column} gin_trgm_ops)"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name, _column in TRGM_INDEXES:
            op.execute(f"DROP INDEX IF EXISTS {name}")
    op.drop_index(op.f("ix_notifications_user_id"), table_name="notifications")
    op.drop_table("notifications")
    op.drop_index(op.f("ix_work_order_attachments_order_id"), table_name="work_order_attachments")
    op.drop_table("work_order_attachments")
