"""Who may read, edit, export and moderate in the knowledge base: one place.

The visibility rule exists twice in one module, as a Python predicate
(:func:`can_read`, used on a single loaded article) and as a SQL condition
(:func:`visible_clause`, used by every list, search, count, index, unread list
and export so that paging and totals never see an invisible row). A test
checks the two agree on generated cases.

A reader sees an article when it is **published**, **in effect**
(``effective_at <= now < expires_at``, either bound optional), its
**audience** matches (no role rows, or one of the user's roles; no department
rows, or one of the user's departments) and its **confidentiality** level is
at most the user's clearance. Clearance is derived from roles
(:data:`CLEARANCE`): 0 public, 1 internal, 2 confidential, 3 secret.
Editors (``kb_editor``, up to their clearance) and ``admin`` (everything)
additionally see every article they may edit, drafts included.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, and_, exists, false, or_, select, true

from ccsim.services.kb.models import KbArticle, KbArticleDepartment, KbArticleRole
from ccsim.services.models import User

#: Confidentiality levels, lowest first.
LEVELS: tuple[str, ...] = ("public", "internal", "confidential", "secret")

#: Highest level each role may read; a user's clearance is the maximum over roles.
CLEARANCE: dict[str, int] = {
    "agent": 1,
    "department_handler": 1,
    "qc_inspector": 1,
    "qc_exporter": 0,
    "kb_exporter": 0,
    "team_leader": 2,
    "kb_editor": 2,
    "admin": 3,
}

_SUPERVISORS = frozenset({"team_leader", "admin"})


def clearance(user: User) -> int:
    return max((CLEARANCE.get(r, 0) for r in user.role_names), default=0)


def can_edit_kb(user: User) -> bool:
    """May create articles, categories and schemes."""
    return bool({"kb_editor", "admin"} & user.role_names)


def can_edit(user: User, article: KbArticle) -> bool:
    """Editors edit articles up to their clearance; admins every article."""
    if "admin" in user.role_names:
        return True
    return "kb_editor" in user.role_names and article.confidentiality <= clearance(user)


def can_read(
    user: User,
    article: KbArticle,
    audience_roles: set[str] | frozenset[str],
    audience_departments: set[int] | frozenset[int],
    now: datetime,
) -> bool:
    """The visibility rule for one article (see module docstring)."""
    return can_edit(user, article) or is_reader(
        user, article, audience_roles, audience_departments, now
    )


def is_reader(
    user: User,
    article: KbArticle,
    audience_roles: set[str] | frozenset[str],
    audience_departments: set[int] | frozenset[int],
    now: datetime,
) -> bool:
    """Visible as published knowledge (what lands on unread lists)."""
    return (
        article.status == "published"
        and (article.effective_at is None or article.effective_at <= now)
        and (article.expires_at is None or now < article.expires_at)
        and article.confidentiality <= clearance(user)
        and (not audience_roles or bool(set(audience_roles) & user.role_names))
        and (not audience_departments or bool(set(audience_departments) & user.department_ids))
    )


def reader_clause(user: User, now: datetime) -> ColumnElement[bool]:
    """SQL form of :func:`is_reader`.

    ``role_limited``/``department_limited`` mirror whether audience rows
    exist (they are written together, in ``articles.set_links``); the
    agreement test inserts both and checks them against :func:`is_reader`.
    """
    roles = sorted(user.role_names)
    deps = sorted(user.department_ids)
    my_role = (
        exists(
            select(KbArticleRole.role).where(
                KbArticleRole.article_id == KbArticle.id, KbArticleRole.role.in_(roles)
            )
        )
        if roles
        else false()
    )
    my_dep = (
        exists(
            select(KbArticleDepartment.department_id).where(
                KbArticleDepartment.article_id == KbArticle.id,
                KbArticleDepartment.department_id.in_(deps),
            )
        )
        if deps
        else false()
    )
    return and_(
        KbArticle.status == "published",
        or_(KbArticle.effective_at.is_(None), KbArticle.effective_at <= now),
        or_(KbArticle.expires_at.is_(None), KbArticle.expires_at > now),
        KbArticle.confidentiality <= clearance(user),
        or_(KbArticle.role_limited.is_(False), my_role),
        or_(KbArticle.department_limited.is_(False), my_dep),
    )


def editor_clause(user: User) -> ColumnElement[bool]:
    """SQL form of :func:`can_edit`."""
    if "admin" in user.role_names:
        return true()
    if "kb_editor" in user.role_names:
        return KbArticle.confidentiality <= clearance(user)
    return false()


def visible_clause(user: User, now: datetime) -> ColumnElement[bool]:
    """SQL form of :func:`can_read`: the one condition every query applies."""
    if "admin" in user.role_names:
        return true()
    if "kb_editor" in user.role_names:
        return or_(editor_clause(user), reader_clause(user, now))
    return reader_clause(user, now)


def can_export(user: User) -> bool:
    return "kb_exporter" in user.role_names


def can_supervise_reading(user: User) -> bool:
    """See per-agent unread counts of urgent articles."""
    return bool((_SUPERVISORS | {"kb_editor"}) & user.role_names)


def can_moderate(user: User) -> bool:
    """Pin, lock and delete board posts."""
    return "admin" in user.role_names


def can_manage_exams(user: User) -> bool:
    """Maintain the question bank and papers, grade short answers, see everyone's results."""
    return bool({"kb_editor", "team_leader", "admin"} & user.role_names)
