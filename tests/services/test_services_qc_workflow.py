"""QC review queue and claims, calibration, typical cases, supervisor interventions,
reports and CSV export, through the HTTP API as the roles involved."""

from __future__ import annotations

import csv
import io
import threading
from datetime import timedelta
from typing import Any

import pytest
from conftest import Clock, World
from fastapi import FastAPI
from qchelp import (
    T0,
    add_call,
    evaluate,
    evaluation_body,
    new_scorecard,
    qc_counts,
    qc_world,
    scorecard_v2,
)

from ccsim.services.qc import QcSettings

DAY = timedelta(days=1)


@pytest.fixture
def qw(world: World) -> World:
    return qc_world(world)


def test_review_queue_sampling_and_claims(qw: World, app: FastAPI, clock: Clock) -> None:
    app.state.settings.qc = QcSettings(claim_limit=2, claim_ttl=timedelta(minutes=30))
    card = new_scorecard(qw)
    for i in range(5):
        add_call(qw, f"A{i}", start=T0 + timedelta(minutes=10 * i))
    add_call(qw, "A-late", start=T0 + DAY)  # outside the period
    add_call(qw, "B0", agent="ag_b", start=T0)
    add_call(qw, "B1", agent="ag_b", start=T0 + timedelta(hours=3))
    period = {
        "period_start": T0.isoformat(),
        "period_end": (T0 + DAY).isoformat(),
        "per_agent": 3,
    }
    assert qw.as_("qc", "POST", "/qc/queue/samples", json=period).status_code == 403
    assert qw.as_("ag_a", "POST", "/qc/queue/samples", json=period).status_code == 403
    bad = period | {"share": 0.5}
    assert qw.as_("tl_a", "POST", "/qc/queue/samples", json=bad).status_code == 422
    r = qw.as_("tl_a", "POST", "/qc/queue/samples", json=period)
    assert r.status_code == 201, r.text
    drawn = r.json()["items"]
    by_agent: dict[int, set[str]] = {}
    for it in drawn:
        by_agent.setdefault(it["agent_id"], set()).add(it["call_id"])
    # fair: k = 3 of ag_a's 5 in-period calls, all (2) of ag_b's
    assert len(by_agent[qw.user_ids["ag_a"]]) == 3
    assert by_agent[qw.user_ids["ag_a"]] <= {f"A{i}" for i in range(5)}
    assert by_agent[qw.user_ids["ag_b"]] == {"B0", "B1"}
    assert all(it["state"] == "open" for it in drawn)
    before = qc_counts(app)
    r = qw.as_("admin", "POST", "/qc/queue/samples", json=period)
    assert (r.status_code, r.json()["error"]) == (409, "already_sampled")
    assert qc_counts(app) == before

    ids = [it["id"] for it in drawn]
    a_items = [it for it in drawn if it["agent_id"] == qw.user_ids["ag_a"]]
    first, second, third = (it["id"] for it in a_items)
    assert qw.as_("tl_a", "POST", f"/qc/queue/{first}/claim").status_code == 403
    r = qw.as_("qc", "POST", f"/qc/queue/{first}/claim")
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "claimed" and r.json()["claimed_by"] == qw.user_ids["qc"]
    assert qw.as_("qc", "POST", f"/qc/queue/{second}/claim").status_code == 200
    r = qw.as_("qc", "POST", f"/qc/queue/{third}/claim")
    assert (r.status_code, r.json()["error"]) == (409, "claim_limit")
    r = qw.as_("qc2", "POST", f"/qc/queue/{first}/claim")
    assert (r.status_code, r.json()["error"]) == (409, "already_claimed")
    assert qw.as_("qc", "POST", "/qc/queue/999999/claim").status_code == 404

    def states(who: str = "qc") -> dict[str, int]:
        out = {}
        for s in ("open", "claimed", "done", "mine"):
            out[s] = qw.as_(who, "GET", f"/qc/queue?state={s}").json()["total"]
        return out

    assert states() == {"open": 3, "claimed": 2, "done": 0, "mine": 2}
    # the claim holder alone may score a claimed call
    first_call = next(it["call_id"] for it in drawn if it["id"] == first)
    body = evaluation_body(qw, card, [first_call], qc_type="sampled")
    r = qw.as_("qc2", "POST", "/qc/evaluations", json=body)
    assert (r.status_code, r.json()["error"]) == (409, "claimed_by_other")
    # claims expire: after 31 minutes the items are back in the queue
    clock.advance(minutes=31)
    assert states() == {"open": 5, "claimed": 0, "done": 0, "mine": 0}
    assert qw.as_("qc2", "POST", f"/qc/queue/{first}/claim").status_code == 200
    assert qw.as_("qc", "POST", f"/qc/queue/{third}/claim").status_code == 200
    evaluate(qw, body, inspector="qc2")
    assert states("qc2") == {"open": 3, "claimed": 1, "done": 1, "mine": 0}
    r = qw.as_("qc", "POST", f"/qc/queue/{first}/claim")
    assert (r.status_code, r.json()["error"]) == (409, "already_evaluated")
    assert qw.as_("qc2", "POST", f"/qc/queue/{third}/release").status_code == 409
    r = qw.as_("qc", "POST", f"/qc/queue/{third}/release")
    assert r.status_code == 200 and r.json()["state"] == "open"
    page = qw.as_("qc", "GET", "/qc/queue?limit=2&offset=4").json()
    assert page["total"] == 5 and [i["id"] for i in page["items"]] == sorted(ids)[4:]
    assert qw.as_("ag_a", "GET", "/qc/queue").status_code == 403
    # a share: ceil(0.5 * 1) = 1 of A-late's day
    r = qw.as_(
        "admin",
        "POST",
        "/qc/queue/samples",
        json={
            "period_start": (T0 + DAY).isoformat(),
            "period_end": (T0 + 2 * DAY).isoformat(),
            "share": 0.5,
        },
    )
    assert r.status_code == 201 and [i["call_id"] for i in r.json()["items"]] == ["A-late"]


