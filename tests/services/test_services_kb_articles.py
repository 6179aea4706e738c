"""KB articles through the HTTP API: categories, publishing, visibility, search, revisions."""

from __future__ import annotations

from datetime import timedelta

from conftest import World
from kbhelp import article, ids, kb, total

__all__ = ["kb"]


def test_category_trees_in_several_schemes_round_trip_chinese(kb: World) -> None:
    r = kb.as_("editor", "POST", "/kb/schemes", json={"name": "业务线"})
    assert r.status_code == 201, r.text
    s1 = r.json()["id"]
    s2 = kb.as_("editor", "POST", "/kb/schemes", json={"name": "客户群"}).json()["id"]
    root = kb.as_("editor", "POST", "/kb/categories", json={"scheme_id": s1, "name": "移动业务"})
    mid = kb.as_(
        "editor",
        "POST",
        "/kb/categories",
        json={"scheme_id": s1, "parent_id": root.json()["id"], "name": "国际漫游"},
    ).json()
    leaf = kb.as_(
        "editor",
        "POST",
        "/kb/categories",
        json={"scheme_id": s1, "parent_id": mid["id"], "name": "亚洲资费"},
    ).json()
    vip = kb.as_("editor", "POST", "/kb/categories", json={"scheme_id": s2, "name": "政企客户"})
    # a duplicate sibling, a parent from another scheme, an agent: refused, nothing stored
    dup = kb.as_(
        "editor",
        "POST",
        "/kb/categories",
        json={"scheme_id": s1, "parent_id": mid["id"], "name": "亚洲资费"},
    )
    assert dup.status_code == 409
    cross = kb.as_(
        "editor",
        "POST",
        "/kb/categories",
        json={"scheme_id": s2, "parent_id": mid["id"], "name": "x"},
    )
    assert cross.status_code == 422
    assert kb.as_("agent", "POST", "/kb/schemes", json={"name": "x"}).status_code == 403
    cats = kb.as_("agent", "GET", "/kb/categories").json()
    assert [c["name"] for c in cats] == ["移动业务", "国际漫游", "亚洲资费", "政企客户"]
    assert cats[2]["parent_id"] == mid["id"]
    # an article in two schemes at once; filtering by an ancestor finds it
    a = article(kb, category_ids=[leaf["id"], vip.json()["id"]])
    other = article(kb, subject="其他")
    assert ids(kb, "agent", category_id=root.json()["id"]) == {a["id"]}
    assert ids(kb, "agent", category_id=vip.json()["id"]) == {a["id"]}
    assert ids(kb, "agent") == {a["id"], other["id"]}


def test_drafts_are_invisible_until_published(kb: World) -> None:
    a = article(kb, publish=False, subject="草稿文章")
    assert kb.as_("agent", "GET", f"/kb/articles/{a['id']}").status_code == 404
    assert ids(kb, "agent", q="草稿") == set()
    assert ids(kb, "editor", q="草稿") == {a["id"]}  # editors see drafts they may edit
    r = kb.as_("agent", "POST", f"/kb/articles/{a['id']}/publish", json={"version": 1})
    assert r.status_code == 404  # invisible to the agent: absent, not forbidden
    r = kb.as_("editor", "POST", f"/kb/articles/{a['id']}/publish", json={"version": 1})
    assert r.status_code == 200
    assert r.json()["status"] == "published"
    assert ids(kb, "agent", q="草稿") == {a["id"]}
    # a refused action on a visible article is a 403 and changes nothing
    r = kb.as_("agent", "PATCH", f"/kb/articles/{a['id']}", json={"version": 2, "subject": "x"})
    assert r.status_code == 403
    assert kb.as_("agent", "GET", f"/kb/articles/{a['id']}").json()["subject"] == "草稿文章"


