"""The work-order hot paths: authentication and order reads/writes in SQLAlchemy Core.

Why this exists: every work-order write used to cost about 9 ms of server CPU,
spread over FastAPI dependency resolution, three or four thread-pool hops per
request, the ORM unit of work and response-model validation in the pool. The
hot endpoints now run their whole unit of work (authentication, policy checks,
the version-checked write, history and audit) in ONE thread-pool call on one
connection with Core statements built once and compiled once, and hand back
JSON bytes that FastAPI passes through untouched.

Nothing here decides access: that stays in :mod:`ccsim.services.policy`, which
accepts the :class:`Principal` below as readily as an ORM ``User``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import Connection, Row, String, bindparam, cast, delete, func, select
from starlette.requests import Request

from ccsim.services.errors import ApiError
from ccsim.services.models import AuthSession, DepartmentMember, User, UserRole, WorkOrder
from ccsim.services.schemas import OrderOut
from ccsim.services.security import token_digest

__all__ = [
    "DROP_SESSION",
    "ORDER_BY_ID",
    "Principal",
    "TokenCache",
    "authenticate",
    "bearer_token",
    "order_json",
    "orders_json",
]

#: Longest bearer token looked up (ours are 43 characters).
MAX_TOKEN_CHARS = 256


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller as the policy functions see it (duck-types ``User``)."""

    id: int
    role_names: frozenset[str]
    department_ids: frozenset[int]


def bearer_token(request: Request) -> str:
    """The request's bearer token, or a 401 (checked on the event loop: no database work)."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token or len(token) > MAX_TOKEN_CHARS:
        raise ApiError(401, "not_authenticated", "a bearer token is required")
    return token


def _aggregated(column: Any, owner: Any) -> Any:
    """A correlated ``group_concat``/``string_agg`` of ``column`` for the session's user."""
    return (
        select(func.aggregate_strings(cast(column, String), ","))
        .where(owner == User.id)
        .scalar_subquery()
    )


#: One round trip for the session, the user, their roles and departments: this
#: runs on every request. Built once so SQLAlchemy compiles it once.
_AUTH = (
    select(
        User.id,
        User.active,
        AuthSession.expires_at,
        _aggregated(UserRole.role, UserRole.user_id),
        _aggregated(DepartmentMember.department_id, DepartmentMember.user_id),
    )
    .join_from(AuthSession, User, AuthSession.user_id == User.id)
    .where(AuthSession.token_hash == bindparam("digest"))
)
DROP_SESSION = delete(AuthSession).where(AuthSession.token_hash == bindparam("digest"))

#: The whole order row by id (bind ``order_id``).
ORDER_BY_ID = select(WorkOrder.__table__).where(WorkOrder.id == bindparam("order_id"))


class TokenCache:
    """Recently authenticated sessions, kept for ``ttl`` seconds of monotonic time.

    Why: the session lookup is one of the five statements of a write. Why it
    stays correct: logout and disabling an account call :meth:`clear` in the
    same process before they answer, so a revoked token is refused at once;
    the short TTL bounds how long another *process* (``--workers`` > 1, or a
    second server on the same database) may accept a token revoked elsewhere,
    and an entry never outlives the session's own expiry.
    """

    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self._clock = clock
        self._entries: dict[str, tuple[float, datetime, Principal]] = {}
        self._lock = threading.Lock()
        #: Bumped by :meth:`clear`: a lookup that started before a revocation
        #: must not store its (possibly revoked) result afterwards.
        self._generation = 0

    def get(self, digest: str, now: datetime) -> Principal | None:
        if self.ttl <= 0:
            return None
        entry = self._entries.get(digest)
        if entry is None:
            return None
        stored_at, expires_at, principal = entry
        if self._clock() - stored_at > self.ttl or expires_at <= now:
            self._entries.pop(digest, None)
            return None
        return principal

    def generation(self) -> int:
        return self._generation

    def put(self, digest: str, expires_at: datetime, principal: Principal, generation: int) -> None:
        if self.ttl <= 0:
            return
        with self._lock:
            if generation != self._generation:
                return
            if len(self._entries) >= 10_000:  # bounded: drop everything rather than grow
                self._entries.clear()
            self._entries[digest] = (self._clock(), expires_at, principal)

    def clear(self) -> None:
        """Forget every cached session (after any logout, disable or role change)."""
        with self._lock:
            self._generation += 1
            self._entries.clear()


def authenticate(
    conn: Connection, token: str, now: datetime, cache: TokenCache | None = None
) -> Principal:
    """The session's user, or a 401 (``token_expired``: the caller deletes the session).

    Reads only, so it can run in a read-only transaction; :data:`DROP_SESSION`
    removes an expired session in a write transaction of the caller's.
    """
    digest = token_digest(token)
    generation = 0
    if cache is not None:
        hit = cache.get(digest, now)
        if hit is not None:
            return hit
        generation = cache.generation()
    row = conn.execute(_AUTH, {"digest": digest}).first()
    if row is None:
        raise ApiError(401, "invalid_token", "unknown or revoked session token")
    user_id, active, expires_at, roles, departments = row
    if expires_at <= now:
        raise ApiError(401, "token_expired", "session expired; log in again")
    if not active:
        raise ApiError(401, "invalid_token", "unknown or revoked session token")
    principal = Principal(
        id=user_id,
        role_names=frozenset(roles.split(",")) if roles else frozenset(),
        department_ids=(
            frozenset(int(d) for d in departments.split(",")) if departments else frozenset()
        ),
    )
    if cache is not None:
        cache.put(digest, expires_at, principal, generation)
    return principal


_ORDER_SERIALIZER = OrderOut.__pydantic_serializer__
_ORDERS = TypeAdapter(list[OrderOut])


def order_json(row: Row[Any] | dict[str, Any]) -> bytes:
    """An order as the JSON of :class:`OrderOut`, ready to send."""
    data = row._mapping if isinstance(row, Row) else row
    return _ORDER_SERIALIZER.to_json(OrderOut.model_validate(dict(data)))


def orders_json(rows: list[Row[Any]]) -> bytes:
    """A list of orders as the JSON of ``list[OrderOut]``."""
    return _ORDERS.dump_json(_ORDERS.validate_python([dict(r._mapping) for r in rows]))