def test_calibration_spread(qw: World, app: FastAPI) -> None:
    card = new_scorecard(qw)
    add_call(qw, "K1")
    r = qw.as_("qc", "POST", "/qc/calibrations", json={"call_id": "K1", "scorecard_id": card["id"]})
    assert r.status_code == 201, r.text
    cal = r.json()
    assert cal["scorecard_version"] == 1
    before = qc_counts(app)
    for body, status in (
        ({"call_id": "NOPE", "scorecard_id": card["id"]}, 422),
        ({"call_id": "K1", "scorecard_id": 999}, 422),
    ):
        assert qw.as_("qc", "POST", "/qc/calibrations", json=body).status_code == status
    assert (
        qw.as_(
            "ag_a", "POST", "/qc/calibrations", json={"call_id": "K1", "scorecard_id": card["id"]}
        ).status_code
        == 403
    )
    assert qc_counts(app) == before
    # a new scorecard version does not move a calibration already opened
    r = qw.as_("admin", "PUT", f"/qc/scorecards/{card['id']}", json=scorecard_v2() | {"version": 1})
    assert r.status_code == 200
    scores = {"qc": (4, 5, 8, 10), "qc2": (5, 5, 6, None), "qc3": (3, 5, 10, 8)}
    totals = {}
    for who, s in scores.items():
        body = evaluation_body(
            qw, card, ["K1"], scores=s, qc_type="calibration", calibration_id=cal["id"]
        )
        ev = evaluate(qw, body, inspector=who)
        assert ev["scorecard_version"] == 1
        totals[who] = ev["total"]
    # v1 by hand: qc 7/8 = 87.5; qc2 (1+1+4*0.6)/6 = 73.33; qc3 (0.6+1+4+1.6)/8 = 90.0
    assert totals == {"qc": 87.5, "qc2": 73.33, "qc3": 90.0}
    body = evaluation_body(qw, card, ["K1"], qc_type="calibration", calibration_id=cal["id"])
    r = qw.as_("qc", "POST", "/qc/evaluations", json=body)
    assert (r.status_code, r.json()["error"]) == (409, "already_evaluated")
    rep = qw.as_("tl_a", "GET", f"/qc/calibrations/{cal['id']}/report")
    assert rep.status_code == 200, rep.text
    rep_body = rep.json()
    tot = rep_body["total"]
    # mean 250.83/3 = 83.61; deviations 3.89, -10.28, 6.39; squares sum 161.6426;
    # sample variance 80.8213; sd 8.99007
    assert (tot["n"], tot["min"], tot["max"]) == (3, 73.33, 90.0)
    assert tot["range"] == pytest.approx(16.67)
    assert tot["mean"] == pytest.approx(83.61)
    assert tot["stdev"] == pytest.approx(8.99007, abs=1e-5)
    it = rep_body["items"]
    # greet 4,5,3: mean 4, squares 0+1+1 -> var 1; solve 8,6,10: var (0+4+4)/2 = 4
    assert (it["greet"]["range"], it["greet"]["mean"], it["greet"]["stdev"]) == (2, 4, 1)
    assert (it["solve"]["range"], it["solve"]["mean"], it["solve"]["stdev"]) == (4, 8, 2)
    assert (it["ident"]["range"], it["ident"]["stdev"]) == (0, 0)
    # polite 10, 8 (qc2 said N/A): var (1+1)/1 = 2
    assert it["polite"]["n"] == 2
    assert it["polite"]["stdev"] == pytest.approx(2**0.5)
    assert qw.as_("ag_a", "GET", f"/qc/calibrations/{cal['id']}/report").status_code == 404
    assert qw.as_("qc2", "GET", f"/qc/calibrations/{cal['id']}").json() == cal
    assert qw.as_("ag_a", "GET", f"/qc/calibrations/{cal['id']}").status_code == 404
    # calibration exercises are not the agent's evaluations and do not block real scoring
    assert qw.as_("ag_a", "GET", "/qc/evaluations").json()["total"] == 0
    real = evaluate(qw, evaluation_body(qw, card, ["K1"]))
    assert real["scorecard_version"] == 2


