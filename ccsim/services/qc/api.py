"""The /qc HTTP endpoints.

Every access decision goes through :mod:`ccsim.services.qc.policy`; totals and
grades come from :mod:`ccsim.services.qc.scoring`. Every write is audited and
every refusal happens before anything is added to the session, so a 4xx
leaves the database as it was.
"""

import csv
import io
import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import nh3
from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response
from sqlalchemy import ColumnElement, Select, and_, func, or_, select, update
from sqlalchemy.orm import Session

from ccsim.services import search
from ccsim.services.context import ServiceContext
from ccsim.services.errors import ApiError, forbidden, not_found
from ccsim.services.models import DepartmentMember, User
from ccsim.services.qc import policy, reports, scoring
from ccsim.services.qc.models import (
    QcAppeal,
    QcCalibration,
    QcCall,
    QcEvaluation,
    QcEvaluationCall,
    QcEvaluationHistory,
    QcEvaluationItem,
    QcIntervention,
    QcQueueItem,
    QcSample,
    QcScorecard,
    QcScorecardVersion,
    QcTypicalCase,
)
from ccsim.services.qc.schemas import (
    QC_TYPES,
    AppealDecisionIn,
    AppealIn,
    AppealOut,
    AppealPage,
    CalibrationIn,
    CalibrationOut,
    CalibrationReport,
    CallDetailOut,
    CallIn,
    CallOut,
    CallPage,
    EvaluationIn,
    EvaluationOut,
    EvaluationPage,
    EvaluationPatch,
    HistoryOut,
    InterventionIn,
    InterventionOut,
    InterventionPage,
    ItemScoreIn,
    ItemScoreOut,
    QueueItemOut,
    QueuePage,
    ReportOut,
    ReportRow,
    SampleIn,
    SampleOut,
    ScorecardEdit,
    ScorecardIn,
    ScorecardOut,
    SpreadOut,
    TypicalCaseIn,
    TypicalCaseOut,
    TypicalCasePage,
)
from ccsim.services.schemas import DbId

__all__ = ["QcSettings", "build_router"]

#: HTML kept in stored comments and notes; everything else (``<script>``, attributes) goes.
ALLOWED_TAGS = frozenset({"b", "i", "u", "em", "strong", "p", "br", "ul", "ol", "li"})
_PRINTABLE = r"^[^\x00-\x1f\x7f]*$"
MAX_EXPORT_ROWS = 50_000


@dataclass(frozen=True)
class QcSettings:
    """Review-queue tunables; put one on ``app.state.settings.qc`` to change them."""

    claim_limit: int = 5
    claim_ttl: timedelta = timedelta(hours=2)


def clean(text: str) -> str:
    """Allow-list HTML sanitising of free text stored by QC."""
    return nh3.clean(text, tags=set(ALLOWED_TAGS), attributes={})


