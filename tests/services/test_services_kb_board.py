"""Discussion board through the HTTP API: posting, views, edit history, stats, moderation."""

from __future__ import annotations

from conftest import World
from kbhelp import kb

__all__ = ["kb"]


def test_topics_replies_views_history_and_stats(kb: World) -> None:
    r = kb.as_(
        "agent",
        "POST",
        "/kb/board/topics",
        json={"title": "漫游资费怎么查？", "body": "<b>请教</b><script>alert(1)</script>"},
    )
    assert r.status_code == 201, r.text
    t1 = r.json()
    assert t1["body"] == "<b>请教</b>"
    t2 = kb.as_(
        "agent2", "POST", "/kb/board/topics", json={"title": "无人回复", "body": "有人吗"}
    ).json()
    rep = kb.as_(
        "agent2",
        "POST",
        f"/kb/board/topics/{t1['id']}/replies",
        json={"body": "看知识库<img src=x onerror=alert(1)>"},
    )
    assert rep.status_code == 201
    assert "onerror" not in rep.json()["body"] and "<img" not in rep.json()["body"]
    kb.as_("leader", "POST", f"/kb/board/topics/{t1['id']}/replies", json={"body": "同意"})
    # views: each opening counts
    for _ in range(3):
        detail = kb.as_("agent2", "GET", f"/kb/board/topics/{t1['id']}").json()
    assert detail["views"] == 3
    assert [x["body"] for x in detail["reply_list"]] == ["看知识库", "同意"]
    # editing: only the author; history keeps the old text; version check
    assert (
        kb.as_(
            "agent2", "PATCH", f"/kb/board/topics/{t1['id']}", json={"version": 1, "title": "x"}
        ).status_code
        == 403
    )
    e = kb.as_(
        "agent",
        "PATCH",
        f"/kb/board/topics/{t1['id']}",
        json={"version": 1, "title": "漫游资费查询方法"},
    )
    assert e.status_code == 200
    assert (
        kb.as_(
            "agent", "PATCH", f"/kb/board/topics/{t1['id']}", json={"version": 1, "title": "y"}
        ).status_code
        == 409
    )
    assert (
        kb.as_(
            "agent2", "PATCH", f"/kb/board/replies/{rep.json()['id']}", json={"body": "请看知识库"}
        ).status_code
        == 200
    )
    hist = kb.as_("agent", "GET", f"/kb/board/topics/{t1['id']}/history").json()
    assert [(h["reply_id"], h["old_title"], h["old_body"]) for h in hist] == [
        (None, "漫游资费怎么查？", "<b>请教</b>"),
        (rep.json()["id"], "", "看知识库"),
    ]
    stats = kb.as_("agent", "GET", "/kb/board/stats").json()
    assert (stats["topics"], stats["replies"], stats["unanswered"], stats["views"]) == (2, 2, 1, 3)
    by = {row["user_id"]: (row["topics"], row["replies"]) for row in stats["by_author"]}
    assert by == {
        kb.user_ids["agent"]: (1, 0),
        kb.user_ids["agent2"]: (1, 1),
        kb.user_ids["leader"]: (0, 1),
    }
    unanswered = kb.as_("agent", "GET", "/kb/board/topics", params={"unanswered": "true"}).json()
    assert [t["id"] for t in unanswered] == [t2["id"]]


def test_moderation_is_for_administrators(kb: World) -> None:
    t1 = kb.as_(
        "agent", "POST", "/kb/board/topics", json={"title": "话题一", "body": "内容"}
    ).json()
    t2 = kb.as_(
        "agent", "POST", "/kb/board/topics", json={"title": "话题二", "body": "内容"}
    ).json()
    for who in ("agent", "leader", "editor"):
        assert (
            kb.as_(
                who, "POST", f"/kb/board/topics/{t1['id']}/moderate", json={"pinned": True}
            ).status_code
            == 403
        )
    assert (
        kb.as_(
            "admin",
            "POST",
            f"/kb/board/topics/{t1['id']}/moderate",
            json={"pinned": True, "locked": True},
        ).status_code
        == 200
    )
    listing = kb.as_("agent", "GET", "/kb/board/topics").json()
    assert [t["id"] for t in listing] == [t1["id"], t2["id"]]  # pinned first
    r = kb.as_("agent2", "POST", f"/kb/board/topics/{t1['id']}/replies", json={"body": "回复"})
    assert (r.status_code, r.json()["error"]) == (409, "topic_locked")
    assert kb.as_("admin", "GET", f"/kb/board/topics/{t1['id']}").json()["replies"] == 0
    assert (
        kb.as_(
            "admin", "POST", f"/kb/board/topics/{t2['id']}/moderate", json={"deleted": True}
        ).status_code
        == 200
    )
    assert kb.as_("agent", "GET", f"/kb/board/topics/{t2['id']}").status_code == 404
    assert [t["id"] for t in kb.as_("agent", "GET", "/kb/board/topics").json()] == [t1["id"]]
    assert kb.as_("agent", "GET", "/kb/board/stats").json()["topics"] == 1