def test_scheduled_publishing_window(kb: World, clock: object) -> None:
    now = clock.now  # type: ignore[attr-defined]
    a = article(
        kb,
        subject="春节套餐",
        effective_at=(now + timedelta(hours=2)).isoformat(),
        expires_at=(now + timedelta(hours=5)).isoformat(),
    )
    assert kb.as_("agent", "GET", f"/kb/articles/{a['id']}").status_code == 404
    assert total(kb, "agent", q="春节套餐") == 0
    clock.advance(hours=2)  # type: ignore[attr-defined]
    assert ids(kb, "agent", q="春节套餐") == {a["id"]}
    clock.advance(hours=3)  # type: ignore[attr-defined]  # expired
    assert total(kb, "agent", q="春节套餐") == 0
    bad = kb.as_(
        "editor",
        "POST",
        "/kb/articles",
        json={
            "subject": "x",
            "body": "y",
            "effective_at": now.isoformat(),
            "expires_at": (now - timedelta(hours=1)).isoformat(),
        },
    )
    assert bad.status_code == 422
    assert total(kb, "editor") == 1


def test_audience_and_confidentiality_never_leak(kb: World) -> None:
    """A department-B article with a unique word: nowhere for agent_a, everywhere for agent_b."""
    secret = article(
        kb,
        subject="部门专属通知",
        body="<p>内部口令是独角兽计划。</p>",
        keywords=["独角兽计划"],
        audience_department_ids=[kb.departments["B"]],
        urgency="urgent",
    )
    conf = article(
        kb, subject="机密文件", body="<p>独角兽计划机密版</p>", confidentiality="confidential"
    )
    leaders = article(
        kb, subject="组长须知", body="<p>独角兽计划组长版</p>", audience_roles=["team_leader"]
    )
    for term in ("独角兽计划", "独角兽", "独角"):
        assert ids(kb, "agent_a", q=term) == set(), term
        assert total(kb, "agent_a", q=term) == 0
        assert ids(kb, "agent_b", q=term) == {secret["id"]}
        assert ids(kb, "leader", q=term) == {conf["id"], leaders["id"]}
    for aid in (secret["id"], conf["id"], leaders["id"]):
        assert kb.as_("agent_a", "GET", f"/kb/articles/{aid}").status_code == 404
        assert kb.as_("agent_a", "GET", f"/kb/articles/{aid}/print").status_code == 404
    assert total(kb, "agent_a") == 0
    assert total(kb, "agent_b") == 1
    # the attribute index counts only visible articles
    for attr in ("keyword", "author", "category"):
        idx = kb.as_("agent_a", "GET", f"/kb/index/{attr}").json()
        assert all(secret["id"] not in e["article_ids"] for e in idx)
        assert "独角兽计划" not in str(idx)
    kw_b = {e["value"]: e for e in kb.as_("agent_b", "GET", "/kb/index/keyword").json()}
    assert kw_b["独角兽计划"]["article_ids"] == [secret["id"]]
    # the unread list and its counts
    ua = kb.as_("agent_a", "GET", "/kb/unread").json()
    assert (ua["total"], ua["urgent"], ua["items"]) == (0, 0, [])
    ub = kb.as_("agent_b", "GET", "/kb/unread").json()
    assert (ub["total"], ub["urgent"]) == (1, 1)
    # links to an invisible article do not show its subject
    linker = article(kb, subject="索引页", link_ids=[secret["id"], conf["id"]])
    seen_a = kb.as_("agent_a", "GET", f"/kb/articles/{linker['id']}").json()
    assert seen_a["links"] == []
    seen_b = kb.as_("agent_b", "GET", f"/kb/articles/{linker['id']}").json()
    assert seen_b["links"] == [{"id": secret["id"], "subject": "部门专属通知"}]


