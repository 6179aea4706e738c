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
  same database and earlier rows stay as they were.

A call's rows are written when it leaves the ACD; calls still open at a clean
stop are written then with ``outcome`` NULL. Rows are buffered and written in
batches on a worker thread (``asyncio.to_thread``) every ``flush_interval``
seconds and at ``close``, so the routing loop never waits on the database.

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
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, Text, insert, update
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from ccsim import events as ev
from ccsim.acd import ACD, ACDError
from ccsim.events import Command, Event

__all__ = [
    "AgentStateRow",
    "CallLog",
    "CallRow",
    "DeliveryRow",
    "LogBase",
    "SessionRow",
]

log = logging.getLogger("ccsim.live.calllog")


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
        self._calls: dict[str, _OpenCall] = {}
        self._agent_state: dict[str, tuple[str, str]] = {}
        self._done: list[_OpenCall] = []
        self._states: list[dict[str, Any]] = []
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
        if call_id is not None and isinstance(event, ev.CallEnded | ev.CallAbandoned):
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
            self._calls[event.call_id] = _OpenCall(
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
            return
        call = self._calls.get(getattr(event, "call_id", ""))
        if call is None:
            return
        row = call.row
        if isinstance(event, ev.CallAnswered):
            row["answered_at"] = at
            row["agent_id"] = event.agent_id
            row["wait"] = at - row["offered_at"]
            self._close_delivery(call, "answered", at, event.agent_id)
        elif isinstance(event, ev.CallEnded):
            row["ended_at"] = at
            row["outcome"] = ev.CallOutcome.ANSWERED.value
            if row["answered_at"] is not None:
                row["talk"] = at - row["answered_at"]
        elif isinstance(event, ev.CallAbandoned):
            row["ended_at"] = at
            row["outcome"] = ev.CallOutcome.ABANDONED.value
            row["wait"] = at - row["offered_at"]
            self._close_delivery(call, "abandoned", at)
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
            self._done.append(call)

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

    def _take(self, *, everything: bool) -> tuple[list[_OpenCall], list[dict[str, Any]]]:
        calls, self._done = self._done, []
        if everything:  # a clean stop: the calls still open go too (outcome NULL)
            calls += self._calls.values()
            self._calls.clear()
        states, self._states = self._states, []
        return calls, states

    def _write(self, calls: list[_OpenCall], states: list[dict[str, Any]], stop: bool) -> int:
        deliveries = [d for c in calls for d in c.deliveries]
        with self.engine.begin() as conn:
            if calls:
                conn.execute(insert(CallRow), [c.row for c in calls])
            if deliveries:
                conn.execute(insert(DeliveryRow), deliveries)
            if states:
                conn.execute(insert(AgentStateRow), states)
            if stop:
                conn.execute(
                    update(SessionRow)
                    .where(SessionRow.id == self.session)
                    .values(stopped=_utcnow())
                )
        return len(calls) + len(deliveries) + len(states)

    async def flush(self, *, stop: bool = False) -> None:
        """Write what is buffered now, on a worker thread (all of it when ``stop``)."""
        async with self._lock:
            calls, states = self._take(everything=stop)
            if not (calls or states or stop):
                return
            try:
                self.rows_written += await asyncio.to_thread(self._write, calls, states, stop)
            except Exception:
                # keep the rows for the next attempt rather than lose them
                log.exception("call log write failed; will retry")
                self._done[:0] = calls
                self._states[:0] = states
                if stop:
                    raise

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


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)
