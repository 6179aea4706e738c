"""The live ACD's supervisor and wallboard HTTP API (FastAPI), see docs/live-api.md.

``create_api(live, tokens=..., audit=...)`` builds the application over a
running ``LiveACD``; ``ApiServer`` serves it with uvicorn *on the ACD's own
event loop* (a task next to the CSTA reader), so a request reads the ACD
between two events and an action is carried out exactly like the ACD's own
requests — no locks, no threads, no copies of the state.

Security model:

* bearer tokens (``TokenStore``) map to a name and a role: ``viewer`` (reads
  and the stream), ``supervisor`` (+ supervisor functions), ``admin`` (+ roster
  changes). Only SHA-256 digests are kept, and a presented token is compared
  with every digest in constant time (``hmac.compare_digest``);
* reads need a token unless ``open_reads`` (wallboards on a trusted LAN);
  actions always do: 401 without or with an unknown token, 403 with too small
  a role — and nothing happens;
* every action and every refused request is an ``Audit`` record (who, role,
  what, target, result, HTTP status, detail, client address, UTC time) written
  as one JSON line (control characters escaped: no log injection) to the
  ``ccsim.live.audit`` logger, an optional file and, with a call log, its
  ``acd_audit`` table.

Errors are ``{"error": reason, "detail": ...}`` with a 4xx status for anything
the request got wrong (404 unknown agent, 409 a state that does not allow it,
422 invalid input); 502 when the *switch* refused a request the API sent, 503
when the ACD is not connected. Bodies and query parameters are validated by
hand, after authentication, so an unauthenticated request learns nothing
about what a valid body looks like.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import hashlib
import hmac
import ipaddress
import json
import logging
import math
import os
import socket
import tomllib
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal, TypeVar

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from ccsim.errors import ACDError
from ccsim.events import AgentState
from ccsim.live.acd import LiveACD, SupervisorError, SupervisorResult
from ccsim.live.calllog import write_audit

__all__ = [
    "ROLES",
    "ApiError",
    "ApiServer",
    "Audit",
    "Principal",
    "TokenStore",
    "create_api",
    "is_loopback",
]

log = logging.getLogger("ccsim.live.api")
audit_log = logging.getLogger("ccsim.live.audit")

Role = Literal["viewer", "supervisor", "admin"]
#: each role may do what the roles before it may
ROLES: tuple[Role, ...] = ("viewer", "supervisor", "admin")
TOKENS_ENV = "CCSIM_API_TOKENS"
MIN_TOKEN_LENGTH = 16
#: bounds of the stream's ``interval`` query parameter (seconds)
STREAM_INTERVAL = (0.1, 60.0)
MAX_BODY = 64 * 1024

_M = TypeVar("_M", bound=BaseModel)


# --------------------------------------------------------------------------- tokens


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is asking: the token's name and role (``anonymous`` for an open read)."""

    name: str
    role: Role

    def may(self, role: Role) -> bool:
        return ROLES.index(self.role) >= ROLES.index(role)


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()


