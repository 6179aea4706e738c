"""Training and exams through the HTTP API: bank, papers, timed attempts, grading, evaluation."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from conftest import World
from kbhelp import kb
from qchelp import add_call, evaluate, evaluation_body, new_scorecard

__all__ = ["kb"]


def _q(w: World, **body: Any) -> dict[str, Any]:
    r = w.as_("editor", "POST", "/kb/questions", json=body)
    assert r.status_code == 201, r.text
    return dict(r.json())


def _bank(w: World) -> dict[str, dict[str, Any]]:
    s = w.as_("editor", "POST", "/kb/schemes", json={"name": "培训"}).json()
    cat = w.as_(
        "editor", "POST", "/kb/categories", json={"scheme_id": s["id"], "name": "漫游"}
    ).json()
    return {
        "single": _q(
            w,
            kind="single",
            text="日本漫游每天多少元？",
            options=["10", "25", "50"],
            answer=1,
            category_id=cat["id"],
            difficulty=1,
            points=2,
        ),
        "multiple": _q(
            w,
            kind="multiple",
            text="哪些国家支持漫游包？",
            options=["日本", "韩国", "南极"],
            answer=[0, 1],
            category_id=cat["id"],
            difficulty=2,
            points=3,
        ),
        "tf": _q(
            w,
            kind="true_false",
            text="出境前需开通漫游。",
            answer=True,
            category_id=cat["id"],
            difficulty=1,
            points=1,
        ),
        "short": _q(
            w,
            kind="short",
            text="简述漫游开通流程。",
            answer="拨打客服或营业厅办理",
            difficulty=3,
            points=4,
        ),
        "cat": cat,
    }


def test_bank_validation_and_round_trip(kb: World) -> None:
    bank = _bank(kb)
    bad = [
        {"kind": "single", "text": "q", "options": ["a", "b"], "answer": 2},
        {"kind": "single", "text": "q", "options": ["a", "b"], "answer": True},
        {"kind": "multiple", "text": "q", "options": ["a", "b"], "answer": [0, 0]},
        {"kind": "true_false", "text": "q", "answer": 1},
        {"kind": "short", "text": "q", "options": ["a"], "answer": "x"},
    ]
    for body in bad:
        r = kb.as_("editor", "POST", "/kb/questions", json=body)
        assert r.status_code == 422, body
    assert (
        kb.as_(
            "agent",
            "POST",
            "/kb/questions",
            json={"kind": "true_false", "text": "q", "answer": True},
        ).status_code
        == 403
    )
    listed = kb.as_("editor", "GET", "/kb/questions").json()
    assert len(listed) == 4  # nothing stored by the refusals
    assert listed[0]["text"] == "日本漫游每天多少元？" and listed[1]["options"] == [
        "日本",
        "韩国",
        "南极",
    ]
    assert [
        q["id"] for q in kb.as_("editor", "GET", "/kb/questions", params={"difficulty": 1}).json()
    ] == [bank["single"]["id"], bank["tf"]["id"]]
    assert (
        kb.as_("agent", "GET", "/kb/questions").status_code == 403
    )  # answers are not for examinees


def test_timed_exam_auto_and_manual_grading(kb: World, clock: Any) -> None:
    bank = _bank(kb)
    qids = [bank[k]["id"] for k in ("single", "multiple", "tf", "short")]
    paper = kb.as_(
        "editor",
        "POST",
        "/kb/papers",
        json={"title": "漫游考试", "mode": "fixed", "question_ids": qids, "duration_minutes": 30},
    ).json()
    at = kb.as_("agent", "POST", f"/kb/papers/{paper['id']}/attempts").json()
    assert at["max_score"] == 10  # 2 + 3 + 1 + 4
    again = kb.as_("agent", "POST", f"/kb/papers/{paper['id']}/attempts")
    assert (again.status_code, again.json()["error"]) == (409, "already_attempted")
    assert all(q["answer"] is None for q in at["questions"])  # no answers while sitting
    answers = {str(qids[0]): 1, str(qids[1]): [0], str(qids[2]): True, str(qids[3]): "去营业厅办理"}
    r = kb.as_("agent", "POST", f"/kb/attempts/{at['id']}/submit", json={"answers": answers})
    assert r.status_code == 200, r.text
    done = r.json()
    assert done["status"] == "submitted" and done["score"] is None  # the short answer waits
    assert done["questions"][0]["answer"] == 1  # revealed after submitting
    again = kb.as_("agent", "POST", f"/kb/attempts/{at['id']}/submit", json={"answers": {}})
    assert again.status_code == 409
    assert kb.as_("agent2", "GET", f"/kb/attempts/{at['id']}").status_code == 404
    assert (
        kb.as_(
            "agent",
            "POST",
            f"/kb/attempts/{at['id']}/grade",
            json={"question_id": qids[3], "score": 4},
        ).status_code
        == 403
    )
    over = kb.as_(
        "leader",
        "POST",
        f"/kb/attempts/{at['id']}/grade",
        json={"question_id": qids[3], "score": 5},
    )
    assert over.status_code == 422
    g = kb.as_(
        "leader",
        "POST",
        f"/kb/attempts/{at['id']}/grade",
        json={"question_id": qids[3], "score": 3},
    )
    assert g.status_code == 200
    assert (g.json()["status"], g.json()["score"]) == (
        "graded",
        2 + 0 + 1 + 3,
    )  # multiple: partial = 0
    # a late submission is refused and stores nothing
    late = kb.as_("agent2", "POST", f"/kb/papers/{paper['id']}/attempts").json()
    clock.advance(minutes=31)
    r = kb.as_(
        "agent2", "POST", f"/kb/attempts/{late['id']}/submit", json={"answers": {str(qids[0]): 1}}
    )
    assert (r.status_code, r.json()["error"]) == (409, "time_over")
    assert kb.as_("agent2", "GET", f"/kb/attempts/{late['id']}").json()["status"] == "expired"
    assert kb.as_("agent2", "GET", f"/kb/attempts/{late['id']}/answers").json() == []
    # results per agent
    res = kb.as_("agent", "GET", "/kb/results").json()
    assert [(x["title"], x["score"], x["max_score"]) for x in res] == [("漫游考试", 6, 10)]
    assert (
        kb.as_("agent", "GET", "/kb/results", params={"user_id": kb.user_ids["agent2"]}).status_code
        == 403
    )
    assert (
        len(
            kb.as_("leader", "GET", "/kb/results", params={"user_id": kb.user_ids["agent2"]}).json()
        )
        == 1
    )


def test_random_papers_and_self_tests(kb: World) -> None:
    bank = _bank(kb)
    for i in range(4):
        _q(
            kb,
            kind="true_false",
            text=f"判断题{i}",
            answer=i % 2 == 0,
            category_id=bank["cat"]["id"],
            difficulty=1,
        )
    rule = [
        {"count": 3, "category_id": bank["cat"]["id"], "difficulty": 1},
        {"count": 1, "kind": "short"},
    ]
    paper = kb.as_(
        "editor",
        "POST",
        "/kb/papers",
        json={"title": "随机自测", "mode": "random", "rule": rule, "self_test": True},
    )
    assert paper.status_code == 201, paper.text
    too_many = kb.as_(
        "editor",
        "POST",
        "/kb/papers",
        json={"title": "x", "mode": "random", "rule": [{"count": 50, "kind": "single"}]},
    )
    assert too_many.status_code == 422
    easy = {
        q["id"] for q in kb.as_("editor", "GET", "/kb/questions", params={"difficulty": 1}).json()
    }
    easy_in_cat = {
        q["id"]
        for q in kb.as_(
            "editor", "GET", "/kb/questions", params={"category_id": bank["cat"]["id"]}
        ).json()
    } & easy
    drawn: set[tuple[int, ...]] = set()
    for _ in range(6):
        at = kb.as_("agent", "POST", f"/kb/papers/{paper.json()['id']}/attempts").json()
        ids = [q["id"] for q in at["questions"]]
        assert len(ids) == len(set(ids)) == 4
        assert set(ids[:3]) <= easy_in_cat and ids[3] == bank["short"]["id"]
        drawn.add(tuple(sorted(ids[:3])))
    # 6 of C(6,3) = 20 equally likely draws all equal has probability 20 * (1/20)^6 < 1e-6
    assert len(drawn) > 1
    # a self-test is graded at once and reveals the answers; it is not in the evaluation
    at = kb.as_("agent", "POST", f"/kb/papers/{paper.json()['id']}/attempts").json()
    answers = {str(q["id"]): True for q in at["questions"] if q["kind"] == "true_false"}
    done = kb.as_(
        "agent", "POST", f"/kb/attempts/{at['id']}/submit", json={"answers": answers}
    ).json()
    assert done["status"] == "graded"  # the unanswered short question earns 0, nothing waits
    truths = {q["id"]: q["answer"] for q in done["questions"]}
    expected = sum(1.0 for qid in answers if truths[int(qid)] is True)
    assert done["score"] == expected


def test_evaluation_combines_exams_and_qc(kb: World, clock: Any) -> None:
    bank = _bank(kb)
    start = clock.now
    for i, ans in enumerate((1, 0)):  # 3/3 then 1/3 points, in two exams
        paper = kb.as_(
            "editor",
            "POST",
            "/kb/papers",
            json={
                "title": f"单选{i}",
                "mode": "fixed",
                "question_ids": [bank["single"]["id"], bank["tf"]["id"]],
            },
        ).json()
        at = kb.as_("agent", "POST", f"/kb/papers/{paper['id']}/attempts").json()
        r = kb.as_(
            "agent",
            "POST",
            f"/kb/attempts/{at['id']}/submit",
            json={"answers": {str(bank["single"]["id"]): ans, str(bank["tf"]["id"]): True}},
        )
        assert r.status_code == 200, r.text
    params = {
        "user_id": kb.user_ids["agent"],
        "start": start.isoformat(),
        "end": (start + timedelta(days=1)).isoformat(),
    }
    ev = kb.as_("leader", "GET", "/kb/evaluation", params=params).json()
    assert ev["exams"] == 2
    assert abs(ev["exam_percent"] - (100.0 + 100.0 / 3) / 2) < 1e-9
    if ev["qc_evaluations"] == 0:  # no QC data: the overall mark is the exam mark
        assert ev["qc_percent"] is None
        assert abs(ev["overall"] - ev["exam_percent"]) < 1e-9
    assert kb.as_("agent2", "GET", "/kb/evaluation", params=params).status_code == 403
    assert kb.as_("agent", "GET", "/kb/evaluation", params=params).status_code == 200
    bad = params | {"end": (start - timedelta(days=1)).isoformat()}
    assert kb.as_("leader", "GET", "/kb/evaluation", params=bad).status_code == 422


def test_evaluation_combines_exam_and_qc_scores_by_weight(kb: World, clock: Any) -> None:
    """Two QC evaluations (87.5 and 100, hand-computed from the QC scorecard) and two
    exams (100 and 33.3): overall = 0.4 x exam mean + 0.6 x QC mean."""
    start = clock.now
    card = new_scorecard(kb)
    for i, scores in enumerate(((4, 5, 8, 10), (5, 5, 10, 10))):
        call = f"KB-QC-{i}"
        add_call(kb, call, agent="agent")
        evaluate(kb, evaluation_body(kb, card, [call], agent="agent", scores=scores))
    bank = _bank(kb)
    for i, ans in enumerate((1, 0)):
        paper = kb.as_(
            "editor",
            "POST",
            "/kb/papers",
            json={
                "title": f"考试{i}",
                "mode": "fixed",
                "question_ids": [bank["single"]["id"], bank["tf"]["id"]],
            },
        ).json()
        at = kb.as_("agent", "POST", f"/kb/papers/{paper['id']}/attempts").json()
        answers = {str(bank["single"]["id"]): ans, str(bank["tf"]["id"]): True}
        r = kb.as_("agent", "POST", f"/kb/attempts/{at['id']}/submit", json={"answers": answers})
        assert r.status_code == 200, r.text
    params = {
        "user_id": kb.user_ids["agent"],
        "start": start.isoformat(),
        "end": (start + timedelta(days=1)).isoformat(),
    }
    ev = kb.as_("leader", "GET", "/kb/evaluation", params=params).json()
    assert ev["qc_evaluations"] == 2
    assert ev["qc_percent"] == pytest.approx((87.5 + 100.0) / 2)
    exam = (100.0 + 100.0 / 3) / 2
    assert ev["exam_percent"] == pytest.approx(exam)
    assert ev["overall"] == pytest.approx(0.4 * exam + 0.6 * 93.75)
