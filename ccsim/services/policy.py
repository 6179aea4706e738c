"""Authorization: every access decision of the services, in one place.

Endpoints call these functions and nothing else decides access. Visibility
comes first: an order a user may not see is reported as absent (404), so
guessing IDs leaks nothing; only on a visible order does a refused action
become a 403.
"""

from __future__ import annotations

from typing import Protocol

from ccsim.services.workflow import Transition


class User(Protocol):
    """Who asks: an ORM ``models.User`` or the hot paths' ``hotpath.Principal``."""

    @property
    def id(self) -> int: ...
    @property
    def role_names(self) -> frozenset[str]: ...
    @property
    def department_ids(self) -> frozenset[int]: ...


class WorkOrder(Protocol):
    """What the decisions read of an order: an ORM ``models.WorkOrder`` or a Core row."""

    @property
    def state(self) -> str: ...
    @property
    def created_by(self) -> int: ...
    @property
    def department_id(self) -> int | None: ...


#: Roles that see every order (supervision).
_SEE_ALL = frozenset({"team_leader", "admin"})


def can_manage_users(user: User) -> bool:
    return "admin" in user.role_names


def can_manage_departments(user: User) -> bool:
    return "admin" in user.role_names


def can_manage_categories(user: User) -> bool:
    return bool({"admin", "team_leader"} & user.role_names)


def can_create_order(user: User) -> bool:
    return bool({"agent", "team_leader"} & user.role_names)


def can_view_order(user: User, order: WorkOrder) -> bool:
    """Supervisors see all; agents their own orders; handlers their departments' orders."""
    roles = user.role_names
    if _SEE_ALL & roles:
        return True
    if "agent" in roles and order.created_by == user.id:
        return True
    return (
        "department_handler" in roles
        and order.department_id is not None
        and order.department_id in user.department_ids
    )


def can_edit_order(user: User, order: WorkOrder) -> bool:
    """Change type, priority or text: the creator or a team leader, before it is closed."""
    if order.state in ("closed", "cancelled"):
        return False
    roles = user.role_names
    return "team_leader" in roles or ("agent" in roles and order.created_by == user.id)


def can_transition(user: User, order: WorkOrder, transition: Transition) -> bool:
    """The role must be in the table's entry and the user must hold the order's side."""
    roles = user.role_names & transition.roles
    if not roles:
        return False
    if roles == {"department_handler"}:
        return order.department_id is not None and order.department_id in user.department_ids
    return can_view_order(user, order)


def can_add_note(user: User, order: WorkOrder, visibility: str) -> bool:
    """Anyone who sees the order may add an internal note; only the agent side replies."""
    if visibility == "internal":
        return can_view_order(user, order)
    return can_view_order(user, order) and bool({"agent", "team_leader"} & user.role_names)


def can_view_reports(user: User) -> bool:
    return bool({"team_leader", "admin"} & user.role_names)


def order_scope(user: User) -> tuple[str, frozenset[int] | int | None]:
    """How a list query is narrowed: ("all", None) | ("own", user_id) | ("departments", ids)."""
    roles = user.role_names
    if _SEE_ALL & roles:
        return ("all", None)
    if "department_handler" in roles and "agent" in roles:
        return ("own_or_departments", user.department_ids)
    if "agent" in roles:
        return ("own", user.id)
    if "department_handler" in roles:
        return ("departments", user.department_ids)
    return ("none", None)
