"""Housekeeping the services need over time: SLA escalations and expired rows.

Both are idempotent sweeps over the database at a given ``now``, so they can be
run by ``ccsim serve``'s background task, by an administrator through the API,
or by cron, any number of times, with the same end state.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ccsim.services.models import (
    AuthSession,
    Department,
    LoginThrottle,
    Notification,
    WorkOrder,
)

__all__ = ["SweepResult", "cleanup", "escalate"]

_STAGES = (
    ("accept", WorkOrder.accepted_at, WorkOrder.accept_due),
    ("return", WorkOrder.returned_at, WorkOrder.return_due),
    ("close", WorkOrder.closed_at, WorkOrder.close_due),
)


@dataclass(frozen=True)
class SweepResult:
    """What one sweep did."""

    escalations: int
    sessions_removed: int
    throttles_removed: int


def escalate(db: Session, now: datetime) -> int:
    """Notify each overdue order's department leader once per missed stage.

    An order is overdue at a stage when the stage's deadline has passed and the
    stage is not done (accept, return, close). Orders without a department or
    whose department has no leader are not escalated (they appear on the
    overdue list for team leaders). Returns the number of new notifications.
    """
    leaders = {
        dep: leader for dep, leader in db.execute(select(Department.id, Department.leader_id))
    }
    done = {
        (n.order_id, n.stage, n.user_id)
        for n in db.scalars(select(Notification).where(Notification.kind == "sla_escalation"))
    }
    created = 0
    for stage, done_col, due_col in _STAGES:
        rows = db.execute(
            select(WorkOrder.id, WorkOrder.department_id, WorkOrder.title, due_col).where(
                WorkOrder.state.not_in(("closed", "cancelled", "draft")),
                done_col.is_(None),
                due_col < now,
            )
        )
        for order_id, dep, title, due in rows:
            leader = leaders.get(dep) if dep is not None else None
            if leader is None or (order_id, stage, leader) in done:
                continue
            db.add(
                Notification(
                    user_id=leader,
                    at=now,
                    kind="sla_escalation",
                    order_id=order_id,
                    stage=stage,
                    body=(
                        f"order {order_id} ({title}) missed its {stage} deadline "
                        f"{due:%Y-%m-%d %H:%M} UTC"
                    ),
                )
            )
            done.add((order_id, stage, leader))
            created += 1
    return created


def cleanup(db: Session, now: datetime) -> tuple[int, int]:
    """Delete expired sessions and lapsed lock-outs; returns (sessions, throttles) removed.

    A lapsed lock-out row is removed whole, so the failure count restarts; rows
    of users still locked, or with failures below the limit, are kept.
    """
    sessions = db.execute(delete(AuthSession).where(AuthSession.expires_at <= now))
    throttles = db.execute(
        delete(LoginThrottle).where(
            LoginThrottle.locked_until.is_not(None), LoginThrottle.locked_until <= now
        )
    )
    return int(sessions.rowcount), int(throttles.rowcount)  # type: ignore[attr-defined]


def sweep(db: Session, now: datetime) -> SweepResult:
    """Escalate and clean up in one transaction (the caller commits)."""
    n = escalate(db, now)
    s, t = cleanup(db, now)
    return SweepResult(escalations=n, sessions_removed=s, throttles_removed=t)
