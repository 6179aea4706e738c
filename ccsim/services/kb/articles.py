"""Categories, articles, revisions, publishing, search, attribute index and unread lists.

Every query that returns, counts or indexes articles applies
:func:`ccsim.services.kb.policy.visible_clause` (or ``reader_clause`` for the
unread list) in SQL before paging, so totals and index counts cannot leak.
"""

import hashlib
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, PlainTextResponse, Response
from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    asc,
    column,
    delete,
    desc,
    exists,
    func,
    or_,
    select,
    table,
    text,
    true,
)
from sqlalchemy.orm import Session

from ccsim.services import files
from ccsim.services.context import ServiceContext
from ccsim.services.errors import ApiError, forbidden, not_found
from ccsim.services.kb import content, policy, search
from ccsim.services.kb.models import (
    KbArticle,
    KbArticleCategory,
    KbArticleDepartment,
    KbArticleKeyword,
    KbArticleRole,
    KbAttachment,
    KbCategory,
    KbLink,
    KbRead,
    KbRevision,
    KbScheme,
)
from ccsim.services.kb.schemas import (
    ArticleIn,
    ArticleOut,
    ArticlePage,
    ArticlePatch,
    ArticleSummary,
    AttachmentOut,
    CategoryIn,
    CategoryOut,
    IndexEntry,
    LinkOut,
    RestoreIn,
    RevisionOut,
    SchemeIn,
    SchemeOut,
    UnreadItem,
    UnreadOut,
    UrgentCount,
    VersionIn,
    _utc_naive,
)
from ccsim.services.models import Department, User
from ccsim.services.schemas import DbId

_PRINTABLE = r"^[^\x00-\x1f\x7f]*$"
SORTS = {
    "id": KbArticle.id,
    "created_at": KbArticle.created_at,
    "updated_at": KbArticle.updated_at,
    "published_at": KbArticle.published_at,
    "subject": KbArticle.subject,
}

#: Attachments: at most this many bytes; types and content checks are the services'
#: shared rules (:mod:`ccsim.services.files`: allow-list, magic-byte sniffing).
MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024


def reindex(a: KbArticle) -> None:
    """Refresh the full-text token streams from subject, text and keywords."""
    a.search_text, a.search_chars = search.grams(a.subject, a.body_text, a.keywords)


def level_name(level: int) -> str:
    return policy.LEVELS[level]


def audience(db: Session, article_id: int) -> tuple[set[str], set[int]]:
    roles = set(
        db.scalars(select(KbArticleRole.role).where(KbArticleRole.article_id == article_id))
    )
    deps = set(
        db.scalars(
            select(KbArticleDepartment.department_id).where(
                KbArticleDepartment.article_id == article_id
            )
        )
    )
    return roles, deps


def visible_article(db: Session, me: User, article_id: int, now: datetime) -> KbArticle:
    """The article if ``me`` may read it, else 404 (absent and invisible look alike)."""
    a = db.get(KbArticle, article_id)
    if a is None:
        raise not_found("article")
    roles, deps = audience(db, a.id)
    if not policy.can_read(me, a, roles, deps, now):
        raise not_found("article")
    return a


def descendants(db: Session, category_id: int) -> list[int]:
    """The category and every category below it."""
    cat = db.get(KbCategory, category_id)
    if cat is None:
        return []
    children: dict[int | None, list[int]] = {}
    for cid, parent in db.execute(
        select(KbCategory.id, KbCategory.parent_id).where(KbCategory.scheme_id == cat.scheme_id)
    ):
        children.setdefault(parent, []).append(cid)
    out, todo = [], [category_id]
    while todo:
        c = todo.pop()
        out.append(c)
        todo.extend(children.get(c, []))
    return out