def _like(term: str) -> str:
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _csv_cell(value: Any) -> str:
    """A CSV cell that a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


_EVAL_SORTS: dict[str, Any] = {
    name: getattr(QcEvaluation, name)
    for name in (
        "id",
        "start_serial",
        "end_serial",
        "inspector_id",
        "agent_id",
        "qc_type",
        "business_type",
        "total",
        "grade",
        "started_at",
        "ended_at",
        "call_duration",
        "created_at",
    )
}
_SORT_PATTERN = "^-?(" + "|".join(_EVAL_SORTS) + ")$"

Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0, le=2**31 - 1)]
Text64 = Annotated[str | None, Query(max_length=64, pattern=_PRINTABLE)]
FloatQ = Annotated[float | None, Query(allow_inf_nan=False, ge=-1e9, le=1e9)]
IntQ = Annotated[int | None, Query(ge=0, le=2**31 - 1)]


def eval_filters(
    inspector_id: DbId | None = None,
    agent_id: DbId | None = None,
    qc_type: Annotated[str | None, Query(pattern="^(" + "|".join(QC_TYPES) + ")$")] = None,
    business_type: Text64 = None,
    grade: Annotated[str | None, Query(max_length=8, pattern=_PRINTABLE)] = None,
    scorecard_id: DbId | None = None,
    calibration_id: DbId | None = None,
    call_id: Text64 = None,
    start_serial_min: IntQ = None,
    start_serial_max: IntQ = None,
    end_serial_min: IntQ = None,
    end_serial_max: IntQ = None,
    total_min: FloatQ = None,
    total_max: FloatQ = None,
    call_duration_min: FloatQ = None,
    call_duration_max: FloatQ = None,
    started_from: datetime | None = None,
    started_to: datetime | None = None,
    ended_from: datetime | None = None,
    ended_to: datetime | None = None,
    comments: Annotated[str | None, Query(max_length=200, pattern=_PRINTABLE)] = None,
) -> list[ColumnElement[bool]]:
    """Query on every field; ranges are inclusive, time ranges are [from, to)."""
    e = QcEvaluation
    out: list[ColumnElement[bool]] = []
    col: Any
    for col, val in (
        (e.inspector_id, inspector_id),
        (e.agent_id, agent_id),
        (e.qc_type, qc_type),
        (e.business_type, business_type),
        (e.grade, grade),
        (e.calibration_id, calibration_id),
    ):
        if val is not None:
            out.append(col == val)
    lo: Any
    hi: Any
    for col, lo, hi in (
        (e.start_serial, start_serial_min, start_serial_max),
        (e.end_serial, end_serial_min, end_serial_max),
        (e.total, total_min, total_max),
        (e.call_duration, call_duration_min, call_duration_max),
    ):
        if lo is not None:
            out.append(col >= lo)
        if hi is not None:
            out.append(col <= hi)
    for col, t0, t1 in (
        (e.started_at, started_from, started_to),
        (e.ended_at, ended_from, ended_to),
    ):
        if t0 is not None:
            out.append(col >= _naive(t0))
        if t1 is not None:
            out.append(col < _naive(t1))
    if scorecard_id is not None:
        out.append(
            e.scorecard_version_id.in_(
                select(QcScorecardVersion.id).where(QcScorecardVersion.scorecard_id == scorecard_id)
            )
        )
    if call_id is not None:
        out.append(
            e.id.in_(
                select(QcEvaluationCall.evaluation_id).where(QcEvaluationCall.call_id == call_id)
            )
        )
    if comments:
        out.append(e.comments.like(_like(comments), escape="\\"))
    return out


def _naive(t: datetime) -> datetime:
    return t if t.tzinfo is None else t.astimezone(UTC).replace(tzinfo=None)


def build_router(ctx: ServiceContext) -> APIRouter:
    """The /qc endpoints, wired to the application's sessions, auth and audit."""
    router = APIRouter(prefix="/qc", tags=["qc"])
    Db = Annotated[Session, Depends(ctx.get_db)]  # noqa: N806 - a type alias
    Me = Annotated[User, Depends(ctx.current_user)]  # noqa: N806 - a type alias
    Filters = Annotated[list[ColumnElement[bool]], Depends(eval_filters)]  # noqa: N806

    def settings() -> QcSettings:
        found = getattr(ctx.settings, "qc", None)
        return found if isinstance(found, QcSettings) else QcSettings()

    # ------------------------------------------------------------ shared lookups

    def definition_of(db: Session, version_id: int) -> tuple[QcScorecardVersion, dict[str, Any]]:
        ver = db.get(QcScorecardVersion, version_id)
        assert ver is not None
        return ver, json.loads(ver.definition)

    def current_version(db: Session, scorecard_id: int) -> QcScorecardVersion:
        card = db.get(QcScorecard, scorecard_id)
        if card is None:
            raise ApiError(422, "unknown_scorecard", f"no scorecard {scorecard_id}")
        ver = db.scalar(
            select(QcScorecardVersion).where(
                QcScorecardVersion.scorecard_id == card.id,
                QcScorecardVersion.version == card.current_version,
            )
        )
        assert ver is not None
        return ver

    def visible_evaluation(db: Session, me: User, ev_id: int) -> QcEvaluation:
        ev = db.scalar(
            select(QcEvaluation).where(QcEvaluation.id == ev_id, policy.evaluation_scope(me))
        )
        if ev is None:
            raise not_found("evaluation")
        return ev

    def user_with_role(db: Session, user_id: int, role: str | None, what: str) -> User:
        user = db.get(User, user_id)
        if user is None or (role is not None and role not in user.role_names):
            raise ApiError(422, f"unknown_{what}", f"no {what} {user_id}")
        return user

    def outs(db: Session, evs: Sequence[QcEvaluation], detail: bool = False) -> list[EvaluationOut]:
        """Response bodies for ``evs`` in a fixed number of queries."""
        ids = [e.id for e in evs]
        if not ids:
            return []
        versions = {
            v.id: v
            for v in db.scalars(
                select(QcScorecardVersion).where(
                    QcScorecardVersion.id.in_({e.scorecard_version_id for e in evs})
                )
            )
        }
        calls: dict[int, list[str]] = defaultdict(list)
        for ec in db.scalars(
            select(QcEvaluationCall)
            .where(QcEvaluationCall.evaluation_id.in_(ids))
            .order_by(QcEvaluationCall.call_id)
        ):
            calls[ec.evaluation_id].append(ec.call_id)
        items: dict[int, list[ItemScoreOut]] = defaultdict(list)
        for it in db.scalars(
            select(QcEvaluationItem)
            .where(QcEvaluationItem.evaluation_id.in_(ids))
            .order_by(QcEvaluationItem.id)
        ):
            items[it.evaluation_id].append(
                ItemScoreOut(
                    key=it.item_key,
                    section=it.section,
                    points=it.points,
                    max_points=it.max_points,
                    weight=it.weight,
                    comment=it.comment,
                )
            )
        appeals = {
            a.evaluation_id: AppealOut.model_validate(a)
            for a in db.scalars(select(QcAppeal).where(QcAppeal.evaluation_id.in_(ids)))
        }
        interventions: dict[str, list[InterventionOut]] = defaultdict(list)
        if detail:
            all_calls = {c for cs in calls.values() for c in cs}
            for iv in db.scalars(
                select(QcIntervention)
                .where(QcIntervention.call_id.in_(all_calls))
                .order_by(QcIntervention.at, QcIntervention.id)
            ):
                interventions[iv.call_id or ""].append(InterventionOut.model_validate(iv))
        result = []
        for e in evs:
            ver = versions[e.scorecard_version_id]
            result.append(
                EvaluationOut(
                    id=e.id,
                    version=e.version,
                    scorecard_id=ver.scorecard_id,
                    scorecard_version=ver.version,
                    calibration_id=e.calibration_id,
                    call_ids=calls[e.id],
                    start_serial=e.start_serial,
                    end_serial=e.end_serial,
                    inspector_id=e.inspector_id,
                    agent_id=e.agent_id,
                    qc_type=e.qc_type,
                    business_type=e.business_type,
                    total=e.total,
                    grade=e.grade,
                    started_at=e.started_at,
                    ended_at=e.ended_at,
                    comments=e.comments,
                    call_duration=e.call_duration,
                    created_at=e.created_at,
                    updated_at=e.updated_at,
                    items=items[e.id],
                    interventions=[iv for c in calls[e.id] for iv in interventions[c]],
                    appeal=appeals.get(e.id),
                )
            )
        return result

    # ------------------------------------------------------------ scorecards

    def scorecard_out(card: QcScorecard, ver: QcScorecardVersion) -> ScorecardOut:
        return ScorecardOut(
            id=card.id,
            name=card.name,
            version=ver.version,
            definition=json.loads(ver.definition),
            created_at=ver.created_at,
        )

    @router.post("/scorecards", response_model=ScorecardOut, status_code=201)
    def create_scorecard(body: ScorecardIn, request: Request, me: Me, db: Db) -> ScorecardOut:
        """A new scorecard at version 1 (admins)."""
        if not policy.can_manage_scorecards(me):
            raise forbidden("only admins manage scorecards")
        if db.scalar(select(QcScorecard.id).where(QcScorecard.name == body.name)) is not None:
            raise ApiError(409, "name_taken", f"scorecard {body.name!r} exists")
        t = ctx.now()
        card = QcScorecard(name=body.name, current_version=1, created_by=me.id, created_at=t)
        db.add(card)
        db.flush()
        ver = QcScorecardVersion(
            scorecard_id=card.id,
            version=1,
            definition=body.model_dump_json(include={"sections", "thresholds"}),
            created_by=me.id,
            created_at=t,
        )
        db.add(ver)
        ctx.audit(db, request, me.id, "qc.scorecard.create", str(card.id), "ok", body.name)
        db.commit()
        return scorecard_out(card, ver)

    @router.get("/scorecards", response_model=list[ScorecardOut])
    def list_scorecards(_me: Me, db: Db) -> list[ScorecardOut]:
        """Current versions of all scorecards (everyone may read the criteria)."""
        rows = db.execute(
            select(QcScorecard, QcScorecardVersion)
            .join(QcScorecardVersion, QcScorecardVersion.scorecard_id == QcScorecard.id)
            .where(QcScorecardVersion.version == QcScorecard.current_version)
            .order_by(QcScorecard.id)
        )
        return [scorecard_out(c, v) for c, v in rows]

    @router.get("/scorecards/{card_id}", response_model=ScorecardOut)
    def get_scorecard(card_id: DbId, _me: Me, db: Db, version: DbId | None = None) -> ScorecardOut:
        card = db.get(QcScorecard, card_id)
        if card is None:
            raise not_found("scorecard")
        ver = db.scalar(
            select(QcScorecardVersion).where(
                QcScorecardVersion.scorecard_id == card.id,
                QcScorecardVersion.version == (version or card.current_version),
            )
        )
        if ver is None:
            raise not_found("scorecard version")
        return scorecard_out(card, ver)

    @router.put("/scorecards/{card_id}", response_model=ScorecardOut)
    def edit_scorecard(
        card_id: DbId, body: ScorecardEdit, request: Request, me: Me, db: Db
    ) -> ScorecardOut:
        """Store a new version; evaluations already made keep the version they used."""
        if not policy.can_manage_scorecards(me):
            raise forbidden("only admins manage scorecards")
        card = db.get(QcScorecard, card_id)
        if card is None:
            raise not_found("scorecard")
        new = body.version + 1
        res = db.execute(
            update(QcScorecard)
            .where(QcScorecard.id == card.id, QcScorecard.current_version == body.version)
            .values(current_version=new)
            .execution_options(synchronize_session="evaluate")
        )
        if res.rowcount != 1:  # type: ignore[attr-defined]
            db.rollback()
            raise ApiError(409, "version_conflict", "the scorecard changed; reload and retry")
        ver = QcScorecardVersion(
            scorecard_id=card.id,
            version=new,
            definition=body.model_dump_json(include={"sections", "thresholds"}),
            created_by=me.id,
            created_at=ctx.now(),
        )
        db.add(ver)
        ctx.audit(db, request, me.id, "qc.scorecard.edit", str(card.id), "ok", {"version": new})
        db.commit()
        return scorecard_out(card, ver)

    # ------------------------------------------------------------ calls (ACD call log)

    @router.post("/calls", response_model=CallOut, status_code=201)
    def ingest_call(body: CallIn, request: Request, me: Me, db: Db) -> QcCall:
        """One call of the ACD call log (the live ACD or an import job, as admin/system)."""
        if not policy.can_ingest(me):
            raise forbidden("only the ACD (admin/system accounts) records calls")
        user_with_role(db, body.agent_id, "agent", "agent")
        if db.scalar(select(QcCall.id).where(QcCall.call_id == body.call_id)) is not None:
            raise ApiError(409, "duplicate_call", f"call {body.call_id} is already recorded")
        call = QcCall(**body.model_dump(), created_at=ctx.now())
        db.add(call)
        ctx.audit(db, request, me.id, "qc.call.ingest", body.call_id, "ok", "")
        db.commit()
        return call

    @router.get("/calls", response_model=CallPage)
    def list_calls(
        me: Me,
        db: Db,
        agent_id: DbId | None = None,
        started_from: datetime | None = None,
        started_to: datetime | None = None,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> CallPage:
        """The call log: QC staff see all calls, team leaders their team's, agents their own."""
        stmt = select(QcCall).where(policy.agent_scope(me, QcCall.agent_id))
        if agent_id is not None:
            stmt = stmt.where(QcCall.agent_id == agent_id)
        if started_from is not None:
            stmt = stmt.where(QcCall.started_at >= _naive(started_from))
        if started_to is not None:
            stmt = stmt.where(QcCall.started_at < _naive(started_to))
        n = db.scalar(select(func.count()).select_from(stmt.subquery())) or 0
        page = db.scalars(stmt.order_by(QcCall.started_at, QcCall.id).limit(limit).offset(offset))
        return CallPage(
            total=n, limit=limit, offset=offset, items=[CallOut.model_validate(c) for c in page]
        )

    @router.get("/calls/{call_id}", response_model=CallDetailOut)
    def get_call(
        call_id: Annotated[str, Path(max_length=64, pattern=_PRINTABLE)], me: Me, db: Db
    ) -> CallDetailOut:
        """The call with its interventions and the evaluations the caller may see."""
        call = db.scalar(
            select(QcCall).where(QcCall.call_id == call_id, policy.agent_scope(me, QcCall.agent_id))
        )
        if call is None:
            raise not_found("call")
        ev_ids = list(
            db.scalars(
                select(QcEvaluation.id)
                .join(QcEvaluationCall, QcEvaluationCall.evaluation_id == QcEvaluation.id)
                .where(QcEvaluationCall.call_id == call_id, policy.evaluation_scope(me))
                .order_by(QcEvaluation.id)
            )
        )
        ivs = db.scalars(
            select(QcIntervention)
            .where(QcIntervention.call_id == call_id)
            .order_by(QcIntervention.at, QcIntervention.id)
        )
        return CallDetailOut(
            call=CallOut.model_validate(call),
            evaluation_ids=ev_ids,
            interventions=[InterventionOut.model_validate(i) for i in ivs],
        )

    # ------------------------------------------------------------ evaluations

    def check_times_serials(
        start_serial: int, end_serial: int, started_at: datetime, ended_at: datetime
    ) -> None:
        if end_serial < start_serial:
            raise ApiError(422, "invalid_serials", "end serial must be >= start serial")
        if ended_at <= started_at:
            raise ApiError(422, "invalid_times", "QC end time must be after QC start time")

    def points_map(items: Sequence[ItemScoreIn]) -> dict[str, float | None]:
        keys = [i.key for i in items]
        if len(keys) != len(set(keys)):
            raise ApiError(422, "duplicate_item", "an item is scored more than once")
        return {i.key: i.points for i in items}

    def compute(definition: dict[str, Any], points: dict[str, float | None]) -> tuple[float, str]:
        try:
            return scoring.score(definition, points)
        except scoring.ScoreError as exc:
            raise ApiError(422, exc.reason, exc.detail) from exc

    def claim_blocks(db: Session, me: User, call_ids: Sequence[str]) -> None:
        """409 if one of the calls is held by another inspector's unexpired claim."""
        held = db.scalar(
            select(QcQueueItem.call_id).where(
                QcQueueItem.call_id.in_(call_ids),
                QcQueueItem.evaluation_id.is_(None),
                QcQueueItem.claimed_by.is_not(None),
                QcQueueItem.claimed_by != me.id,
                QcQueueItem.claim_expires_at > ctx.now(),
            )
        )
        if held is not None:
            raise ApiError(409, "claimed_by_other", f"call {held} is claimed by another inspector")

    @router.post("/evaluations", response_model=EvaluationOut, status_code=201)
    def create_evaluation(body: EvaluationIn, request: Request, me: Me, db: Db) -> EvaluationOut:
        """Score calls; the server computes total and grade on the scorecard's current version
        (a calibration's pinned version for calibration evaluations)."""
        if not policy.can_evaluate(me):
            raise forbidden("only QC inspectors score calls")
        if body.agent_id == me.id:
            raise forbidden("an inspector cannot evaluate themselves")
        check_times_serials(body.start_serial, body.end_serial, body.started_at, body.ended_at)
        user_with_role(db, body.agent_id, "agent", "agent")
        call_ids = list(dict.fromkeys(body.call_ids))
        # Row locks (PostgreSQL; SQLite serialises writers anyway) make two inspectors
        # scoring the same call at once queue up, so the second sees the first's result.
        calls = list(
            db.scalars(
                select(QcCall)
                .where(QcCall.call_id.in_(call_ids))
                .order_by(QcCall.call_id)
                .with_for_update()
            )
        )
        missing = sorted(set(call_ids) - {c.call_id for c in calls})
        if missing:
            raise ApiError(422, "unknown_call", f"not in the call log: {missing}")
        if any(c.agent_id != body.agent_id for c in calls):
            raise ApiError(422, "call_agent_mismatch", "a call was handled by another agent")
        calibration = None
        if (body.qc_type == "calibration") != (body.calibration_id is not None):
            raise ApiError(
                422, "calibration_mismatch", "calibration evaluations need a calibration_id"
            )
        if body.calibration_id is not None:
            calibration = db.get(QcCalibration, body.calibration_id)
            if calibration is None:
                raise ApiError(422, "unknown_calibration", f"no calibration {body.calibration_id}")
            if calibration.call_id not in call_ids:
                raise ApiError(422, "calibration_mismatch", "score the calibration's call")
            ver = db.get(QcScorecardVersion, calibration.scorecard_version_id)
            assert ver is not None
            if ver.scorecard_id != body.scorecard_id:
                raise ApiError(422, "calibration_mismatch", "use the calibration's scorecard")
            taken = db.scalar(
                select(QcEvaluation.id).where(
                    QcEvaluation.calibration_id == calibration.id,
                    QcEvaluation.inspector_id == me.id,
                )
            )
            if taken is not None:
                raise ApiError(409, "already_evaluated", "you already scored this calibration")
        else:
            ver = current_version(db, body.scorecard_id)
            done = db.scalar(
                select(QcEvaluationCall.call_id)
                .join(QcEvaluation, QcEvaluation.id == QcEvaluationCall.evaluation_id)
                .where(
                    QcEvaluationCall.call_id.in_(call_ids),
                    QcEvaluation.calibration_id.is_(None),
                )
            )
            if done is not None:
                raise ApiError(409, "already_evaluated", f"call {done} is already evaluated")
            claim_blocks(db, me, call_ids)
        definition = json.loads(ver.definition)
        points = points_map(body.items)
        total, grade = compute(definition, points)
        duration = body.call_duration
        if duration is None:
            duration = sum(c.duration_s for c in calls)
        t = ctx.now()
        ev = QcEvaluation(
            version=1,
            scorecard_version_id=ver.id,
            calibration_id=body.calibration_id,
            start_serial=body.start_serial,
            end_serial=body.end_serial,
            inspector_id=me.id,
            agent_id=body.agent_id,
            qc_type=body.qc_type,
            business_type=body.business_type,
            total=total,
            grade=grade,
            started_at=body.started_at,
            ended_at=body.ended_at,
            comments=clean(body.comments),
            call_duration=duration,
            created_at=t,
            updated_at=t,
        )
        db.add(ev)
        db.flush()
        for c in call_ids:
            db.add(QcEvaluationCall(evaluation_id=ev.id, call_id=c))
        comments = {i.key: clean(i.comment) for i in body.items}
        for rule in scoring.items_of(definition):
            db.add(
                QcEvaluationItem(
                    evaluation_id=ev.id,
                    item_key=rule.key,
                    section=rule.section,
                    points=points[rule.key],
                    max_points=rule.max_points,
                    weight=rule.weight,
                    comment=comments[rule.key],
                )
            )
        if calibration is None:
            db.execute(
                update(QcQueueItem)
                .where(QcQueueItem.call_id.in_(call_ids), QcQueueItem.evaluation_id.is_(None))
                .values(evaluation_id=ev.id)
            )
        db.add(
            QcEvaluationHistory(
                evaluation_id=ev.id,
                at=t,
                user_id=me.id,
                action="create",
                field="total",
                old_value=None,
                new_value=f"{total} {grade}",
            )
        )
        ctx.audit(db, request, me.id, "qc.evaluation.create", str(ev.id), "ok", {"calls": call_ids})
        db.commit()
        return outs(db, [ev], detail=True)[0]

    def evaluation_query(me: User, filters: list[ColumnElement[bool]], sort: str) -> Select[Any]:
        col = _EVAL_SORTS[sort.lstrip("-")]
        order = col.desc() if sort.startswith("-") else col.asc()
        return (
            select(QcEvaluation)
            .where(policy.evaluation_scope(me), *filters)
            .order_by(order, QcEvaluation.id)
        )

    @router.get("/evaluations", response_model=EvaluationPage)
    def list_evaluations(
        me: Me,
        db: Db,
        filters: Filters,
        sort: Annotated[str, Query(pattern=_SORT_PATTERN)] = "-id",
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> EvaluationPage:
        """Query on every field (see ``eval_filters``), sorted by an allow-listed field, paged."""
        stmt = evaluation_query(me, filters, sort)
        n = db.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
        evs = list(db.scalars(stmt.limit(limit).offset(offset)))
        return EvaluationPage(total=n, limit=limit, offset=offset, items=outs(db, evs))

    @router.get("/export/evaluations.csv")
    def export_evaluations(
        request: Request,
        me: Me,
        db: Db,
        filters: Filters,
        sort: Annotated[str, Query(pattern=_SORT_PATTERN)] = "id",
    ) -> Response:
        """The query's result as CSV (``qc_exporter`` right; only what the caller may see)."""
        if not policy.can_export(me):
            raise forbidden("exporting QC results needs the qc_exporter right")
        stmt = evaluation_query(me, filters, sort).limit(MAX_EXPORT_ROWS + 1)
        evs = list(db.scalars(stmt))
        if len(evs) > MAX_EXPORT_ROWS:
            raise ApiError(422, "too_many_rows", f"narrow the query to {MAX_EXPORT_ROWS} rows")
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\r\n")
        cols = [
            "id",
            "call_ids",
            "start_serial",
            "end_serial",
            "inspector_id",
            "agent_id",
            "qc_type",
            "business_type",
            "total",
            "grade",
            "started_at",
            "ended_at",
            "call_duration",
            "comments",
            "scorecard_id",
            "scorecard_version",
        ]
        w.writerow(cols)
        for o in outs(db, evs):
            row = o.model_dump(mode="json")
            row["call_ids"] = " ".join(o.call_ids)
            w.writerow([_csv_cell(row[c]) for c in cols])
        ctx.audit(db, request, me.id, "qc.export", "evaluations", "ok", {"rows": len(evs)})
        db.commit()
        return Response(
            content=buf.getvalue().encode("utf-8-sig"),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="qc-evaluations.csv"'},
        )

    @router.get("/evaluations/{ev_id}", response_model=EvaluationOut)
    def get_evaluation(ev_id: DbId, me: Me, db: Db) -> EvaluationOut:
        """One evaluation with item scores, its calls' interventions and any appeal."""
        return outs(db, [visible_evaluation(db, me, ev_id)], detail=True)[0]

    @router.get("/evaluations/{ev_id}/history", response_model=list[HistoryOut])
    def evaluation_history(ev_id: DbId, me: Me, db: Db) -> list[QcEvaluationHistory]:
        visible_evaluation(db, me, ev_id)
        return list(
            db.scalars(
                select(QcEvaluationHistory)
                .where(QcEvaluationHistory.evaluation_id == ev_id)
                .order_by(QcEvaluationHistory.id)
            )
        )

    def correct(
        db: Session,
        me: User,
        ev: QcEvaluation,
        expected_version: int,
        action: str,
        fields: dict[str, Any],
        items: Sequence[ItemScoreIn] | None,
    ) -> None:
        """Apply a correction (fields and/or item scores), recording every change."""
        merged = {k: fields.get(k, getattr(ev, k)) for k in ("start_serial", "end_serial")}
        times = {k: fields.get(k, getattr(ev, k)) for k in ("started_at", "ended_at")}
        check_times_serials(
            merged["start_serial"], merged["end_serial"], times["started_at"], times["ended_at"]
        )
        if "qc_type" in fields and (fields["qc_type"] == "calibration") != (
            ev.calibration_id is not None
        ):
            raise ApiError(422, "calibration_mismatch", "qc_type calibration is for calibrations")
        if "comments" in fields:
            fields["comments"] = clean(fields["comments"])
        rows = {
            r.item_key: r
            for r in db.scalars(
                select(QcEvaluationItem).where(QcEvaluationItem.evaluation_id == ev.id)
            )
        }
        changes: list[tuple[str, Any, Any]] = []
        if items is not None:
            new_points = points_map(items)
            unknown = sorted(set(new_points) - set(rows))
            if unknown:
                raise ApiError(422, "unknown_item", f"not on this scorecard version: {unknown}")
            points = {k: r.points for k, r in rows.items()} | new_points
            _, definition = definition_of(db, ev.scorecard_version_id)
            total, grade = compute(definition, points)
            fields["total"], fields["grade"] = total, grade
            for it in items:
                row = rows[it.key]
                if row.points != it.points:
                    changes.append((f"item:{it.key}", row.points, it.points))
                    row.points = it.points
                comment = clean(it.comment)
                if it.comment and row.comment != comment:
                    changes.append((f"item:{it.key}:comment", row.comment, comment))
                    row.comment = comment
        res = db.execute(
            update(QcEvaluation)
            .where(QcEvaluation.id == ev.id, QcEvaluation.version == expected_version)
            .values(version=expected_version + 1)
            .execution_options(synchronize_session="evaluate")
        )
        if res.rowcount != 1:  # type: ignore[attr-defined]
            db.rollback()
            raise ApiError(409, "version_conflict", "the evaluation changed; reload and retry")
        for k, v in fields.items():
            old = getattr(ev, k)
            if old != v:
                changes.append((k, old, v))
                setattr(ev, k, v)
        t = ctx.now()
        ev.updated_at = t
        for name, old, new in changes:
            db.add(
                QcEvaluationHistory(
                    evaluation_id=ev.id,
                    at=t,
                    user_id=me.id,
                    action=action,
                    field=name[:80],
                    old_value=None if old is None else str(old),
                    new_value=None if new is None else str(new),
                )
            )

    @router.patch("/evaluations/{ev_id}", response_model=EvaluationOut)
    def patch_evaluation(
        ev_id: DbId, body: EvaluationPatch, request: Request, me: Me, db: Db
    ) -> EvaluationOut:
        """Correct an evaluation (its inspector or an admin); history keeps the old values.

        Scores are recomputed on the version the evaluation was scored with.
        """
        ev = visible_evaluation(db, me, ev_id)
        if not policy.can_edit_evaluation(me, ev):
            raise forbidden("you may not correct this evaluation")
        if body.version != ev.version:
            raise ApiError(409, "version_conflict", "the evaluation changed; reload and retry")
        fields = body.model_dump(exclude_unset=True, exclude={"version", "items"})
        if any(v is None for v in fields.values()):
            raise ApiError(422, "invalid_request", "fields cannot be set to null")
        correct(db, me, ev, body.version, "correct", fields, body.items)
        ctx.audit(db, request, me.id, "qc.evaluation.correct", str(ev.id), "ok", "")
        db.commit()
        return outs(db, [ev], detail=True)[0]

    # ------------------------------------------------------------ appeals

    @router.post("/evaluations/{ev_id}/appeal", response_model=AppealOut, status_code=201)
    def appeal(ev_id: DbId, body: AppealIn, request: Request, me: Me, db: Db) -> QcAppeal:
        """The evaluated agent appeals, once per evaluation."""
        ev = visible_evaluation(db, me, ev_id)
        if ev.agent_id != me.id or "agent" not in me.role_names:
            raise forbidden("only the evaluated agent appeals")
        if db.scalar(select(QcAppeal.id).where(QcAppeal.evaluation_id == ev.id)) is not None:
            raise ApiError(409, "already_appealed", "this evaluation was already appealed")
        reason = clean(body.reason).strip()
        if not reason:
            raise ApiError(422, "invalid_request", "the reason is empty once sanitised")
        ap = QcAppeal(
            evaluation_id=ev.id,
            agent_id=me.id,
            reason=reason,
            state="open",
            created_at=ctx.now(),
            decision_note="",
        )
        db.add(ap)
        db.flush()
        ctx.audit(db, request, me.id, "qc.appeal.create", str(ev.id), "ok", "")
        db.commit()
        return ap

    @router.get("/appeals", response_model=AppealPage)
    def list_appeals(
        me: Me,
        db: Db,
        state: Annotated[str | None, Query(pattern="^(open|upheld|rejected)$")] = None,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> AppealPage:
        """Appeals on the evaluations the caller may see (a team leader's to-do list)."""
        stmt = (
            select(QcAppeal)
            .join(QcEvaluation, QcEvaluation.id == QcAppeal.evaluation_id)
            .where(policy.evaluation_scope(me))
        )
        if state is not None:
            stmt = stmt.where(QcAppeal.state == state)
        n = db.scalar(select(func.count()).select_from(stmt.subquery())) or 0
        page = db.scalars(stmt.order_by(QcAppeal.id).limit(limit).offset(offset))
        return AppealPage(
            total=n, limit=limit, offset=offset, items=[AppealOut.model_validate(a) for a in page]
        )

    @router.post("/appeals/{appeal_id}/decision", response_model=EvaluationOut)
    def decide_appeal(
        appeal_id: DbId, body: AppealDecisionIn, request: Request, me: Me, db: Db
    ) -> EvaluationOut:
        """A team leader of the agent's department upholds (optionally rescoring) or rejects."""
        ap = db.get(QcAppeal, appeal_id)
        if ap is None:
            raise not_found("appeal")
        ev = visible_evaluation(db, me, ap.evaluation_id)
        agent = db.get(User, ev.agent_id)
        assert agent is not None
        if not policy.can_decide_appeal(me, ev, agent.department_ids):
            raise forbidden("appeals are decided by the agent's team leader, not the inspector")
        if ap.state != "open":
            raise ApiError(409, "already_decided", "the appeal was already decided")
        if body.items is not None:
            correct(db, me, ev, ev.version, "appeal", {}, body.items)
        t = ctx.now()
        res = db.execute(
            update(QcAppeal)
            .where(QcAppeal.id == ap.id, QcAppeal.state == "open")
            .values(
                state=body.decision, decided_by=me.id, decided_at=t, decision_note=clean(body.note)
            )
            .execution_options(synchronize_session="evaluate")
        )
        if res.rowcount != 1:  # type: ignore[attr-defined]
            db.rollback()
            raise ApiError(409, "already_decided", "the appeal was already decided")
        db.add(
            QcEvaluationHistory(
                evaluation_id=ev.id,
                at=t,
                user_id=me.id,
                action="appeal",
                field="appeal",
                old_value="open",
                new_value=body.decision,
            )
        )
        ctx.audit(db, request, me.id, "qc.appeal.decide", str(ap.id), "ok", body.decision)
        db.commit()
        return outs(db, [ev], detail=True)[0]

    # ------------------------------------------------------------ review queue

    def queue_out(item: QcQueueItem, now: datetime) -> QueueItemOut:
        out = QueueItemOut.model_validate(item)
        if item.evaluation_id is not None:
            out.state = "done"
        elif item.claimed_by is not None and item.claim_expires_at and item.claim_expires_at > now:
            out.state = "claimed"
        else:
            out.state = "open"
            out.claimed_by = out.claimed_at = out.claim_expires_at = None
        return out

    @router.post("/queue/samples", response_model=SampleOut, status_code=201)
    def draw(body: SampleIn, request: Request, me: Me, db: Db) -> SampleOut:
        """Draw the review queue of a period: k calls (or a share) per agent, seeded by the
        period, among the period's calls not yet queued or evaluated."""
        if not policy.can_sample(me):
            raise forbidden("team leaders and admins draw review samples")
        exists = db.scalar(
            select(QcSample.id).where(
                QcSample.period_start == body.period_start, QcSample.period_end == body.period_end
            )
        )
        if exists is not None:
            raise ApiError(409, "already_sampled", f"this period was drawn (sample {exists})")
        queued = select(QcQueueItem.call_id)
        evaluated = select(QcEvaluationCall.call_id)
        rows = db.execute(
            select(QcCall.agent_id, QcCall.call_id).where(
                QcCall.started_at >= body.period_start,
                QcCall.started_at < body.period_end,
                QcCall.call_id.not_in(queued),
                QcCall.call_id.not_in(evaluated),
            )
        )
        by_agent: dict[int, list[str]] = defaultdict(list)
        for agent_id, call_id in rows:
            by_agent[agent_id].append(call_id)
        seed = scoring.period_seed(
            body.period_start.isoformat(), body.period_end.isoformat(), body.salt
        )
        drawn = scoring.draw_sample(by_agent, seed, per_agent=body.per_agent, share=body.share)
        sample = QcSample(
            period_start=body.period_start,
            period_end=body.period_end,
            per_agent=body.per_agent,
            share=body.share,
            seed=seed,
            created_by=me.id,
            created_at=ctx.now(),
        )
        db.add(sample)
        db.flush()
        items = [
            QcQueueItem(sample_id=sample.id, call_id=c, agent_id=a)
            for a, cs in drawn.items()
            for c in cs
        ]
        db.add_all(items)
        db.flush()
        ctx.audit(
            db, request, me.id, "qc.queue.sample", str(sample.id), "ok", {"calls": len(items)}
        )
        db.commit()
        t = ctx.now()
        return SampleOut(
            id=sample.id,
            period_start=sample.period_start,
            period_end=sample.period_end,
            seed=seed,
            items=[queue_out(i, t) for i in items],
        )

    @router.get("/queue", response_model=QueuePage)
    def list_queue(
        me: Me,
        db: Db,
        state: Annotated[str | None, Query(pattern="^(open|claimed|done|mine)$")] = None,
        agent_id: DbId | None = None,
        sample_id: DbId | None = None,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> QueuePage:
        """The review queue; ``open`` includes items whose claim expired."""
        if not policy.is_qc_staff(me):
            raise forbidden()
        t = ctx.now()
        q = QcQueueItem
        live = and_(q.claimed_by.is_not(None), q.claim_expires_at > t)
        stmt = select(q)
        if state == "done":
            stmt = stmt.where(q.evaluation_id.is_not(None))
        elif state == "claimed":
            stmt = stmt.where(q.evaluation_id.is_(None), live)
        elif state == "open":
            stmt = stmt.where(q.evaluation_id.is_(None), ~live)
        elif state == "mine":
            stmt = stmt.where(q.evaluation_id.is_(None), live, q.claimed_by == me.id)
        if agent_id is not None:
            stmt = stmt.where(q.agent_id == agent_id)
        if sample_id is not None:
            stmt = stmt.where(q.sample_id == sample_id)
        n = db.scalar(select(func.count()).select_from(stmt.subquery())) or 0
        rows = db.scalars(stmt.order_by(q.id).limit(limit).offset(offset))
        return QueuePage(total=n, limit=limit, offset=offset, items=[queue_out(i, t) for i in rows])

    @router.post("/queue/{item_id}/claim", response_model=QueueItemOut)
    def claim(item_id: DbId, request: Request, me: Me, db: Db) -> QueueItemOut:
        """Hold a queued call for ``claim_ttl``; at most ``claim_limit`` live claims each."""
        if not policy.can_evaluate(me):
            raise forbidden("only QC inspectors claim calls")
        # serialise one inspector's claims so the claim limit holds under concurrency
        db.execute(select(User.id).where(User.id == me.id).with_for_update())
        item = db.get(QcQueueItem, item_id)
        if item is None:
            raise not_found("queue item")
        if item.agent_id == me.id:
            raise forbidden("an inspector cannot evaluate themselves")
        if item.evaluation_id is not None:
            raise ApiError(409, "already_evaluated", "the call is already evaluated")
        t = ctx.now()
        cfg = settings()
        live_other = (
            item.claimed_by is not None
            and item.claimed_by != me.id
            and item.claim_expires_at is not None
            and item.claim_expires_at > t
        )
        if live_other:
            raise ApiError(409, "already_claimed", "another inspector holds this call")
        held = (
            db.scalar(
                select(func.count()).where(
                    QcQueueItem.claimed_by == me.id,
                    QcQueueItem.claim_expires_at > t,
                    QcQueueItem.evaluation_id.is_(None),
                    QcQueueItem.id != item.id,
                )
            )
            or 0
        )
        if held >= cfg.claim_limit:
            raise ApiError(409, "claim_limit", f"you already hold {held} claims")
        res = db.execute(
            update(QcQueueItem)
            .where(
                QcQueueItem.id == item.id,
                QcQueueItem.evaluation_id.is_(None),
                or_(
                    QcQueueItem.claimed_by.is_(None),
                    QcQueueItem.claimed_by == me.id,
                    QcQueueItem.claim_expires_at <= t,
                ),
            )
            .values(claimed_by=me.id, claimed_at=t, claim_expires_at=t + cfg.claim_ttl)
            .execution_options(synchronize_session="evaluate")
        )
        if res.rowcount != 1:  # type: ignore[attr-defined]
            db.rollback()
            raise ApiError(409, "already_claimed", "another inspector holds this call")
        ctx.audit(db, request, me.id, "qc.queue.claim", str(item.id), "ok", "")
        db.commit()
        return queue_out(item, t)

    @router.post("/queue/{item_id}/release", response_model=QueueItemOut)
    def release(item_id: DbId, request: Request, me: Me, db: Db) -> QueueItemOut:
        """Give a claimed call back to the queue (the claimer only)."""
        if not policy.is_qc_staff(me):
            raise forbidden()
        item = db.get(QcQueueItem, item_id)
        if item is None:
            raise not_found("queue item")
        t = ctx.now()
        live = item.claim_expires_at is not None and item.claim_expires_at > t
        if item.claimed_by != me.id or not live or item.evaluation_id is not None:
            raise ApiError(409, "not_claimed", "you hold no live claim on this call")
        item.claimed_by = item.claimed_at = item.claim_expires_at = None
        ctx.audit(db, request, me.id, "qc.queue.release", str(item.id), "ok", "")
        db.commit()
        return queue_out(item, t)

    # ------------------------------------------------------------ calibration

    def calibration_out(db: Session, cal: QcCalibration) -> CalibrationOut:
        ver, _ = definition_of(db, cal.scorecard_version_id)
        return CalibrationOut(
            id=cal.id,
            call_id=cal.call_id,
            scorecard_id=ver.scorecard_id,
            scorecard_version=ver.version,
            note=cal.note,
            created_at=cal.created_at,
        )

    @router.post("/calibrations", response_model=CalibrationOut, status_code=201)
    def open_calibration(body: CalibrationIn, request: Request, me: Me, db: Db) -> CalibrationOut:
        """Several inspectors will score ``call_id`` on the scorecard's current version."""
        if not policy.can_open_calibration(me):
            raise forbidden()
        if db.scalar(select(QcCall.id).where(QcCall.call_id == body.call_id)) is None:
            raise ApiError(422, "unknown_call", f"no call {body.call_id}")
        ver = current_version(db, body.scorecard_id)
        cal = QcCalibration(
            call_id=body.call_id,
            scorecard_version_id=ver.id,
            note=clean(body.note),
            created_by=me.id,
            created_at=ctx.now(),
        )
        db.add(cal)
        db.flush()
        ctx.audit(db, request, me.id, "qc.calibration.open", str(cal.id), "ok", body.call_id)
        db.commit()
        return calibration_out(db, cal)

    @router.get("/calibrations/{cal_id}", response_model=CalibrationOut)
    def get_calibration(cal_id: DbId, me: Me, db: Db) -> CalibrationOut:
        cal = db.get(QcCalibration, cal_id)
        if cal is None or not policy.is_qc_staff(me):
            raise not_found("calibration")
        return calibration_out(db, cal)

    @router.get("/calibrations/{cal_id}/report", response_model=CalibrationReport)
    def calibration_report(cal_id: DbId, me: Me, db: Db) -> CalibrationReport:
        """Per item and for the total: n, min, max, range, mean and sample standard
        deviation of the inspectors' scores (N/A scores are left out of an item's spread)."""
        cal = db.get(QcCalibration, cal_id)
        if cal is None or not policy.is_qc_staff(me):
            raise not_found("calibration")
        evs = list(
            db.scalars(
                select(QcEvaluation)
                .where(QcEvaluation.calibration_id == cal.id)
                .order_by(QcEvaluation.inspector_id)
            )
        )
        _, definition = definition_of(db, cal.scorecard_version_id)
        per_item: dict[str, list[float]] = {r.key: [] for r in scoring.items_of(definition)}
        for it in db.scalars(
            select(QcEvaluationItem).where(QcEvaluationItem.evaluation_id.in_([e.id for e in evs]))
        ):
            if it.points is not None:
                per_item[it.item_key].append(it.points)

        def sp(values: list[float]) -> SpreadOut:
            s = scoring.spread(values)
            return SpreadOut(n=s.n, min=s.min, max=s.max, range=s.range, mean=s.mean, stdev=s.stdev)

        return CalibrationReport(
            calibration_id=cal.id,
            call_id=cal.call_id,
            inspectors=[e.inspector_id for e in evs],
            total=sp([e.total for e in evs]),
            items={k: sp(v) for k, v in per_item.items()},
        )

    # ------------------------------------------------------------ typical cases

    @router.post("/typical-cases", response_model=TypicalCaseOut, status_code=201)
    def file_case(body: TypicalCaseIn, request: Request, me: Me, db: Db) -> QcTypicalCase:
        """File an evaluated call, or a segment of its recording, under a category."""
        if not policy.can_file_case(me):
            raise forbidden("QC staff file typical cases")
        call_id = body.call_id
        if body.evaluation_id is not None:
            ev = db.scalar(
                select(QcEvaluation).where(
                    QcEvaluation.id == body.evaluation_id, policy.evaluation_scope(me)
                )
            )
            if ev is None:
                raise ApiError(422, "unknown_evaluation", f"no evaluation {body.evaluation_id}")
            ev_calls = list(
                db.scalars(
                    select(QcEvaluationCall.call_id)
                    .where(QcEvaluationCall.evaluation_id == ev.id)
                    .order_by(QcEvaluationCall.call_id)
                )
            )
            if call_id is None:
                call_id = ev_calls[0]
            elif call_id not in ev_calls:
                raise ApiError(422, "call_mismatch", "the call is not one of the evaluation's")
        recording = body.recording
        if call_id is not None:
            call = db.scalar(select(QcCall).where(QcCall.call_id == call_id))
            if call is None:
                raise ApiError(422, "unknown_call", f"no call {call_id}")
            recording = recording or call.recording
            if body.end_offset_s is not None and body.end_offset_s > call.duration_s:
                raise ApiError(422, "segment_out_of_range", f"the call lasts {call.duration_s:g} s")
        if body.start_offset_s is not None and not recording:
            raise ApiError(422, "recording_required", "a segment needs a recording")
        case = QcTypicalCase(
            evaluation_id=body.evaluation_id,
            call_id=call_id,
            category=body.category,
            title=body.title,
            note=clean(body.note),
            recording=recording,
            start_offset_s=body.start_offset_s,
            end_offset_s=body.end_offset_s,
            created_by=me.id,
            created_at=ctx.now(),
        )
        db.add(case)
        db.flush()
        ctx.audit(db, request, me.id, "qc.case.file", str(case.id), "ok", body.category)
        db.commit()
        return case

    @router.get("/typical-cases", response_model=TypicalCasePage)
    def list_cases(
        _me: Me,
        db: Db,
        category: Text64 = None,
        q: Annotated[str | None, Query(max_length=200, pattern=_PRINTABLE)] = None,
        sort: Annotated[str, Query(pattern="^-?(id|created_at|category|title)$")] = "-id",
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> TypicalCasePage:
        """Browse and search the archive (everyone, agents included); all ``q`` terms match."""
        c = QcTypicalCase
        stmt = select(c)
        if category is not None:
            stmt = stmt.where(c.category == category)
        for term in search.terms(q or ""):  # NFC, control characters dropped, <= 8 terms
            pat = _like(term)
            stmt = stmt.where(
                or_(
                    c.title.like(pat, escape="\\"),
                    c.note.like(pat, escape="\\"),
                    c.category.like(pat, escape="\\"),
                )
            )
        n = db.scalar(select(func.count()).select_from(stmt.subquery())) or 0
        col = getattr(c, sort.lstrip("-"))
        stmt = stmt.order_by(col.desc() if sort.startswith("-") else col.asc(), c.id)
        rows = [
            TypicalCaseOut.model_validate(x) for x in db.scalars(stmt.limit(limit).offset(offset))
        ]
        return TypicalCasePage(total=n, limit=limit, offset=offset, items=rows)

    @router.get("/typical-cases/categories")
    def case_categories(_me: Me, db: Db) -> dict[str, int]:
        """Categories with the number of cases filed under each."""
        rows = db.execute(
            select(QcTypicalCase.category, func.count())
            .group_by(QcTypicalCase.category)
            .order_by(QcTypicalCase.category)
        )
        return {str(k): int(n) for k, n in rows}

    @router.get("/typical-cases/{case_id}", response_model=TypicalCaseOut)
    def get_case(case_id: DbId, _me: Me, db: Db) -> QcTypicalCase:
        case = db.get(QcTypicalCase, case_id)
        if case is None:
            raise not_found("typical case")
        return case

    # ------------------------------------------------------------ interventions

    @router.post("/interventions", response_model=InterventionOut, status_code=201)
    def record_intervention(
        body: InterventionIn, request: Request, me: Me, db: Db
    ) -> QcIntervention:
        """Recorded by the live ACD when a supervisor monitors, barges in, intercepts or forces."""
        if not policy.can_ingest(me):
            raise forbidden("only the ACD (admin/system accounts) records interventions")
        user_with_role(db, body.supervisor_id, None, "supervisor")
        user_with_role(db, body.agent_id, "agent", "agent")
        if body.call_id is not None:
            call = db.scalar(select(QcCall).where(QcCall.call_id == body.call_id))
            if call is None:
                raise ApiError(422, "unknown_call", f"no call {body.call_id}")
            if call.agent_id != body.agent_id:
                raise ApiError(422, "call_agent_mismatch", "the call was handled by another agent")
        iv = QcIntervention(
            **body.model_dump(exclude={"reason"}),
            reason=clean(body.reason),
            recorded_by=me.id,
            recorded_at=ctx.now(),
        )
        db.add(iv)
        db.flush()
        ctx.audit(db, request, me.id, "qc.intervention", str(iv.id), "ok", body.kind)
        db.commit()
        return iv

    @router.get("/interventions", response_model=InterventionPage)
    def list_interventions(
        me: Me,
        db: Db,
        agent_id: DbId | None = None,
        supervisor_id: DbId | None = None,
        call_id: Text64 = None,
        kind: Annotated[str | None, Query(max_length=24, pattern=_PRINTABLE)] = None,
        at_from: datetime | None = None,
        at_to: datetime | None = None,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> InterventionPage:
        """QC staff (team leaders: their team's agents); an agent sees those on themselves."""
        i = QcIntervention
        stmt = select(i).where(policy.agent_scope(me, i.agent_id))
        for col, val in (
            (i.agent_id, agent_id),
            (i.supervisor_id, supervisor_id),
            (i.call_id, call_id),
            (i.kind, kind),
        ):
            if val is not None:
                stmt = stmt.where(col == val)
        if at_from is not None:
            stmt = stmt.where(i.at >= _naive(at_from))
        if at_to is not None:
            stmt = stmt.where(i.at < _naive(at_to))
        n = db.scalar(select(func.count()).select_from(stmt.subquery())) or 0
        rows = db.scalars(stmt.order_by(i.at, i.id).limit(limit).offset(offset))
        return InterventionPage(
            total=n,
            limit=limit,
            offset=offset,
            items=[InterventionOut.model_validate(r) for r in rows],
        )

    # ------------------------------------------------------------ reports

    @router.get("/reports", response_model=ReportOut)
    def report(
        me: Me,
        db: Db,
        group_by: Annotated[str, Query(pattern="^(agent|department|all)$")] = "agent",
        bucket: Annotated[str, Query(pattern="^(day|week|month|all)$")] = "week",
        started_from: datetime | None = None,
        started_to: datetime | None = None,
        agent_id: DbId | None = None,
        department_id: DbId | None = None,
    ) -> ReportOut:
        """Score trend (mean total) and grade distribution per group and time bucket.

        Calibration exercises are left out; team leaders see their departments only.
        """
        if not policy.can_read_reports(me):
            raise forbidden("reports are for team leaders, inspectors and admins")
        e = QcEvaluation
        stmt = select(e.agent_id, e.started_at, e.total, e.grade).where(
            policy.evaluation_scope(me), e.calibration_id.is_(None)
        )
        if started_from is not None:
            stmt = stmt.where(e.started_at >= _naive(started_from))
        if started_to is not None:
            stmt = stmt.where(e.started_at < _naive(started_to))
        if agent_id is not None:
            stmt = stmt.where(e.agent_id == agent_id)
        rows = list(db.execute(stmt))
        deps: dict[int, list[int]] = defaultdict(list)
        if group_by == "department" or department_id is not None:
            allowed = policy.report_departments(me)
            for uid, dep in db.execute(
                select(DepartmentMember.user_id, DepartmentMember.department_id)
            ):
                if (allowed is None or dep in allowed) and (
                    department_id is None or dep == department_id
                ):
                    deps[uid].append(dep)
            rows = [r for r in rows if deps.get(r[0])]
        grouped: list[tuple[str, datetime, float, str]] = []
        for agent, t, total, grade in rows:
            if group_by == "agent":
                grouped.append((str(agent), t, total, grade))
            elif group_by == "all":
                grouped.append(("all", t, total, grade))
            else:
                grouped.extend((str(d), t, total, grade) for d in deps[agent])
        return ReportOut(
            group_by=group_by,
            bucket=bucket,
            rows=[ReportRow.model_validate(r) for r in reports.summarise(grouped, bucket)],
        )

    return router
