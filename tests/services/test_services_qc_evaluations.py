"""QC scorecards, versions, evaluations, validation, query, corrections and appeals,
through the HTTP API as the roles involved. Expected totals are worked out by hand
from the formula in docs/qc.md (weights: greet 1, ident 1, solve 4, polite 2 on v1)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from conftest import World
from fastapi import FastAPI
from qchelp import (
    SCORECARD_V1,
    T0,
    add_call,
    evaluate,
    evaluation_body,
    items,
    new_scorecard,
    qc_counts,
    qc_world,
    scorecard_v2,
)


@pytest.fixture
def qw(world: World) -> World:
    return qc_world(world)


def test_scorecard_versions_keep_the_scores_they_were_computed_with(qw: World) -> None:
    card = new_scorecard(qw)
    assert card["version"] == 1
    add_call(qw, "C1")
    add_call(qw, "C2")
    # v1: (1*4/5 + 1*5/5 + 4*8/10 + 2*10/10) / (1+1+4+2) = 7/8 -> 87.5, B
    e1 = evaluate(qw, evaluation_body(qw, card, ["C1"]))
    assert (e1["total"], e1["grade"], e1["scorecard_version"]) == (87.5, "B", 1)
    assert {i["key"]: i["weight"] for i in e1["items"]} == {
        "greet": 1,
        "ident": 1,
        "solve": 4,
        "polite": 2,
    }
    # only admins edit; a stale version is a conflict
    r = qw.as_("tl_a", "PUT", f"/qc/scorecards/{card['id']}", json=scorecard_v2() | {"version": 1})
    assert r.status_code == 403
    r = qw.as_("admin", "PUT", f"/qc/scorecards/{card['id']}", json=scorecard_v2() | {"version": 1})
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 2
    r = qw.as_("admin", "PUT", f"/qc/scorecards/{card['id']}", json=scorecard_v2() | {"version": 1})
    assert (r.status_code, r.json()["error"]) == (409, "version_conflict")
    # the v1 evaluation is untouched
    again = qw.as_("ag_a", "GET", f"/qc/evaluations/{e1['id']}").json()
    assert (again["total"], again["grade"], again["scorecard_version"]) == (87.5, "B", 1)
    # v2 (solve weight 2, polite 1; A from 85): (0.8 + 1 + 1.6 + 1) / 5 = 88.0 -> A
    e2 = evaluate(qw, evaluation_body(qw, card, ["C2"]))
    assert (e2["total"], e2["grade"], e2["scorecard_version"]) == (88.0, "A", 2)
    # a correction of e1 recomputes on v1: polite N/A -> (0.8+1+3.2)/6 = 83.33 B
    # (on v2 it would be (0.8+1+1.6)/4 = 85.0 A)
    r = qw.as_(
        "qc",
        "PATCH",
        f"/qc/evaluations/{e1['id']}",
        json={"version": 1, "items": [{"key": "polite", "points": None}]},
    )
    assert r.status_code == 200, r.text
    assert (r.json()["total"], r.json()["grade"], r.json()["scorecard_version"]) == (
        83.33,
        "B",
        1,
    )
    v1 = qw.as_("agent", "GET", f"/qc/scorecards/{card['id']}?version=1").json()
    assert v1["definition"]["sections"][1]["weight"] == 2
    assert [c["version"] for c in qw.as_("agent", "GET", "/qc/scorecards").json()] == [2]


def test_instant_fail_not_applicable_and_definition_checks(qw: World, app: FastAPI) -> None:
    card = new_scorecard(qw)
    for c in ("F1", "N1", "N2"):
        add_call(qw, c)
    failed = evaluate(qw, evaluation_body(qw, card, ["F1"], scores=(5, 0, 10, 10)))
    assert (failed["total"], failed["grade"]) == (0.0, "F")
    # polite N/A: (0.8 + 1 + 4*0.5) / 6 = 3.8/6 = 63.33 -> C
    na = evaluate(qw, evaluation_body(qw, card, ["N1"], scores=(4, 5, 5, None)))
    assert (na["total"], na["grade"]) == (63.33, "C")
    assert [i["points"] for i in na["items"]] == [4, 5, 5, None]
    before = qc_counts(app)
    r = qw.as_(
        "qc",
        "POST",
        "/qc/evaluations",
        json=evaluation_body(qw, card, ["N2"], scores=(4, None, 5, 5)),
    )
    assert (r.status_code, r.json()["error"]) == (422, "na_not_allowed")
    assert qc_counts(qw.client.app) == before  # type: ignore[attr-defined]
    # scorecard definitions are validated too
    bad_thresholds = SCORECARD_V1 | {"thresholds": [{"grade": "A", "min_total": 50}]}
    dup_keys = SCORECARD_V1 | {
        "name": "x",
        "sections": [SCORECARD_V1["sections"][0], SCORECARD_V1["sections"][0]],
    }
    zero_max = SCORECARD_V1 | {
        "name": "y",
        "sections": [{"name": "s", "items": [{"key": "a", "label": "a", "max_points": 0}]}],
    }
    for body in (bad_thresholds, dup_keys, zero_max):
        r = qw.as_("admin", "POST", "/qc/scorecards", json=body)
        assert r.status_code == 422, r.text
    assert qw.as_("qc", "POST", "/qc/scorecards", json=SCORECARD_V1).status_code == 403
    r = qw.as_("admin", "POST", "/qc/scorecards", json=SCORECARD_V1)
    assert (r.status_code, r.json()["error"]) == (409, "name_taken")
    assert len(qw.as_("admin", "GET", "/qc/scorecards").json()) == 1


def test_every_validation_refusal_is_4xx_and_stores_nothing(qw: World, app: FastAPI) -> None:
    card = new_scorecard(qw)
    add_call(qw, "V1")
    add_call(qw, "VB", agent="ag_b")
    add_call(qw, "SELF", agent="qa_agent")
    good = evaluation_body(qw, card, ["V1"])
    t = T0 + timedelta(hours=1)
    cases: list[tuple[str, dict[str, Any], int, str | None]] = [
        ("qc", good | {"total": 100}, 422, "invalid_request"),
        ("qc", good | {"grade": "A"}, 422, "invalid_request"),
        ("qc", good | {"items": items(4, 5, 11, 10)}, 422, "score_out_of_range"),
        ("qc", good | {"items": items(4, 5, -1, 10)}, 422, "invalid_request"),
        ("qc", good | {"items": items(4, 5, 8, 10)[:3]}, 422, "missing_item"),
        (
            "qc",
            good | {"items": [*items(4, 5, 8, 10)[:3], {"key": "polite"}]},
            422,
            "invalid_request",
        ),
        (
            "qc",
            good | {"items": [*items(4, 5, 8, 10), {"key": "extra", "points": 1}]},
            422,
            "unknown_item",
        ),
        (
            "qc",
            good | {"items": [*items(4, 5, 8, 10), {"key": "greet", "points": 1}]},
            422,
            "duplicate_item",
        ),
        ("qc", good | {"ended_at": t.isoformat()}, 422, "invalid_times"),
        ("qc", good | {"ended_at": (t - timedelta(1)).isoformat()}, 422, "invalid_times"),
        ("qc", good | {"start_serial": 10, "end_serial": 9}, 422, "invalid_serials"),
        ("qc", good | {"start_serial": -1}, 422, "invalid_request"),
        ("qc", good | {"call_ids": ["NOPE"]}, 422, "unknown_call"),
        ("qc", good | {"call_ids": ["VB"]}, 422, "call_agent_mismatch"),
        ("qc", good | {"scorecard_id": 999}, 422, "unknown_scorecard"),
        ("qc", good | {"agent_id": qw.user_ids["tl_a"]}, 422, "unknown_agent"),
        ("qc", good | {"qc_type": "nonsense"}, 422, "invalid_request"),
        ("qc", good | {"comments": "nul\x00byte"}, 422, "invalid_request"),
        ("qc", good | {"business_type": "a\nb"}, 422, "invalid_request"),
        ("qc", good | {"call_duration": -5}, 422, "invalid_request"),
        ("qc", good | {"qc_type": "calibration"}, 422, "calibration_mismatch"),
        (
            "qa_agent",
            evaluation_body(qw, card, ["SELF"], agent="qa_agent"),
            403,
            "forbidden",
        ),
        ("ag_a", good, 403, "forbidden"),
        ("tl_a", good, 403, "forbidden"),
    ]
    before = qc_counts(app)
    for who, body, status, reason in cases:
        r = qw.as_(who, "POST", "/qc/evaluations", json=body)
        assert r.status_code == status, (body, r.text)
        assert r.json()["error"] == reason, r.text
    # NaN is not JSON, but Python's parser accepts it: refused at the edge
    raw = (
        f'{{"scorecard_id": {card["id"]}, "call_ids": ["V1"], "agent_id": {qw.user_ids["ag_a"]},'
        ' "start_serial": 1, "end_serial": 2, "qc_type": "routine", "business_type": "x",'
        ' "started_at": "2026-03-02T02:00:00", "ended_at": "2026-03-02T02:10:00",'
        ' "items": [{"key": "greet", "points": NaN}, {"key": "ident", "points": 5},'
        ' {"key": "solve", "points": 5}, {"key": "polite", "points": 5}]}'
    )
    r = qw.client.post(
        "/qc/evaluations",
        content=raw,
        headers=qw.headers["qc"] | {"content-type": "application/json"},
    )
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"][-3:] == ["items", "0", "points"], r.text
    assert qc_counts(app) == before
    # the good body is accepted, and then the same call cannot be scored twice by accident
    evaluate(qw, good)
    after = qc_counts(app)
    r = qw.as_("qc2", "POST", "/qc/evaluations", json=good)
    assert (r.status_code, r.json()["error"]) == (409, "already_evaluated")
    assert qc_counts(app) == after


def test_corrections_keep_history_and_agents_cannot_edit(qw: World, app: FastAPI) -> None:
    card = new_scorecard(qw)
    add_call(qw, "H1")
    ev = evaluate(qw, evaluation_body(qw, card, ["H1"]))
    url = f"/qc/evaluations/{ev['id']}"
    before = qc_counts(app)
    refusals = [
        ("ag_a", {"version": 1, "comments": "我改的"}, 403),  # own evaluation, but an agent
        ("ag_b", {"version": 1, "comments": "x"}, 404),  # not even visible
        ("qc2", {"version": 1, "comments": "x"}, 403),  # another inspector's evaluation
        ("qc", {"version": 7, "comments": "x"}, 409),
        ("qc", {"version": 1, "total": 99}, 422),
        ("qc", {"version": 1, "grade": "A"}, 422),
        ("qc", {"version": 1, "end_serial": 99}, 422),
        ("qc", {"version": 1, "ended_at": ev["started_at"]}, 422),
        ("qc", {"version": 1, "items": [{"key": "solve", "points": 10.5}]}, 422),
        ("qc", {"version": 1, "items": [{"key": "nope", "points": 1}]}, 422),
        ("qc", {"version": 1, "qc_type": "calibration"}, 422),
        ("qc", {"version": 1, "comments": None}, 422),
    ]
    for who, body, status in refusals:
        r = qw.as_(who, "PATCH", url, json=body)
        assert r.status_code == status, (who, body, r.text)
    assert qc_counts(app) == before
    assert qw.as_("qc", "GET", url).json() == ev
    # the inspector corrects: solve 8 -> 10 gives (0.8+1+4+2)/8 = 97.5 A
    r = qw.as_(
        "qc",
        "PATCH",
        url,
        json={
            "version": 1,
            "end_serial": 107,
            "items": [{"key": "solve", "points": 10, "comment": "复核<script>x()</script>"}],
        },
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["total"], body["grade"], body["version"], body["end_serial"]) == (
        97.5,
        "A",
        2,
        107,
    )
    solve = next(i for i in body["items"] if i["key"] == "solve")
    assert solve["comment"] == "复核"
    hist = qw.as_("ag_a", "GET", f"{url}/history").json()
    changed = {(h["action"], h["field"], h["old_value"], h["new_value"]) for h in hist}
    assert ("correct", "item:solve", "8.0", "10.0") in changed
    assert ("correct", "total", "87.5", "97.5") in changed
    assert ("correct", "grade", "B", "A") in changed
    assert ("correct", "end_serial", "105", "107") in changed
    # an admin may correct too
    r = qw.as_("admin", "PATCH", url, json={"version": 2, "business_type": "话费"})
    assert r.status_code == 200 and r.json()["business_type"] == "话费"


def _four_evaluations(qw: World) -> list[dict[str, Any]]:
    card = new_scorecard(qw)
    add_call(qw, "Q1", duration=300)
    add_call(qw, "Q2", duration=300)
    add_call(qw, "Q3", agent="ag_b", duration=300)
    add_call(qw, "Q4", agent="ag_b", duration=100)
    add_call(qw, "Q5", agent="ag_b", duration=50.5)
    day = timedelta(days=1)
    e1 = evaluate(qw, evaluation_body(qw, card, ["Q1"]))
    e2 = evaluate(
        qw,
        evaluation_body(
            qw,
            card,
            ["Q2"],
            scores=(5, 5, 10, 10),
            start=T0 + day,
            start_serial=200,
            end_serial=210,
            qc_type="complaint",
            business_type="话费",
            call_duration=120,
        ),
        inspector="qc2",
    )
    e3 = evaluate(
        qw,
        evaluation_body(
            qw,
            card,
            ["Q3"],
            agent="ag_b",
            scores=(0, 5, 0, 0),
            start=T0 + 2 * day,
            start_serial=300,
            end_serial=300,
            qc_type="targeted",
        ),
    )
    e4 = evaluate(
        qw,
        evaluation_body(
            qw,
            card,
            ["Q4", "Q5"],
            agent="ag_b",
            scores=(5, 0, 10, 10),
            start=T0 + 3 * day,
            start_serial=50,
            end_serial=60,
            qc_type="sampled",
            comments="<b>客户</b> 投诉<script>alert(1)</script><a href='javascript:x'>链接</a>",
        ),
        inspector="qc3",
    )
    return [e1, e2, e3, e4]


def test_query_on_every_field_sorted_and_paged(qw: World) -> None:
    e1, e2, e3, e4 = _four_evaluations(qw)
    assert e3["total"] == 12.5 and e3["grade"] == "D"  # (1*0 + 1*1 + 0 + 0) / 8
    assert e4["call_duration"] == 150.5 and e4["call_ids"] == ["Q4", "Q5"]
    assert "<script>" not in e4["comments"] and "javascript" not in e4["comments"]
    assert e4["comments"].startswith("<b>客户</b> 投诉")
    ids = {"e1": e1["id"], "e2": e2["id"], "e3": e3["id"], "e4": e4["id"]}
    uid = qw.user_ids
    d = timedelta(days=1)

    def q(params: str) -> set[str]:
        r = qw.as_("admin", "GET", f"/qc/evaluations?{params}")
        assert r.status_code == 200, r.text
        got = {i["id"] for i in r.json()["items"]}
        assert r.json()["total"] == len(got)
        return {k for k, v in ids.items() if v in got}

    iso = (T0 + d).isoformat()
    cases = {
        f"inspector_id={uid['qc']}": {"e1", "e3"},
        f"agent_id={uid['ag_b']}": {"e3", "e4"},
        "qc_type=complaint": {"e2"},
        "business_type=话费": {"e2"},
        "grade=F": {"e4"},
        "total_min=50&total_max=90": {"e1"},
        "total_min=100": {"e2"},
        "start_serial_min=100&start_serial_max=250": {"e1", "e2"},
        "end_serial_max=105": {"e1", "e4"},
        "end_serial_min=300": {"e3"},
        f"started_from={iso}&started_to={(T0 + 3 * d).isoformat()}": {"e2", "e3"},
        f"ended_from={(T0 + 2 * d).isoformat()}": {"e3", "e4"},
        f"ended_to={(T0 + d).isoformat()}": {"e1"},
        "call_duration_max=200": {"e2", "e4"},
        "call_duration_min=200": {"e1", "e3"},
        "call_id=Q5": {"e4"},
        "comments=投诉": {"e4"},
        "comments=%25": set(),
        f"scorecard_id={e1['scorecard_id']}": {"e1", "e2", "e3", "e4"},
    }
    for params, expected in cases.items():
        assert q(params) == expected, params

    def order(params: str) -> list[str]:
        r = qw.as_("admin", "GET", f"/qc/evaluations?{params}").json()
        back = {v: k for k, v in ids.items()}
        return [back[i["id"]] for i in r["items"]]

    assert order("sort=total") == ["e4", "e3", "e1", "e2"]
    assert order("sort=-start_serial") == ["e3", "e2", "e1", "e4"]
    page = qw.as_("admin", "GET", "/qc/evaluations?sort=total&limit=2&offset=1").json()
    assert page["total"] == 4 and [i["id"] for i in page["items"]] == [e3["id"], e1["id"]]
    for bad in ("sort=password", "limit=0", "total_min=nan", "call_id=a%00", "grade=" + "x" * 9):
        assert qw.as_("admin", "GET", f"/qc/evaluations?{bad}").status_code == 422, bad
    # who sees what: agents their own, team leaders their department's agents
    visible = {
        "ag_a": {"e1", "e2"},
        "ag_b": {"e3", "e4"},
        "tl_a": {"e1", "e2"},
        "tl_b": {"e3", "e4"},
        "leader": set(),  # a team leader of no department
        "qc2": {"e1", "e2", "e3", "e4"},
    }
    for who, expected in visible.items():
        got = {i["id"] for i in qw.as_(who, "GET", "/qc/evaluations").json()["items"]}
        assert got == {ids[k] for k in expected}, who
    assert qw.as_("ag_a", "GET", f"/qc/evaluations/{e3['id']}").status_code == 404
    assert qw.as_("tl_a", "GET", f"/qc/evaluations/{e4['id']}").status_code == 404


def test_appeals_once_per_evaluation_decided_by_the_team_leader(qw: World, app: FastAPI) -> None:
    e1, e2, e3, _ = _four_evaluations(qw)
    url = f"/qc/evaluations/{e1['id']}/appeal"
    before = qc_counts(app)
    assert qw.as_("ag_b", "POST", url, json={"reason": "x"}).status_code == 404
    assert qw.as_("qc", "POST", url, json={"reason": "x"}).status_code == 403
    assert qw.as_("ag_a", "POST", url, json={"reason": ""}).status_code == 422
    assert qw.as_("ag_a", "POST", url, json={"reason": "<script>x</script>"}).status_code == 422
    assert qc_counts(app) == before
    r = qw.as_("ag_a", "POST", url, json={"reason": "我已核实身份<script>alert(1)</script>"})
    assert r.status_code == 201, r.text
    appeal = r.json()
    assert appeal["state"] == "open" and appeal["reason"] == "我已核实身份"
    r = qw.as_("ag_a", "POST", url, json={"reason": "再次申诉"})
    assert (r.status_code, r.json()["error"]) == (409, "already_appealed")
    # who decides: tl_b cannot see it, the agent and the inspector are refused
    dec = f"/qc/appeals/{appeal['id']}/decision"
    upheld = {"decision": "upheld", "note": "同意", "items": [{"key": "polite", "points": None}]}
    assert qw.as_("tl_b", "POST", dec, json=upheld).status_code == 404
    assert qw.as_("ag_a", "POST", dec, json=upheld).status_code == 403
    assert qw.as_("qc", "POST", dec, json=upheld).status_code == 403
    bad = {"decision": "rejected", "items": [{"key": "polite", "points": None}]}
    assert qw.as_("tl_a", "POST", dec, json=bad).status_code == 422
    assert [a["id"] for a in qw.as_("tl_a", "GET", "/qc/appeals?state=open").json()["items"]] == [
        appeal["id"]
    ]
    assert qw.as_("tl_b", "GET", "/qc/appeals").json()["total"] == 0
    r = qw.as_("tl_a", "POST", dec, json=upheld)
    assert r.status_code == 200, r.text
    # polite N/A on v1: (0.8 + 1 + 3.2) / 6 = 83.33, B
    assert (r.json()["total"], r.json()["grade"]) == (83.33, "B")
    assert r.json()["appeal"]["state"] == "upheld"
    assert r.json()["appeal"]["decided_by"] == qw.user_ids["tl_a"]
    r = qw.as_("tl_a", "POST", dec, json={"decision": "rejected"})
    assert (r.status_code, r.json()["error"]) == (409, "already_decided")
    hist = qw.as_("ag_a", "GET", f"/qc/evaluations/{e1['id']}/history").json()
    assert ("appeal", "total", "87.5", "83.33") in {
        (h["action"], h["field"], h["old_value"], h["new_value"]) for h in hist
    }
    assert ("appeal", "appeal", "open", "upheld") in {
        (h["action"], h["field"], h["old_value"], h["new_value"]) for h in hist
    }
    # a rejected appeal changes no score
    a2 = qw.as_("ag_a", "POST", f"/qc/evaluations/{e2['id']}/appeal", json={"reason": "不服"})
    r = qw.as_(
        "tl_a", "POST", f"/qc/appeals/{a2.json()['id']}/decision", json={"decision": "rejected"}
    )
    assert r.status_code == 200 and (r.json()["total"], r.json()["version"]) == (100.0, 1)
    assert e3["agent_id"] == qw.user_ids["ag_b"]
    # a team leader who also scored the evaluation may not judge their own work
    r = qw.as_(
        "admin",
        "PATCH",
        f"/users/{qw.user_ids['tl_a']}",
        json={"roles": ["team_leader", "qc_inspector"]},
    )
    assert r.status_code == 200
    add_call(qw, "Q6")
    own = evaluate(qw, evaluation_body(qw, {"id": e1["scorecard_id"]}, ["Q6"]), inspector="tl_a")
    a3 = qw.as_("ag_a", "POST", f"/qc/evaluations/{own['id']}/appeal", json={"reason": "复议"})
    r = qw.as_(
        "tl_a", "POST", f"/qc/appeals/{a3.json()['id']}/decision", json={"decision": "upheld"}
    )
    assert r.status_code == 403