def test_typical_case_archive(qw: World, app: FastAPI) -> None:
    card = new_scorecard(qw)
    add_call(qw, "T1", duration=300, recording="/rec/t1.wav")
    ev = evaluate(qw, evaluation_body(qw, card, ["T1"]))
    base = {"category": "服务规范", "title": "标准开场白", "evaluation_id": ev["id"]}
    before = qc_counts(app)
    refusals: list[tuple[str, dict[str, Any], int]] = [
        ("ag_a", base, 403),
        ("qc", base | {"start_offset_s": 10, "end_offset_s": 400}, 422),
        ("qc", base | {"start_offset_s": 40, "end_offset_s": 10}, 422),
        ("qc", base | {"start_offset_s": 40}, 422),
        ("qc", base | {"evaluation_id": 999}, 422),
        ("qc", base | {"call_id": "NOPE"}, 422),
        ("qc", {"category": "x", "title": "y"}, 422),
        ("qc", {"category": "x", "title": "y", "recording": "javascript:alert(1)"}, 422),
        ("qc", {"category": "x", "title": "y", "recording": "/rec/../../etc/passwd"}, 422),
    ]
    for who, body, status in refusals:
        r = qw.as_(who, "POST", "/qc/typical-cases", json=body)
        assert r.status_code == status, (body, r.text)
    assert qc_counts(app) == before
    r = qw.as_(
        "qc",
        "POST",
        "/qc/typical-cases",
        json=base
        | {"start_offset_s": 10, "end_offset_s": 40, "note": "<i>示范</i><script>x()</script>"},
    )
    assert r.status_code == 201, r.text
    seg = r.json()
    assert (seg["call_id"], seg["recording"], seg["note"]) == ("T1", "/rec/t1.wav", "<i>示范</i>")
    r = qw.as_(
        "tl_a",
        "POST",
        "/qc/typical-cases",
        json={
            "category": "投诉处理",
            "title": "安抚客户",
            "recording": "https://rec.example.com/c/2.wav",
            "start_offset_s": 0,
            "end_offset_s": 12.5,
        },
    )
    assert r.status_code == 201, r.text
    other = r.json()
    # agents browse and search
    page = qw.as_("ag_b", "GET", "/qc/typical-cases").json()
    assert page["total"] == 2 and [c["id"] for c in page["items"]] == [other["id"], seg["id"]]
    assert [c["id"] for c in qw.as_("ag_b", "GET", "/qc/typical-cases?q=示范").json()["items"]] == [
        seg["id"]
    ]
    assert qw.as_("ag_b", "GET", "/qc/typical-cases?q=安抚 客户").json()["total"] == 1
    assert qw.as_("ag_b", "GET", "/qc/typical-cases?q=%25").json()["total"] == 0
    r = qw.as_("ag_b", "GET", "/qc/typical-cases?q=" + "+".join("abcdefghi"))
    assert (r.status_code, r.json()["error"]) == (422, "invalid_search")
    assert qw.as_("ag_b", "GET", "/qc/typical-cases?category=投诉处理").json()["total"] == 1
    assert qw.as_("ag_b", "GET", "/qc/typical-cases/categories").json() == {
        "投诉处理": 1,
        "服务规范": 1,
    }
    assert qw.as_("ag_b", "GET", f"/qc/typical-cases/{seg['id']}").json() == seg
    assert qw.as_("ag_b", "GET", "/qc/typical-cases/999").status_code == 404
    assert qw.as_("ag_b", "GET", "/qc/typical-cases?sort=note").status_code == 422


