"""Training and exams: question bank, papers, timed attempts, grading, evaluation.

Question kinds and their JSON ``answer``: ``single`` an option index,
``multiple`` a list of option indexes (all and only those earn the points),
``true_false`` a boolean, ``short`` a reference answer graded by hand.
A paper is ``fixed`` (a question list) or ``random`` (rule items: count per
category/difficulty/kind, drawn afresh for every attempt). Attempts are timed:
a submission after the deadline is refused and stores nothing. Correct answers
are shown to the examinee only after submitting. Exam managers
(``kb_editor``, ``team_leader``, ``admin``) keep the bank, grade short answers
and see every result; agents see their own.

The overall evaluation of an agent over a period combines the mean exam
percentage (graded, non-self-test attempts) with the mean QC percentage read
by :func:`qc_totals`, weighted :data:`WEIGHTS` and renormalised over the parts
present.
"""

import json
import random
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import Session

from ccsim.services.context import ServiceContext
from ccsim.services.errors import ApiError, forbidden, not_found
from ccsim.services.kb import policy
from ccsim.services.kb.models import (
    KbAnswer,
    KbAttempt,
    KbCategory,
    KbPaper,
    KbPaperQuestion,
    KbQuestion,
)
from ccsim.services.kb.schemas import (
    AttemptOut,
    EvaluationOut,
    GradeIn,
    PaperIn,
    PaperOut,
    QuestionIn,
    QuestionOut,
    ResultOut,
    SubmitIn,
    When,
)
from ccsim.services.models import User
from ccsim.services.qc.models import QcEvaluation
from ccsim.services.schemas import DbId

#: Weights of the overall evaluation (renormalised when a part has no data).
WEIGHTS = {"exam": 0.4, "qc": 0.6}


def qc_totals(
    db: Session, user_id: int, start: datetime, end: datetime
) -> tuple[int, float | None]:
    """(number of QC evaluations, mean total) of agent ``user_id`` ending in [start, end).

    QC totals are percentages (scorecards total 100, see ``docs/qc.md``).
    Calibration evaluations grade the inspectors, not the agent, and are left out.
    """
    n, mean = db.execute(
        select(func.count(), func.avg(QcEvaluation.total)).where(
            QcEvaluation.agent_id == user_id,
            QcEvaluation.ended_at >= start,
            QcEvaluation.ended_at < end,
            QcEvaluation.calibration_id.is_(None),
        )
    ).one()
    return int(n or 0), (float(mean) if mean is not None else None)


def _check_question(body: QuestionIn) -> None:
    a, n = body.answer, len(body.options)
    ok = {
        "single": n >= 2 and type(a) is int and 0 <= a < n,
        "multiple": n >= 2
        and isinstance(a, list)
        and bool(a)
        and len(set(a)) == len(a)
        and all(0 <= i < n for i in a),
        "true_false": n == 0 and type(a) is bool,
        "short": n == 0 and type(a) is str,
    }[body.kind]
    if not ok:
        raise ApiError(422, "invalid_question", f"options/answer do not fit a {body.kind} question")


def _score(q: KbQuestion, given: Any) -> float | None:
    """Points for an objective answer; None for a short answer (graded by hand)."""
    if q.kind == "short":
        return None
    right = json.loads(q.answer)
    if q.kind == "multiple":
        ok = isinstance(given, list) and sorted(set(given)) == sorted(right)
    else:
        ok = type(given) is type(right) and given == right
    return q.points if ok else 0.0


def _question_out(q: KbQuestion, with_answer: bool) -> QuestionOut:
    return QuestionOut(
        id=q.id,
        kind=q.kind,
        text=q.text,
        options=json.loads(q.options),
        answer=json.loads(q.answer) if with_answer else None,
        category_id=q.category_id,
        difficulty=q.difficulty,
        points=q.points,
    )


