"""Helpers for the QC service tests: a QC organisation, a hand-computable scorecard,
call ingest and evaluation bodies, and row counts to prove refusals store nothing."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from conftest import MONDAY_9AM, World
from fastapi import FastAPI
from sqlalchemy import func, select

from ccsim.services.models import Base

T0 = MONDAY_9AM.replace(tzinfo=None)

#: Effective weights (item x section): greet 1, ident 1 (instant fail), solve 2x2=4,
#: polite 2x1=2 (may be N/A). Thresholds A>=90, B>=75, C>=60, D>=0.
SCORECARD_V1: dict[str, Any] = {
    "name": "热线质检表",
    "sections": [
        {
            "name": "开场",
            "weight": 1,
            "items": [
                {"key": "greet", "label": "问候语", "max_points": 5, "weight": 1},
                {
                    "key": "ident",
                    "label": "核实身份",
                    "max_points": 5,
                    "weight": 1,
                    "instant_fail": True,
                    "allow_na": False,
                },
            ],
        },
        {
            "name": "解决",
            "weight": 2,
            "items": [
                {"key": "solve", "label": "解决问题", "max_points": 10, "weight": 2},
                {"key": "polite", "label": "礼貌", "max_points": 10, "weight": 1},
            ],
        },
    ],
    "thresholds": [
        {"grade": "A", "min_total": 90},
        {"grade": "B", "min_total": 75},
        {"grade": "C", "min_total": 60},
        {"grade": "D", "min_total": 0},
    ],
}


def scorecard_v2() -> dict[str, Any]:
    """v1 with the "解决" section weight 2 -> 1 and grade A from 85 (a new version)."""
    body = {k: v for k, v in SCORECARD_V1.items() if k != "name"}
    sections = [dict(s) for s in body["sections"]]
    sections[1]["weight"] = 1
    return {
        "sections": sections,
        "thresholds": [
            {"grade": "A", "min_total": 85},
            {"grade": "B", "min_total": 75},
            {"grade": "C", "min_total": 60},
            {"grade": "D", "min_total": 0},
        ],
    }


def qc_world(world: World) -> World:
    """Adds: team leaders tl_a (dept A) and tl_b (B), agents ag_a (A) and ag_b (B),
    inspectors qc2 and qc3, an exporting team leader tl_x (A, qc_exporter) and an
    inspector in dept A who is also an agent (qa_agent). ``world`` already has the
    inspector ``qc`` and ``leader``, a team leader of no department."""
    world.add_user("tl_a", ["team_leader"], ("A",))
    world.add_user("tl_b", ["team_leader"], ("B",))
    world.add_user("ag_a", ["agent"], ("A",))
    world.add_user("ag_b", ["agent"], ("B",))
    world.add_user("qc2", ["qc_inspector"])
    world.add_user("qc3", ["qc_inspector"])
    world.add_user("tl_x", ["team_leader", "qc_exporter"], ("A",))
    world.add_user("qa_agent", ["qc_inspector", "agent"], ("A",))
    return world


def new_scorecard(world: World, body: dict[str, Any] | None = None) -> dict[str, Any]:
    r = world.as_("admin", "POST", "/qc/scorecards", json=body or SCORECARD_V1)
    assert r.status_code == 201, r.text
    return dict(r.json())


def add_call(
    world: World,
    call_id: str,
    agent: str = "ag_a",
    start: datetime = T0,
    duration: float = 300.0,
    recording: str = "/rec/2026/03/02/x.wav",
    business_type: str = "宽带",
) -> dict[str, Any]:
    r = world.as_(
        "admin",
        "POST",
        "/qc/calls",
        json={
            "call_id": call_id,
            "agent_id": world.user_ids[agent],
            "business_type": business_type,
            "started_at": start.isoformat(),
            "duration_s": duration,
            "recording": recording,
        },
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


def items(
    greet: float | None, ident: float | None, solve: float | None, polite: float | None
) -> list[dict[str, Any]]:
    return [
        {"key": "greet", "points": greet},
        {"key": "ident", "points": ident},
        {"key": "solve", "points": solve},
        {"key": "polite", "points": polite},
    ]


def evaluation_body(
    world: World,
    card: dict[str, Any],
    calls: list[str],
    agent: str = "ag_a",
    scores: tuple[float | None, ...] = (4, 5, 8, 10),
    start: datetime = T0 + timedelta(hours=1),
    **extra: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "scorecard_id": card["id"],
        "call_ids": calls,
        "agent_id": world.user_ids[agent],
        "start_serial": 100,
        "end_serial": 105,
        "qc_type": "routine",
        "business_type": "宽带",
        "started_at": start.isoformat(),
        "ended_at": (start + timedelta(minutes=20)).isoformat(),
        "comments": "整体良好",
        "items": items(*scores),
    }
    body.update(extra)
    return body


def evaluate(world: World, body: dict[str, Any], inspector: str = "qc") -> dict[str, Any]:
    r = world.as_(inspector, "POST", "/qc/evaluations", json=body)
    assert r.status_code == 201, r.text
    return dict(r.json())


def qc_counts(app: FastAPI) -> dict[str, int]:
    """Rows in every qc_* table: compared before and after a refusal."""
    out = {}
    with app.state.engine.connect() as conn:
        for name, table in Base.metadata.tables.items():
            if name.startswith("qc_"):
                out[name] = int(conn.execute(select(func.count()).select_from(table)).scalar_one())
    return out