def article_out(
    db: Session, me: User, a: KbArticle, now: datetime, read: bool | None = None
) -> ArticleOut:
    """The full article; ``read`` (default: from the database) is the caller's read flag."""
    roles, deps = audience(db, a.id)
    cats = db.scalars(
        select(KbArticleCategory.category_id)
        .where(KbArticleCategory.article_id == a.id)
        .order_by(KbArticleCategory.category_id)
    ).all()
    kws = db.scalars(
        select(KbArticleKeyword.keyword)
        .where(KbArticleKeyword.article_id == a.id)
        .order_by(KbArticleKeyword.keyword)
    ).all()
    links = db.execute(
        select(KbArticle.id, KbArticle.subject)
        .join(KbLink, KbLink.to_id == KbArticle.id)
        .where(KbLink.from_id == a.id, policy.visible_clause(me, now))
        .order_by(KbArticle.id)
    ).all()
    atts = db.scalars(
        select(KbAttachment).where(KbAttachment.article_id == a.id).order_by(KbAttachment.id)
    ).all()
    if read is None:
        read = db.get(KbRead, (a.id, me.id)) is not None
    return ArticleOut(
        id=a.id,
        version=a.version,
        status=a.status,
        subject=a.subject,
        body=a.body,
        keywords=list(kws),
        content_type=a.content_type,
        nature=a.nature,
        urgency=a.urgency,
        confidentiality=level_name(a.confidentiality),
        external=a.external,
        author_id=a.author_id,
        author_name=a.author_name,
        employee_id=a.employee_id,
        created_at=a.created_at,
        updated_at=a.updated_at,
        published_at=a.published_at,
        effective_at=a.effective_at,
        expires_at=a.expires_at,
        category_ids=list(cats),
        audience_roles=sorted(roles),
        audience_department_ids=sorted(deps),
        links=[LinkOut(id=i, subject=s) for i, s in links],
        attachments=[AttachmentOut.model_validate(x) for x in atts],
        read=read,
    )


def summary(a: KbArticle, q: str | None) -> ArticleSummary:
    return ArticleSummary(
        id=a.id,
        subject=a.subject,
        snippet=search.snippet(a.body_text, q),
        status=a.status,
        urgency=a.urgency,
        content_type=a.content_type,
        nature=a.nature,
        confidentiality=level_name(a.confidentiality),
        author_name=a.author_name,
        employee_id=a.employee_id,
        created_at=a.created_at,
        updated_at=a.updated_at,
        published_at=a.published_at,
    )


#: 'New knowledge': articles published or taking effect within this many days
#: (a new colleague is not greeted with the whole knowledge base as unread).
NEW_DAYS = 90

#: Totals are exact up to this many hits; beyond it ``total_exact`` is false.
COUNT_CAP = 1000

_FTS = table("kb_articles_fts", column("rowid"))


def search_select(
    db: Session,
    where: list[ColumnElement[bool]],
    q: str | None,
    sort: str = "id",
    descending: bool = True,
) -> Select[Any]:
    """Articles matching ``q`` and ``where``, ordered; unpaged.

    With an FTS plan the query is driven by the index in rowid order, so a
    page of the newest hits stops as soon as it is full instead of collecting
    every hit first.
    """
    plan = search.plan(db, q) if q else None
    order = desc if descending else asc
    stmt = select(KbArticle)
    key: Any = SORTS[sort]
    if plan is not None and plan.match is not None:
        stmt = stmt.select_from(_FTS).join(KbArticle, KbArticle.id == _FTS.c.rowid)
        match = text("kb_articles_fts MATCH :kb_match").bindparams(kb_match=plan.match)
        where = [*where, match]  # type: ignore[list-item]
        if sort == "id":
            key = _FTS.c.rowid
    if plan is not None:
        where = [*where, *plan.filters]
    clauses: list[Any] = list(where)
    stmt = stmt.where(and_(true(), *clauses))
    if sort == "id":
        return stmt.order_by(order(key))
    return stmt.order_by(order(key), order(KbArticle.id))


def search_articles(
    db: Session,
    me: User,
    now: datetime,
    clauses: list[ColumnElement[bool]],
    q: str | None,
    sort: str = "id",
    descending: bool = True,
    limit: int = 20,
    offset: int = 0,
) -> tuple[int, bool, list[KbArticle]]:
    """Visible articles matching ``q`` and ``clauses``: (total, total is exact, one page).

    The visibility condition is part of the SQL, so neither the page nor the
    total can include an article the reader may not see.
    """
    where = [policy.visible_clause(me, now), *clauses]
    # counted in index order: that keeps SQLite driving the query from the FTS
    # index (not probing it once per article) and lets the cap end the scan
    ids_stmt = search_select(db, where, q).with_only_columns(KbArticle.id).limit(COUNT_CAP + 1)
    if sort == "id" and descending and offset + limit <= COUNT_CAP:
        # one pass gives the count and the page (Core: no ORM work for 1,001 ids)
        ids = list(db.connection().execute(ids_stmt).scalars().all())
        page = ids[offset : offset + limit]
        found = {a.id: a for a in db.scalars(select(KbArticle).where(KbArticle.id.in_(page)))}
        return min(len(ids), COUNT_CAP), len(ids) <= COUNT_CAP, [found[i] for i in page]
    n = db.scalar(select(func.count()).select_from(ids_stmt.subquery())) or 0
    stmt = search_select(db, where, q, sort, descending)
    rows = list(db.scalars(stmt.limit(limit).offset(offset)))
    return min(n, COUNT_CAP), n <= COUNT_CAP, rows