def register(router: APIRouter, ctx: ServiceContext) -> None:
    Db = Annotated[Session, Depends(ctx.get_db)]  # noqa: N806 - a type alias
    Me = Annotated[User, Depends(ctx.current_user)]  # noqa: N806 - a type alias

    def manager(me: User) -> None:
        if not policy.can_manage_exams(me):
            raise forbidden("only exam managers do this")

    @router.post("/questions", response_model=QuestionOut, status_code=201)
    def add_question(body: QuestionIn, request: Request, me: Me, db: Db) -> QuestionOut:
        manager(me)
        _check_question(body)
        if body.category_id is not None and db.get(KbCategory, body.category_id) is None:
            raise ApiError(422, "unknown_category", f"no category {body.category_id}")
        q = KbQuestion(
            kind=body.kind,
            text=body.text,
            options=json.dumps(body.options, ensure_ascii=False),
            answer=json.dumps(body.answer, ensure_ascii=False),
            category_id=body.category_id,
            difficulty=body.difficulty,
            points=body.points,
            active=True,
            created_by=me.id,
            created_at=ctx.now(),
        )
        db.add(q)
        db.flush()
        ctx.audit(db, request, me.id, "kb.question.add", str(q.id), "ok", "")
        db.commit()
        return _question_out(q, True)

    @router.get("/questions", response_model=list[QuestionOut])
    def list_questions(
        me: Me,
        db: Db,
        category_id: DbId | None = None,
        difficulty: Annotated[int | None, Query(ge=1, le=5)] = None,
        kind: str | None = Query(None, pattern="^(single|multiple|true_false|short)$"),
    ) -> list[QuestionOut]:
        manager(me)
        where: list[ColumnElement[bool]] = [KbQuestion.active.is_(True)]
        for col, val in (
            (KbQuestion.category_id, category_id),
            (KbQuestion.difficulty, difficulty),
            (KbQuestion.kind, kind),
        ):
            if val is not None:
                where.append(col == val)
        rows = db.scalars(select(KbQuestion).where(and_(*where)).order_by(KbQuestion.id))
        return [_question_out(q, True) for q in rows]

    def rule_pool(db: Session, item: dict[str, Any]) -> list[int]:
        where = [KbQuestion.active.is_(True)]
        for key, col in (
            ("category_id", KbQuestion.category_id),
            ("difficulty", KbQuestion.difficulty),
            ("kind", KbQuestion.kind),
        ):
            if item.get(key) is not None:
                where.append(col == item[key])
        return list(db.scalars(select(KbQuestion.id).where(and_(*where)).order_by(KbQuestion.id)))

    def paper_out(db: Session, p: KbPaper) -> PaperOut:
        qids = db.scalars(
            select(KbPaperQuestion.question_id)
            .where(KbPaperQuestion.paper_id == p.id)
            .order_by(KbPaperQuestion.position)
        ).all()
        return PaperOut(
            id=p.id,
            title=p.title,
            mode=p.mode,
            duration_minutes=p.duration_minutes,
            self_test=p.self_test,
            question_ids=list(qids),
            rule=json.loads(p.rule),
        )

    @router.post("/papers", response_model=PaperOut, status_code=201)
    def add_paper(body: PaperIn, request: Request, me: Me, db: Db) -> PaperOut:
        manager(me)
        rule = [r.model_dump() for r in body.rule]
        if body.mode == "fixed":
            if not body.question_ids or len(set(body.question_ids)) != len(body.question_ids):
                raise ApiError(422, "invalid_paper", "a fixed paper lists distinct questions")
            for qid in body.question_ids:
                if db.get(KbQuestion, qid) is None:
                    raise ApiError(422, "unknown_question", f"no question {qid}")
        else:
            if not rule:
                raise ApiError(422, "invalid_paper", "a random paper needs rule items")
            for item in rule:
                if len(rule_pool(db, item)) < item["count"]:
                    raise ApiError(422, "not_enough_questions", f"too few questions for {item}")
        p = KbPaper(
            title=body.title,
            mode=body.mode,
            rule=json.dumps(rule),
            duration_minutes=body.duration_minutes,
            self_test=body.self_test,
            created_by=me.id,
            created_at=ctx.now(),
        )
        db.add(p)
        db.flush()
        for pos, qid in enumerate(body.question_ids if body.mode == "fixed" else []):
            db.add(KbPaperQuestion(paper_id=p.id, question_id=qid, position=pos))
        ctx.audit(db, request, me.id, "kb.paper.add", str(p.id), "ok", "")
        db.commit()
        return paper_out(db, p)

    @router.get("/papers", response_model=list[PaperOut])
    def list_papers(_me: Me, db: Db) -> list[PaperOut]:
        return [paper_out(db, p) for p in db.scalars(select(KbPaper).order_by(KbPaper.id))]

    def attempt_out(db: Session, me: User, at: KbAttempt) -> AttemptOut:
        qids = json.loads(at.question_ids)
        qs = {q.id: q for q in db.scalars(select(KbQuestion).where(KbQuestion.id.in_(qids)))}
        reveal = at.status != "in_progress"
        status = at.status
        if status == "in_progress" and ctx.now() > at.deadline:
            status = "expired"
        return AttemptOut(
            id=at.id,
            paper_id=at.paper_id,
            user_id=at.user_id,
            status=status,
            started_at=at.started_at,
            deadline=at.deadline,
            submitted_at=at.submitted_at,
            score=at.score,
            max_score=at.max_score,
            questions=[_question_out(qs[i], reveal) for i in qids],
        )

    @router.post("/papers/{paper_id}/attempts", response_model=AttemptOut, status_code=201)
    def start(paper_id: DbId, request: Request, me: Me, db: Db) -> AttemptOut:
        """Start a timed attempt; a random paper draws its questions now."""
        p = db.get(KbPaper, paper_id)
        if p is None:
            raise not_found("paper")
        if not p.self_test:
            taken = db.scalar(
                select(KbAttempt.id).where(KbAttempt.paper_id == p.id, KbAttempt.user_id == me.id)
            )
            if taken is not None:  # answers are revealed after submitting
                raise ApiError(409, "already_attempted", "an exam is sat once; self-tests repeat")
        if p.mode == "fixed":
            qids = paper_out(db, p).question_ids
        else:
            rng = random.SystemRandom()
            qids = []
            for item in json.loads(p.rule):
                pool = [q for q in rule_pool(db, item) if q not in qids]
                if len(pool) < item["count"]:
                    raise ApiError(409, "not_enough_questions", "the bank no longer fits the rule")
                qids.extend(rng.sample(pool, item["count"]))
        total = db.scalar(select(func.sum(KbQuestion.points)).where(KbQuestion.id.in_(qids)))
        now = ctx.now()
        at = KbAttempt(
            paper_id=p.id,
            user_id=me.id,
            started_at=now,
            deadline=now + timedelta(minutes=p.duration_minutes),
            status="in_progress",
            question_ids=json.dumps(qids),
            max_score=float(total or 0),
        )
        db.add(at)
        db.flush()
        ctx.audit(db, request, me.id, "kb.attempt.start", str(at.id), "ok", "")
        db.commit()
        return attempt_out(db, me, at)

    def attempt_of(db: Session, me: User, attempt_id: int) -> KbAttempt:
        at = db.get(KbAttempt, attempt_id)
        if at is None or (at.user_id != me.id and not policy.can_manage_exams(me)):
            raise not_found("attempt")
        return at

    @router.get("/attempts/{attempt_id}", response_model=AttemptOut)
    def get_attempt(attempt_id: DbId, me: Me, db: Db) -> AttemptOut:
        return attempt_out(db, me, attempt_of(db, me, attempt_id))

    @router.post("/attempts/{attempt_id}/submit", response_model=AttemptOut)
    def submit(attempt_id: DbId, body: SubmitIn, request: Request, me: Me, db: Db) -> AttemptOut:
        """Grade objective answers at once; short answers wait for a manager."""
        at = attempt_of(db, me, attempt_id)
        if at.user_id != me.id:
            raise forbidden("only the examinee submits")
        if at.status != "in_progress":
            raise ApiError(409, "already_submitted", "the attempt was submitted")
        if ctx.now() > at.deadline:
            raise ApiError(409, "time_over", "the exam time is over")
        qids = json.loads(at.question_ids)
        given: dict[int, Any] = {}
        for key, val in body.answers.items():
            if not key.isdigit() or int(key) not in qids:
                raise ApiError(422, "unknown_question", f"question {key} is not in this attempt")
            given[int(key)] = val
        qs = {q.id: q for q in db.scalars(select(KbQuestion).where(KbQuestion.id.in_(qids)))}
        pending = False
        score = 0.0
        for qid in qids:
            q = qs[qid]
            pts = (
                _score(q, given.get(qid)) if qid in given else (None if q.kind == "short" else 0.0)
            )
            if q.kind == "short":
                if qid in given:
                    pending = True
                else:
                    pts = 0.0
            db.add(
                KbAnswer(
                    attempt_id=at.id,
                    question_id=qid,
                    answer=json.dumps(given.get(qid), ensure_ascii=False),
                    auto_score=pts,
                )
            )
            score += pts or 0.0
        at.submitted_at = ctx.now()
        at.status = "submitted" if pending else "graded"
        at.score = None if pending else score
        ctx.audit(db, request, me.id, "kb.attempt.submit", str(at.id), "ok", at.status)
        db.commit()
        return attempt_out(db, me, at)

    @router.get("/attempts/{attempt_id}/answers")
    def answers(attempt_id: DbId, me: Me, db: Db) -> list[dict[str, Any]]:
        at = attempt_of(db, me, attempt_id)
        rows = db.scalars(
            select(KbAnswer).where(KbAnswer.attempt_id == at.id).order_by(KbAnswer.question_id)
        )
        return [
            {
                "question_id": r.question_id,
                "answer": json.loads(r.answer),
                "auto_score": r.auto_score,
                "manual_score": r.manual_score,
            }
            for r in rows
        ]

    @router.post("/attempts/{attempt_id}/grade", response_model=AttemptOut)
    def grade(attempt_id: DbId, body: GradeIn, request: Request, me: Me, db: Db) -> AttemptOut:
        """Score one short answer; the attempt is graded when none is left."""
        manager(me)
        at = attempt_of(db, me, attempt_id)
        if at.user_id == me.id:
            raise forbidden("no grading of one's own attempt")
        ans = db.get(KbAnswer, (at.id, body.question_id))
        q = db.get(KbQuestion, body.question_id)
        if ans is None or q is None or q.kind != "short" or at.status == "in_progress":
            raise ApiError(422, "not_gradable", "no submitted short answer to grade")
        if body.score > q.points:
            raise ApiError(422, "invalid_score", f"at most {q.points} points")
        ans.manual_score = body.score
        ans.graded_by = me.id
        db.flush()
        rows = db.scalars(select(KbAnswer).where(KbAnswer.attempt_id == at.id)).all()
        kinds = {
            q.id: q.kind
            for q in db.scalars(
                select(KbQuestion).where(KbQuestion.id.in_([r.question_id for r in rows]))
            )
        }
        waiting = [
            r
            for r in rows
            if kinds[r.question_id] == "short" and r.auto_score is None and r.manual_score is None
        ]
        if not waiting:
            at.status = "graded"
            at.score = sum(
                (r.manual_score if r.manual_score is not None else r.auto_score) or 0.0
                for r in rows
            )
        ctx.audit(db, request, me.id, "kb.attempt.grade", str(at.id), "ok", body.model_dump())
        db.commit()
        return attempt_out(db, me, at)

    @router.get("/results", response_model=list[ResultOut])
    def results(me: Me, db: Db, user_id: DbId | None = None) -> list[ResultOut]:
        """Attempts of one agent (default: the caller); others' only for managers."""
        uid = user_id or me.id
        if uid != me.id and not policy.can_manage_exams(me):
            raise forbidden("results of others are for exam managers")
        rows = db.execute(
            select(KbAttempt, KbPaper)
            .join(KbPaper, KbPaper.id == KbAttempt.paper_id)
            .where(KbAttempt.user_id == uid)
            .order_by(KbAttempt.id)
        ).all()
        return [
            ResultOut(
                attempt_id=a.id,
                paper_id=p.id,
                title=p.title,
                user_id=a.user_id,
                self_test=p.self_test,
                status=a.status,
                score=a.score,
                max_score=a.max_score,
                submitted_at=a.submitted_at,
            )
            for a, p in rows
        ]

    @router.get("/evaluation", response_model=EvaluationOut)
    def evaluation(me: Me, db: Db, user_id: DbId, start: When, end: When) -> EvaluationOut:
        """Exam percentage and QC percentage over [start, end), and their weighted mean."""
        if user_id != me.id and not policy.can_manage_exams(me):
            raise forbidden("evaluations of others are for exam managers")
        if end <= start:
            raise ApiError(422, "invalid_period", "end must be after start")
        rows = db.execute(
            select(KbAttempt.score, KbAttempt.max_score)
            .join(KbPaper, KbPaper.id == KbAttempt.paper_id)
            .where(
                KbAttempt.user_id == user_id,
                KbAttempt.status == "graded",
                KbPaper.self_test.is_(False),
                KbAttempt.submitted_at >= start,
                KbAttempt.submitted_at < end,
                KbAttempt.max_score > 0,
            )
        ).all()
        pcts = [100.0 * (s or 0.0) / m for s, m in rows]
        exam = sum(pcts) / len(pcts) if pcts else None
        n_qc, qc = qc_totals(db, user_id, start, end)
        parts = {"exam": exam, "qc": qc}
        w = sum(WEIGHTS[k] for k, v in parts.items() if v is not None)
        overall = sum(WEIGHTS[k] * v for k, v in parts.items() if v is not None) / w if w else None
        return EvaluationOut(
            user_id=user_id,
            start=start,
            end=end,
            exams=len(rows),
            exam_percent=exam,
            qc_evaluations=n_qc,
            qc_percent=qc,
            overall=overall,
            weights=WEIGHTS,
        )