class TokenStore:
    """Bearer tokens -> ``Principal``; only SHA-256 digests are kept.

    ``from_file``: TOML or JSON with a ``tokens`` list of ``{token | sha256,
    name, role}`` (``sha256``: the hex digest, so the file need not hold the
    secret); ``from_env``: ``name:role:token`` items separated by commas.
    """

    def __init__(self) -> None:
        self._entries: list[tuple[bytes, Principal]] = []

    def __len__(self) -> int:
        return len(self._entries)

    def add(
        self, name: str, role: str, *, token: str | None = None, sha256: str | None = None
    ) -> None:
        """Add one entry (``ValueError`` names what is wrong, never the token itself)."""
        if (
            not isinstance(name, str)
            or not name.strip()
            or len(name) > 100
            or not name.isprintable()
        ):
            raise ValueError(
                f"name must be a non-empty string of at most 100 characters, got {name!r}"
            )
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
        if (token is None) == (sha256 is None):
            raise ValueError(f"entry {name!r}: give exactly one of token or sha256")
        if token is not None:
            if not isinstance(token, str) or len(token) < MIN_TOKEN_LENGTH:
                raise ValueError(
                    f"entry {name!r}: token must be at least {MIN_TOKEN_LENGTH} characters long"
                )
            digest = _digest(token)
        else:
            try:
                digest = bytes.fromhex(str(sha256))
            except ValueError:
                digest = b""
            if len(digest) != 32:
                raise ValueError(f"entry {name!r}: sha256 must be 64 hex digits")
        if any(hmac.compare_digest(digest, d) for d, _ in self._entries):
            raise ValueError(f"entry {name!r}: the same token is configured twice")
        self._entries.append((digest, Principal(name, role)))

    def lookup(self, token: str) -> Principal | None:
        """The principal of ``token``, comparing with every digest (constant time per entry)."""
        digest = _digest(token)
        found: Principal | None = None
        for d, principal in self._entries:
            if hmac.compare_digest(digest, d):
                found = principal
        return found

    @classmethod
    def from_file(cls, path: str | Path) -> TokenStore:
        """Tokens from a TOML (``[[tokens]]``) or JSON (``{"tokens": [...]}``) file."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ValueError(f"{path}: cannot read: {exc.strerror or exc}") from None
        try:
            data: Any = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
        except (ValueError, tomllib.TOMLDecodeError) as exc:
            raise ValueError(
                f"{path}: not valid {path.suffix.lstrip('.') or 'TOML'}: {exc}"
            ) from None
        store = cls()
        entries = data.get("tokens") if isinstance(data, dict) else None
        if not isinstance(entries, list) or not entries:
            raise ValueError(f"{path}: field 'tokens' must be a non-empty list of entries")
        for n, entry in enumerate(entries):
            where = f"{path}: tokens[{n}]"
            if not isinstance(entry, dict):
                raise ValueError(f"{where}: must be a table with token (or sha256), name and role")
            extra = sorted(set(entry) - {"token", "sha256", "name", "role"})
            if extra:
                raise ValueError(f"{where}: unknown fields {extra}")
            try:
                store.add(
                    entry.get("name", ""),
                    entry.get("role", ""),
                    token=entry.get("token"),
                    sha256=entry.get("sha256"),
                )
            except ValueError as exc:
                raise ValueError(f"{where}: {exc}") from None
        return store

    def add_env(self, value: str, *, var: str = TOKENS_ENV) -> None:
        """Add ``name:role:token`` items (comma-separated) from an environment variable."""
        for n, item in enumerate(i for i in value.split(",") if i.strip()):
            parts = item.strip().split(":", 2)
            if len(parts) != 3:
                raise ValueError(f"${var} item {n}: must be name:role:token")
            try:
                self.add(parts[0], parts[1], token=parts[2])
            except ValueError as exc:
                raise ValueError(f"${var} item {n}: {exc}") from None

    @classmethod
    def configured(
        cls, path: str | Path | None = None, env: Mapping[str, str] | None = None
    ) -> TokenStore:
        """The file's tokens (if any) plus those of ``$CCSIM_API_TOKENS`` (if set)."""
        store = cls.from_file(path) if path is not None else cls()
        value = (os.environ if env is None else env).get(TOKENS_ENV, "")
        if value.strip():
            store.add_env(value)
        return store


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


# --------------------------------------------------------------------------- audit


def _clip(value: object, limit: int) -> str:
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class Audit:
    """Append-only record of actions and refusals: logger, optional file, optional call log.

    Each record is one JSON line with every non-ASCII and control character
    escaped, so no value (a name, a reason, a path) can forge a line.
    ``recent`` keeps the last records in memory (tests, diagnostics).
    """

    def __init__(self, path: str | Path | None = None, *, call_log: Any = None) -> None:
        self.path = None if path is None else Path(path)
        self.call_log = call_log
        self._file: IO[str] | None = (
            # line-buffered append: every record is on disk when write() returns
            open(self.path, "a", encoding="utf-8", buffering=1)  # noqa: SIM115
            if self.path is not None
            else None
        )
        self.recent: deque[dict[str, Any]] = deque(maxlen=1000)

    async def write(
        self,
        *,
        who: str,
        role: str,
        action: str,
        target: str,
        result: str,
        status: int,
        client: str,
        detail: str = "",
    ) -> dict[str, Any]:
        now = dt.datetime.now(dt.UTC)
        record = {
            "at": now.isoformat(timespec="milliseconds"),
            "who": _clip(who, 200),
            "role": _clip(role, 20),
            "action": _clip(action, 100),
            "target": _clip(target, 200),
            "result": result,
            "status": status,
            "detail": _clip(detail, 2000),
            "client": _clip(client, 100),
        }
        line = json.dumps(record, ensure_ascii=True, separators=(",", ":"))
        audit_log.info("%s", line)
        self.recent.append(record)
        if self._file is not None:
            try:
                self._file.write(line + "\n")
            except OSError:
                log.exception("audit file %s", self.path)
        call_log = self.call_log
        if call_log is not None and getattr(call_log, "engine", None) is not None:
            row = {**record, "at": now.replace(tzinfo=None)}
            try:
                await asyncio.to_thread(write_audit, call_log, [row])
            except Exception:  # the audit DB must not take the API down; the line is logged
                log.exception("audit row not written to the call log")
        return record

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