def test_chinese_terms_of_two_three_and_four_characters(kb: World) -> None:
    texts = {
        "bill": ("话费查询", "客户查询本月话费明细。"),
        "roam": ("国际漫游", "出境前开通国际漫游，资费按天计。"),
        "broadband": ("宽带故障", "家里宽带故障，无法上网，需要报修。"),
        "english": ("Roaming FAQ", "Data roaming costs 25 CNY per day in Japan; 100% sure_"),
    }
    made = {
        k: article(kb, subject=s, body=f"<p>{b}</p>", keywords=[])["id"]
        for k, (s, b) in texts.items()
    }
    assert ids(kb, "agent", q="话费") == {made["bill"]}  # 2 characters
    assert ids(kb, "agent", q="漫游") == {made["roam"]}
    assert ids(kb, "agent", q="按天计") == {made["roam"]}  # 3 characters
    assert ids(kb, "agent", q="宽带故障") == {made["broadband"]}  # 4 characters
    assert ids(kb, "agent", q="宽带 报修") == {made["broadband"]}  # AND
    assert ids(kb, "agent", q="宽带 话费") == set()
    assert ids(kb, "agent", q="roaming") == {made["english"]}  # case-insensitive
    assert ids(kb, "agent", q="100%") == {made["english"]}
    assert ids(kb, "agent", q='"NEAR(') == set()
    page = kb.as_("agent", "GET", "/kb/articles", params={"q": "按天计"}).json()
    assert "按天计" in page["items"][0]["snippet"]
    too_long = kb.as_("agent", "GET", "/kb/articles", params={"q": "长" * 201})
    assert too_long.status_code == 422


def test_filters_sorting_and_paging(kb: World) -> None:
    a1 = article(kb, subject="A 号段", content_type="number_range", employee_id="E001")
    a2 = article(kb, subject="B 常见问题", content_type="faq", urgency="urgent", keywords=["常见"])
    a3 = article(kb, subject="C 资费表", content_type="roaming_tariff", external=True)
    assert ids(kb, "agent", content_type="faq") == {a2["id"]}
    assert ids(kb, "agent", urgency="urgent") == {a2["id"]}
    assert ids(kb, "agent", external="true") == {a3["id"]}
    assert ids(kb, "agent", employee_id="E001") == {a1["id"]}
    assert ids(kb, "agent", keyword="常见") == {a2["id"]}
    assert ids(kb, "agent", author_id=kb.user_ids["editor"]) == {a1["id"], a2["id"], a3["id"]}
    page = kb.as_(
        "agent",
        "GET",
        "/kb/articles",
        params={"sort": "subject", "descending": "false", "limit": 2},
    ).json()
    assert page["total"] == 3
    assert [a["subject"] for a in page["items"]] == ["A 号段", "B 常见问题"]
    page2 = kb.as_(
        "agent",
        "GET",
        "/kb/articles",
        params={"sort": "subject", "descending": "false", "limit": 2, "offset": 2},
    ).json()
    assert [a["subject"] for a in page2["items"]] == ["C 资费表"]
    assert kb.as_("agent", "GET", "/kb/articles", params={"sort": "body"}).status_code == 422
    assert kb.as_("agent", "GET", "/kb/articles", params={"limit": 1000}).status_code == 422


def test_revisions_diff_and_restore(kb: World) -> None:
    a = article(kb, subject="停机保号", body="<p>第一行</p><p>第二行</p>")
    r = kb.as_(
        "editor",
        "PATCH",
        f"/kb/articles/{a['id']}",
        json={"version": a["version"], "body": "<p>第一行</p><p>第二行已修改</p>", "note": "改"},
    )
    assert r.status_code == 200, r.text
    v = r.json()["version"]
    stale = kb.as_(
        "editor",
        "PATCH",
        f"/kb/articles/{a['id']}",
        json={"version": a["version"], "subject": "旧"},
    )
    assert stale.status_code == 409
    revs = kb.as_("editor", "GET", f"/kb/articles/{a['id']}/revisions").json()
    assert [x["number"] for x in revs] == [1, 2]
    d = kb.as_("editor", "GET", f"/kb/articles/{a['id']}/diff", params={"a": 1, "b": 2}).text
    assert "-第二行\n" in d
    assert "+第二行已修改\n" in d
    assert " 第一行\n" in d
    assert kb.as_("agent", "GET", f"/kb/articles/{a['id']}/revisions").status_code == 403
    r = kb.as_(
        "editor", "POST", f"/kb/articles/{a['id']}/restore", json={"version": v, "revision": 1}
    )
    assert r.status_code == 200, r.text
    assert r.json()["body"] == "<p>第一行</p><p>第二行</p>"
    revs = kb.as_("editor", "GET", f"/kb/articles/{a['id']}/revisions").json()
    assert [x["number"] for x in revs] == [1, 2, 3]
    assert ids(kb, "agent", q="已修改") == set()
    assert ids(kb, "agent", q="第二行") == {a["id"]}


