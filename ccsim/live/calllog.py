"""The live ACD's call log: every call, delivery and agent-state change in a database.

``CallLog`` is fed what the binding records (every event the ACD accepted and
the commands it answered with) and turns it into rows:

* ``acd_calls``: one row per call (ordinary calls and calls coming from the
  IVR alike, ``via_ivr`` tells them apart): service, routing point (the VDN
  device), calling number, offered / queued / delivered / answered / ended
  times, the agent who answered, outcome, wait (offer to answer or to leaving)
  and talk time, and how many deliveries and ring-no-answers it took;
* ``acd_deliveries``: the routing-point distribution, one row per delivery of a
  call to an agent with its result (answered, rona, failed, abandoned);
* ``acd_agent_states``: every change of an agent's state in the ACD (state,
  reason, time, and the event that caused it);
* ``acd_sessions``: one row per run of the ACD, so a restart appends to the
  same database; earlier rows are only touched to settle calls they left in
  progress (see below).

A call's row is inserted when it is offered (``outcome`` NULL: in progress),
updated when it is answered and when it leaves the ACD, so the log of a
crashed ACD still has every call offered up to its last batch. Rows are buffered and written in
batches on a worker thread (``asyncio.to_thread``) every ``flush_interval``
seconds and at ``close``, so the routing loop never waits on the database.

Outcomes: the ACD's (``answered``, ``abandoned``, ``overflowed``,
``disconnected``, ``callback``), ``withdrawn`` (the ACD had the call and the
switch's default routing took it: link loss, nobody staffed), and
``default_routed``: a call the switch routed by itself while no ACD was routing,
seen again at resynchronisation (``default_routed``) - either a new row, or the
in-progress row an earlier session of the same scenario left behind (a crash),
which is then settled; ``settle_earlier`` settles the rest of those rows
(``answered`` when they had been answered, else ``default_routed``).

The schema is four small append-only tables owned by the live ACD, created with
``metadata.create_all`` on their own ``DeclarativeBase`` (no Alembic: there is
nothing to migrate yet, and the services' migrations stay independent of it).
Engines come from ``ccsim.services.db.make_engine`` (SQLite in WAL mode with
foreign keys on; PostgreSQL by URL).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    Boolean,
    Connection,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    bindparam,
    insert,
    select,
    update,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from ccsim import events as ev
from ccsim.acd import ACD, ACDError
from ccsim.events import Command, Event

__all__ = [
    "DEFAULT_ROUTED",
    "AgentStateRow",
    "CallLog",
    "CallRow",
    "DeliveryRow",
    "LogBase",
    "RosterRow",
    "SessionRow",
    "load_roster",
    "save_roster_entry",
]

log = logging.getLogger("ccsim.live.calllog")

#: outcome of a call the switch's default routing placed while no ACD was routing
DEFAULT_ROUTED = "default_routed"


class LogBase(DeclarativeBase):
    """The call log's own metadata (kept apart from the services' ``Base``)."""


class SessionRow(LogBase):
    __tablename__ = "acd_sessions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    scenario: Mapped[str] = mapped_column(String(200), default="")
    started: Mapped[dt.datetime] = mapped_column()
    stopped: Mapped[dt.datetime | None] = mapped_column(nullable=True)


class CallRow(LogBase):
    __tablename__ = "acd_calls"

    id: Mapped[str] = mapped_column(String(300), primary_key=True)  # session:call_id
    session: Mapped[str] = mapped_column(ForeignKey("acd_sessions.id"), index=True)
    call_id: Mapped[str] = mapped_column(String(200), index=True)
    service: Mapped[str] = mapped_column(String(200))
    routing_point: Mapped[str] = mapped_column(String(200), default="")
    calling_number: Mapped[str] = mapped_column(String(100), default="")
    via_ivr: Mapped[bool] = mapped_column(Boolean, default=False)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    attributes: Mapped[str] = mapped_column(Text, default="{}")  # JSON
    queue: Mapped[str | None] = mapped_column(String(200), nullable=True)
    offered_at: Mapped[float] = mapped_column(Float)
    queued_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    delivered_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    answered_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    ended_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    agent_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(20), nullable=True)
    destination: Mapped[str | None] = mapped_column(String(200), nullable=True)
    wait: Mapped[float | None] = mapped_column(Float, nullable=True)
    talk: Mapped[float | None] = mapped_column(Float, nullable=True)
    deliveries: Mapped[int] = mapped_column(Integer, default=0)
    ronas: Mapped[int] = mapped_column(Integer, default=0)


class DeliveryRow(LogBase):
    __tablename__ = "acd_deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call: Mapped[str] = mapped_column(ForeignKey("acd_calls.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    agent_id: Mapped[str] = mapped_column(String(200))
    queue: Mapped[str | None] = mapped_column(String(200), nullable=True)
    at: Mapped[float] = mapped_column(Float)
    result: Mapped[str | None] = mapped_column(String(20), nullable=True)
    result_at: Mapped[float | None] = mapped_column(Float, nullable=True)


class AgentStateRow(LogBase):
    __tablename__ = "acd_agent_states"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session: Mapped[str] = mapped_column(ForeignKey("acd_sessions.id"), index=True)
    agent_id: Mapped[str] = mapped_column(String(200), index=True)
    state: Mapped[str] = mapped_column(String(30))
    reason: Mapped[str] = mapped_column(String(200), default="")
    at: Mapped[float] = mapped_column(Float)
    cause: Mapped[str] = mapped_column(String(50), default="")


@dataclass(slots=True)
class _OpenCall:
    row: dict[str, Any]
    deliveries: list[dict[str, Any]] = field(default_factory=list)
    written: bool = False  # the row is in the database (later writes update it)


class CallLog:
    """Buffered writer of the call log for one ACD session (see the module docstring).

    ``acd``: the ACD whose agents' states are read after each event.
    ``call_info``: call id -> (routing point device, calling number), from the binding.
    ``ivr_services``: services whose calls all come through the IVR (a call whose
    attributes say ``via = "ivr"`` counts as an IVR call too).
    """

    def __init__(
        self,
        url: str,
        acd: ACD,
        *,
        call_info: Callable[[str], tuple[str, str] | None] | None = None,
        ivr_services: Iterable[str] = (),
        scenario: str = "",
        flush_interval: float = 1.0,
    ) -> None:
        from ccsim.services.db import make_engine  # noqa: PLC0415

        self.engine = make_engine(url)
        LogBase.metadata.create_all(self.engine)
        self.acd = acd
        self.call_info = call_info
        self.ivr_services = frozenset(ivr_services)
        self.flush_interval = float(flush_interval)
        self.session = uuid.uuid4().hex
        self.scenario = scenario
        self._calls: dict[str, _OpenCall] = {}
        self._agent_state: dict[str, tuple[str, str]] = {}
        #: calls whose row must be written (inserted, or updated once written)
        self._dirty: dict[str, _OpenCall] = {}
        self._deliveries: list[dict[str, Any]] = []
        self._states: list[dict[str, Any]] = []
        #: default-routed calls and settling of earlier sessions, in order
        self._ops: list[tuple[Any, ...]] = []
        self._foreign_rows: dict[str, str] = {}  # call id -> its row (worker thread only)
        self._lock = asyncio.Lock()
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.rows_written = 0
        with self.engine.begin() as conn:
            conn.execute(
                insert(SessionRow),
                [{"id": self.session, "scenario": scenario, "started": _utcnow(), "stopped": None}],
            )

    # ------------------------------------------------------------------ feeding

    def record(self, event: Event, commands: list[Command]) -> None:
        """One accepted event and its commands: update the open calls, note state changes."""
        at = float(event.at)
        agents: list[str] = []
        if isinstance(event, ev.AgentEvent):
            agents.append(event.agent_id)
        call_id = getattr(event, "call_id", None)
        if call_id is not None:
            call = self._calls.get(call_id)
            if call is not None and call.row["agent_id"]:
                agents.append(call.row["agent_id"])
        self._on_event(event, at)
        for cmd in commands:
            agent = getattr(cmd, "agent_id", None)
            if agent:
                agents.append(agent)
            self._on_command(cmd, at)
        if call_id is not None and isinstance(
            event, ev.CallEnded | ev.CallAbandoned | ev.CallWithdrawn
        ):
            self._finish(call_id)
        for cmd in commands:
            if isinstance(cmd, ev.Overflow | ev.Disconnect | ev.OfferCallback):
                self._finish(cmd.call_id)
        cause = type(event).__name__
        for agent in dict.fromkeys(agents):
            self._note_state(agent, at, cause)

    def _on_event(self, event: Event, at: float) -> None:
        if isinstance(event, ev.CallOffered):
            rp, caller = (self.call_info(event.call_id) if self.call_info else None) or (
                event.routing_point or "",
                "",
            )
            call = self._calls[event.call_id] = _OpenCall(
                {
                    "id": f"{self.session}:{event.call_id}",
                    "session": self.session,
                    "call_id": event.call_id,
                    "service": event.service,
                    "routing_point": rp,
                    "calling_number": caller,
                    "via_ivr": event.service in self.ivr_services
                    or event.attributes.get("via") == "ivr",
                    "priority": event.priority,
                    "attributes": json.dumps(dict(event.attributes), ensure_ascii=False),
                    "queue": None,
                    "offered_at": at,
                    "queued_at": None,
                    "delivered_at": None,
                    "answered_at": None,
                    "ended_at": None,
                    "agent_id": None,
                    "outcome": None,
                    "destination": None,
                    "wait": None,
                    "talk": None,
                    "deliveries": 0,
                    "ronas": 0,
                }
            )
            self._dirty[call.row["id"]] = call  # inserted with the next batch
            return
        open_call = self._calls.get(getattr(event, "call_id", ""))
        if open_call is None:
            return
        call, row = open_call, open_call.row
        if isinstance(event, ev.CallAnswered):
            row["answered_at"] = at
            row["agent_id"] = event.agent_id
            row["wait"] = at - row["offered_at"]
            self._close_delivery(call, "answered", at, event.agent_id)
            self._dirty[row["id"]] = call  # a restart then knows it was answered
        elif isinstance(event, ev.CallEnded):
            row["ended_at"] = at
            row["outcome"] = ev.CallOutcome.ANSWERED.value
            if row["answered_at"] is not None:
                row["talk"] = at - row["answered_at"]
        elif isinstance(event, ev.CallAbandoned | ev.CallWithdrawn):
            row["ended_at"] = at
            abandoned = isinstance(event, ev.CallAbandoned)
            outcome = ev.CallOutcome.ABANDONED if abandoned else ev.CallOutcome.WITHDRAWN
            row["outcome"] = outcome.value
            row["wait"] = at - row["offered_at"]
            self._close_delivery(call, outcome.value, at)
            row["agent_id"] = None
        elif isinstance(event, ev.DeliveryFailed):
            self._close_delivery(call, "failed", at, event.agent_id)
            if row["agent_id"] == event.agent_id:
                row["agent_id"] = None

    def _on_command(self, cmd: Command, at: float) -> None:
        call = self._calls.get(getattr(cmd, "call_id", ""))
        if call is None:
            return
        row = call.row
        if isinstance(cmd, ev.Enqueue):
            if row["queued_at"] is None:
                row["queued_at"] = at
            row["queue"] = cmd.queue
        elif isinstance(cmd, ev.Deliver):
            row["delivered_at"] = at
            row["agent_id"] = cmd.agent_id
            row["deliveries"] += 1
            if cmd.queue is not None:
                row["queue"] = cmd.queue
            call.deliveries.append(
                {
                    "call": row["id"],
                    "seq": row["deliveries"],
                    "agent_id": cmd.agent_id,
                    "queue": cmd.queue or row["queue"],
                    "at": at,
                    "result": None,
                    "result_at": None,
                }
            )
        elif isinstance(cmd, ev.Retract):
            row["ronas"] += 1
            self._close_delivery(call, cmd.reason, at, cmd.agent_id)
            if row["agent_id"] == cmd.agent_id:
                row["agent_id"] = None
        elif isinstance(cmd, ev.Overflow | ev.Disconnect | ev.OfferCallback):
            row["ended_at"] = at
            row["wait"] = at - row["offered_at"]
            row["outcome"] = {
                ev.Overflow: ev.CallOutcome.OVERFLOWED,
                ev.Disconnect: ev.CallOutcome.DISCONNECTED,
                ev.OfferCallback: ev.CallOutcome.CALLBACK,
            }[type(cmd)].value
            if isinstance(cmd, ev.Overflow):
                row["destination"] = cmd.destination

    @staticmethod
    def _close_delivery(call: _OpenCall, result: str, at: float, agent: str | None = None) -> None:
        """Settle the open delivery (to ``agent``, when given: a retract and a
        redelivery can come in one batch, in either order)."""
        for d in reversed(call.deliveries):
            if d["result"] is None and (agent is None or d["agent_id"] == agent):
                d["result"], d["result_at"] = result, at
                return

    def _finish(self, call_id: str) -> None:
        call = self._calls.pop(call_id, None)
        if call is not None:
            self._dirty[call.row["id"]] = call
            self._deliveries += call.deliveries

    # ------------------------------------------------------------------ resynchronisation

    def default_routed(
        self,
        call_id: str,
        at: float,
        *,
        service: str = "",
        routing_point: str = "",
        agent_id: str | None = None,
    ) -> None:
        """A call seen at resync that the switch routed by itself (no ACD was routing).

        If an earlier session of this scenario left the call in progress (it
        crashed, or stopped while the call was on), that row is settled:
        ``answered`` if it had been answered, else ``default_routed``. Otherwise
        a new row of this session with outcome ``default_routed``. Either row
        gets the call's end from ``foreign_ended``.
        """
        self._ops.append(("seen", call_id, at, service, routing_point, agent_id))

    def foreign_ended(self, call_id: str, at: float) -> None:
        """A default-routed call left the ACD's devices: its end time."""
        self._ops.append(("end", call_id, at))

    def settle_earlier(self) -> None:
        """Settle the in-progress rows earlier sessions of this scenario left behind.

        Called after a restart's resync (after ``default_routed`` of the calls
        still there): the switch's default routing took the rest while no ACD ran.
        """
        self._ops.append(("settle",))

    def _earlier_sessions(self) -> Any:
        return select(SessionRow.id).where(
            SessionRow.scenario == self.scenario, SessionRow.id != self.session
        )

    def _apply(self, conn: Connection, op: tuple[Any, ...]) -> int:
        """One resync operation, on the worker thread; returns rows touched."""
        if op[0] == "seen":
            _kind, call_id, at, service, routing_point, agent_id = op
            old = conn.execute(
                select(CallRow.id, CallRow.answered_at)
                .where(
                    CallRow.call_id == call_id,
                    CallRow.outcome.is_(None),
                    CallRow.session.in_(self._earlier_sessions()),
                )
                .order_by(CallRow.offered_at.desc())
                .limit(1)
            ).first()
            if old is not None:
                answered = old.answered_at is not None
                conn.execute(
                    update(CallRow)
                    .where(CallRow.id == old.id)
                    .values(outcome=ev.CallOutcome.ANSWERED.value if answered else DEFAULT_ROUTED)
                )
                self._foreign_rows[call_id] = old.id
                return 1
            row_id = f"{self.session}:{call_id}"
            self._foreign_rows[call_id] = row_id
            if conn.execute(select(CallRow.id).where(CallRow.id == row_id)).first() is not None:
                return 0  # seen before in this session
            conn.execute(
                insert(CallRow),
                [
                    {
                        "id": row_id,
                        "session": self.session,
                        "call_id": call_id,
                        "service": service,
                        "routing_point": routing_point,
                        "calling_number": "",
                        "via_ivr": service in self.ivr_services,
                        "priority": 0,
                        "attributes": "{}",
                        "offered_at": at,
                        "agent_id": agent_id,
                        "outcome": DEFAULT_ROUTED,
                    }
                ],
            )
            return 1
        if op[0] == "end":
            _kind, call_id, at = op
            row_id = self._foreign_rows.pop(call_id, "")
            if not row_id:
                return 0
            found = conn.execute(
                select(CallRow.answered_at, CallRow.ended_at).where(CallRow.id == row_id)
            ).first()
            if found is None or found.ended_at is not None:
                return 0
            talk = at - found.answered_at if found.answered_at is not None else None
            conn.execute(update(CallRow).where(CallRow.id == row_id).values(ended_at=at, talk=talk))
            return 1
        # settle: whatever earlier sessions left open is gone from the switch now
        result = conn.execute(
            update(CallRow)
            .where(
                CallRow.outcome.is_(None),
                CallRow.session.in_(self._earlier_sessions()),
                CallRow.answered_at.is_not(None),
            )
            .values(outcome=ev.CallOutcome.ANSWERED.value)
        )
        result2 = conn.execute(
            update(CallRow)
            .where(CallRow.outcome.is_(None), CallRow.session.in_(self._earlier_sessions()))
            .values(outcome=DEFAULT_ROUTED)
        )
        return int(result.rowcount or 0) + int(result2.rowcount or 0)

    def _note_state(self, agent: str, at: float, cause: str) -> None:
        try:
            view = self.acd.agent(agent)
            now = (view.state.value, view.reason or "")
        except ACDError:
            now = (ev.AgentState.LOGGED_OFF.value, "")
        before = self._agent_state.get(agent)
        if before == now or (before is None and now[0] == ev.AgentState.LOGGED_OFF.value):
            return
        self._agent_state[agent] = now
        self._states.append(
            {
                "session": self.session,
                "agent_id": agent,
                "state": now[0],
                "reason": now[1],
                "at": at,
                "cause": cause,
            }
        )

    # ------------------------------------------------------------------ writing

    def _take(self, *, everything: bool) -> _Batch:
        """What to write now (copies: the loop thread keeps changing open rows)."""
        dirty, self._dirty = self._dirty, {}
        deliveries, self._deliveries = self._deliveries, []
        if everything:  # a clean stop: the calls still open are written as they are
            for call in self._calls.values():
                dirty.setdefault(call.row["id"], call)
                deliveries += call.deliveries
            self._calls.clear()
        states, self._states = self._states, []
        ops, self._ops = self._ops, []
        return _Batch(
            calls=list(dirty.values()),
            inserts=[dict(c.row) for c in dirty.values() if not c.written],
            updates=[dict(c.row) for c in dirty.values() if c.written],
            deliveries=[dict(d) for d in deliveries],
            states=states,
            ops=ops,
        )

    def _write(self, batch: _Batch, stop: bool) -> int:
        with self.engine.begin() as conn:
            if batch.inserts:
                conn.execute(insert(CallRow), batch.inserts)
            if batch.updates:
                conn.execute(
                    update(CallRow).where(CallRow.id == bindparam("_id")),
                    [
                        {"_id": r["id"], **{k: v for k, v in r.items() if k in _UPDATED}}
                        for r in batch.updates
                    ],
                )
            if batch.deliveries:
                conn.execute(insert(DeliveryRow), batch.deliveries)
            if batch.states:
                conn.execute(insert(AgentStateRow), batch.states)
            touched = sum(self._apply(conn, op) for op in batch.ops)
            if stop:
                conn.execute(
                    update(SessionRow)
                    .where(SessionRow.id == self.session)
                    .values(stopped=_utcnow())
                )
        return (
            len(batch.inserts)
            + len(batch.updates)
            + len(batch.deliveries)
            + len(batch.states)
            + touched
        )

    @property
    def pending(self) -> int:
        """Rows and operations buffered, not yet written."""
        return len(self._dirty) + len(self._deliveries) + len(self._states) + len(self._ops)

    async def flush(self, *, stop: bool = False) -> None:
        """Write what is buffered now, on a worker thread (all of it when ``stop``)."""
        async with self._lock:
            batch = self._take(everything=stop)
            if not (batch.calls or batch.deliveries or batch.states or batch.ops or stop):
                return
            try:
                self.rows_written += await asyncio.to_thread(self._write, batch, stop)
            except Exception:
                # keep the rows for the next attempt rather than lose them
                log.exception("call log write failed; will retry")
                for call in batch.calls:
                    self._dirty.setdefault(call.row["id"], call)
                self._deliveries[:0] = batch.deliveries
                self._states[:0] = batch.states
                self._ops[:0] = batch.ops
                if stop:
                    raise
            else:
                for call in batch.calls:
                    call.written = True

    async def _run(self) -> None:
        # never cancelled mid-write: close() sets _stopping and waits for this to return
        while not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.flush_interval)
            with contextlib.suppress(Exception):  # logged in flush; rows kept for a retry
                await self.flush()

    def start(self) -> None:
        """Start the periodic writer on the running loop."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="call-log")

    async def close(self) -> None:
        """Stop the periodic writer, write everything left, release the engine."""
        self._stopping.set()
        if self._task is not None:
            await self._task
            self._task = None
        await self.flush(stop=True)
        self.engine.dispose()


@dataclass(slots=True)
class _Batch:
    calls: list[_OpenCall]
    inserts: list[dict[str, Any]]
    updates: list[dict[str, Any]]
    deliveries: list[dict[str, Any]]
    states: list[dict[str, Any]]
    ops: list[tuple[Any, ...]]


#: call-row columns that change after the offer
_UPDATED = frozenset(
    {
        "queue",
        "queued_at",
        "delivered_at",
        "answered_at",
        "ended_at",
        "agent_id",
        "outcome",
        "destination",
        "wait",
        "talk",
        "deliveries",
        "ronas",
    }
)


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


# ---- audit (supervisor API)


class AuditRow(LogBase):
    """One supervisor-API action or refused request (append-only; see ``ccsim.live.api``)."""

    __tablename__ = "acd_audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session: Mapped[str] = mapped_column(ForeignKey("acd_sessions.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(index=True)  # UTC wall time
    who: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(100))
    target: Mapped[str] = mapped_column(String(200))
    result: Mapped[str] = mapped_column(String(20))  # ok | refused | denied | failed
    status: Mapped[int] = mapped_column(Integer)
    detail: Mapped[str] = mapped_column(Text, default="")
    client: Mapped[str] = mapped_column(String(100))


def write_audit(call_log: CallLog, records: list[dict[str, Any]]) -> None:
    """Insert audit records (``AuditRow`` fields but ``session``) in one transaction.

    Blocking: the API calls it on a worker thread. Audit rows are rare (one per
    human action), so they are written at once rather than batched with calls.
    """
    rows = [{**r, "session": call_log.session} for r in records]
    with call_log.engine.begin() as conn:
        conn.execute(insert(AuditRow), rows)


# ---- run-time roster (supervisor API)


class RosterRow(LogBase):
    """An agent's run-time roster entry, overriding the scenario's on the next start.

    The seed's dynamic configuration: agents added or re-skilled during the day
    must survive an ACD restart. ``active`` False marks an agent removed from
    the roster (the scenario's entry no longer applies either).
    """

    __tablename__ = "acd_roster"

    agent_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    station: Mapped[str] = mapped_column(String(64))
    skills: Mapped[str] = mapped_column(Text, default="{}")  # JSON: skill -> level
    active: Mapped[bool] = mapped_column(default=True)
    changed_at: Mapped[dt.datetime] = mapped_column()  # UTC wall time
    session: Mapped[str] = mapped_column(ForeignKey("acd_sessions.id"))


def save_roster_entry(
    call_log: CallLog, agent_id: str, station: str, skills: Mapping[str, int] | None
) -> None:
    """Upsert one agent's roster entry (``skills`` None: removed). Blocking, and rare."""
    values = {
        "agent_id": agent_id,
        "station": station,
        "skills": json.dumps(dict(skills or {}), ensure_ascii=False, sort_keys=True),
        "active": skills is not None,
        "changed_at": _utcnow(),
        "session": call_log.session,
    }
    with call_log.engine.begin() as conn:
        done = conn.execute(
            update(RosterRow).where(RosterRow.agent_id == agent_id).values(**values)
        ).rowcount
        if not done:
            conn.execute(insert(RosterRow), [values])


def load_roster(call_log: CallLog) -> dict[str, tuple[str, dict[str, int]] | None]:
    """The stored overrides: agent id -> (station, skills), or None for a removed agent."""
    with call_log.engine.connect() as conn:
        rows = conn.execute(
            select(RosterRow.agent_id, RosterRow.station, RosterRow.skills, RosterRow.active)
        ).all()
    out: dict[str, tuple[str, dict[str, int]] | None] = {}
    for agent_id, station, skills, active in rows:
        out[agent_id] = (
            (station, {str(k): int(v) for k, v in json.loads(skills).items()}) if active else None
        )
    return out