# --------------------------------------------------------------------------- errors, bodies


class ApiError(Exception):
    """A request refused with ``status`` and ``{"error": error, "detail": detail}``."""

    def __init__(self, status: int, error: str, detail: Any = None) -> None:
        super().__init__(error)
        self.status = status
        self.error = error
        self.detail = detail


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


#: identifiers and reasons go into CSTA XML and logs: printable characters only
_PRINTABLE = r"^[^\x00-\x1f\x7f]+$"


class StationBody(_Body):
    """Monitor, barge-in, intercept: the supervisor's station."""

    station: str = Field(min_length=1, max_length=64, pattern=_PRINTABLE)


class ReasonBody(_Body):
    reason: str = Field("forced", min_length=1, max_length=64, pattern=_PRINTABLE)


class SkillsBody(_Body):
    skills: dict[str, int] = Field(min_length=1, max_length=100)


class AgentBody(_Body):
    agent_id: str = Field(min_length=1, max_length=64, pattern=_PRINTABLE)
    station: str | None = Field(None, min_length=1, max_length=64, pattern=_PRINTABLE)
    skills: dict[str, int] = Field(min_length=1, max_length=100)


class _EmptyBody(_Body):
    pass


async def _body(request: Request, model: type[_M]) -> _M:
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise ApiError(413, "request body too large", f"at most {MAX_BODY} bytes")
    if not raw.strip():
        raw = b"{}"
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(422, "invalid JSON body", str(exc)) from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ApiError(
            422,
            "invalid request body",
            exc.errors(include_url=False, include_context=False, include_input=False),
        ) from None


def _jsonable(value: Any) -> Any:
    """Plain JSON data: non-finite floats become null (JSON has no infinity)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def _client(request: Request) -> str:
    c = request.client
    return f"{c.host}:{c.port}" if c is not None else "?"


# --------------------------------------------------------------------------- views


def _agents(live: LiveACD) -> list[dict[str, Any]]:
    """The roster with each agent's state in the ACD (``loggedOff`` when it has none)."""
    acd, now = live.acd, live.now()
    out = []
    for info in live.binding.agents.values():
        row: dict[str, Any] = {
            "agent_id": info.agent_id,
            "station": info.station,
            "skills": dict(info.skills),
            "state": AgentState.LOGGED_OFF.value,
            "reason": None,
            "forced": False,
            "pending": None,
            "call_id": None,
            "calls_handled": 0,
            "occupancy": None,
            "logged_on_at": None,
        }
        try:
            a = acd.agent(info.agent_id)
        except ACDError:
            out.append(row)
            continue
        working = a.state in (
            AgentState.RESERVED,
            AgentState.BUSY,
            AgentState.WORKING_AFTER_CALL,
        )
        busy = a.busy_time + (now - a.busy_since if working else 0.0)
        on = now - a.logged_on_at
        row.update(
            skills=dict(a.skills),
            state=a.state.value,
            reason=a.reason,
            forced=a.forced,
            pending=None if a.pending is None else a.pending.value,
            call_id=a.call_id,
            calls_handled=a.calls_handled,
            occupancy=busy / on if on > 0 else None,
            logged_on_at=a.logged_on_at,
        )
        out.append(row)
    return out


def _queues(live: LiveACD) -> list[dict[str, Any]]:
    """Each skill queue with its waiting calls in the order they will be served."""
    acd, now = live.acd, live.now()
    snap = acd.snapshot()["queues"]
    out = []
    for name in acd.config.queues:
        q = acd.queue(name)
        entries = sorted(
            e for e in q.heap if (live_e := e[3].queues.get(name)) and live_e[0] == e[2]
        )
        calls = []
        for pos, (_, _, _, call) in enumerate(entries):
            calls.append(
                {
                    "position": pos + 1,
                    "call_id": call.call_id,
                    "service": call.service,
                    "priority": call.priority,
                    "wait": now - call.offered_at,
                    "in_queue": now - call.queues[name][1],
                    "ewt": acd.expected_wait(name, pos),
                }
            )
        out.append({"queue": name, **snap[name], "calls": calls})
    return out


