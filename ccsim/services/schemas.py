"""Request and response bodies.

Every text field is bounded and refuses NUL and other C0 control characters
(except newline and tab in long texts): they have no meaning in an order,
PostgreSQL rejects NUL outright, and refusing at the edge makes that a 422
instead of a 500 deep in the driver.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainSerializer

from ccsim.services.models import ROLES
from ccsim.services.sla import ORDER_TYPES, PRIORITIES
from ccsim.services.workflow import ACTIONS, STATES

_ALLOWED_CONTROLS = frozenset("\n\t\r")


def _no_controls(value: str) -> str:
    if any((ord(c) < 32 and c not in _ALLOWED_CONTROLS) or ord(c) == 127 for c in value):
        raise ValueError("control characters are not allowed")
    return value


def _one_line(value: str) -> str:
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValueError("control characters are not allowed")
    return value


Name = Annotated[str, Field(min_length=1, max_length=64), AfterValidator(_one_line)]
Line = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_one_line)]
ShortLine = Annotated[str, Field(min_length=1, max_length=128), AfterValidator(_one_line)]
LongText = Annotated[str, Field(min_length=1, max_length=20000), AfterValidator(_no_controls)]
Phone = Annotated[str, Field(pattern=r"^\+?[0-9][0-9\-]{2,30}$")]
#: IDs are 32-bit INTEGER columns on PostgreSQL; a larger one is a 422, not a driver error.
DbId = Annotated[int, Field(ge=1, le=2**31 - 1)]
Role = Literal[ROLES]  # type: ignore[valid-type]
OrderType = Literal[ORDER_TYPES]  # type: ignore[valid-type]
Priority = Literal[PRIORITIES]  # type: ignore[valid-type]
Action = Literal[ACTIONS]  # type: ignore[valid-type]
State = Literal[STATES]  # type: ignore[valid-type]
Utc = Annotated[
    datetime, PlainSerializer(lambda d: d.replace(tzinfo=UTC).isoformat(), return_type=str)
]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LoginIn(_In):
    username: Annotated[str, Field(min_length=1, max_length=64)]
    password: Annotated[str, Field(min_length=1, max_length=4096)]


class LoginOut(BaseModel):
    token: str
    expires_at: Utc


class UserIn(_In):
    username: Name
    password: Annotated[str, Field(max_length=4096)]
    display_name: Annotated[str, Field(max_length=128), AfterValidator(_one_line)] = ""
    roles: Annotated[list[Role], Field(min_length=1, max_length=len(ROLES))]
    department_ids: Annotated[list[DbId], Field(max_length=50)] = []


class UserPatch(_In):
    active: bool | None = None
    roles: Annotated[list[Role], Field(min_length=1, max_length=len(ROLES))] | None = None


class UserOut(BaseModel):
    id: int
    username: str
    display_name: str
    active: bool
    roles: list[str]
    department_ids: list[int]


class DepartmentIn(_In):
    name: ShortLine
    leader_id: DbId | None = None


class DepartmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    leader_id: int | None


class MemberIn(_In):
    user_id: DbId


class CategoryIn(_In):
    order_type: OrderType
    name: ShortLine


class CategoryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    order_type: str
    name: str


class OrderIn(_In):
    call_id: (
        Annotated[str, Field(min_length=1, max_length=64), AfterValidator(_one_line)] | None
    ) = None
    customer_number: Phone
    order_type: OrderType
    category_id: DbId | None = None
    priority: Priority = "normal"
    title: Line
    description: LongText
    department_id: DbId | None = None


class OrderPatch(_In):
    version: DbId
    order_type: OrderType | None = None
    category_id: DbId | None = None
    priority: Priority | None = None
    title: Line | None = None
    description: LongText | None = None


class TransitionIn(_In):
    action: Action
    version: DbId
    department_id: DbId | None = None
    result: LongText | None = None
    reply: LongText | None = None


class NoteIn(_In):
    visibility: Literal["internal", "customer"]
    body: LongText


class OrderOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    version: int
    state: str
    call_id: str | None
    customer_number: str
    order_type: str
    category_id: int | None
    priority: str
    title: str
    description: str
    result: str
    created_by: int
    department_id: int | None
    created_at: Utc
    updated_at: Utc
    accepted_at: Utc | None
    returned_at: Utc | None
    closed_at: Utc | None
    accept_due: Utc | None
    return_due: Utc | None
    close_due: Utc | None


class OverdueOut(BaseModel):
    order: OrderOut
    overdue: list[str]
    escalate_to: int | None


class HistoryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    at: Utc
    user_id: int
    action: str
    field: str
    old_value: str | None
    new_value: str | None


class NoteOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    at: Utc
    user_id: int
    visibility: str
    body: str


class AttachmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    order_id: int
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_by: int
    uploaded_at: Utc


class NotificationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    at: Utc
    kind: str
    order_id: int | None
    stage: str
    body: str
    read_at: Utc | None


class SweepOut(BaseModel):
    escalations: int
    sessions_removed: int
    throttles_removed: int
