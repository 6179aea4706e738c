"""Tables of the knowledge base, the discussion board and the training exams.

All names start with ``kb_``. Audience, categories and keywords are link
tables rather than JSON columns so the visibility rule, the attribute index and
the filters are plain SQL joins on both backends. Attachments are stored in
the database (bounded size, see :mod:`ccsim.services.kb.attachments`): one
transaction covers the row and the bytes, and backups need no second store.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from ccsim.services.models import Base

# ---------------------------------------------------------------- classification


class KbScheme(Base):
    """One classification scheme (by business line, by customer segment, ...)."""

    __tablename__ = "kb_schemes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)


class KbCategory(Base):
    """A node of a scheme's category tree; ``parent_id`` NULL for a root."""

    __tablename__ = "kb_categories"
    __table_args__ = (UniqueConstraint("scheme_id", "parent_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scheme_id: Mapped[int] = mapped_column(
        ForeignKey("kb_schemes.id", ondelete="CASCADE"), index=True
    )
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("kb_categories.id", ondelete="CASCADE"), nullable=True, index=True
    )
    name: Mapped[str] = mapped_column(String(128))


# ---------------------------------------------------------------- articles


class KbArticle(Base):
    """The current text and publishing attributes of an article.

    ``body`` is allow-list sanitised HTML; ``body_text`` its plain text, which
    is what snippets and the diff work on; ``search_text``/``search_chars``
    are derived from subject, text and keywords for the full-text index.
    """

    __tablename__ = "kb_articles"
    # no index on status: nearly every article is published, and such an index
    # tempts SQLite to scan it instead of driving searches from the FTS index
    __table_args__ = (Index("ix_kb_articles_author", "author_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    body_text: Mapped[str] = mapped_column(Text)
    keywords: Mapped[str] = mapped_column(Text, default="")  # one per line
    #: bigram/word token streams for the FTS index (see ``kb.search.grams``)
    search_text: Mapped[str] = mapped_column(Text, default="")
    search_chars: Mapped[str] = mapped_column(Text, default="")
    content_type: Mapped[str] = mapped_column(String(24))
    nature: Mapped[str] = mapped_column(String(24))
    urgency: Mapped[str] = mapped_column(String(16))
    confidentiality: Mapped[int] = mapped_column(Integer)
    external: Mapped[bool] = mapped_column(Boolean, default=False)
    #: whether ``kb_article_roles`` / ``kb_article_departments`` hold rows for this
    #: article: lets the visibility condition skip the audience look-ups for the
    #: (usual) article meant for everyone
    role_limited: Mapped[bool] = mapped_column(Boolean, default=False)
    department_limited: Mapped[bool] = mapped_column(Boolean, default=False)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    author_name: Mapped[str] = mapped_column(String(128))
    employee_id: Mapped[str] = mapped_column(String(32), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    published_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    effective_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class KbArticleRole(Base):
    """Audience by role; an article without rows here is for every role."""

    __tablename__ = "kb_article_roles"

    article_id: Mapped[int] = mapped_column(
        ForeignKey("kb_articles.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(32), primary_key=True)


class KbArticleDepartment(Base):
    """Audience by department; an article without rows here is for every department."""

    __tablename__ = "kb_article_departments"

    article_id: Mapped[int] = mapped_column(
        ForeignKey("kb_articles.id", ondelete="CASCADE"), primary_key=True
    )
    department_id: Mapped[int] = mapped_column(
        ForeignKey("departments.id", ondelete="CASCADE"), primary_key=True
    )


class KbArticleCategory(Base):
    __tablename__ = "kb_article_categories"

    article_id: Mapped[int] = mapped_column(
        ForeignKey("kb_articles.id", ondelete="CASCADE"), primary_key=True
    )
    category_id: Mapped[int] = mapped_column(
        ForeignKey("kb_categories.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class KbArticleKeyword(Base):
    __tablename__ = "kb_article_keywords"

    article_id: Mapped[int] = mapped_column(
        ForeignKey("kb_articles.id", ondelete="CASCADE"), primary_key=True
    )
    keyword: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)


class KbRevision(Base):
    """The full text of an article after each edit (number 1 = as created)."""

    __tablename__ = "kb_revisions"
    __table_args__ = (UniqueConstraint("article_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("kb_articles.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(DateTime)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    keywords: Mapped[str] = mapped_column(Text, default="")
    note: Mapped[str] = mapped_column(String(200), default="")


class KbLink(Base):
    """A link from one article to another ("see also")."""

    __tablename__ = "kb_links"

    from_id: Mapped[int] = mapped_column(
        ForeignKey("kb_articles.id", ondelete="CASCADE"), primary_key=True
    )
    to_id: Mapped[int] = mapped_column(
        ForeignKey("kb_articles.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class KbRead(Base):
    """That a user has opened an article; absence puts it on their unread list."""

    __tablename__ = "kb_reads"

    article_id: Mapped[int] = mapped_column(
        ForeignKey("kb_articles.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    read_at: Mapped[datetime] = mapped_column(DateTime)


class KbAttachment(Base):
    __tablename__ = "kb_attachments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(
        ForeignKey("kb_articles.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(DateTime)


# ---------------------------------------------------------------- discussion board


class KbTopic(Base):
    __tablename__ = "kb_topics"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    views: Mapped[int] = mapped_column(Integer, default=0)
    pinned: Mapped[bool] = mapped_column(Boolean, default=False)
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)


class KbReply(Base):
    __tablename__ = "kb_replies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    topic_id: Mapped[int] = mapped_column(
        ForeignKey("kb_topics.id", ondelete="CASCADE"), index=True
    )
    body: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)


class KbPostEdit(Base):
    """The text of a topic or reply before an edit (edit history)."""

    __tablename__ = "kb_post_edits"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    topic_id: Mapped[int] = mapped_column(
        ForeignKey("kb_topics.id", ondelete="CASCADE"), index=True
    )
    reply_id: Mapped[int | None] = mapped_column(
        ForeignKey("kb_replies.id", ondelete="CASCADE"), nullable=True
    )
    at: Mapped[datetime] = mapped_column(DateTime)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    old_title: Mapped[str] = mapped_column(String(200), default="")
    old_body: Mapped[str] = mapped_column(Text)


# ---------------------------------------------------------------- training and exams


class KbQuestion(Base):
    """A bank question; ``options`` and ``answer`` are JSON (see exams module)."""

    __tablename__ = "kb_questions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    options: Mapped[str] = mapped_column(Text, default="[]")
    answer: Mapped[str] = mapped_column(Text)
    category_id: Mapped[int | None] = mapped_column(
        ForeignKey("kb_categories.id", ondelete="SET NULL"), nullable=True, index=True
    )
    difficulty: Mapped[int] = mapped_column(Integer)
    points: Mapped[float] = mapped_column(Float)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime)


class KbPaper(Base):
    """An exam paper: a fixed question list or a random draw by ``rule`` (JSON)."""

    __tablename__ = "kb_papers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    mode: Mapped[str] = mapped_column(String(16))
    rule: Mapped[str] = mapped_column(Text, default="[]")
    duration_minutes: Mapped[int] = mapped_column(Integer)
    self_test: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime)


class KbPaperQuestion(Base):
    __tablename__ = "kb_paper_questions"

    paper_id: Mapped[int] = mapped_column(
        ForeignKey("kb_papers.id", ondelete="CASCADE"), primary_key=True
    )
    question_id: Mapped[int] = mapped_column(ForeignKey("kb_questions.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)


class KbAttempt(Base):
    """One sitting of a paper by one user; ``question_ids`` fixes the draw (JSON)."""

    __tablename__ = "kb_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    paper_id: Mapped[int] = mapped_column(ForeignKey("kb_papers.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(DateTime)
    deadline: Mapped[datetime] = mapped_column(DateTime)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    status: Mapped[str] = mapped_column(String(16))
    question_ids: Mapped[str] = mapped_column(Text)
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    max_score: Mapped[float] = mapped_column(Float)


class KbAnswer(Base):
    __tablename__ = "kb_attempt_answers"

    attempt_id: Mapped[int] = mapped_column(
        ForeignKey("kb_attempts.id", ondelete="CASCADE"), primary_key=True
    )
    question_id: Mapped[int] = mapped_column(ForeignKey("kb_questions.id"), primary_key=True)
    answer: Mapped[str] = mapped_column(Text)
    auto_score: Mapped[float | None] = mapped_column(Float, nullable=True)
    manual_score: Mapped[float | None] = mapped_column(Float, nullable=True)
    graded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
