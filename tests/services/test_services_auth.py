"""Authentication and session abuse cases."""

from __future__ import annotations

import unicodedata

from conftest import PASSWORD, World
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from ccsim.services.models import AuditEntry, AuthSession, User
from ccsim.services.security import Hasher, normalize_password, token_digest


def _login(world: World, user: str, password: str) -> tuple[int, dict[str, str]]:
    r = world.client.post("/auth/login", json={"username": user, "password": password})
    return r.status_code, r.json()


def test_login_me_and_logout(world: World) -> None:
    h = world.login("agent")
    me = world.client.get("/auth/me", headers=h).json()
    assert (me["username"], me["roles"]) == ("agent", ["agent"])
    assert world.client.post("/auth/logout", headers=h).status_code == 204
    r = world.client.get("/auth/me", headers=h)
    assert (r.status_code, r.json()["error"]) == (401, "invalid_token")


def test_token_is_opaque_random_and_stored_hashed(world: World, app: object) -> None:
    h = world.login("agent")
    token = h["Authorization"].split()[1]
    assert len(token) >= 43  # 32 bytes of urlsafe base64 = 256 bits
    with sessionmaker(app.state.engine)() as db:  # type: ignore[attr-defined]
        stored = db.scalars(select(AuthSession.token_hash)).all()
    assert token not in stored
    assert token_digest(token) in stored


def test_unknown_user_and_wrong_password_look_the_same(world: World) -> None:
    a = _login(world, "agent", "wrong password!")
    b = _login(world, "nobody-here", "wrong password!")
    assert a == b == (401, {"error": "invalid_credentials", "detail": "wrong username or password"})


def test_sixth_wrong_password_is_locked_even_with_the_right_one(
    world: World, clock: object
) -> None:
    for _ in range(5):
        assert _login(world, "agent", "not the password")[0] == 401
    code, body = _login(world, "agent", PASSWORD)
    assert (code, body["error"]) == (429, "too_many_attempts")
    # unknown users lock the same way, so locking reveals nothing
    for _ in range(5):
        _login(world, "ghost", "not the password")
    assert _login(world, "ghost", "not the password")[1] == body
    clock.advance(minutes=16)  # type: ignore[attr-defined]
    assert _login(world, "agent", PASSWORD)[0] == 200


def test_tampered_and_missing_tokens(world: World) -> None:
    token = world.login("agent")["Authorization"].split()[1]
    flipped = token[:-1] + ("A" if token[-1] != "A" else "B")
    for header in (f"Bearer {flipped}", "Bearer ", "Basic abc", token, "Bearer " + "x" * 5000):
        r = world.client.get("/auth/me", headers={"Authorization": header})
        assert r.status_code == 401, header[:20]
        assert r.json()["error"] in ("invalid_token", "not_authenticated")
    assert world.client.get("/work-orders").status_code == 401


def test_expired_token(world: World, clock: object) -> None:
    h = world.login("agent")
    clock.advance(hours=8, seconds=1)  # type: ignore[attr-defined]
    r = world.client.get("/auth/me", headers=h)
    assert (r.status_code, r.json()["error"]) == (401, "token_expired")
    assert world.client.get("/auth/me", headers=h).json()["error"] == "invalid_token"


def test_disabling_an_account_revokes_its_sessions(world: World) -> None:
    h = world.headers["agent"]
    assert world.client.get("/auth/me", headers=h).status_code == 200
    uid = world.user_ids["agent"]
    r = world.as_("admin", "PATCH", f"/users/{uid}", json={"active": False})
    assert (r.status_code, r.json()["active"]) == (200, False)
    assert world.client.get("/auth/me", headers=h).status_code == 401
    assert _login(world, "agent", PASSWORD)[0] == 401  # and cannot log in again
    world.as_("admin", "PATCH", f"/users/{uid}", json={"active": True})
    assert world.client.get("/auth/me", headers=h).status_code == 401  # old token stays dead


def test_long_chinese_passphrase_and_nfc(world: World) -> None:
    long_cn = "我的宽带密码很长" * 16  # 128 characters, 384 UTF-8 bytes: too long for bcrypt
    r = world.as_(
        "admin",
        "POST",
        "/users",
        json={"username": "张三", "password": long_cn, "roles": ["agent", "kb_editor"]},
    )
    assert r.status_code == 201, r.text
    assert _login(world, "张三", long_cn)[0] == 200
    assert _login(world, "张三", long_cn[:-1] + "短")[0] == 401
    decomposed = unicodedata.normalize("NFD", "Café-Ünïcode")
    r = world.as_(
        "admin",
        "POST",
        "/users",
        json={"username": "cafe", "password": decomposed, "roles": ["agent"]},
    )
    assert r.status_code == 201
    assert _login(world, "cafe", unicodedata.normalize("NFC", decomposed))[0] == 200
    assert Hasher(time_cost=1, memory_cost_kib=256, parallelism=1).verify(
        Hasher(time_cost=1, memory_cost_kib=256, parallelism=1).hash("x" * 200), "x" * 200
    )
    assert normalize_password("ｅ" * 8)  # full-width letters are fine


def test_password_policy_and_admin_only(world: World) -> None:
    r = world.as_(
        "admin",
        "POST",
        "/users",
        json={"username": "short", "password": "1234567", "roles": ["agent"]},
    )
    assert (r.status_code, r.json()["error"]) == (422, "weak_password")
    r = world.as_(
        "leader",
        "POST",
        "/users",
        json={"username": "sneaky", "password": PASSWORD, "roles": ["admin"]},
    )
    assert (r.status_code, r.json()["error"]) == (403, "forbidden")
    r = world.as_(
        "admin",
        "POST",
        "/users",
        json={"username": "agent", "password": PASSWORD, "roles": ["agent"]},
    )
    assert (r.status_code, r.json()["error"]) == (409, "username_taken")
    r = world.as_(
        "admin",
        "POST",
        "/users",
        json={"username": "x", "password": PASSWORD, "roles": ["superuser"]},
    )
    assert r.status_code == 422


def test_audit_log_records_logins_writes_and_refusals(world: World, app: object) -> None:
    _login(world, "agent\nFAKE admin login ok", "nope nope nope")
    world.new_order()
    world.as_("hb", "GET", "/work-orders/1")
    with sessionmaker(app.state.engine)() as db:  # type: ignore[attr-defined]
        rows = db.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        names = {u.id: u.username for u in db.scalars(select(User))}
    kinds = [(r.action, r.outcome) for r in rows]
    assert ("login", "refused:invalid_credentials") in kinds
    assert ("order.create", "ok") in kinds
    refused = [r for r in rows if r.outcome == "refused:not_found"]
    assert names[refused[-1].user_id or 0] == "hb"
    injected = next(r for r in rows if "FAKE" in r.target)
    assert "\n" not in injected.target and "\\n" in injected.target  # escaped, one line
