"""The FastAPI application hosting the back-office services.

``create_app(db_url)`` migrates the database, then serves: authentication,
users/departments/categories administration and electronic work orders.
Access decisions are delegated to :mod:`ccsim.services.policy`; the lifecycle
comes from :mod:`ccsim.services.workflow`; SLA deadlines from
:mod:`ccsim.services.sla`.
"""

import asyncio
import contextlib
import hashlib
import json
import logging
import math
import threading
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, TypeVar, cast

from fastapi import Depends, FastAPI, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy import (
    ColumnElement,
    Connection,
    Row,
    Table,
    and_,
    bindparam,
    delete,
    false,
    func,
    insert,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, joinedload, sessionmaker
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ccsim.services import escalation, files, kb, policy, qc, search
from ccsim.services.context import ServiceContext
from ccsim.services.db import READ_ONLY, make_engine, resolve_db_url, upgrade
from ccsim.services.errors import ApiError, forbidden, not_found
from ccsim.services.hotpath import (
    DROP_SESSION,
    ORDER_BY_ID,
    Principal,
    TokenCache,
    authenticate,
    bearer_token,
    order_json,
    orders_json,
)
from ccsim.services.models import (
    AuditEntry,
    AuthSession,
    Category,
    Department,
    DepartmentMember,
    LoginThrottle,
    Notification,
    User,
    UserRole,
    WorkOrder,
    WorkOrderAttachment,
    WorkOrderHistory,
    WorkOrderNote,
    WorkOrderPause,
)
from ccsim.services.qc import QcSettings
from ccsim.services.schemas import (
    AttachmentOut,
    CategoryIn,
    CategoryOut,
    DbId,
    DepartmentIn,
    DepartmentOut,
    HistoryOut,
    LoginIn,
    LoginOut,
    MemberIn,
    NoteIn,
    NoteOut,
    NotificationOut,
    OrderIn,
    OrderOut,
    OrderPatch,
    OrderType,
    OverdueOut,
    Priority,
    State,
    SweepOut,
    TransitionIn,
    UserIn,
    UserOut,
    UserPatch,
)
from ccsim.services.security import Hasher, PasswordPolicyError, new_token, token_digest
from ccsim.services.sla import SlaPolicy
from ccsim.services.workflow import NEEDS_DEPARTMENT, NEEDS_RESULT, TRANSITIONS

log = logging.getLogger(__name__)

T = TypeVar("T")

#: The orders table for Core statements on the hot paths.
ORDERS = cast(Table, WorkOrder.__table__)

# Statements of every write, built once: building a statement (and its cache key)
# with ``.values(...)`` costs more than executing it. Parameters come separately.
_INSERT_AUDIT = insert(cast(Table, AuditEntry.__table__))
_INSERT_HISTORY = insert(cast(Table, WorkOrderHistory.__table__))
_INSERT_ORDER = insert(ORDERS).returning(ORDERS.c.id)
#: SET columns come from the parameters' keys; the WHERE binds have other names.
_UPDATE_ORDER = (
    update(ORDERS)
    .where(ORDERS.c.id == bindparam("_id"), ORDERS.c.version == bindparam("_version"))
    .returning(*ORDERS.c)
)
_CATEGORY_TYPE = select(Category.order_type).where(Category.id == bindparam("category_id"))
_DEPARTMENT_EXISTS = select(Department.id).where(Department.id == bindparam("department_id"))

#: Query-string filters compared with columns: no control characters (PostgreSQL rejects NUL).
_PRINTABLE = r"^[^\x00-\x1f\x7f]*$"


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Settings:
    """Tunables of one application instance (tests shorten, cheapen or freeze them)."""

    hasher: Hasher = field(default_factory=Hasher)
    session_ttl: timedelta = timedelta(hours=8)
    max_failures: int = 5
    lockout: timedelta = timedelta(minutes=15)
    sla: SlaPolicy = field(default_factory=SlaPolicy)
    clock: Callable[[], datetime] = _utcnow
    #: Largest accepted attachment.
    max_attachment_bytes: int = 10 * 2**20
    #: Quality-control review queue: claim limit and claim expiry.
    qc: QcSettings = field(default_factory=QcSettings)
    #: Seconds between background sweeps (escalations, expired sessions); 0 = none
    #: (``ccsim serve`` turns it on; tests run sweeps explicitly).
    maintenance_interval: float = 0.0
    #: Seconds an authenticated session is remembered in-process (0 = always ask the
    #: database). Logout, disabling and role/department changes clear it at once;
    #: the TTL only bounds what another process may still accept after a revocation.
    token_cache_ttl: float = 2.0


def _naive(dt: datetime | None) -> datetime | None:
    """Aware -> naive UTC for storage."""
    if dt is None or dt.tzinfo is None:
        return dt
    return dt.astimezone(UTC).replace(tzinfo=None)


def _encode(value: Any) -> str:
    """Log-injection-safe text: JSON escapes newlines and control characters."""
    return json.dumps(value, ensure_ascii=False, default=str)


class _SecurityHeaders:
    """Pure ASGI middleware adding ``nosniff`` and ``no-store`` to every response.

    Not ``@app.middleware("http")``: Starlette's BaseHTTPMiddleware wraps each
    request in extra tasks and a body stream, a measurable cost per request.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Cache-Control", "no-store")
            await send(message)

        await self.app(scope, receive, send_with_headers)


class _WriterThread:
    """One thread for the SQLite writes of one application, started on first use.

    Shut down with the application; a later write starts a new one (tests reuse apps).
    """

    def __init__(self) -> None:
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(1, "ccsim-sqlite-writer")
            pool = self._pool
        return await asyncio.get_running_loop().run_in_executor(pool, fn, *args)

    def shutdown(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False)


def summary(values: list[float]) -> dict[str, float | None]:
    """Mean, median and 90th percentile (nearest rank) of a sample; None when empty."""
    if not values:
        return {"mean": None, "median": None, "p90": None}
    xs = sorted(values)
    n = len(xs)
    mid = n // 2
    median = xs[mid] if n % 2 else (xs[mid - 1] + xs[mid]) / 2
    return {"mean": sum(xs) / n, "median": median, "p90": xs[max(0, math.ceil(0.9 * n) - 1)]}


def create_app(db_url: str | None = None, settings: Settings | None = None) -> FastAPI:
    """Migrate the database at ``db_url`` and return the application."""
    url = resolve_db_url(db_url)
    upgrade(url)
    cfg = settings or Settings()
    engine = make_engine(url)
    embedded = engine.dialect.name == "sqlite"
    make_session = sessionmaker(engine, expire_on_commit=False)
    app = FastAPI(
        title="ccsim back-office services",
        description="Electronic work orders, quality control and the knowledge base.",
    )
    app.state.engine = engine
    app.state.settings = cfg
    tokens = TokenCache(cfg.token_cache_ttl)
    sqlite_writer = _WriterThread() if embedded else None
    app.state.tokens = tokens

    def now() -> datetime:
        return _naive(cfg.clock()) or datetime.min

    # ------------------------------------------------------------------ plumbing

    async def get_db() -> AsyncIterator[Session]:
        # An async dependency: creating a Session does no I/O, and each thread-pool
        # hop costs a context switch per request, which under load is most of a
        # request's latency. Only an open transaction (a refused request that read
        # but did not commit) needs database work to end, so only then a hop.
        db = make_session()
        try:
            yield db
        finally:
            if db.in_transaction() and not embedded:
                await run_in_threadpool(db.close)
            else:
                # SQLite ends a transaction in memory (WAL: no fsync on rollback),
                # so there is nothing to wait for and no reason for a hop.
                db.close()

    Db = Annotated[Session, Depends(get_db)]  # noqa: N806 - a type alias

    def audit(
        db: Session | Connection,
        request: Request,
        user_id: int | None,
        action: str,
        target: str,
        outcome: str,
        detail: Any = "",
    ) -> None:
        client = request.client.host if request.client else ""
        # A Core insert in the caller's transaction: audit rows are never read back
        # through the ORM, and skipping the unit of work is cheaper on every write.
        db.execute(
            _INSERT_AUDIT,
            {
                "at": now(),
                "user_id": user_id,
                "action": action[:64],
                "target": _encode(target)[:128],
                "outcome": outcome,
                "client": client[:64],
                "detail": _encode(detail),
            },
        )

    def current_user(request: Request, db: Db) -> User:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token or len(token) > 256:
            raise ApiError(401, "not_authenticated", "a bearer token is required")
        # A read-only transaction: on SQLite it does not queue for the writer lock
        # (WAL readers never block), so authenticating never waits behind writes.
        # One query for the session, the user, their roles and departments (this
        # runs on every request; the relationships' default selectin loading
        # would cost three more round trips).
        db.connection(execution_options={READ_ONLY: True})
        digest = token_digest(token)
        found = (
            db.execute(
                select(User, AuthSession.expires_at)
                .join(AuthSession, AuthSession.user_id == User.id)
                .where(AuthSession.token_hash == digest)
                .options(joinedload(User.roles), joinedload(User.memberships))
            )
            .unique()
            .first()
        )
        # End the authentication read now: FastAPI runs this dependency and the
        # endpoint in separate thread-pool hops.
        db.commit()
        if found is None:
            raise ApiError(401, "invalid_token", "unknown or revoked session token")
        user, expires_at = found
        if expires_at <= now():
            db.execute(delete(AuthSession).where(AuthSession.token_hash == digest))
            db.commit()
            raise ApiError(401, "token_expired", "session expired; log in again")
        if user is None or not user.active:
            raise ApiError(401, "invalid_token", "unknown or revoked session token")
        request.state.user_id = user.id
        return user

    Me = Annotated[User, Depends(current_user)]  # noqa: N806 - a type alias

    ctx = ServiceContext(
        get_db=get_db, current_user=current_user, audit=audit, now=now, settings=cfg
    )

    def run_unit(
        request: Request, token: str, work: Callable[[Connection, Principal], T], write: bool
    ) -> T:
        """Authenticate and run ``work`` in ONE transaction on one connection (in the pool).

        A refusal (any exception) rolls everything back, so nothing is stored;
        an expired session is deleted in a transaction of its own.
        """
        try:
            with engine.connect() as conn:
                if not write:
                    conn.execution_options(**{READ_ONLY: True})
                with conn.begin():
                    me = authenticate(conn, token, now(), tokens)
                    request.state.user_id = me.id
                    return work(conn, me)
        except ApiError as exc:
            if exc.reason == "token_expired":
                with engine.begin() as conn:
                    conn.execute(DROP_SESSION, {"digest": token_digest(token)})
            raise

    async def unit(
        request: Request, work: Callable[[Connection, Principal], T], *, write: bool = True
    ) -> T:
        """One thread hop for a whole request (the token is checked here, off the pool).

        SQLite writes go to one dedicated thread: they serialise on the writer
        lock anyway, and handing that lock from thread to thread costs a context
        switch and a GIL hand-off each time.
        """
        token = bearer_token(request)
        if write and sqlite_writer is not None:
            return await sqlite_writer.run(run_unit, request, token, work, write)
        return await run_in_threadpool(run_unit, request, token, work, write)

    async def require_bearer(request: Request) -> None:
        """A missing or malformed token is a 401 before the body is even validated.

        A dependency runs before FastAPI validates the body, so an anonymous
        caller learns nothing about what a valid body looks like; a well-formed
        token is then checked against the database inside ``unit``.
        """
        bearer_token(request)

    def json_response(body: bytes, status: int = 200) -> Response:
        return Response(body, status_code=status, media_type="application/json")

    # ------------------------------------------------------------------ errors

    def _error(status: int, reason: str, detail: Any) -> JSONResponse:
        return JSONResponse({"error": reason, "detail": detail}, status_code=status)

    def audit_refusal(request: Request, exc: ApiError) -> None:
        try:
            with make_session() as db:
                audit(
                    db,
                    request,
                    getattr(request.state, "user_id", None),
                    f"{request.method} {request.url.path}",
                    "",
                    f"refused:{exc.reason}",
                )
                db.commit()
        except OperationalError:  # pragma: no cover - never fail a refusal on audit
            log.exception("could not audit a refusal")

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        if exc.status in (401, 403, 404, 409, 429):
            # blocking database work stays off the event loop
            await run_in_threadpool(audit_refusal, request, exc)
        return _error(exc.status, exc.reason, exc.detail)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": [str(p) for p in e.get("loc", ())], "msg": e.get("msg"), "type": e.get("type")}
            for e in exc.errors()
        ]
        return _error(422, "invalid_request", errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        reasons = {404: "not_found", 405: "method_not_allowed"}
        return _error(exc.status_code, reasons.get(exc.status_code, "http_error"), exc.detail)

    @app.exception_handler(search.SearchQueryError)
    async def _bad_search(_request: Request, exc: search.SearchQueryError) -> JSONResponse:
        return _error(422, "invalid_search", str(exc))

    @app.exception_handler(PasswordPolicyError)
    async def _bad_password(_request: Request, exc: PasswordPolicyError) -> JSONResponse:
        return _error(422, "weak_password", str(exc))

    @app.exception_handler(IntegrityError)
    async def _integrity(_request: Request, _exc: IntegrityError) -> JSONResponse:
        return _error(409, "conflict", "the change conflicts with existing data")

    @app.exception_handler(OperationalError)
    async def _busy(_request: Request, exc: OperationalError) -> JSONResponse:
        log.warning("database error: %s", exc)
        return _error(503, "database_busy", "the database is busy; retry")

    @app.exception_handler(Exception)
    async def _crash(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", exc_info=exc)
        return _error(500, "internal_error", "internal error")

    app.add_middleware(_SecurityHeaders)

    # ------------------------------------------------------------------ auth

    @app.post("/auth/login", response_model=LoginOut, tags=["auth"])
    def login(body: LoginIn, request: Request, db: Db) -> LoginOut:
        """Same answer for unknown users and wrong passwords; lock after repeated failures."""
        t = now()
        username = body.username
        throttle = db.get(LoginThrottle, username)
        if throttle is not None and throttle.locked_until and throttle.locked_until > t:
            raise ApiError(429, "too_many_attempts", "too many failed logins; try again later")
        user = db.scalar(select(User).where(User.username == username))
        ok = False
        if user is not None and user.active:
            ok = cfg.hasher.verify(user.password_hash, body.password)
        else:
            cfg.hasher.burn(body.password)
        if not ok:
            if throttle is None:
                throttle = LoginThrottle(username=username, failures=0)
                db.add(throttle)
            throttle.failures += 1
            if throttle.failures >= cfg.max_failures:
                throttle.failures = 0
                throttle.locked_until = t + cfg.lockout
            audit(db, request, None, "login", username, "refused:invalid_credentials")
            db.commit()
            raise ApiError(401, "invalid_credentials", "wrong username or password")
        assert user is not None
        if throttle is not None:
            db.delete(throttle)
        token = new_token()
        expires = t + cfg.session_ttl
        db.add(
            AuthSession(
                token_hash=token_digest(token), user_id=user.id, created_at=t, expires_at=expires
            )
        )
        audit(db, request, user.id, "login", username, "ok")
        db.commit()
        return LoginOut(token=token, expires_at=expires)

    @app.post("/auth/logout", status_code=204, tags=["auth"])
    def logout(request: Request, me: Me, db: Db) -> None:
        token = request.headers["authorization"].partition(" ")[2]
        db.execute(delete(AuthSession).where(AuthSession.token_hash == token_digest(token)))
        audit(db, request, me.id, "logout", "", "ok")
        db.commit()
        tokens.clear()

    @app.get("/auth/me", response_model=UserOut, tags=["auth"])
    def whoami(me: Me) -> UserOut:
        return _user_out(me)

    # ------------------------------------------------------------------ administration

    @app.post("/users", response_model=UserOut, status_code=201, tags=["admin"])
    def add_user(body: UserIn, request: Request, me: Me, db: Db) -> UserOut:
        if not policy.can_manage_users(me):
            raise forbidden()
        for dep in body.department_ids:
            if db.get(Department, dep) is None:
                raise ApiError(422, "unknown_department", f"no department {dep}")
        user = new_user(
            db,
            body.username,
            body.password,
            body.roles,
            cfg.hasher,
            display_name=body.display_name,
            clock=now,
        )
        for dep in dict.fromkeys(body.department_ids):
            user.memberships.append(DepartmentMember(department_id=dep))
        db.flush()
        audit(db, request, me.id, "user.add", body.username, "ok", {"roles": body.roles})
        db.commit()
        return _user_out(user)

    @app.get("/users", response_model=list[UserOut], tags=["admin"])
    def list_users(me: Me, db: Db) -> list[UserOut]:
        if not policy.can_manage_users(me):
            raise forbidden()
        return [_user_out(u) for u in db.scalars(select(User).order_by(User.id))]

    @app.patch("/users/{user_id}", response_model=UserOut, tags=["admin"])
    def patch_user(user_id: DbId, body: UserPatch, request: Request, me: Me, db: Db) -> UserOut:
        """Disabling an account revokes all its sessions at once."""
        if not policy.can_manage_users(me):
            raise forbidden()
        user = db.get(User, user_id)
        if user is None:
            raise not_found("user")
        if body.active is not None:
            user.active = body.active
            if not body.active:
                db.execute(delete(AuthSession).where(AuthSession.user_id == user.id))
        if body.roles is not None:
            user.roles = [UserRole(role=r) for r in dict.fromkeys(body.roles)]
        audit(
            db,
            request,
            me.id,
            "user.patch",
            user.username,
            "ok",
            body.model_dump(exclude_none=True),
        )
        db.commit()
        tokens.clear()  # disabled or re-roled: no cached session may outlive the commit
        return _user_out(user)

    @app.post("/departments", response_model=DepartmentOut, status_code=201, tags=["admin"])
    def add_department(body: DepartmentIn, request: Request, me: Me, db: Db) -> Department:
        if not policy.can_manage_departments(me):
            raise forbidden()
        if body.leader_id is not None and db.get(User, body.leader_id) is None:
            raise ApiError(422, "unknown_user", f"no user {body.leader_id}")
        dep = Department(name=body.name, leader_id=body.leader_id)
        db.add(dep)
        db.flush()
        audit(db, request, me.id, "department.add", body.name, "ok")
        db.commit()
        return dep

    @app.get("/departments", response_model=list[DepartmentOut], tags=["admin"])
    def list_departments(_me: Me, db: Db) -> list[Department]:
        return list(db.scalars(select(Department).order_by(Department.id)))

    @app.post("/departments/{dep_id}/members", status_code=204, tags=["admin"])
    def add_member(dep_id: DbId, body: MemberIn, request: Request, me: Me, db: Db) -> None:
        if not policy.can_manage_departments(me):
            raise forbidden()
        if db.get(Department, dep_id) is None:
            raise not_found("department")
        if db.get(User, body.user_id) is None:
            raise ApiError(422, "unknown_user", f"no user {body.user_id}")
        if db.get(DepartmentMember, (body.user_id, dep_id)) is None:
            db.add(DepartmentMember(user_id=body.user_id, department_id=dep_id))
        audit(db, request, me.id, "department.member", str(dep_id), "ok", body.user_id)
        db.commit()
        tokens.clear()

    @app.post("/categories", response_model=CategoryOut, status_code=201, tags=["admin"])
    def add_category(body: CategoryIn, request: Request, me: Me, db: Db) -> Category:
        if not policy.can_manage_categories(me):
            raise forbidden()
        cat = Category(order_type=body.order_type, name=body.name)
        db.add(cat)
        db.flush()
        audit(db, request, me.id, "category.add", body.name, "ok")
        db.commit()
        return cat

    @app.get("/categories", response_model=list[CategoryOut], tags=["admin"])
    def list_categories(_me: Me, db: Db) -> list[Category]:
        return list(db.scalars(select(Category).order_by(Category.id)))

    # ------------------------------------------------------------------ work orders

    def scope_clause(me: policy.User) -> ColumnElement[bool]:
        kind, arg = policy.order_scope(me)
        if kind == "all":
            return true()
        if kind == "own":
            return WorkOrder.created_by == arg
        deps = list(arg) if isinstance(arg, frozenset) else []
        if kind == "departments":
            return WorkOrder.department_id.in_(deps)
        if kind == "own_or_departments":
            return or_(WorkOrder.created_by == me.id, WorkOrder.department_id.in_(deps))
        return false()

    def visible_order(db: Session, me: User, order_id: int) -> WorkOrder:
        order = db.get(WorkOrder, order_id)
        if order is None or not policy.can_view_order(me, order):
            raise not_found()
        return order

    def pauses_of(db: Session | Connection, order_id: int) -> list[Any]:
        return list(
            db.execute(
                select(WorkOrderPause.started_at, WorkOrderPause.ended_at).where(
                    WorkOrderPause.order_id == order_id
                )
            ).all()
        )

    def deadlines(
        order_type: str, priority: str, start: datetime, pauses: list[Any]
    ) -> dict[str, datetime | None]:
        a, r, c = cfg.sla.deadlines(order_type, priority, start, pauses)
        return {"accept_due": _naive(a), "return_due": _naive(r), "close_due": _naive(c)}

    def check_category(db: Session | Connection, category_id: int | None, order_type: str) -> None:
        if category_id is None:
            return
        found = db.execute(_CATEGORY_TYPE, {"category_id": category_id}).scalar_one_or_none()
        if found != order_type:
            raise ApiError(422, "unknown_category", f"no {order_type} category {category_id}")

    def check_department(db: Connection, department_id: int) -> None:
        found = db.execute(_DEPARTMENT_EXISTS, {"department_id": department_id}).first()
        if found is None:
            raise ApiError(422, "unknown_department", f"no department {department_id}")

    def load_order(conn: Connection, me: Principal, order_id: int) -> Row[Any]:
        """The order row if ``me`` may see it; otherwise 404 (absent and invisible look alike)."""
        order = conn.execute(ORDER_BY_ID, {"order_id": order_id}).first()
        if order is None or not policy.can_view_order(me, order):
            raise not_found()
        return order

    def apply(
        conn: Connection,
        request: Request,
        me: Principal,
        order: Row[Any],
        version: int,
        action: str,
        changes: dict[str, Any],
    ) -> Row[Any]:
        """Write ``changes`` iff the order is still at ``version``; record each field.

        One round trip for the check and the write: ``UPDATE ... WHERE id AND
        version RETURNING`` (no row back = someone else won: 409, and the
        caller's transaction rolls back, so nothing is stored).
        """
        if version != order.version:
            raise ApiError(409, "version_conflict", "the order changed; reload and retry")
        t = now()
        new = conn.execute(
            _UPDATE_ORDER,
            {
                **changes,
                "version": version + 1,
                "updated_at": t,
                "_id": order.id,
                "_version": version,
            },
        ).first()
        if new is None:
            raise ApiError(409, "version_conflict", "the order changed; reload and retry")
        rows = [
            {
                "order_id": order.id,
                "at": t,
                "user_id": me.id,
                "action": action,
                "field": k,
                "old_value": None if old is None else str(old),
                "new_value": None if v is None else str(v),
            }
            for k, v in changes.items()
            if (old := getattr(order, k)) != v
        ]
        if rows:
            conn.execute(_INSERT_HISTORY, rows)
        audit(
            conn,
            request,
            me.id,
            f"order.{action}",
            str(order.id),
            "ok",
            {k: str(v) for k, v in changes.items()},
        )
        return new

    @app.post(
        "/work-orders",
        response_model=OrderOut,
        status_code=201,
        tags=["work orders"],
        dependencies=[Depends(require_bearer)],
    )
    async def create_order(body: OrderIn, request: Request) -> Response:
        def work(conn: Connection, me: Principal) -> bytes:
            if not policy.can_create_order(me):
                raise forbidden("only agents and team leaders create work orders")
            check_category(conn, body.category_id, body.order_type)
            if body.department_id is not None:
                check_department(conn, body.department_id)
            t = now()
            values: dict[str, Any] = {
                "version": 1,
                "state": "draft",
                "created_by": me.id,
                "created_at": t,
                "updated_at": t,
                "result": "",
                **body.model_dump(),
                **deadlines(body.order_type, body.priority, t, []),
            }
            order_id = conn.execute(_INSERT_ORDER, values).scalar_one()
            conn.execute(
                _INSERT_HISTORY,
                {
                    "order_id": order_id,
                    "at": t,
                    "user_id": me.id,
                    "action": "create",
                    "field": "state",
                    "old_value": None,
                    "new_value": "draft",
                },
            )
            audit(conn, request, me.id, "order.create", str(order_id), "ok")
            return order_json(
                values
                | {"id": order_id, "accepted_at": None, "returned_at": None, "closed_at": None}
            )

        return json_response(await unit(request, work), 201)

    @app.get("/work-orders", response_model=list[OrderOut], tags=["work orders"])
    async def list_orders(
        request: Request,
        state: State | None = None,
        order_type: OrderType | None = None,
        priority: Priority | None = None,
        department_id: DbId | None = None,
        customer_number: Annotated[str | None, Query(max_length=32, pattern=_PRINTABLE)] = None,
        call_id: Annotated[str | None, Query(max_length=64, pattern=_PRINTABLE)] = None,
        q: Annotated[str | None, Query(max_length=10000)] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
        offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
    ) -> Response:
        """Filter by any field; ``q`` is the full-text search (all terms must match)."""

        def work(conn: Connection, me: Principal) -> bytes:
            clauses = [scope_clause(me)]
            for col, val in (
                (WorkOrder.state, state),
                (WorkOrder.order_type, order_type),
                (WorkOrder.priority, priority),
                (WorkOrder.department_id, department_id),
                (WorkOrder.customer_number, customer_number),
                (WorkOrder.call_id, call_id),
            ):
                if val is not None:
                    clauses.append(col == val)
            if q is not None:
                cond = search.condition(conn, q)
                if cond is not None:
                    clauses.append(cond)
            rows = search.newest_first(conn, and_(*clauses), limit, offset, q is not None)
            return orders_json(rows)

        return json_response(await unit(request, work, write=False))

    @app.get("/work-orders/overdue", response_model=list[OverdueOut], tags=["work orders"])
    def overdue(
        me: Me,
        db: Db,
        within_hours: Annotated[float, Query(ge=0, le=24 * 365)] = 0,
    ) -> list[OverdueOut]:
        """Orders past (or, with ``within_hours``, near) a deadline; names whom to escalate to."""
        horizon = now() + timedelta(hours=within_hours)
        late = {
            "accept": and_(WorkOrder.accepted_at.is_(None), WorkOrder.accept_due < horizon),
            "return": and_(WorkOrder.returned_at.is_(None), WorkOrder.return_due < horizon),
            "close": and_(WorkOrder.closed_at.is_(None), WorkOrder.close_due < horizon),
        }
        stmt = (
            select(WorkOrder)
            .where(
                scope_clause(me),
                WorkOrder.state.not_in(("closed", "cancelled", "draft")),
                or_(*late.values()),
            )
            .order_by(WorkOrder.id)
        )
        out = []
        for o in db.scalars(stmt):
            stages = [
                s
                for s, (done, due) in {
                    "accept": (o.accepted_at, o.accept_due),
                    "return": (o.returned_at, o.return_due),
                    "close": (o.closed_at, o.close_due),
                }.items()
                if done is None and due is not None and due < horizon
            ]
            dep = db.get(Department, o.department_id) if o.department_id else None
            out.append(
                OverdueOut(
                    order=OrderOut.model_validate(o),
                    overdue=stages,
                    escalate_to=dep.leader_id if dep else None,
                )
            )
        return out

    @app.get("/work-orders/stats", tags=["work orders"])
    def stats(me: Me, db: Db) -> dict[str, Any]:
        """Counts by state, department and type, and the overdue rate, over visible orders."""
        if not policy.can_view_reports(me):
            raise forbidden()
        scope = scope_clause(me)

        def counts(col: Any) -> dict[str, int]:
            rows = db.execute(select(col, func.count()).where(scope).group_by(col))
            return {str(k): int(n) for k, n in rows}

        t = now()
        open_ = WorkOrder.state.not_in(("closed", "cancelled", "draft"))
        n_open = db.scalar(select(func.count()).where(scope, open_)) or 0
        n_late = db.scalar(select(func.count()).where(scope, open_, WorkOrder.close_due < t)) or 0
        return {
            "by_state": counts(WorkOrder.state),
            "by_department": counts(WorkOrder.department_id),
            "by_type": counts(WorkOrder.order_type),
            "open": n_open,
            "overdue_rate": (n_late / n_open) if n_open else 0.0,
            "time_to": durations(db, scope),
        }

    def durations(db: Session, scope: ColumnElement[bool]) -> dict[str, dict[str, Any]]:
        """Hours from creation to accept, return and close: wall clock and business hours.

        Business hours use the SLA calendar (the measure the deadlines use);
        mean, median and 90th percentile over the orders that reached the stage.
        """
        cal = cfg.sla.calendar
        rows = db.execute(
            select(
                WorkOrder.created_at,
                WorkOrder.accepted_at,
                WorkOrder.returned_at,
                WorkOrder.closed_at,
            ).where(scope)
        )
        spans: dict[str, tuple[list[float], list[float]]] = {
            k: ([], []) for k in ("accept", "return", "close")
        }
        for created, *stages in rows:
            for key, done in zip(("accept", "return", "close"), stages, strict=True):
                if done is not None and done >= created:
                    wall, business = spans[key]
                    wall.append((done - created).total_seconds() / 3600.0)
                    business.append(
                        cal.between(created.replace(tzinfo=UTC), done.replace(tzinfo=UTC)) / 3600.0
                    )
        return {
            key: {"n": len(wall), "hours": summary(wall), "business_hours": summary(business)}
            for key, (wall, business) in spans.items()
        }

    @app.get("/work-orders/{order_id}", response_model=OrderOut, tags=["work orders"])
    async def get_order(order_id: DbId, request: Request) -> Response:
        def work(conn: Connection, me: Principal) -> bytes:
            return order_json(load_order(conn, me, order_id))

        return json_response(await unit(request, work, write=False))

    @app.patch(
        "/work-orders/{order_id}",
        response_model=OrderOut,
        tags=["work orders"],
        dependencies=[Depends(require_bearer)],
    )
    async def patch_order(order_id: DbId, body: OrderPatch, request: Request) -> Response:
        """Edit fields; a type or priority change recomputes the SLA deadlines."""

        def work(conn: Connection, me: Principal) -> bytes:
            order = load_order(conn, me, order_id)
            if not policy.can_edit_order(me, order):
                raise forbidden("you may not edit this order")
            changes = body.model_dump(exclude_unset=True, exclude={"version"})
            if any(v is None for k, v in changes.items() if k != "category_id"):
                raise ApiError(422, "invalid_request", "fields cannot be set to null")
            new_type = changes.get("order_type", order.order_type)
            if "order_type" in changes or "category_id" in changes:
                cat = changes.get("category_id", order.category_id)
                if "order_type" in changes and "category_id" not in changes and cat is not None:
                    changes["category_id"] = cat = None  # a category belongs to one type
                check_category(conn, cat, new_type)
            if "order_type" in changes or "priority" in changes:
                changes.update(
                    deadlines(
                        new_type,
                        changes.get("priority", order.priority),
                        order.created_at,
                        pauses_of(conn, order.id),
                    )
                )
            return order_json(apply(conn, request, me, order, body.version, "edit", changes))

        return json_response(await unit(request, work))

    @app.post(
        "/work-orders/{order_id}/transitions",
        response_model=OrderOut,
        tags=["work orders"],
        dependencies=[Depends(require_bearer)],
    )
    async def transition(order_id: DbId, body: TransitionIn, request: Request) -> Response:
        """Move along the lifecycle table; 409 if not allowed from the current state."""

        def work(conn: Connection, me: Principal) -> bytes:
            order = load_order(conn, me, order_id)
            return order_json(
                apply(conn, request, me, order, body.version, body.action, step(conn, me, order))
            )

        def step(conn: Connection, me: Principal, order: Row[Any]) -> dict[str, Any]:
            """The changes ``body`` makes to ``order`` (pauses and replies written on the way)."""
            tr = TRANSITIONS.get((body.action, order.state))
            if tr is None:
                raise ApiError(
                    409,
                    "illegal_transition",
                    f"cannot {body.action} an order that is {order.state}",
                )
            if not policy.can_transition(me, order, tr):
                # The lifecycle table says who may take each step: a step by the wrong
                # role is an illegal transition (409, as the contract asks),
                # not a missing permission on the order, which the caller can see.
                raise ApiError(
                    409, "role_not_allowed", f"your roles may not {body.action} this order"
                )
            t = now()
            changes: dict[str, Any] = {"state": tr.target}
            if body.action in NEEDS_DEPARTMENT or body.department_id is not None:
                if body.department_id is None:
                    raise ApiError(422, "department_required", f"{body.action} needs department_id")
                check_department(conn, body.department_id)
                if body.action == "transfer" and body.department_id == order.department_id:
                    raise ApiError(422, "same_department", "transfer to another department")
                changes["department_id"] = body.department_id
            elif order.department_id is None and tr.target == "dispatched":
                raise ApiError(422, "department_required", f"{body.action} needs department_id")
            if body.action in NEEDS_RESULT:
                if body.result is None:
                    raise ApiError(422, "result_required", "return needs a result")
                changes["result"] = body.result
                changes["returned_at"] = t
            if body.action == "accept" and order.accepted_at is None:
                changes["accepted_at"] = t
            if body.action == "close":
                changes["closed_at"] = t
            if body.action == "reopen":
                changes.update(returned_at=None, closed_at=None)
            if body.action in ("wait_customer", "resume"):
                if body.action == "wait_customer":
                    conn.execute(insert(WorkOrderPause).values(order_id=order.id, started_at=t))
                else:
                    conn.execute(
                        update(WorkOrderPause)
                        .where(
                            WorkOrderPause.order_id == order.id,
                            WorkOrderPause.ended_at.is_(None),
                        )
                        .values(ended_at=t)
                    )
                changes.update(
                    deadlines(
                        order.order_type,
                        order.priority,
                        order.created_at,
                        pauses_of(conn, order.id),
                    )
                )
            if body.reply is not None:
                if body.action != "reply":
                    raise ApiError(422, "invalid_request", "reply text only with the reply action")
                conn.execute(
                    insert(WorkOrderNote).values(
                        order_id=order.id,
                        at=t,
                        user_id=me.id,
                        visibility="customer",
                        body=body.reply,
                    )
                )
            return changes

        return json_response(await unit(request, work))

    @app.get(
        "/work-orders/{order_id}/history", response_model=list[HistoryOut], tags=["work orders"]
    )
    def history(order_id: DbId, me: Me, db: Db) -> list[WorkOrderHistory]:
        visible_order(db, me, order_id)
        return list(
            db.scalars(
                select(WorkOrderHistory)
                .where(WorkOrderHistory.order_id == order_id)
                .order_by(WorkOrderHistory.id)
            )
        )

    @app.post(
        "/work-orders/{order_id}/notes",
        response_model=NoteOut,
        status_code=201,
        tags=["work orders"],
    )
    def add_note(order_id: DbId, body: NoteIn, request: Request, me: Me, db: Db) -> WorkOrderNote:
        """``internal`` notes stay among staff; ``customer`` ones are replies to the customer."""
        order = visible_order(db, me, order_id)
        if not policy.can_add_note(me, order, body.visibility):
            raise forbidden("only the agent side writes customer-visible replies")
        note = WorkOrderNote(
            order_id=order.id, at=now(), user_id=me.id, visibility=body.visibility, body=body.body
        )
        db.add(note)
        db.flush()
        audit(db, request, me.id, "order.note", str(order.id), "ok", body.visibility)
        db.commit()
        return note

    @app.get("/work-orders/{order_id}/notes", response_model=list[NoteOut], tags=["work orders"])
    def list_notes(
        order_id: DbId,
        me: Me,
        db: Db,
        visibility: Annotated[str | None, Query(pattern="^(internal|customer)$")] = None,
    ) -> list[WorkOrderNote]:
        visible_order(db, me, order_id)
        stmt = select(WorkOrderNote).where(WorkOrderNote.order_id == order_id)
        if visibility is not None:
            stmt = stmt.where(WorkOrderNote.visibility == visibility)
        return list(db.scalars(stmt.order_by(WorkOrderNote.id)))

    # ------------------------------------------------------------------ attachments

    def store_attachment(
        request: Request, me: User, order_id: int, filename: str, declared: str, data: bytes
    ) -> WorkOrderAttachment:
        with make_session() as db:
            order = visible_order(db, me, order_id)
            if order.state in ("closed", "cancelled"):
                raise ApiError(409, "order_closed", f"the order is {order.state}")
            try:
                name = files.check_filename(filename)
                ctype = files.check_upload(declared, data, cfg.max_attachment_bytes)
            except files.UploadRefusedError as exc:
                raise ApiError(exc.status, exc.reason, exc.detail) from None
            att = WorkOrderAttachment(
                order_id=order.id,
                filename=name,
                content_type=ctype,
                size=len(data),
                sha256=hashlib.sha256(data).hexdigest(),
                uploaded_by=me.id,
                uploaded_at=now(),
                data=data,
            )
            db.add(att)
            db.flush()
            db.add(
                WorkOrderHistory(
                    order_id=order.id,
                    at=att.uploaded_at,
                    user_id=me.id,
                    action="attach",
                    field="attachment",
                    old_value=None,
                    new_value=name,
                )
            )
            audit(db, request, me.id, "order.attach", str(order.id), "ok", name)
            db.commit()
            return att

    @app.post(
        "/work-orders/{order_id}/attachments",
        response_model=AttachmentOut,
        status_code=201,
        tags=["work orders"],
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    t: {"schema": {"type": "string", "format": "binary"}}
                    for t in files.ALLOWED_TYPES
                },
            }
        },
    )
    async def attach(
        order_id: DbId,
        request: Request,
        me: Me,
        filename: Annotated[str, Query(min_length=1, max_length=255)],
    ) -> WorkOrderAttachment:
        """Upload the request body as a file (raw bytes; ``Content-Type`` declares its type).

        Refused with nothing stored: a path-like name (422), a type off the
        allow-list or bytes that do not match it (415), too large (413).
        """
        declared = request.headers.get("content-type", "")
        length = request.headers.get("content-length")
        limit = cfg.max_attachment_bytes
        if length is not None and length.isdigit() and int(length) > limit:
            raise ApiError(413, "file_too_large", f"files are limited to {limit} bytes")
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise ApiError(413, "file_too_large", f"files are limited to {limit} bytes")
            chunks.append(chunk)
        return await run_in_threadpool(
            store_attachment, request, me, order_id, filename, declared, b"".join(chunks)
        )

    @app.get(
        "/work-orders/{order_id}/attachments",
        response_model=list[AttachmentOut],
        tags=["work orders"],
    )
    def list_attachments(order_id: DbId, me: Me, db: Db) -> list[WorkOrderAttachment]:
        visible_order(db, me, order_id)
        return list(
            db.scalars(
                select(WorkOrderAttachment)
                .where(WorkOrderAttachment.order_id == order_id)
                .order_by(WorkOrderAttachment.id)
            )
        )

    @app.get("/work-orders/{order_id}/attachments/{attachment_id}", tags=["work orders"])
    def download(order_id: DbId, attachment_id: DbId, me: Me, db: Db) -> Response:
        """The file as a download (never rendered inline)."""
        visible_order(db, me, order_id)
        att = db.get(WorkOrderAttachment, attachment_id)
        if att is None or att.order_id != order_id:
            raise not_found("attachment")
        return Response(
            content=att.data,
            media_type=att.content_type,
            headers=files.download_headers(att.filename),
        )

    # ------------------------------------------------------------------ notifications

    @app.get("/notifications", response_model=list[NotificationOut], tags=["notifications"])
    def my_notifications(
        me: Me,
        db: Db,
        unread: bool = False,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
        offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
    ) -> list[Notification]:
        """The caller's own notifications (SLA escalations), newest first."""
        stmt = select(Notification).where(Notification.user_id == me.id)
        if unread:
            stmt = stmt.where(Notification.read_at.is_(None))
        stmt = stmt.order_by(Notification.id.desc()).limit(limit).offset(offset)
        return list(db.scalars(stmt))

    @app.post(
        "/notifications/{notification_id}/read",
        response_model=NotificationOut,
        tags=["notifications"],
    )
    def mark_read(notification_id: DbId, me: Me, db: Db) -> Notification:
        note = db.get(Notification, notification_id)
        if note is None or note.user_id != me.id:
            raise not_found("notification")
        if note.read_at is None:
            note.read_at = now()
            db.commit()
        return note

    def run_sweep() -> escalation.SweepResult:
        with make_session() as db:
            result = escalation.sweep(db, now())
            db.commit()
            return result

    @app.post("/admin/maintenance", response_model=SweepOut, tags=["admin"])
    def maintenance(request: Request, me: Me, db: Db) -> SweepOut:
        """Run the sweep now: SLA escalations, expired sessions, lapsed lock-outs."""
        if not policy.can_manage_users(me):
            raise forbidden("only administrators run maintenance")
        result = run_sweep()
        audit(db, request, me.id, "admin.maintenance", "", "ok", result.__dict__)
        db.commit()
        return SweepOut(**result.__dict__)

    async def sweeper() -> None:
        while True:
            await asyncio.sleep(cfg.maintenance_interval)
            try:
                await run_in_threadpool(run_sweep)
            except Exception:  # keep sweeping; one failed sweep must not stop the next
                log.exception("maintenance sweep failed")

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        task = asyncio.create_task(sweeper()) if cfg.maintenance_interval > 0 else None
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            if sqlite_writer is not None:
                sqlite_writer.shutdown()

    app.router.lifespan_context = lifespan

    # ------------------------------------------------------------------ QC and KB

    app.include_router(qc.build_router(ctx))
    app.include_router(kb.build_router(ctx))

    return app


def _user_out(user: User) -> UserOut:
    return UserOut(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        active=user.active,
        roles=sorted(user.role_names),
        department_ids=sorted(user.department_ids),
    )


def new_user(
    db: Session,
    username: str,
    password: str,
    roles: list[str],
    hasher: Hasher,
    *,
    display_name: str = "",
    clock: Callable[[], datetime | None] = lambda: _naive(_utcnow()),
) -> User:
    """Add a user (shared by the API and ``ccsim users add``); 409 if the name is taken."""
    if db.scalar(select(User.id).where(User.username == username)) is not None:
        raise ApiError(409, "username_taken", f"user {username!r} exists")
    user = User(
        username=username,
        display_name=display_name,
        password_hash=hasher.hash(password),
        active=True,
        created_at=clock(),
        roles=[UserRole(role=r) for r in dict.fromkeys(roles)],
    )
    db.add(user)
    db.flush()
    return user