def test_interventions_are_recorded_and_visible_in_qc(qw: World, app: FastAPI) -> None:
    card = new_scorecard(qw)
    add_call(qw, "I1")
    add_call(qw, "I2", agent="ag_b")
    ev = evaluate(qw, evaluation_body(qw, card, ["I1"]))
    at = (T0 + timedelta(minutes=2)).isoformat()
    mon = {
        "kind": "monitor",
        "supervisor_id": qw.user_ids["tl_a"],
        "agent_id": qw.user_ids["ag_a"],
        "call_id": "I1",
        "at": at,
        "reason": "抽查<script>x</script>",
    }
    before = qc_counts(app)
    for who, body, status in (
        ("qc", mon, 403),
        ("tl_a", mon, 403),
        ("admin", mon | {"kind": "barge_in", "call_id": None}, 422),
        ("admin", mon | {"kind": "eavesdrop"}, 422),
        ("admin", mon | {"call_id": "NOPE"}, 422),
        ("admin", mon | {"call_id": "I2"}, 422),
        ("admin", mon | {"supervisor_id": 999}, 422),
    ):
        r = qw.as_(who, "POST", "/qc/interventions", json=body)
        assert r.status_code == status, (body, r.text)
    assert qc_counts(app) == before
    r = qw.as_("admin", "POST", "/qc/interventions", json=mon)
    assert r.status_code == 201, r.text
    assert r.json()["reason"] == "抽查"
    force = {
        "kind": "force_not_ready",
        "supervisor_id": qw.user_ids["tl_a"],
        "agent_id": qw.user_ids["ag_a"],
        "at": at,
    }
    assert qw.as_("admin", "POST", "/qc/interventions", json=force).status_code == 201
    got = qw.as_("qc", "GET", f"/qc/evaluations/{ev['id']}").json()
    assert [i["kind"] for i in got["interventions"]] == ["monitor"]
    call = qw.as_("tl_a", "GET", "/qc/calls/I1").json()
    assert call["evaluation_ids"] == [ev["id"]]
    assert [i["kind"] for i in call["interventions"]] == ["monitor"]
    assert qw.as_("ag_a", "GET", "/qc/calls/I1").status_code == 200
    assert qw.as_("ag_b", "GET", "/qc/calls/I1").status_code == 404
    kinds = {
        who: sorted(i["kind"] for i in qw.as_(who, "GET", "/qc/interventions").json()["items"])
        for who in ("admin", "tl_a", "tl_b", "ag_a", "ag_b")
    }
    assert kinds == {
        "admin": ["force_not_ready", "monitor"],
        "tl_a": ["force_not_ready", "monitor"],
        "tl_b": [],
        "ag_a": ["force_not_ready", "monitor"],
        "ag_b": [],
    }
    r = qw.as_("admin", "GET", "/qc/interventions?kind=monitor&call_id=I1").json()
    assert r["total"] == 1

    # the call log: staff see all calls, team leaders their team's, agents their own
    def calls(who: str, query: str = "") -> list[str]:
        return [c["call_id"] for c in qw.as_(who, "GET", f"/qc/calls{query}").json()["items"]]

    assert calls("qc") == ["I1", "I2"]
    assert calls("ag_b") == ["I2"]
    assert calls("tl_a") == ["I1"]
    assert calls("qc", f"?agent_id={qw.user_ids['ag_a']}") == ["I1"]
    assert qw.as_("tl_b", "GET", "/qc/calls/I1").status_code == 404
    first = qw.as_("qc", "GET", "/qc/calls?limit=1").json()
    assert first["total"] == 2
    r = qw.as_("admin", "POST", "/qc/calls", json=first["items"][0])
    assert (r.status_code, r.json()["error"]) == (409, "duplicate_call")


