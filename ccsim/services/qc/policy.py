"""Every QC access decision, in one place (404 for the invisible, 403 for the refused).

Roles:

* ``admin``: manages scorecards, ingests calls and interventions (the live ACD
  or an import job logs in as an admin/system user), sees everything.
* ``qc_inspector``: scores, corrects own evaluations, claims review-queue
  items, takes part in calibration, files typical cases; sees every evaluation.
* ``team_leader``: sees the evaluations of agents sharing a department with
  them (team = department), decides their appeals, draws review samples, opens
  calibrations, reads reports for the team, files typical cases.
* ``agent``: sees only their own evaluations (not calibration exercises),
  appeals each at most once, browses typical cases; never edits.
* ``qc_exporter``: a right added to one of the above; gates CSV export of what
  the holder can see.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, false, or_, select, true
from sqlalchemy.orm import InstrumentedAttribute

from ccsim.services.models import DepartmentMember, User
from ccsim.services.qc.models import QcEvaluation

__all__ = [
    "agent_scope",
    "can_decide_appeal",
    "can_edit_evaluation",
    "can_evaluate",
    "can_export",
    "can_file_case",
    "can_ingest",
    "can_manage_scorecards",
    "can_open_calibration",
    "can_read_reports",
    "can_sample",
    "evaluation_scope",
    "is_qc_staff",
    "report_departments",
    "team_agents",
]


def _has(user: User, *roles: str) -> bool:
    return bool(set(roles) & user.role_names)


def can_manage_scorecards(user: User) -> bool:
    return _has(user, "admin")


def can_ingest(user: User) -> bool:
    """Feeding calls and interventions from the ACD: an admin or system account."""
    return _has(user, "admin")


def can_evaluate(user: User) -> bool:
    return _has(user, "qc_inspector")


def is_qc_staff(user: User) -> bool:
    return _has(user, "qc_inspector", "team_leader", "admin")


def can_sample(user: User) -> bool:
    return _has(user, "admin", "team_leader")


def can_open_calibration(user: User) -> bool:
    return _has(user, "admin", "team_leader", "qc_inspector")


def can_file_case(user: User) -> bool:
    return _has(user, "admin", "team_leader", "qc_inspector")


def can_read_reports(user: User) -> bool:
    return _has(user, "admin", "team_leader", "qc_inspector")


def can_export(user: User) -> bool:
    return _has(user, "qc_exporter")


def can_edit_evaluation(user: User, ev: QcEvaluation) -> bool:
    """Corrections: the inspector who scored it, or an admin. Agents never."""
    return _has(user, "admin") or (_has(user, "qc_inspector") and ev.inspector_id == user.id)


def team_agents(user: User) -> ColumnElement[bool] | None:
    """A clause "agent shares a department with ``user``" on ``QcEvaluation.agent_id``."""
    if not user.department_ids:
        return None
    members = select(DepartmentMember.user_id).where(
        DepartmentMember.department_id.in_(sorted(user.department_ids))
    )
    return QcEvaluation.agent_id.in_(members)


def evaluation_scope(user: User) -> ColumnElement[bool]:
    """Which evaluations ``user`` may see, as a WHERE clause."""
    if _has(user, "admin", "qc_inspector"):
        return true()
    clauses: list[ColumnElement[bool]] = []
    if _has(user, "team_leader"):
        team = team_agents(user)
        if team is not None:
            clauses.append(team)
    if _has(user, "agent"):
        clauses.append(
            and_(QcEvaluation.agent_id == user.id, QcEvaluation.calibration_id.is_(None))
        )
    if not clauses:
        return false()
    return or_(*clauses)


def agent_scope(user: User, agent_col: InstrumentedAttribute[int]) -> ColumnElement[bool]:
    """Which rows about an agent (calls, interventions) ``user`` may see: QC staff and
    admins all, team leaders their team's, everyone their own."""
    if _has(user, "admin", "qc_inspector"):
        return true()
    clauses: list[ColumnElement[bool]] = [agent_col == user.id]
    if _has(user, "team_leader") and user.department_ids:
        members = select(DepartmentMember.user_id).where(
            DepartmentMember.department_id.in_(sorted(user.department_ids))
        )
        clauses.append(agent_col.in_(members))
    return or_(*clauses)


def report_departments(user: User) -> frozenset[int] | None:
    """Departments whose figures ``user`` may read (None = all)."""
    return None if _has(user, "admin", "qc_inspector") else user.department_ids


def can_decide_appeal(user: User, ev: QcEvaluation, agent_departments: frozenset[int]) -> bool:
    """A team leader of one of the agent's departments who did not score it."""
    return (
        _has(user, "team_leader")
        and ev.inspector_id != user.id
        and bool(agent_departments & user.department_ids)
    )
