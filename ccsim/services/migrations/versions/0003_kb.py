"""Knowledge base schema: categories, articles (+ revisions, audience, reads,
attachments, links), discussion board, question bank and exams.

On SQLite also the FTS5 index ``kb_articles_fts`` over the articles' bigram
and word tokens (see ``ccsim.services.kb.search``), kept in step with
``kb_articles`` by triggers; on
PostgreSQL ``pg_trgm`` GIN indexes on the same columns (when the extension can
be created).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.exc import DBAPIError

log = logging.getLogger(__name__)

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "kb_schemes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "kb_articles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("body_text", sa.Text(), nullable=False),
        sa.Column("keywords", sa.Text(), nullable=False),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("search_chars", sa.Text(), nullable=False),
        sa.Column("content_type", sa.String(length=24), nullable=False),
        sa.Column("nature", sa.String(length=24), nullable=False),
        sa.Column("urgency", sa.String(length=16), nullable=False),
        sa.Column("confidentiality", sa.Integer(), nullable=False),
        sa.Column("external", sa.Boolean(), nullable=False),
        sa.Column("role_limited", sa.Boolean(), nullable=False),
        sa.Column("department_limited", sa.Boolean(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("author_name", sa.String(length=128), nullable=False),
        sa.Column("employee_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("published_at", sa.DateTime(), nullable=True),
        sa.Column("effective_at", sa.DateTime(), nullable=True),
        sa.Column("expires_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["users.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("kb_articles", schema=None) as batch_op:
        batch_op.create_index("ix_kb_articles_author", ["author_id"], unique=False)

    op.create_table(
        "kb_categories",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scheme_id", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(["parent_id"], ["kb_categories.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["scheme_id"], ["kb_schemes.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("scheme_id", "parent_id", "name"),
    )
    with op.batch_alter_table("kb_categories", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kb_categories_parent_id"), ["parent_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_kb_categories_scheme_id"), ["scheme_id"], unique=False)

    op.create_table(
        "kb_papers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("rule", sa.Text(), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("self_test", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "kb_topics",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("views", sa.Integer(), nullable=False),
        sa.Column("pinned", sa.Boolean(), nullable=False),
        sa.Column("locked", sa.Boolean(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["users.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("kb_topics", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kb_topics_author_id"), ["author_id"], unique=False)

    op.create_table(
        "kb_article_categories",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["article_id"], ["kb_articles.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["category_id"], ["kb_categories.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("article_id", "category_id"),
    )
    with op.batch_alter_table("kb_article_categories", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_kb_article_categories_category_id"), ["category_id"], unique=False
        )

    op.create_table(
        "kb_article_departments",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["article_id"], ["kb_articles.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["department_id"], ["departments.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("article_id", "department_id"),
    )
    op.create_table(
        "kb_article_keywords",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("keyword", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["article_id"], ["kb_articles.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("article_id", "keyword"),
    )
    with op.batch_alter_table("kb_article_keywords", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_kb_article_keywords_keyword"), ["keyword"], unique=False
        )

    op.create_table(
        "kb_article_roles",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["article_id"], ["kb_articles.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("article_id", "role"),
    )
    op.create_table(
        "kb_attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("uploaded_by", sa.Integer(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["article_id"], ["kb_articles.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["uploaded_by"],
            ["users.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("kb_attachments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_kb_attachments_article_id"), ["article_id"], unique=False
        )

    op.create_table(
        "kb_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("paper_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("deadline", sa.DateTime(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("question_ids", sa.Text(), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("max_score", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["paper_id"], ["kb_papers.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("kb_attempts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kb_attempts_user_id"), ["user_id"], unique=False)

    op.create_table(
        "kb_links",
        sa.Column("from_id", sa.Integer(), nullable=False),
        sa.Column("to_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["from_id"], ["kb_articles.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["to_id"], ["kb_articles.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("from_id", "to_id"),
    )
    with op.batch_alter_table("kb_links", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kb_links_to_id"), ["to_id"], unique=False)

    op.create_table(
        "kb_questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("options", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=True),
        sa.Column("difficulty", sa.Integer(), nullable=False),
        sa.Column("points", sa.Float(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["category_id"], ["kb_categories.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("kb_questions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_kb_questions_category_id"), ["category_id"], unique=False
        )

    op.create_table(
        "kb_reads",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("read_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["article_id"], ["kb_articles.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("article_id", "user_id"),
    )
    with op.batch_alter_table("kb_reads", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kb_reads_user_id"), ["user_id"], unique=False)

    op.create_table(
        "kb_replies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("topic_id", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["users.id"],
        ),
        sa.ForeignKeyConstraint(["topic_id"], ["kb_topics.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("kb_replies", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kb_replies_author_id"), ["author_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_kb_replies_topic_id"), ["topic_id"], unique=False)

    op.create_table(
        "kb_revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("keywords", sa.Text(), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(["article_id"], ["kb_articles.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("article_id", "number"),
    )
    op.create_table(
        "kb_attempt_answers",
        sa.Column("attempt_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("auto_score", sa.Float(), nullable=True),
        sa.Column("manual_score", sa.Float(), nullable=True),
        sa.Column("graded_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["attempt_id"], ["kb_attempts.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["graded_by"],
            ["users.id"],
        ),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["kb_questions.id"],
        ),
        sa.PrimaryKeyConstraint("attempt_id", "question_id"),
    )
    op.create_table(
        "kb_paper_questions",
        sa.Column("paper_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["paper_id"], ["kb_papers.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["kb_questions.id"],
        ),
        sa.PrimaryKeyConstraint("paper_id", "question_id"),
    )
    op.create_table(
        "kb_post_edits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("topic_id", sa.Integer(), nullable=False),
        sa.Column("reply_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("old_title", sa.String(length=200), nullable=False),
        sa.Column("old_body", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["reply_id"], ["kb_replies.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["topic_id"], ["kb_topics.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("kb_post_edits", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kb_post_edits_topic_id"), ["topic_id"], unique=False)

    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for stmt in _SQLITE_FTS:
            op.execute(stmt)
    elif bind.dialect.name == "postgresql":
        try:
            with bind.begin_nested():
                op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        except DBAPIError as exc:  # no privilege: search works without the index
            log.warning("pg_trgm unavailable, KB search unindexed: %s", exc)
            return
        for name, column in TRGM_INDEXES:
            op.execute(
                f"CREATE INDEX IF NOT EXISTS {name} ON kb_articles "
                f"USING gin ({column} gin_trgm_ops)"
            )


#: PostgreSQL: (index name, column) of the trigram indexes serving ILIKE search.
TRGM_INDEXES = (
    ("kb_articles_trgm_subject", "subject"),
    ("kb_articles_trgm_body_text", "body_text"),
    ("kb_articles_trgm_keywords", "keywords"),
)

#: SQLite: an FTS5 index over the bigram/word token streams (``kb.search.grams``),
#: kept in step by triggers (external content: the tokens are stored once).
_SQLITE_FTS = (
    "CREATE VIRTUAL TABLE kb_articles_fts USING fts5("
    "search_text, search_chars, content='kb_articles', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER kb_articles_fts_ai AFTER INSERT ON kb_articles BEGIN "
    "INSERT INTO kb_articles_fts(rowid, search_text, search_chars) "
    "VALUES (new.id, new.search_text, new.search_chars); END",
    "CREATE TRIGGER kb_articles_fts_ad AFTER DELETE ON kb_articles BEGIN "
    "INSERT INTO kb_articles_fts(kb_articles_fts, rowid, search_text, search_chars) "
    "VALUES ('delete', old.id, old.search_text, old.search_chars); END",
    "CREATE TRIGGER kb_articles_fts_au AFTER UPDATE OF search_text, search_chars "
    "ON kb_articles BEGIN "
    "INSERT INTO kb_articles_fts(kb_articles_fts, rowid, search_text, search_chars) "
    "VALUES ('delete', old.id, old.search_text, old.search_chars); "
    "INSERT INTO kb_articles_fts(rowid, search_text, search_chars) "
    "VALUES (new.id, new.search_text, new.search_chars); END",
)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name, _column in TRGM_INDEXES:
            op.execute(f"DROP INDEX IF EXISTS {name}")
    if op.get_bind().dialect.name == "sqlite":
        for name in ("kb_articles_fts_ai", "kb_articles_fts_ad", "kb_articles_fts_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS kb_articles_fts")
    with op.batch_alter_table("kb_post_edits", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kb_post_edits_topic_id"))

    op.drop_table("kb_post_edits")
    op.drop_table("kb_paper_questions")
    op.drop_table("kb_attempt_answers")
    op.drop_table("kb_revisions")
    with op.batch_alter_table("kb_replies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kb_replies_topic_id"))
        batch_op.drop_index(batch_op.f("ix_kb_replies_author_id"))

    op.drop_table("kb_replies")
    with op.batch_alter_table("kb_reads", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kb_reads_user_id"))

    op.drop_table("kb_reads")
    with op.batch_alter_table("kb_questions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kb_questions_category_id"))

    op.drop_table("kb_questions")
    with op.batch_alter_table("kb_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kb_links_to_id"))

    op.drop_table("kb_links")
    with op.batch_alter_table("kb_attempts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kb_attempts_user_id"))

    op.drop_table("kb_attempts")
    with op.batch_alter_table("kb_attachments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kb_attachments_article_id"))

    op.drop_table("kb_attachments")
    op.drop_table("kb_article_roles")
    with op.batch_alter_table("kb_article_keywords", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kb_article_keywords_keyword"))

    op.drop_table("kb_article_keywords")
    op.drop_table("kb_article_departments")
    with op.batch_alter_table("kb_article_categories", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kb_article_categories_category_id"))

    op.drop_table("kb_article_categories")
    with op.batch_alter_table("kb_topics", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kb_topics_author_id"))

    op.drop_table("kb_topics")
    op.drop_table("kb_papers")
    with op.batch_alter_table("kb_categories", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kb_categories_scheme_id"))
        batch_op.drop_index(batch_op.f("ix_kb_categories_parent_id"))

    op.drop_table("kb_categories")
    with op.batch_alter_table("kb_articles", schema=None) as batch_op:
        batch_op.drop_index("ix_kb_articles_author")

    op.drop_table("kb_articles")
    op.drop_table("kb_schemes")
