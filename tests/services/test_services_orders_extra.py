"""Attachments, SLA escalation notifications, housekeeping sweeps and time-to statistics."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from conftest import PASSWORD, Clock, World
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from ccsim.services.models import (
    AuthSession,
    LoginThrottle,
    WorkOrderAttachment,
)

PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
WAV = b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(28)


def _upload(
    world: World, who: str, order: dict[str, Any], name: str, ctype: str, data: bytes
) -> Any:
    return world.client.request(
        "POST",
        f"/work-orders/{order['id']}/attachments",
        params={"filename": name},
        content=data,
        headers=world.headers[who] | {"Content-Type": ctype},
    )


def _count(app: FastAPI, model: Any) -> int:
    with sessionmaker(app.state.engine)() as db:
        return int(db.scalar(select(func.count()).select_from(model)) or 0)


def test_attachment_roundtrip_is_a_download_with_its_hash(world: World) -> None:
    o = world.new_order()
    r = _upload(world, "agent", o, "账单截图.pdf", "application/pdf", PDF)
    assert r.status_code == 201, r.text
    att = r.json()
    assert (att["filename"], att["size"], att["content_type"]) == (
        "账单截图.pdf",
        len(PDF),
        "application/pdf",
    )
    assert att["sha256"] == hashlib.sha256(PDF).hexdigest()
    listed = world.as_("agent", "GET", f"/work-orders/{o['id']}/attachments").json()
    assert [a["id"] for a in listed] == [att["id"]]
    got = world.as_("agent", "GET", f"/work-orders/{o['id']}/attachments/{att['id']}")
    assert got.status_code == 200
    assert got.content == PDF
    assert got.headers["content-disposition"].startswith("attachment;")
    assert "filename*=UTF-8''%E8%B4%A6" in got.headers["content-disposition"]
    assert got.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in got.headers["content-security-policy"]
    hist = world.as_("agent", "GET", f"/work-orders/{o['id']}/history").json()
    assert hist[-1]["action"] == "attach" and hist[-1]["new_value"] == "账单截图.pdf"


@pytest.mark.parametrize(
    ("name", "ctype", "data", "status", "reason"),
    [
        ("../../x", "application/pdf", PDF, 422, "bad_filename"),
        ("..\\..\\x.pdf", "application/pdf", PDF, 422, "bad_filename"),
        (".htaccess", "text/plain", b"deny", 422, "bad_filename"),
        ("a\x00.pdf", "application/pdf", PDF, 422, "bad_filename"),
        (
            "song.mp3",
            "audio/mpeg",
            b"<html><script>alert(1)</script></html>",
            415,
            "content_mismatch",
        ),
        ("note.txt", "text/plain", b"  <script>alert(1)</script>", 415, "content_mismatch"),
        ("img.svg", "image/svg+xml", b"<svg onload=alert(1)>", 415, "type_not_allowed"),
        ("page.html", "text/html", b"<p>hi</p>", 415, "type_not_allowed"),
        ("fake.pdf", "application/pdf", WAV, 415, "content_mismatch"),
        ("empty.txt", "text/plain", b"", 422, "empty_file"),
        ("big.txt", "text/plain", b"a" * (10 * 2**20 + 1), 413, "file_too_large"),
    ],
)
def test_bad_attachments_are_refused_and_nothing_is_stored(
    world: World, app: FastAPI, name: str, ctype: str, data: bytes, status: int, reason: str
) -> None:
    o = world.new_order()
    r = _upload(world, "agent", o, name, ctype, data)
    assert (r.status_code, r.json()["error"]) == (status, reason)
    assert _count(app, WorkOrderAttachment) == 0
    hist = world.as_("agent", "GET", f"/work-orders/{o['id']}/history").json()
    assert [h["action"] for h in hist] == ["create"]


def test_attachments_are_scoped_like_their_order(world: World) -> None:
    o = world.new_order()
    att = _upload(world, "agent", o, "a.wav", "audio/wav", WAV).json()
    url = f"/work-orders/{o['id']}/attachments/{att['id']}"
    assert world.as_("agent2", "GET", url).status_code == 404
    assert world.as_("hb", "GET", url).status_code == 404
    assert _upload(world, "agent2", o, "b.wav", "audio/wav", WAV).status_code == 404
    other = world.new_order("agent2")
    # an attachment id under another order's path is not found either
    assert (
        world.as_(
            "agent2", "GET", f"/work-orders/{other['id']}/attachments/{att['id']}"
        ).status_code
        == 404
    )


def _department_with_leader(world: World) -> int:
    r = world.as_(
        "admin",
        "POST",
        "/departments",
        json={"name": "网络部", "leader_id": world.user_ids["leader"]},
    )
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def test_overdue_orders_escalate_once_to_the_department_leader(world: World, clock: Clock) -> None:
    dep = _department_with_leader(world)
    o = world.new_order(priority="urgent")  # accept within 1 business hour
    r = world.act("agent", o, "dispatch", department_id=dep)
    assert r.status_code == 200
    late = world.new_order(priority="low")  # 8 business hours: not late after 2 h
    assert world.act("agent", late, "dispatch", department_id=dep).status_code == 200
    clock.advance(hours=2)  # Monday 11:00 Shanghai: past the urgent accept deadline
    assert world.as_("agent", "POST", "/admin/maintenance").status_code == 403
    sweep = world.as_("admin", "POST", "/admin/maintenance").json()
    assert sweep["escalations"] == 1
    again = world.as_("admin", "POST", "/admin/maintenance").json()
    assert again["escalations"] == 0  # idempotent
    notes = world.as_("leader", "GET", "/notifications", params={"unread": True}).json()
    assert [(n["order_id"], n["stage"], n["kind"]) for n in notes] == [
        (o["id"], "accept", "sla_escalation")
    ]
    assert world.as_("agent", "GET", "/notifications").json() == []
    # someone else cannot read or mark the leader's notification
    assert world.as_("agent", "POST", f"/notifications/{notes[0]['id']}/read").status_code == 404
    read = world.as_("leader", "POST", f"/notifications/{notes[0]['id']}/read").json()
    assert read["read_at"] is not None
    assert world.as_("leader", "GET", "/notifications", params={"unread": True}).json() == []


def test_sweep_removes_expired_sessions_and_lapsed_lockouts(
    world: World, app: FastAPI, clock: Clock
) -> None:
    for _ in range(5):
        r = world.client.post("/auth/login", json={"username": "agent2", "password": "wrong pw!"})
        assert r.status_code == 401
    assert _count(app, LoginThrottle) == 1
    sessions = _count(app, AuthSession)
    assert sessions >= 7
    clock.advance(hours=1)
    fresh = world.client.post("/auth/login", json={"username": "agent", "password": PASSWORD})
    assert fresh.status_code == 200
    clock.advance(hours=7, minutes=30)  # the fixture's sessions (8 h) expire; the fresh one not
    admin = world.login("admin")  # the admin's fixture session has expired too
    out = world.client.post("/admin/maintenance", headers=admin).json()
    assert out["sessions_removed"] == sessions
    assert out["throttles_removed"] == 1
    assert _count(app, LoginThrottle) == 0
    assert _count(app, AuthSession) == 2  # the fresh agent session and the admin's new one


def test_stats_report_time_to_accept_return_close(world: World, clock: Clock) -> None:
    o = world.new_order()  # Monday 09:00 Shanghai
    o = world.act("agent", o, "dispatch", department_id=world.departments["A"]).json()
    clock.advance(hours=2)
    o = world.act("ha", o, "accept").json()
    o = world.act("ha", o, "start").json()
    clock.advance(hours=8)  # 19:00: one hour after the working day ended
    world.login("ha")  # sessions last 8 hours
    o = world.act("ha", o, "return", result="修好了").json()
    assert o["state"] == "returned"
    clock.advance(hours=14)  # Tuesday 09:00
    world.login("agent")
    world.login("leader")
    o = world.act("agent", o, "reply", reply="已修复").json()
    o = world.act("agent", o, "close").json()
    assert o["state"] == "closed"
    stats = world.as_("leader", "GET", "/work-orders/stats").json()["time_to"]
    assert stats["accept"]["n"] == 1
    assert stats["accept"]["hours"]["mean"] == pytest.approx(2.0)
    assert stats["accept"]["business_hours"]["mean"] == pytest.approx(2.0)
    assert stats["return"]["hours"]["median"] == pytest.approx(10.0)
    assert stats["return"]["business_hours"]["median"] == pytest.approx(9.0)  # 09:00-18:00
    assert stats["close"]["hours"]["p90"] == pytest.approx(24.0)
    assert stats["close"]["business_hours"]["mean"] == pytest.approx(9.0)
    assert world.as_("agent", "GET", "/work-orders/stats").status_code == 403