def _services(live: LiveACD) -> list[dict[str, Any]]:
    now = live.now()
    k = live.kpis
    names = [s.name for s in live.scenario.services if s.reaches_agents] or k.services()
    return [
        {
            "service": s,
            "today": k.today(s, now).as_dict(),
            "last_15min": k.last(s, now).as_dict(),
            "longest_wait": k.longest_wait(s, now),
        }
        for s in names
    ]


def _link(live: LiveACD) -> dict[str, Any]:
    """The link's state and every counter of the binding (``Stats``) but its error texts."""
    stats = live.binding.stats
    return {
        "connected": live.ready.is_set(),
        "connections": live.connections,
        "reconnections": max(0, live.connections - 1),
        "switch": f"{live.host}:{live.port}",
        **{
            f.name: getattr(stats, f.name)
            for f in dataclasses.fields(stats)
            if isinstance(getattr(stats, f.name), int | float)
        },
    }


def _wallboard(live: LiveACD) -> dict[str, Any]:
    return {
        "now": live.now(),
        "agents": _agents(live),
        "queues": _queues(live),
        "services": _services(live),
        "link": _link(live),
    }


# --------------------------------------------------------------------------- the app


def create_api(
    live: LiveACD,
    *,
    tokens: TokenStore | None = None,
    audit: Audit | None = None,
    open_reads: bool = False,
) -> FastAPI:
    """The supervisor / wallboard API over ``live`` (see the module docstring)."""
    store = tokens if tokens is not None else TokenStore()
    audit = audit if audit is not None else Audit()
    app = FastAPI(title="ccsim live ACD", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.live = live
    app.state.audit = audit

    def error_response(exc: ApiError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return JSONResponse(
            {"error": exc.error, "detail": _jsonable(exc.detail)},
            status_code=exc.status,
            headers=headers,
        )

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return error_response(ApiError(exc.status_code, str(exc.detail), request.url.path))

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception) -> JSONResponse:
        # a bug, never user input: logged with its traceback, answered in the usual shape
        log.error("API %s %s failed", request.method, request.url.path, exc_info=exc)
        return error_response(ApiError(500, "internal error", type(exc).__name__))

    async def record(
        request: Request,
        principal: Principal | None,
        action: str,
        target: str,
        result: str,
        status: int,
        detail: str,
    ) -> None:
        """One audit record of this request (``principal`` None: not authenticated)."""
        await audit.write(
            who="?" if principal is None else principal.name,
            role="" if principal is None else principal.role,
            action=action,
            target=target,
            result=result,
            status=status,
            client=_client(request),
            detail=detail,
        )

    async def authorize(request: Request, role: Role, action: str, target: str) -> Principal:
        """The caller's principal if it may act as ``role``; refusals are audited."""
        if role == "viewer" and open_reads:
            return Principal("anonymous", "viewer")
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        principal = (
            store.lookup(token.strip()) if scheme.lower() == "bearer" and token.strip() else None
        )
        if principal is None:
            reason = "missing bearer token" if not header else "invalid bearer token"
            await record(request, None, action, target, "denied", 401, reason)
            raise ApiError(401, reason, "send Authorization: Bearer <token>")
        if not principal.may(role):
            await record(request, principal, action, target, "denied", 403, f"needs role {role}")
            raise ApiError(403, f"role {principal.role} may not do this", f"needs role {role}")
        return principal

    async def act(
        request: Request,
        role: Role,
        action: str,
        target: str,
        model: type[_M],
        do: Callable[[Principal, _M], Awaitable[Any]],
        status: int = 200,
    ) -> JSONResponse:
        """Authorize, validate, carry out and audit one action."""
        principal = await authorize(request, role, action, target)
        try:
            body = await _body(request, model)
            result = await do(principal, body)
        except ApiError as exc:
            detail = f"{exc.error}: {json.dumps(_jsonable(exc.detail), ensure_ascii=False)}"
            outcome = "refused" if exc.status < 500 else "failed"
            await record(request, principal, action, target, outcome, exc.status, detail)
            raise
        except Exception as exc:  # a bug: still audited, then the 500 handler answers
            detail = f"internal error: {type(exc).__name__}"
            await record(request, principal, action, target, "failed", 500, detail)
            raise
        detail = json.dumps(_jsonable(result), ensure_ascii=False, sort_keys=True)
        await record(request, principal, action, target, "ok", status, detail)
        return JSONResponse(_jsonable(result), status_code=status)

    def known(agent_id: str) -> None:
        if agent_id not in live.binding.agents:
            raise ApiError(404, "unknown agent", agent_id)

    async def supervise(call: Awaitable[SupervisorResult]) -> dict[str, Any]:
        try:
            res = await call
        except SupervisorError as exc:
            raise _supervisor_error(exc) from None
        return {
            "function": res.function,
            "agent_id": res.agent_id,
            "supervisor": res.supervisor,
            "call_id": res.call_id,
            "state": res.state,
            "pending": res.pending,
        }

    # ---- reads

    async def read(request: Request, what: str, view: Callable[[], Any]) -> JSONResponse:
        await authorize(request, "viewer", what, "")
        return JSONResponse(_jsonable(view()))

    @app.get("/health")
    async def health() -> dict[str, Any]:
        """Liveness for load balancers: no data, no token."""
        return {"ok": True, "connected": live.ready.is_set()}

    @app.get("/agents")
    async def get_agents(request: Request) -> JSONResponse:
        return await read(request, "read agents", lambda: _agents(live))

    @app.get("/agents/{agent_id}")
    async def get_agent(request: Request, agent_id: str) -> JSONResponse:
        await authorize(request, "viewer", "read agent", agent_id)
        known(agent_id)
        row = next(a for a in _agents(live) if a["agent_id"] == agent_id)
        return JSONResponse(_jsonable(row))

    @app.get("/queues")
    async def get_queues(request: Request) -> JSONResponse:
        return await read(request, "read queues", lambda: _queues(live))

    @app.get("/services")
    async def get_services(request: Request) -> JSONResponse:
        return await read(request, "read services", lambda: _services(live))

    @app.get("/snapshot")
    async def get_snapshot(request: Request) -> JSONResponse:
        return await read(request, "read snapshot", live.acd.snapshot)

    @app.get("/link")
    async def get_link(request: Request) -> JSONResponse:
        return await read(request, "read link", lambda: _link(live))

    @app.get("/stream")
    async def stream(request: Request) -> StreamingResponse:
        """Server-sent events: a wallboard snapshot every ``interval`` s (``count`` of them)."""
        await authorize(request, "viewer", "stream", "")
        interval = _number(request, "interval", 5.0, *STREAM_INTERVAL)
        count = _number(request, "count", 0, 0, 1_000_000)

        async def events() -> AsyncIterator[str]:
            n = 0
            while True:
                data = json.dumps(_jsonable(_wallboard(live)), ensure_ascii=False)
                yield f"event: snapshot\nid: {n}\ndata: {data}\n\n"
                n += 1
                if count and n >= count:
                    return
                await asyncio.sleep(interval)
                if await request.is_disconnected():
                    return

        return StreamingResponse(
            events(),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    # ---- supervisor functions

    def station_action(path: str, name: str, method: str) -> None:
        async def handler(request: Request, agent_id: str) -> JSONResponse:
            async def do(p: Principal, body: StationBody) -> dict[str, Any]:
                known(agent_id)
                fn: Callable[[str, str], Awaitable[SupervisorResult]] = getattr(live, method)
                return await supervise(fn(body.station, agent_id))

            return await act(request, "supervisor", name, agent_id, StationBody, do)

        app.post(f"/agents/{{agent_id}}/{path}", name=name)(handler)

    station_action("monitor", "monitor", "monitor")
    station_action("barge-in", "barge-in", "barge_in")
    station_action("intercept", "intercept", "intercept")

    @app.post("/agents/{agent_id}/ready")
    async def force_ready(request: Request, agent_id: str) -> JSONResponse:
        async def do(p: Principal, body: _EmptyBody) -> dict[str, Any]:
            known(agent_id)
            return await supervise(live.force_ready(agent_id, p.name))

        return await act(request, "supervisor", "force ready", agent_id, _EmptyBody, do)

    @app.post("/agents/{agent_id}/not-ready")
    async def force_not_ready(request: Request, agent_id: str) -> JSONResponse:
        async def do(p: Principal, body: ReasonBody) -> dict[str, Any]:
            known(agent_id)
            return await supervise(live.force_not_ready(agent_id, p.name, body.reason))

        return await act(request, "supervisor", "force not ready", agent_id, ReasonBody, do)

    @app.post("/agents/{agent_id}/logout")
    async def force_logout(request: Request, agent_id: str) -> JSONResponse:
        async def do(p: Principal, body: _EmptyBody) -> dict[str, Any]:
            known(agent_id)
            return await supervise(live.force_logout(agent_id, p.name))

        return await act(request, "supervisor", "force logout", agent_id, _EmptyBody, do)

    # ---- roster

    @app.post("/agents")
    async def add_agent(request: Request) -> JSONResponse:
        async def do(p: Principal, body: AgentBody) -> dict[str, Any]:
            try:
                info = await live.add_agent(body.agent_id, body.skills, body.station)
            except ValueError as exc:
                raise ApiError(422, "invalid agent", str(exc)) from None
            except SupervisorError as exc:
                raise _supervisor_error(exc) from None
            return {"agent_id": info.agent_id, "station": info.station, "skills": dict(info.skills)}

        return await act(request, "admin", "add agent", "", AgentBody, do, status=201)

    @app.put("/agents/{agent_id}/skills")
    async def set_skills(request: Request, agent_id: str) -> JSONResponse:
        async def do(p: Principal, body: SkillsBody) -> dict[str, Any]:
            known(agent_id)
            try:
                info = live.set_skills(agent_id, body.skills)
            except ValueError as exc:
                raise ApiError(422, "invalid skills", str(exc)) from None
            return {"agent_id": info.agent_id, "station": info.station, "skills": dict(info.skills)}

        return await act(request, "admin", "set skills", agent_id, SkillsBody, do)

    @app.delete("/agents/{agent_id}")
    async def remove_agent(request: Request, agent_id: str) -> JSONResponse:
        async def do(p: Principal, body: _EmptyBody) -> dict[str, Any]:
            known(agent_id)
            try:
                info = live.remove_agent(agent_id)
            except SupervisorError as exc:
                raise ApiError(409, str(exc), agent_id) from None
            return {"agent_id": info.agent_id, "station": info.station, "removed": True}

        return await act(request, "admin", "remove agent", agent_id, _EmptyBody, do)

    return app


def _supervisor_error(exc: SupervisorError) -> ApiError:
    """The status of a refused supervisor request: the switch's fault or the request's."""
    text = str(exc)
    if "not connected" in text:
        return ApiError(503, "not connected to the switch", text)
    if "the switch refused" in text or "supervisor station" in text:
        return ApiError(502, "the switch refused the request", text)
    if "unknown agent" in text:
        return ApiError(404, "unknown agent", text)
    return ApiError(409, text, None)


def _number(request: Request, name: str, default: float, low: float, high: float) -> float:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not low <= value <= high:
        raise ApiError(422, f"query parameter {name} must be a number in [{low}, {high}]", raw)
    return value


# --------------------------------------------------------------------------- serving


class _Server(uvicorn.Server):
    """uvicorn on a loop it does not own: the host process keeps its signal handlers."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


class ApiServer:
    """Serve ``app`` with uvicorn as a task on the running loop (``ccsim acd --api``).

    ``port`` 0 picks a free port; ``port`` holds the real one after ``start``.
    """

    def __init__(self, app: FastAPI, host: str = "127.0.0.1", port: int = 8080) -> None:
        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            log_level="warning",
            lifespan="off",
            access_log=False,
            timeout_graceful_shutdown=2,
        )
        self.server = _Server(config)
        self.host, self.port = host, port
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Bind and serve; raises ``OSError`` when the address cannot be bound.

        The socket is bound here rather than by uvicorn, whose own bind failure
        ends the whole process (``sys.exit``) — the ACD must not go with it.
        """
        infos = socket.getaddrinfo(
            self.host, self.port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
        family, kind, proto, _, addr = infos[0]
        sock = socket.socket(family, kind, proto)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(addr)
            sock.setblocking(False)
        except OSError:
            sock.close()
            raise
        self.port = int(sock.getsockname()[1])
        self._task = asyncio.create_task(self.server.serve(sockets=[sock]), name="live-api")
        while not self.server.started:
            if self._task.done():
                sock.close()
                self._task.result()  # re-raise why it stopped
                raise OSError(f"cannot serve the API on {self.host}:{self.port}")
            await asyncio.sleep(0.01)

    async def close(self) -> None:
        self.server.should_exit = True
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def __aenter__(self) -> ApiServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