def _history(qw: World) -> dict[str, dict[str, Any]]:
    """ag_a (dept A): Mon 87.5 B, Tue 100 A, next Mon 0 F; ag_b (dept B): Wed 12.5 D,
    Thu 0 F; plus a calibration exercise that reports must ignore."""
    card = new_scorecard(qw)
    plan = {
        "a_mon": ("ag_a", T0, (4, 5, 8, 10)),
        "a_tue": ("ag_a", T0 + DAY, (5, 5, 10, 10)),
        "a_next": ("ag_a", T0 + 7 * DAY, (5, 0, 10, 10)),
        "b_wed": ("ag_b", T0 + 2 * DAY, (0, 5, 0, 0)),
        "b_thu": ("ag_b", T0 + 3 * DAY, (5, 0, 10, 10)),
    }
    out = {}
    for name, (agent, start, scores) in plan.items():
        add_call(qw, name, agent=agent, start=start)
        out[name] = evaluate(
            qw,
            evaluation_body(
                qw,
                card,
                [name],
                agent=agent,
                scores=scores,
                start=start + timedelta(hours=2),
                comments='=HYPERLINK("http://x")' if name == "a_tue" else "ok",
            ),
        )
    add_call(qw, "cal", start=T0)
    cal = qw.as_(
        "qc", "POST", "/qc/calibrations", json={"call_id": "cal", "scorecard_id": card["id"]}
    )
    out["cal"] = evaluate(
        qw,
        evaluation_body(
            qw,
            card,
            ["cal"],
            scores=(0, 5, 0, 0),
            qc_type="calibration",
            calibration_id=cal.json()["id"],
        ),
        inspector="qc2",
    )
    return out