def register(router: APIRouter, ctx: ServiceContext) -> None:
    """Add the category, article, index and unread endpoints to ``router``."""
    Db = Annotated[Session, Depends(ctx.get_db)]  # noqa: N806 - a type alias
    Me = Annotated[User, Depends(ctx.current_user)]  # noqa: N806 - a type alias

    # ------------------------------------------------------------ schemes and categories

    @router.post("/schemes", response_model=SchemeOut, status_code=201)
    def add_scheme(body: SchemeIn, request: Request, me: Me, db: Db) -> KbScheme:
        if not policy.can_edit_kb(me):
            raise forbidden("only knowledge-base editors maintain categories")
        s = KbScheme(name=body.name)
        db.add(s)
        db.flush()
        ctx.audit(db, request, me.id, "kb.scheme.add", str(s.id), "ok", body.name)
        db.commit()
        return s

    @router.get("/schemes", response_model=list[SchemeOut])
    def list_schemes(_me: Me, db: Db) -> list[KbScheme]:
        return list(db.scalars(select(KbScheme).order_by(KbScheme.id)))

    @router.post("/categories", response_model=CategoryOut, status_code=201)
    def add_category(body: CategoryIn, request: Request, me: Me, db: Db) -> KbCategory:
        if not policy.can_edit_kb(me):
            raise forbidden("only knowledge-base editors maintain categories")
        if db.get(KbScheme, body.scheme_id) is None:
            raise ApiError(422, "unknown_scheme", f"no scheme {body.scheme_id}")
        if body.parent_id is not None:
            parent = db.get(KbCategory, body.parent_id)
            if parent is None or parent.scheme_id != body.scheme_id:
                raise ApiError(422, "unknown_category", f"no category {body.parent_id} in scheme")
        dup = db.scalar(
            select(KbCategory.id).where(
                KbCategory.scheme_id == body.scheme_id,
                KbCategory.parent_id.is_(None)
                if body.parent_id is None
                else KbCategory.parent_id == body.parent_id,
                KbCategory.name == body.name,
            )
        )
        if dup is not None:
            raise ApiError(409, "duplicate_category", "a sibling category has that name")
        c = KbCategory(**body.model_dump())
        db.add(c)
        db.flush()
        ctx.audit(db, request, me.id, "kb.category.add", str(c.id), "ok", body.name)
        db.commit()
        return c

    @router.get("/categories", response_model=list[CategoryOut])
    def list_categories(_me: Me, db: Db, scheme_id: DbId | None = None) -> list[KbCategory]:
        """Flat list (``parent_id`` gives the tree), roots first."""
        stmt = select(KbCategory).order_by(KbCategory.scheme_id, KbCategory.id)
        if scheme_id is not None:
            stmt = stmt.where(KbCategory.scheme_id == scheme_id)
        return list(db.scalars(stmt))

    # ------------------------------------------------------------ articles

    def check_refs(
        db: Session,
        me: User,
        category_ids: list[int] | None,
        department_ids: list[int] | None,
        link_ids: list[int] | None,
    ) -> None:
        for cid in category_ids or []:
            if db.get(KbCategory, cid) is None:
                raise ApiError(422, "unknown_category", f"no category {cid}")
        for did in department_ids or []:
            if db.get(Department, did) is None:
                raise ApiError(422, "unknown_department", f"no department {did}")
        for lid in link_ids or []:
            target = db.get(KbArticle, lid)
            if target is None:
                raise ApiError(422, "unknown_article", f"no article {lid}")
            roles, deps = audience(db, lid)
            if not policy.can_read(me, target, roles, deps, ctx.now()):
                raise ApiError(422, "unknown_article", f"no article {lid}")

    def set_links(db: Session, a: KbArticle, body: ArticleIn | ArticlePatch) -> None:
        """Replace the link-table rows for whichever list fields ``body`` carries."""
        if body.category_ids is not None:
            db.execute(delete(KbArticleCategory).where(KbArticleCategory.article_id == a.id))
            for cid in dict.fromkeys(body.category_ids):
                db.add(KbArticleCategory(article_id=a.id, category_id=cid))
        if body.audience_roles is not None:
            db.execute(delete(KbArticleRole).where(KbArticleRole.article_id == a.id))
            for r in dict.fromkeys(body.audience_roles):
                db.add(KbArticleRole(article_id=a.id, role=r))
            a.role_limited = bool(body.audience_roles)
        if body.audience_department_ids is not None:
            db.execute(delete(KbArticleDepartment).where(KbArticleDepartment.article_id == a.id))
            for d in dict.fromkeys(body.audience_department_ids):
                db.add(KbArticleDepartment(article_id=a.id, department_id=d))
            a.department_limited = bool(body.audience_department_ids)
        if body.keywords is not None:
            db.execute(delete(KbArticleKeyword).where(KbArticleKeyword.article_id == a.id))
            for k in dict.fromkeys(body.keywords):
                db.add(KbArticleKeyword(article_id=a.id, keyword=k))
        if body.link_ids is not None:
            db.execute(delete(KbLink).where(KbLink.from_id == a.id))
            for lid in dict.fromkeys(body.link_ids):
                if lid != a.id:
                    db.add(KbLink(from_id=a.id, to_id=lid))

    def add_revision(db: Session, a: KbArticle, me: User, note: str) -> None:
        last = db.scalar(select(func.max(KbRevision.number)).where(KbRevision.article_id == a.id))
        db.add(
            KbRevision(
                article_id=a.id,
                number=(last or 0) + 1,
                at=ctx.now(),
                user_id=me.id,
                subject=a.subject,
                body=a.body,
                keywords=a.keywords,
                note=note,
            )
        )

    def check_window(effective: datetime | None, expires: datetime | None) -> None:
        if effective is not None and expires is not None and expires <= effective:
            raise ApiError(422, "invalid_window", "expires_at must be after effective_at")

    @router.post("/articles", response_model=ArticleOut, status_code=201)
    def create_article(body: ArticleIn, request: Request, me: Me, db: Db) -> ArticleOut:
        """A new draft (invisible to readers until published); revision 1."""
        if not policy.can_edit_kb(me):
            raise forbidden("only knowledge-base editors write articles")
        level = policy.LEVELS.index(body.confidentiality)
        if level > policy.clearance(me):
            raise forbidden("confidentiality above your clearance")
        check_window(body.effective_at, body.expires_at)
        check_refs(db, me, body.category_ids, body.audience_department_ids, body.link_ids)
        clean = content.sanitize(body.body)
        t = ctx.now()
        a = KbArticle(
            version=1,
            status="draft",
            subject=body.subject,
            body=clean,
            body_text=content.plain_text(clean),
            keywords="\n".join(dict.fromkeys(body.keywords)),
            content_type=body.content_type,
            nature=body.nature,
            urgency=body.urgency,
            confidentiality=level,
            external=body.external,
            author_id=me.id,
            author_name=me.display_name or me.username,
            employee_id=body.employee_id,
            created_at=t,
            updated_at=t,
            effective_at=body.effective_at,
            expires_at=body.expires_at,
        )
        reindex(a)
        db.add(a)
        db.flush()
        set_links(db, a, body)
        add_revision(db, a, me, "created")
        ctx.audit(db, request, me.id, "kb.article.create", str(a.id), "ok", body.subject)
        db.commit()
        return article_out(db, me, a, t)

    @router.get("/articles", response_model=ArticlePage)
    def list_articles(
        me: Me,
        db: Db,
        q: Annotated[str | None, Query(max_length=10000)] = None,
        status: Literal["draft", "published", "withdrawn"] | None = None,
        content_type: Annotated[str | None, Query(max_length=24, pattern=_PRINTABLE)] = None,
        nature: Annotated[str | None, Query(max_length=24, pattern=_PRINTABLE)] = None,
        urgency: Literal["normal", "urgent"] | None = None,
        confidentiality: Literal["public", "internal", "confidential", "secret"] | None = None,
        external: bool | None = None,
        author_id: DbId | None = None,
        author_name: Annotated[str | None, Query(max_length=128, pattern=_PRINTABLE)] = None,
        employee_id: Annotated[str | None, Query(max_length=32, pattern=_PRINTABLE)] = None,
        keyword: Annotated[str | None, Query(max_length=64, pattern=_PRINTABLE)] = None,
        category_id: DbId | None = None,
        created_from: datetime | None = None,
        created_to: datetime | None = None,
        sort: Literal["id", "created_at", "updated_at", "published_at", "subject"] = "id",
        descending: bool = True,
        limit: Annotated[int, Query(ge=1, le=200)] = 20,
        offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
    ) -> ArticlePage:
        """Search (``q``: all terms in subject, text or keywords) and filter; only visible."""
        clauses: list[ColumnElement[bool]] = []
        for col, val in (
            (KbArticle.status, status),
            (KbArticle.content_type, content_type),
            (KbArticle.nature, nature),
            (KbArticle.urgency, urgency),
            (KbArticle.external, external),
            (KbArticle.author_id, author_id),
            (KbArticle.author_name, author_name),
            (KbArticle.employee_id, employee_id),
        ):
            if val is not None:
                clauses.append(col == val)
        if confidentiality is not None:
            clauses.append(KbArticle.confidentiality == policy.LEVELS.index(confidentiality))
        if keyword is not None:
            clauses.append(
                exists(
                    select(KbArticleKeyword.keyword).where(
                        KbArticleKeyword.article_id == KbArticle.id,
                        KbArticleKeyword.keyword == keyword,
                    )
                )
            )
        if category_id is not None:
            clauses.append(
                exists(
                    select(KbArticleCategory.category_id).where(
                        KbArticleCategory.article_id == KbArticle.id,
                        KbArticleCategory.category_id.in_(descendants(db, category_id)),
                    )
                )
            )
        if created_from is not None:
            clauses.append(KbArticle.created_at >= _utc_naive(created_from))
        if created_to is not None:
            clauses.append(KbArticle.created_at < _utc_naive(created_to))
        total, exact, rows = search_articles(
            db, me, ctx.now(), clauses, q, sort, descending, limit, offset
        )
        return ArticlePage(total=total, total_exact=exact, items=[summary(a, q) for a in rows])

    @router.get("/articles/{article_id}", response_model=ArticleOut)
    def get_article(article_id: DbId, me: Me, db: Db) -> ArticleOut:
        """Opening a published article marks it read; ``read`` tells whether it was before."""
        t = ctx.now()
        a = visible_article(db, me, article_id, t)
        roles, deps = audience(db, a.id)
        was_read = db.get(KbRead, (a.id, me.id)) is not None
        if policy.is_reader(me, a, roles, deps, t) and not was_read:
            db.add(KbRead(article_id=a.id, user_id=me.id, read_at=t))
            db.commit()
        return article_out(db, me, a, t, read=was_read)

    def editable(db: Session, me: User, article_id: int, version: int) -> KbArticle:
        a = visible_article(db, me, article_id, ctx.now())
        if not policy.can_edit(me, a):
            raise forbidden("you may not edit this article")
        if version != a.version:
            raise ApiError(409, "version_conflict", "the article changed; reload and retry")
        return a

    @router.patch("/articles/{article_id}", response_model=ArticleOut)
    def patch_article(
        article_id: DbId, body: ArticlePatch, request: Request, me: Me, db: Db
    ) -> ArticleOut:
        """Change any field; a text change stores a new revision."""
        a = editable(db, me, article_id, body.version)
        fields = body.model_dump(exclude_unset=True)
        if body.confidentiality is not None:
            level = policy.LEVELS.index(body.confidentiality)
            if level > policy.clearance(me):
                raise forbidden("confidentiality above your clearance")
            a.confidentiality = level
        check_window(
            body.effective_at if "effective_at" in fields else a.effective_at,
            body.expires_at if "expires_at" in fields else a.expires_at,
        )
        check_refs(db, me, body.category_ids, body.audience_department_ids, body.link_ids)
        text_changed = False
        if body.subject is not None and body.subject != a.subject:
            a.subject, text_changed = body.subject, True
        if body.body is not None:
            clean = content.sanitize(body.body)
            if clean != a.body:
                a.body, a.body_text, text_changed = clean, content.plain_text(clean), True
        if body.keywords is not None:
            kw = "\n".join(dict.fromkeys(body.keywords))
            if kw != a.keywords:
                a.keywords, text_changed = kw, True
        for name in ("content_type", "nature", "urgency", "external", "employee_id"):
            val = getattr(body, name)
            if val is not None:
                setattr(a, name, val)
        for name in ("effective_at", "expires_at"):
            if name in fields:
                setattr(a, name, getattr(body, name))
        set_links(db, a, body)
        a.version += 1
        a.updated_at = ctx.now()
        if text_changed:
            reindex(a)
            add_revision(db, a, me, body.note)
        ctx.audit(db, request, me.id, "kb.article.edit", str(a.id), "ok", sorted(fields.keys()))
        db.commit()
        return article_out(db, me, a, ctx.now())

    def set_status(
        article_id: int, body: VersionIn, request: Request, me: User, db: Session, status: str
    ) -> ArticleOut:
        a = editable(db, me, article_id, body.version)
        a.status = status
        a.version += 1
        a.updated_at = ctx.now()
        if status == "published":
            a.published_at = ctx.now()
            if body.renotify:
                db.execute(delete(KbRead).where(KbRead.article_id == a.id))
        ctx.audit(db, request, me.id, f"kb.article.{status}", str(a.id), "ok", "")
        db.commit()
        return article_out(db, me, a, ctx.now())

    @router.post("/articles/{article_id}/publish", response_model=ArticleOut)
    def publish(article_id: DbId, body: VersionIn, request: Request, me: Me, db: Db) -> ArticleOut:
        """Publish (visible from ``effective_at``); ``renotify`` puts it back on unread lists."""
        return set_status(article_id, body, request, me, db, "published")

    @router.post("/articles/{article_id}/withdraw", response_model=ArticleOut)
    def withdraw(article_id: DbId, body: VersionIn, request: Request, me: Me, db: Db) -> ArticleOut:
        return set_status(article_id, body, request, me, db, "withdrawn")

    # ------------------------------------------------------------ revisions

    def revision(db: Session, article_id: int, number: int) -> KbRevision:
        r = db.scalar(
            select(KbRevision).where(
                KbRevision.article_id == article_id, KbRevision.number == number
            )
        )
        if r is None:
            raise not_found("revision")
        return r

    def editor_view(db: Session, me: User, article_id: int) -> KbArticle:
        a = visible_article(db, me, article_id, ctx.now())
        if not policy.can_edit(me, a):
            raise forbidden("revisions are for editors")
        return a

    @router.get("/articles/{article_id}/revisions", response_model=list[RevisionOut])
    def list_revisions(article_id: DbId, me: Me, db: Db) -> list[KbRevision]:
        """Editors only: old text may hold what was deliberately removed."""
        editor_view(db, me, article_id)
        return list(
            db.scalars(
                select(KbRevision)
                .where(KbRevision.article_id == article_id)
                .order_by(KbRevision.number)
            )
        )

    @router.get("/articles/{article_id}/diff", response_class=PlainTextResponse)
    def diff(
        article_id: DbId,
        me: Me,
        db: Db,
        a: Annotated[int, Query(ge=1, le=2**31 - 1)],
        b: Annotated[int, Query(ge=1, le=2**31 - 1)],
    ) -> str:
        """Unified diff of subject, keywords and plain text between two revisions."""
        editor_view(db, me, article_id)
        ra, rb = revision(db, article_id, a), revision(db, article_id, b)

        def flat(r: KbRevision) -> str:
            return f"{r.subject}\n{r.keywords}\n\n{content.plain_text(r.body)}\n"

        return content.unified_diff(flat(ra), flat(rb), f"revision {a}", f"revision {b}")

    @router.post("/articles/{article_id}/restore", response_model=ArticleOut)
    def restore(article_id: DbId, body: RestoreIn, request: Request, me: Me, db: Db) -> ArticleOut:
        """Bring back an old revision's text as a new revision (history is kept)."""
        a = editable(db, me, article_id, body.version)
        r = revision(db, article_id, body.revision)
        a.subject, a.body, a.body_text = r.subject, r.body, content.plain_text(r.body)
        a.keywords = r.keywords
        db.execute(delete(KbArticleKeyword).where(KbArticleKeyword.article_id == a.id))
        for k in dict.fromkeys(filter(None, r.keywords.split("\n"))):
            db.add(KbArticleKeyword(article_id=a.id, keyword=k))
        reindex(a)
        a.version += 1
        a.updated_at = ctx.now()
        add_revision(db, a, me, f"restored revision {r.number}")
        ctx.audit(db, request, me.id, "kb.article.restore", str(a.id), "ok", r.number)
        db.commit()
        return article_out(db, me, a, ctx.now())

    # ------------------------------------------------------------ attribute index

    @router.get("/index/{attribute}", response_model=list[IndexEntry])
    def attribute_index(
        attribute: Literal["author", "keyword", "category"],
        me: Me,
        db: Db,
        limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    ) -> list[IndexEntry]:
        """Each value with its visible articles (ids to jump to); invisible ones count nothing."""
        vis = policy.visible_clause(me, ctx.now())
        pairs: list[tuple[str, str, int]]
        if attribute == "author":
            rows = db.execute(
                select(KbArticle.author_id, KbArticle.author_name, KbArticle.id)
                .where(vis)
                .order_by(KbArticle.author_name, KbArticle.id)
            ).all()
            pairs = [(str(uid), name, aid) for uid, name, aid in rows]
        elif attribute == "keyword":
            kw_rows = db.execute(
                select(KbArticleKeyword.keyword, KbArticle.id)
                .join(KbArticle, KbArticle.id == KbArticleKeyword.article_id)
                .where(vis)
                .order_by(KbArticleKeyword.keyword, KbArticle.id)
            ).all()
            pairs = [(k, k, aid) for k, aid in kw_rows]
        else:
            rows = db.execute(
                select(KbCategory.id, KbCategory.name, KbArticle.id)
                .join(KbArticleCategory, KbArticleCategory.category_id == KbCategory.id)
                .join(KbArticle, KbArticle.id == KbArticleCategory.article_id)
                .where(vis)
                .order_by(KbCategory.name, KbArticle.id)
            ).all()
            pairs = [(str(cid), name, aid) for cid, name, aid in rows]
        entries: dict[str, IndexEntry] = {}
        for value, label, aid in pairs:
            e = entries.setdefault(
                value, IndexEntry(value=value, label=label, count=0, article_ids=[])
            )
            e.count += 1
            e.article_ids.append(aid)
        return list(entries.values())[:limit]

    # ------------------------------------------------------------ new knowledge

    def unread_clause(me: User, t: datetime, days: int = NEW_DAYS) -> ColumnElement[bool]:
        """Readable, not opened, and published or taking effect within ``days``."""
        cutoff = t - timedelta(days=days)
        return and_(
            policy.reader_clause(me, t),
            or_(KbArticle.published_at >= cutoff, KbArticle.effective_at >= cutoff),
            ~exists(
                select(KbRead.user_id).where(
                    KbRead.article_id == KbArticle.id, KbRead.user_id == me.id
                )
            ),
        )

    @router.get("/unread", response_model=UnreadOut)
    def unread(
        me: Me,
        db: Db,
        days: Annotated[int, Query(ge=1, le=3650)] = NEW_DAYS,
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
        offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
    ) -> UnreadOut:
        """The caller's unread new knowledge (see ``NEW_DAYS``), urgent first, newest first."""
        t = ctx.now()
        cond = unread_clause(me, t, days)
        total = db.scalar(select(func.count()).select_from(KbArticle).where(cond)) or 0
        urgent = (
            db.scalar(
                select(func.count())
                .select_from(KbArticle)
                .where(cond, KbArticle.urgency == "urgent")
            )
            or 0
        )
        rows = db.scalars(
            select(KbArticle)
            .where(cond)
            .order_by(
                desc(KbArticle.urgency == "urgent"),
                desc(KbArticle.published_at),
                desc(KbArticle.id),
            )
            .limit(limit)
            .offset(offset)
        )
        items = [
            UnreadItem(id=a.id, subject=a.subject, urgency=a.urgency, published_at=a.published_at)
            for a in rows
        ]
        return UnreadOut(total=total, urgent=urgent, items=items)

    @router.post("/articles/{article_id}/read", status_code=204)
    def mark_read(article_id: DbId, me: Me, db: Db) -> None:
        t = ctx.now()
        visible_article(db, me, article_id, t)
        if db.get(KbRead, (article_id, me.id)) is None:
            db.add(KbRead(article_id=article_id, user_id=me.id, read_at=t))
            db.commit()

    @router.get("/unread/urgent-counts", response_model=list[UrgentCount])
    def urgent_counts(me: Me, db: Db) -> list[UrgentCount]:
        """Per active user: urgent articles they should have read but have not.

        Only articles the caller may see too are counted, so the numbers reveal
        nothing the caller could not read.
        """
        if not policy.can_supervise_reading(me):
            raise forbidden()
        t = ctx.now()
        mine = policy.visible_clause(me, t)
        out = []
        for u in db.scalars(select(User).where(User.active.is_(True)).order_by(User.id)):
            n = (
                db.scalar(
                    select(func.count())
                    .select_from(KbArticle)
                    .where(unread_clause(u, t), mine, KbArticle.urgency == "urgent")
                )
                or 0
            )
            out.append(UrgentCount(user_id=u.id, username=u.username, unread_urgent=n))
        return out

    # ------------------------------------------------------------ print view

    @router.get("/articles/{article_id}/print", response_class=HTMLResponse)
    def print_view(
        article_id: DbId,
        me: Me,
        db: Db,
        orientation: Literal["portrait", "landscape"] = "portrait",
    ) -> HTMLResponse:
        """A printable A4 page (CSS ``@page``) of the sanitised article."""
        a = visible_article(db, me, article_id, ctx.now())
        meta = [
            (
                "作者 Author",
                f"{a.author_name} ({a.employee_id})" if a.employee_id else a.author_name,
            ),
            ("创建 Created", a.created_at.isoformat(timespec="minutes")),
            ("关键词 Keywords", a.keywords.replace("\n", ", ")),
            ("密级 Confidentiality", level_name(a.confidentiality)),
        ]
        page = content.print_page(a.subject, meta, a.body, orientation)
        return HTMLResponse(page, headers={"Content-Security-Policy": "script-src 'none'"})

    # ------------------------------------------------------------ attachments

    @router.post(
        "/articles/{article_id}/attachments", response_model=AttachmentOut, status_code=201
    )
    async def upload(
        article_id: DbId,
        request: Request,
        me: Me,
        db: Db,
        filename: Annotated[str, Query(min_length=1, max_length=200)],
    ) -> KbAttachment:
        """Raw request body; ``Content-Type`` declares the type, the bytes must match it.

        Refused with nothing stored: a path-like name (422), a type off the
        allow-list or content that does not match it (415), over 5 MiB (413).
        """
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > MAX_ATTACHMENT_BYTES:
            raise ApiError(413, "file_too_large", f"at most {MAX_ATTACHMENT_BYTES} bytes")
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_ATTACHMENT_BYTES:
                raise ApiError(413, "file_too_large", f"at most {MAX_ATTACHMENT_BYTES} bytes")
            chunks.append(chunk)
        data = b"".join(chunks)
        try:
            filename = files.check_filename(filename)
            ctype = files.check_upload(
                request.headers.get("content-type", ""), data, MAX_ATTACHMENT_BYTES
            )
        except files.UploadRefusedError as exc:
            raise ApiError(exc.status, exc.reason, exc.detail) from None
        return await run_in_threadpool(
            store_attachment, article_id, request, me, db, filename, ctype, data
        )

    def store_attachment(
        article_id: int,
        request: Request,
        me: User,
        db: Session,
        filename: str,
        ctype: str,
        data: bytes,
    ) -> KbAttachment:
        a = visible_article(db, me, article_id, ctx.now())
        if not policy.can_edit(me, a):
            raise forbidden("you may not edit this article")
        att = KbAttachment(
            article_id=a.id,
            filename=filename,
            content_type=ctype,
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            data=data,
            uploaded_by=me.id,
            uploaded_at=ctx.now(),
        )
        db.add(att)
        db.flush()
        ctx.audit(db, request, me.id, "kb.attachment.add", str(att.id), "ok", filename)
        db.commit()
        return att

    @router.get("/attachments/{attachment_id}")
    def download(attachment_id: DbId, me: Me, db: Db) -> Response:
        """The bytes, only if the article is visible to the caller."""
        att = db.get(KbAttachment, attachment_id)
        if att is None:
            raise not_found("attachment")
        try:
            visible_article(db, me, att.article_id, ctx.now())
        except ApiError:
            raise not_found("attachment") from None
        return Response(
            att.data,
            media_type=att.content_type,
            headers=files.download_headers(att.filename),
        )