def test_stored_script_is_sanitised(kb: World) -> None:
    a = article(
        kb,
        body="<p onclick='x()'>资费<script>alert(1)</script></p>"
        "<a href='javascript:alert(2)'>链接</a><table><tr><td>日本</td><td>25</td></tr></table>",
    )
    got = kb.as_("agent", "GET", f"/kb/articles/{a['id']}").json()["body"]
    for bad in ("<script", "alert", "onclick", "javascript:"):
        assert bad not in got
    assert "<td>日本</td>" in got
    page = kb.as_(
        "agent", "GET", f"/kb/articles/{a['id']}/print", params={"orientation": "landscape"}
    )
    assert page.status_code == 200
    assert "size: A4 landscape" in page.text
    assert "<script" not in page.text
    assert ids(kb, "agent", q="alert") == set()


def test_editor_clearance_bounds(kb: World) -> None:
    r = kb.as_(
        "editor",
        "POST",
        "/kb/articles",
        json={"subject": "绝密", "body": "x", "confidentiality": "secret"},
    )
    assert r.status_code == 403
    assert total(kb, "admin") == 0
    s = article(kb, who="admin", subject="绝密文件", confidentiality="secret")
    assert kb.as_("editor", "GET", f"/kb/articles/{s['id']}").status_code == 404
    assert kb.as_("leader", "GET", f"/kb/articles/{s['id']}").status_code == 404
    assert kb.as_("admin", "GET", f"/kb/articles/{s['id']}").status_code == 200


def test_bad_input_is_a_4xx_and_stores_nothing(kb: World) -> None:
    a = article(kb, subject="原文")
    cases = [
        ("POST", "/kb/articles", {"subject": "x\x00", "body": "y"}, 422),
        ("POST", "/kb/articles", {"subject": "x", "body": "y", "extra": 1}, 422),
        ("POST", "/kb/articles", {"subject": "x", "body": "y", "category_ids": [999]}, 422),
        ("POST", "/kb/articles", {"subject": "x", "body": "y", "link_ids": [999]}, 422),
        ("POST", "/kb/articles", {"subject": "x", "body": "y", "confidentiality": "top"}, 422),
        ("POST", "/kb/articles", {"subject": "x", "body": "y", "audience_roles": ["boss"]}, 422),
        ("PATCH", f"/kb/articles/{a['id']}", {"version": a["version"], "subject": ""}, 422),
        ("PATCH", f"/kb/articles/{a['id']}", {"version": 99, "subject": "新"}, 409),
        ("GET", f"/kb/articles/{2**40}", None, 422),
        ("GET", "/kb/articles/999", None, 404),
        ("GET", "/kb/index/title", None, 422),
        ("GET", f"/kb/articles/{a['id']}/print?orientation=sideways", None, 422),
    ]
    for method, url, body, status in cases:
        r = kb.as_("editor", method, url, json=body)
        assert r.status_code == status, (url, body, r.text)
        assert isinstance(r.json()["error"], str)
    assert total(kb, "editor") == 1
    assert kb.as_("editor", "GET", f"/kb/articles/{a['id']}").json()["subject"] == "原文"
