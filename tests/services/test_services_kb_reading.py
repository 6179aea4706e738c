"""KB 'new knowledge' lists, urgent counts, export, print view, attachments and audit."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from typing import Any

from conftest import World
from kbhelp import article, kb
from sqlalchemy import text

__all__ = ["kb"]


def test_unread_list_and_urgent_counts(kb: World, clock: Any) -> None:
    urgent = article(kb, subject="紧急通知：系统割接", urgency="urgent")
    normal = article(kb, subject="新套餐上线")
    only_b = article(
        kb, subject="B部门紧急", urgency="urgent", audience_department_ids=[kb.departments["B"]]
    )
    draft = article(kb, publish=False, subject="未发布紧急", urgency="urgent")
    u = kb.as_("agent", "GET", "/kb/unread").json()
    assert (u["total"], u["urgent"]) == (2, 1)
    assert [i["id"] for i in u["items"]] == [urgent["id"], normal["id"]]  # urgent first
    assert draft["id"] not in [i["id"] for i in u["items"]]
    ub = kb.as_("agent_b", "GET", "/kb/unread").json()
    assert (ub["total"], ub["urgent"]) == (3, 2)
    # opening marks read; the unread list shrinks
    assert kb.as_("agent", "GET", f"/kb/articles/{urgent['id']}").json()["read"] is False
    assert kb.as_("agent", "GET", f"/kb/articles/{urgent['id']}").json()["read"] is True
    u = kb.as_("agent", "GET", "/kb/unread").json()
    assert (u["total"], u["urgent"]) == (1, 0)
    # supervisors: who has not read the urgent articles (only ones the supervisor sees)
    assert kb.as_("agent", "GET", "/kb/unread/urgent-counts").status_code == 403
    counts = {
        c["username"]: c["unread_urgent"]
        for c in kb.as_("leader", "GET", "/kb/unread/urgent-counts").json()
    }
    assert counts["agent"] == 0
    assert counts["agent2"] == 1
    # only_b is invisible to the leader (no department B), so it is not counted for them
    assert counts["agent_b"] == 1
    assert kb.as_("leader", "GET", f"/kb/articles/{only_b['id']}").status_code == 404
    counts_admin = {
        c["username"]: c["unread_urgent"]
        for c in kb.as_("admin", "GET", "/kb/unread/urgent-counts").json()
    }
    assert counts_admin["agent_b"] == 2
    # republishing with renotify puts it back on every unread list
    a = kb.as_("editor", "GET", f"/kb/articles/{urgent['id']}").json()
    r = kb.as_(
        "editor",
        "POST",
        f"/kb/articles/{urgent['id']}/publish",
        json={"version": a["version"], "renotify": True},
    )
    assert r.status_code == 200
    assert kb.as_("agent", "GET", "/kb/unread").json()["urgent"] == 1
    # 'new' means published (or taking effect) within the window, 90 days by default
    clock.advance(days=91)
    kb.login("agent2")  # the session expired meanwhile
    assert kb.as_("agent2", "GET", "/kb/unread").json()["total"] == 0
    assert kb.as_("agent2", "GET", "/kb/unread", params={"days": 365}).json()["total"] == 2


def test_export_only_for_the_right_holder_and_only_what_they_see(kb: World) -> None:
    kb.add_user("exporter_b", ["agent", "kb_exporter"], ("B",))
    scheme = kb.as_("editor", "POST", "/kb/schemes", json={"name": "业务线"}).json()
    cat = kb.as_(
        "editor", "POST", "/kb/categories", json={"scheme_id": scheme["id"], "name": "国际漫游"}
    ).json()
    pub = article(kb, subject="日本漫游资费", body="<p>每天二十五元</p>", category_ids=[cat["id"]])
    pdf = b"%PDF-1.4\n% roaming tariffs\n%%EOF\n"
    r = kb.client.post(
        f"/kb/articles/{pub['id']}/attachments",
        params={"filename": "资费表.pdf"},
        content=pdf,
        headers={"content-type": "application/pdf"} | kb.headers["editor"],
    )
    assert r.status_code == 201, r.text
    att_id = r.json()["id"]
    only_b = article(
        kb,
        subject="B部门专属",
        body="<p>独角兽计划</p>",
        audience_department_ids=[kb.departments["B"]],
    )
    article(kb, publish=False, subject="草稿不导出", body="<p>草稿内容</p>")
    article(kb, subject="机密", body="<p>机密内容</p>", confidentiality="confidential")
    # no right: refused (and audited), nothing returned
    r = kb.as_("agent", "GET", "/kb/export")
    assert r.status_code == 403
    r = kb.as_("exporter", "GET", "/kb/export", params={"format": "json"})
    assert r.status_code == 200
    doc = json.loads(r.content.decode("utf-8"))
    assert [a["id"] for a in doc["articles"]] == [pub["id"]]
    assert doc["articles"][0]["subject"] == "日本漫游资费"
    assert doc["articles"][0]["category_ids"] == [cat["id"]]
    [att] = doc["articles"][0]["attachments"]
    assert (att["filename"], att["size"]) == ("资费表.pdf", len(pdf))
    assert {c["name"] for c in doc["categories"]} == {"国际漫游"}
    assert {s["name"] for s in doc["schemes"]} == {"业务线"}
    for word in ("独角兽", "草稿", "机密内容"):
        assert word not in r.content.decode("utf-8")
    rb = kb.as_("exporter_b", "GET", "/kb/export")
    assert sorted(a["id"] for a in rb.json()["articles"]) == [pub["id"], only_b["id"]]
    # the HTML archive: index plus one page per visible article
    z = kb.as_("exporter", "GET", "/kb/export", params={"format": "html"})
    assert z.status_code == 200
    assert z.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(z.content)) as zf:
        names = set(zf.namelist())
        attached = f"attachments/{att_id}/资费表.pdf"
        assert names == {"index.html", "kb.json", f"articles/{pub['id']}.html", attached}
        assert zf.read(attached) == pdf
        page = zf.read(f"articles/{pub['id']}.html").decode("utf-8")
        assert "日本漫游资费" in page and "每天二十五元" in page and "国际漫游" in page
        assert "独角兽" not in zf.read("index.html").decode("utf-8")
    # every export is audited with its size; the refusal too
    with kb.client.app.state.engine.connect() as conn:  # type: ignore[attr-defined]
        rows = conn.execute(
            text(
                "SELECT user_id, target, outcome, detail FROM audit_log"
                " WHERE action = 'kb.export' ORDER BY id"
            )
        ).all()
        refused = conn.execute(
            text(
                "SELECT COUNT(*) FROM audit_log"
                " WHERE action = 'GET /kb/export' AND outcome = 'refused:forbidden'"
            )
        ).scalar()
    assert [(r[0], r[2]) for r in rows] == [
        (kb.user_ids["exporter"], "ok"),
        (kb.user_ids["exporter_b"], "ok"),
        (kb.user_ids["exporter"], "ok"),
    ]
    assert json.loads(rows[0][3])["articles"] == 1
    assert json.loads(rows[1][3])["articles"] == 2
    assert refused == 1


def test_attachments_types_size_and_visibility(kb: World) -> None:
    pub = article(kb, subject="操作手册")
    hidden = article(kb, subject="B 手册", audience_department_ids=[kb.departments["B"]])
    data = b"ID3\x04\x00\x00\x00\x00\x00\x00" + bytes(range(256)) * 4  # an MP3 header
    url = f"/kb/articles/{pub['id']}/attachments"
    r = kb.client.post(
        url,
        params={"filename": "培训录音.mp3"},
        content=data,
        headers={"content-type": "audio/mpeg"} | kb.headers["editor"],
    )
    assert r.status_code == 201, r.text
    att = r.json()
    assert att["sha256"] == hashlib.sha256(data).hexdigest()
    assert att["size"] == len(data)
    bad_type = kb.client.post(
        url,
        params={"filename": "x.exe"},
        content=b"MZ",
        headers={"content-type": "application/x-msdownload"} | kb.headers["editor"],
    )
    assert bad_type.status_code == 415
    for name, ctype, body in (
        ("x.mp3", "audio/mpeg", b"<html><script>alert(1)</script></html>"),  # HTML as audio
        ("x.txt", "text/plain", b"<svg onload=alert(1)>"),
    ):
        r = kb.client.post(
            url,
            params={"filename": name},
            content=body,
            headers={"content-type": ctype} | kb.headers["editor"],
        )
        assert (r.status_code, r.json()["error"]) == (415, "content_mismatch"), name
    r = kb.client.post(
        url,
        params={"filename": "../../x.pdf"},
        content=b"%PDF-1.4",
        headers={"content-type": "application/pdf"} | kb.headers["editor"],
    )
    assert (r.status_code, r.json()["error"]) == (422, "bad_filename")
    big = kb.client.post(
        url,
        params={"filename": "big.pdf"},
        content=b"0" * (5 * 1024 * 1024 + 1),
        headers={"content-type": "application/pdf"} | kb.headers["editor"],
    )
    assert big.status_code == 413
    by_agent = kb.client.post(
        url,
        params={"filename": "a.pdf"},
        content=b"%PDF-1.4",
        headers={"content-type": "application/pdf"} | kb.headers["agent"],
    )
    assert by_agent.status_code == 403
    got = kb.as_("agent", "GET", f"/kb/articles/{pub['id']}").json()["attachments"]
    assert [a["filename"] for a in got] == ["培训录音.mp3"]  # nothing else was stored
    dl = kb.as_("agent", "GET", f"/kb/attachments/{att['id']}")
    assert dl.status_code == 200
    assert dl.content == data
    assert dl.headers["content-type"] == "audio/mpeg"
    assert "attachment;" in dl.headers["content-disposition"]
    hid = kb.client.post(
        f"/kb/articles/{hidden['id']}/attachments",
        params={"filename": "b.pdf"},
        content=b"%PDF-1.4",
        headers={"content-type": "application/pdf"} | kb.headers["editor"],
    )
    assert hid.status_code == 201
    assert kb.as_("agent", "GET", f"/kb/attachments/{hid.json()['id']}").status_code == 404
    assert kb.as_("agent_b", "GET", f"/kb/attachments/{hid.json()['id']}").content == b"%PDF-1.4"