def test_reports_trends_and_grade_distributions(qw: World) -> None:
    _history(qw)
    a, b = str(qw.user_ids["ag_a"]), str(qw.user_ids["ag_b"])
    rows = qw.as_("admin", "GET", "/qc/reports?group_by=agent&bucket=week").json()["rows"]
    got = {(r["group"], r["bucket"]): (r["count"], r["mean_total"], r["grades"]) for r in rows}
    # 2 March 2026 is a Monday in ISO week 10
    assert got == {
        (a, "2026-W10"): (2, 93.75, {"A": 1, "B": 1}),
        (a, "2026-W11"): (1, 0.0, {"F": 1}),
        (b, "2026-W10"): (2, 6.25, {"D": 1, "F": 1}),
    }
    dep_a, dep_b = str(qw.departments["A"]), str(qw.departments["B"])
    rows = qw.as_("tl_a", "GET", "/qc/reports?group_by=department&bucket=month").json()["rows"]
    assert [(r["group"], r["bucket"], r["count"], r["mean_total"]) for r in rows] == [
        (dep_a, "2026-03", 3, 62.5)
    ]
    rows = qw.as_("admin", "GET", "/qc/reports?group_by=department&bucket=all").json()["rows"]
    assert {(r["group"], r["count"], r["mean_total"]) for r in rows} == {
        (dep_a, 3, 62.5),
        (dep_b, 2, 6.25),
    }
    rows = qw.as_(
        "qc",
        "GET",
        f"/qc/reports?group_by=all&bucket=day&started_from={T0.isoformat()}"
        f"&started_to={(T0 + 2 * DAY).isoformat()}",
    ).json()["rows"]
    assert [(r["bucket"], r["count"], r["grades"]) for r in rows] == [
        ("2026-03-02", 1, {"B": 1}),
        ("2026-03-03", 1, {"A": 1}),
    ]
    assert qw.as_("ag_a", "GET", "/qc/reports").status_code == 403
    assert qw.as_("admin", "GET", "/qc/reports?bucket=year").status_code == 422


def test_csv_export_needs_the_right_and_follows_the_query(qw: World) -> None:
    evs = _history(qw)
    assert qw.as_("qc", "GET", "/qc/export/evaluations.csv").status_code == 403
    assert qw.as_("admin", "GET", "/qc/export/evaluations.csv").status_code == 403
    r = qw.as_("tl_x", "GET", "/qc/export/evaluations.csv")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    # tl_x leads department A: only ag_a's evaluations (calibration exercises included)
    names = ("a_mon", "a_tue", "a_next", "cal")
    assert [int(x["id"]) for x in rows] == [evs[k]["id"] for k in names]
    assert [float(x["total"]) for x in rows] == [87.5, 100.0, 0.0, 12.5]
    assert rows[3]["qc_type"] == "calibration"
    assert rows[1]["comments"] == '\'=HYPERLINK("http://x")'  # no formula injection
    assert rows[0]["call_ids"] == "a_mon" and rows[0]["business_type"] == "宽带"
    r = qw.as_("tl_x", "GET", "/qc/export/evaluations.csv?grade=A")
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert [x["call_ids"] for x in rows] == ["a_tue"]


def test_concurrent_scoring_and_claims_have_one_winner(qw: World, app: FastAPI) -> None:
    """Two inspectors score the same call, or claim the same item, at the same moment."""
    card = new_scorecard(qw)
    for i in range(3):
        add_call(qw, f"R{i}")
    r = qw.as_(
        "admin",
        "POST",
        "/qc/queue/samples",
        json={"period_start": T0.isoformat(), "period_end": (T0 + DAY).isoformat(), "share": 1},
    )
    queue = [it["id"] for it in r.json()["items"]]

    def race(calls: list[tuple[str, str, str, Any]]) -> list[int]:
        barrier = threading.Barrier(len(calls))
        codes: list[int] = []

        def go(who: str, method: str, url: str, body: Any) -> None:
            barrier.wait()
            codes.append(qw.as_(who, method, url, json=body).status_code)

        threads = [threading.Thread(target=go, args=c) for c in calls]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return sorted(codes)

    for item in queue[:2]:
        url = f"/qc/queue/{item}/claim"
        assert race([("qc", "POST", url, None), ("qc2", "POST", url, None)]) == [200, 409]
    body = evaluation_body(qw, card, ["R2"])
    calls = [("qc", "POST", "/qc/evaluations", body), ("qc3", "POST", "/qc/evaluations", body)]
    assert race(calls) == [201, 409]
    assert qc_counts(app)["qc_evaluations"] == 1
    assert qw.as_("qc", "GET", "/qc/evaluations?call_id=R2").json()["total"] == 1
    assert qw.client.get("/qc/evaluations").status_code == 401
