"""Discussion board: topics, replies, view counts, edit history, statistics, moderation.

Every signed-in user reads and posts. Authors edit their own posts (the old
text goes to ``kb_post_edits``); administrators pin, lock and delete. Post
bodies are allow-list sanitised HTML, as articles are. A deleted topic is
absent (404) for everyone but administrators.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import ColumnElement, and_, desc, func, select, update
from sqlalchemy.orm import Session

from ccsim.services.context import ServiceContext
from ccsim.services.errors import ApiError, forbidden, not_found
from ccsim.services.kb import content, policy
from ccsim.services.kb.models import KbPostEdit, KbReply, KbTopic
from ccsim.services.kb.schemas import (
    EditOut,
    ModerateIn,
    ReplyIn,
    ReplyOut,
    TopicDetail,
    TopicIn,
    TopicOut,
    TopicPatch,
)
from ccsim.services.models import User
from ccsim.services.schemas import DbId


def register(router: APIRouter, ctx: ServiceContext) -> None:
    Db = Annotated[Session, Depends(ctx.get_db)]  # noqa: N806 - a type alias
    Me = Annotated[User, Depends(ctx.current_user)]  # noqa: N806 - a type alias

    def topic_of(db: Session, me: User, topic_id: int) -> KbTopic:
        t = db.get(KbTopic, topic_id)
        if t is None or (t.deleted and not policy.can_moderate(me)):
            raise not_found("topic")
        return t

    def reply_count(db: Session, topic_id: int) -> int:
        return (
            db.scalar(
                select(func.count()).where(KbReply.topic_id == topic_id, KbReply.deleted.is_(False))
            )
            or 0
        )

    def out(db: Session, t: KbTopic) -> TopicOut:
        o = TopicOut.model_validate(t)
        o.replies = reply_count(db, t.id)
        return o

    @router.post("/board/topics", response_model=TopicOut, status_code=201)
    def new_topic(body: TopicIn, request: Request, me: Me, db: Db) -> TopicOut:
        now = ctx.now()
        t = KbTopic(
            version=1,
            title=body.title,
            body=content.sanitize(body.body),
            author_id=me.id,
            created_at=now,
            updated_at=now,
            views=0,
            pinned=False,
            locked=False,
            deleted=False,
        )
        db.add(t)
        db.flush()
        ctx.audit(db, request, me.id, "kb.topic.add", str(t.id), "ok", "")
        db.commit()
        return out(db, t)

    @router.get("/board/topics", response_model=list[TopicOut])
    def list_topics(
        me: Me,
        db: Db,
        author_id: DbId | None = None,
        unanswered: bool | None = None,
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
        offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
    ) -> list[TopicOut]:
        """Pinned first, then newest; deleted topics only for administrators."""
        replies = (
            select(func.count())
            .where(KbReply.topic_id == KbTopic.id, KbReply.deleted.is_(False))
            .scalar_subquery()
        )
        where: list[ColumnElement[bool]] = (
            [] if policy.can_moderate(me) else [KbTopic.deleted.is_(False)]
        )
        if author_id is not None:
            where.append(KbTopic.author_id == author_id)
        if unanswered is not None:
            where.append(replies == 0 if unanswered else replies > 0)
        rows = db.execute(
            select(KbTopic, replies)
            .where(and_(*where))
            .order_by(desc(KbTopic.pinned), desc(KbTopic.id))
            .limit(limit)
            .offset(offset)
        ).all()
        result = []
        for t, n in rows:
            o = TopicOut.model_validate(t)
            o.replies = n
            result.append(o)
        return result

    @router.get("/board/topics/{topic_id}", response_model=TopicDetail)
    def get_topic(topic_id: DbId, me: Me, db: Db) -> TopicDetail:
        """Each opening counts one view."""
        t = topic_of(db, me, topic_id)
        db.execute(update(KbTopic).where(KbTopic.id == t.id).values(views=KbTopic.views + 1))
        db.commit()
        db.refresh(t)
        replies = db.scalars(
            select(KbReply)
            .where(KbReply.topic_id == t.id, KbReply.deleted.is_(False))
            .order_by(KbReply.id)
        ).all()
        base = out(db, t)
        return TopicDetail(
            **base.model_dump(), reply_list=[ReplyOut.model_validate(r) for r in replies]
        )

    @router.patch("/board/topics/{topic_id}", response_model=TopicOut)
    def edit_topic(topic_id: DbId, body: TopicPatch, request: Request, me: Me, db: Db) -> TopicOut:
        t = topic_of(db, me, topic_id)
        if t.author_id != me.id and not policy.can_moderate(me):
            raise forbidden("only the author edits a topic")
        if t.locked and not policy.can_moderate(me):
            raise ApiError(409, "topic_locked", "the topic is locked")
        if body.version != t.version:
            raise ApiError(409, "version_conflict", "the topic changed; reload and retry")
        db.add(
            KbPostEdit(
                topic_id=t.id, at=ctx.now(), user_id=me.id, old_title=t.title, old_body=t.body
            )
        )
        if body.title is not None:
            t.title = body.title
        if body.body is not None:
            t.body = content.sanitize(body.body)
        t.version += 1
        t.updated_at = ctx.now()
        ctx.audit(db, request, me.id, "kb.topic.edit", str(t.id), "ok", "")
        db.commit()
        return out(db, t)

    @router.post("/board/topics/{topic_id}/replies", response_model=ReplyOut, status_code=201)
    def reply(topic_id: DbId, body: ReplyIn, request: Request, me: Me, db: Db) -> KbReply:
        t = topic_of(db, me, topic_id)
        if t.locked:
            raise ApiError(409, "topic_locked", "the topic is locked")
        now = ctx.now()
        r = KbReply(
            topic_id=t.id,
            body=content.sanitize(body.body),
            author_id=me.id,
            created_at=now,
            updated_at=now,
            deleted=False,
        )
        db.add(r)
        db.flush()
        ctx.audit(db, request, me.id, "kb.reply.add", str(r.id), "ok", "")
        db.commit()
        return r

    def reply_of(db: Session, me: User, reply_id: int) -> KbReply:
        r = db.get(KbReply, reply_id)
        if r is None or (r.deleted and not policy.can_moderate(me)):
            raise not_found("reply")
        topic_of(db, me, r.topic_id)
        return r

    @router.patch("/board/replies/{reply_id}", response_model=ReplyOut)
    def edit_reply(reply_id: DbId, body: ReplyIn, request: Request, me: Me, db: Db) -> KbReply:
        r = reply_of(db, me, reply_id)
        if r.author_id != me.id and not policy.can_moderate(me):
            raise forbidden("only the author edits a reply")
        if db.get(KbTopic, r.topic_id).locked and not policy.can_moderate(me):  # type: ignore[union-attr]
            raise ApiError(409, "topic_locked", "the topic is locked")
        db.add(
            KbPostEdit(
                topic_id=r.topic_id, reply_id=r.id, at=ctx.now(), user_id=me.id, old_body=r.body
            )
        )
        r.body = content.sanitize(body.body)
        r.updated_at = ctx.now()
        ctx.audit(db, request, me.id, "kb.reply.edit", str(r.id), "ok", "")
        db.commit()
        return r

    @router.delete("/board/replies/{reply_id}", status_code=204)
    def delete_reply(reply_id: DbId, request: Request, me: Me, db: Db) -> None:
        r = reply_of(db, me, reply_id)
        if not policy.can_moderate(me):
            raise forbidden("only administrators delete posts")
        r.deleted = True
        ctx.audit(db, request, me.id, "kb.reply.delete", str(r.id), "ok", "")
        db.commit()

    @router.get("/board/topics/{topic_id}/history", response_model=list[EditOut])
    def history(topic_id: DbId, me: Me, db: Db) -> list[KbPostEdit]:
        """Earlier texts of the topic and its replies, oldest first."""
        topic_of(db, me, topic_id)
        return list(
            db.scalars(
                select(KbPostEdit).where(KbPostEdit.topic_id == topic_id).order_by(KbPostEdit.id)
            )
        )

    @router.post("/board/topics/{topic_id}/moderate", response_model=TopicOut)
    def moderate(topic_id: DbId, body: ModerateIn, request: Request, me: Me, db: Db) -> TopicOut:
        """Pin, lock or delete (administrators)."""
        t = topic_of(db, me, topic_id)
        if not policy.can_moderate(me):
            raise forbidden("only administrators moderate")
        changes = body.model_dump(exclude_none=True)
        for k, v in changes.items():
            setattr(t, k, v)
        t.version += 1
        ctx.audit(db, request, me.id, "kb.topic.moderate", str(t.id), "ok", changes)
        db.commit()
        return out(db, t)

    @router.get("/board/stats")
    def stats(me: Me, db: Db) -> dict[str, object]:
        """Topics, replies, unanswered topics, and both per author (deleted posts excluded)."""
        live_t = KbTopic.deleted.is_(False)
        live_r = and_(KbReply.deleted.is_(False), live_t)
        topics = db.scalar(select(func.count()).select_from(KbTopic).where(live_t)) or 0
        replies = (
            db.scalar(select(func.count()).select_from(KbReply).join(KbTopic).where(live_r)) or 0
        )
        answered = (
            db.scalar(
                select(func.count(func.distinct(KbReply.topic_id)))
                .select_from(KbReply)
                .join(KbTopic)
                .where(live_r)
            )
            or 0
        )
        by_author: dict[int, dict[str, int]] = {}
        for uid, n in db.execute(
            select(KbTopic.author_id, func.count()).where(live_t).group_by(KbTopic.author_id)
        ):
            by_author.setdefault(uid, {"topics": 0, "replies": 0})["topics"] = n
        for uid, n in db.execute(
            select(KbReply.author_id, func.count())
            .select_from(KbReply)
            .join(KbTopic)
            .where(live_r)
            .group_by(KbReply.author_id)
        ):
            by_author.setdefault(uid, {"topics": 0, "replies": 0})["replies"] = n
        return {
            "topics": topics,
            "replies": replies,
            "unanswered": topics - answered,
            "views": db.scalar(select(func.coalesce(func.sum(KbTopic.views), 0)).where(live_t)),
            "by_author": [{"user_id": uid, **counts} for uid, counts in sorted(by_author.items())],
        }
