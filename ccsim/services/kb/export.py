"""Bulk export of the knowledge base as JSON or as a zipped HTML archive.

JSON lists each article's attachments (name, type, size, SHA-256); the archive
also holds their bytes, under ``attachments/<id>/<name>``.

Only holders of ``kb_exporter`` may export; the export holds exactly the
articles :func:`ccsim.services.kb.policy.visible_clause` lets the exporter
see (streamed in id order, batch by batch), and every export, granted or
refused, is in the audit log with the number of articles it contained.
"""

import html
import io
import json
import zipfile
from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from ccsim.services.context import ServiceContext
from ccsim.services.errors import forbidden
from ccsim.services.kb import content, policy
from ccsim.services.kb.models import (
    KbArticle,
    KbArticleCategory,
    KbArticleKeyword,
    KbAttachment,
    KbCategory,
    KbScheme,
)
from ccsim.services.models import User

BATCH = 2000


def visible_articles(db: Session, me: User, now: datetime) -> Iterator[dict[str, Any]]:
    """Every article ``me`` may see, as plain dicts with categories and keywords."""
    vis = policy.visible_clause(me, now)
    last = 0
    while True:
        batch = db.scalars(
            select(KbArticle).where(vis, KbArticle.id > last).order_by(KbArticle.id).limit(BATCH)
        ).all()
        if not batch:
            return
        ids = [a.id for a in batch]
        cats: dict[int, list[int]] = {}
        for aid, cid in db.execute(
            select(KbArticleCategory.article_id, KbArticleCategory.category_id).where(
                KbArticleCategory.article_id.in_(ids)
            )
        ):
            cats.setdefault(aid, []).append(cid)
        kws: dict[int, list[str]] = {}
        for aid, kw in db.execute(
            select(KbArticleKeyword.article_id, KbArticleKeyword.keyword).where(
                KbArticleKeyword.article_id.in_(ids)
            )
        ):
            kws.setdefault(aid, []).append(kw)
        atts: dict[int, list[dict[str, Any]]] = {}
        for row in db.execute(
            select(
                KbAttachment.article_id,
                KbAttachment.id,
                KbAttachment.filename,
                KbAttachment.content_type,
                KbAttachment.size,
                KbAttachment.sha256,
            )
            .where(KbAttachment.article_id.in_(ids))
            .order_by(KbAttachment.id)
        ):
            atts.setdefault(row.article_id, []).append(
                {
                    "id": row.id,
                    "filename": row.filename,
                    "content_type": row.content_type,
                    "size": row.size,
                    "sha256": row.sha256,
                    # where the HTML archive holds the file
                    "path": f"attachments/{row.id}/{row.filename}",
                }
            )
        for a in batch:
            yield {
                "attachments": atts.get(a.id, []),
                "id": a.id,
                "status": a.status,
                "subject": a.subject,
                "body": a.body,
                "keywords": sorted(kws.get(a.id, [])),
                "category_ids": sorted(cats.get(a.id, [])),
                "content_type": a.content_type,
                "nature": a.nature,
                "urgency": a.urgency,
                "confidentiality": policy.LEVELS[a.confidentiality],
                "external": a.external,
                "author_name": a.author_name,
                "employee_id": a.employee_id,
                "created_at": a.created_at.isoformat(),
                "updated_at": a.updated_at.isoformat(),
                "published_at": a.published_at.isoformat() if a.published_at else None,
                "effective_at": a.effective_at.isoformat() if a.effective_at else None,
                "expires_at": a.expires_at.isoformat() if a.expires_at else None,
            }
        last = ids[-1]


def categories(db: Session) -> dict[str, Any]:
    return {
        "schemes": [
            {"id": s.id, "name": s.name} for s in db.scalars(select(KbScheme).order_by(KbScheme.id))
        ],
        "categories": [
            {"id": c.id, "scheme_id": c.scheme_id, "parent_id": c.parent_id, "name": c.name}
            for c in db.scalars(select(KbCategory).order_by(KbCategory.id))
        ],
    }


def to_json(db: Session, me: User, now: datetime) -> tuple[bytes, int]:
    articles = list(visible_articles(db, me, now))
    doc = {"exported_at": now.isoformat(), "exporter": me.username, **categories(db)}
    doc["articles"] = articles
    return json.dumps(doc, ensure_ascii=False).encode("utf-8"), len(articles)


def to_html_zip(db: Session, me: User, now: datetime) -> tuple[bytes, int]:
    """``index.html`` linking ``articles/<id>.html``; bodies are the sanitised HTML."""
    buf = io.BytesIO()
    n = 0
    names = {c.id: c.name for c in db.scalars(select(KbCategory))}
    links = []
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for a in visible_articles(db, me, now):
            n += 1
            meta = [
                ("作者 Author", a["author_name"]),
                ("创建 Created", a["created_at"]),
                ("关键词 Keywords", " ".join(a["keywords"])),
                ("分类 Categories", ", ".join(names.get(c, "") for c in a["category_ids"])),
                ("密级 Confidentiality", a["confidentiality"]),
                ("状态 Status", a["status"]),
            ]
            for att in a["attachments"]:
                meta.append(("附件 Attachment", att["filename"]))
                blob = db.scalar(select(KbAttachment.data).where(KbAttachment.id == att["id"]))
                z.writestr(att["path"], blob or b"")
            page = content.print_page(a["subject"], meta, a["body"], "portrait")
            z.writestr(f"articles/{a['id']}.html", page)
            links.append(
                f"<li><a href='articles/{a['id']}.html'>{html.escape(a['subject'])}</a></li>"
            )
        index = (
            "<!DOCTYPE html><html><head><meta charset='utf-8'><title>知识库 Knowledge base"
            f"</title></head><body><h1>知识库 Knowledge base</h1><p>{n} articles, exported "
            f"{html.escape(now.isoformat())} by {html.escape(me.username)}</p>"
            f"<ul>{''.join(links)}</ul></body></html>"
        )
        z.writestr("index.html", index)
        z.writestr("kb.json", json.dumps(categories(db), ensure_ascii=False))
    return buf.getvalue(), n


def register(router: APIRouter, ctx: ServiceContext) -> None:
    Db = Annotated[Session, Depends(ctx.get_db)]  # noqa: N806 - a type alias
    Me = Annotated[User, Depends(ctx.current_user)]  # noqa: N806 - a type alias

    @router.get("/export")
    def export(
        request: Request, me: Me, db: Db, format: Literal["json", "html"] = "json"
    ) -> Response:
        """The whole KB as the exporter sees it (``kb_exporter`` right required)."""
        if not policy.can_export(me):
            raise forbidden("the kb_exporter right is required")
        t = ctx.now()
        if format == "json":
            data, n = to_json(db, me, t)
            media, name = "application/json", "kb-export.json"
        else:
            data, n = to_html_zip(db, me, t)
            media, name = "application/zip", "kb-export.zip"
        ctx.audit(
            db, request, me.id, "kb.export", format, "ok", {"articles": n, "bytes": len(data)}
        )
        db.commit()
        return Response(
            data, media_type=media, headers={"Content-Disposition": f"attachment; filename={name}"}
        )
