"""Request and response bodies of the /kb endpoints (strict: unknown fields are a 422)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from ccsim.services.schemas import (
    DbId,
    Line,
    LongText,
    Role,
    ShortLine,
    Utc,
    _no_controls,
    _one_line,
)

CONTENT_TYPES = ("general", "number_range", "roaming_tariff", "faq")
NATURES = ("notice", "policy", "procedure", "reference", "promotion")
URGENCIES = ("normal", "urgent")
Level = Literal["public", "internal", "confidential", "secret"]


def _utc_naive(value: datetime) -> datetime:
    """Aware -> naive UTC; a naive value is taken as UTC already."""
    if value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)


When = Annotated[datetime, AfterValidator(_utc_naive)]
Html = Annotated[str, Field(min_length=1, max_length=200_000), AfterValidator(_no_controls)]
Keyword = Annotated[str, Field(min_length=1, max_length=64), AfterValidator(_one_line)]
Tag = Annotated[str, Field(max_length=32), AfterValidator(_one_line)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---------------------------------------------------------------- categories


class SchemeIn(_In):
    name: ShortLine


class SchemeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str


class CategoryIn(_In):
    scheme_id: DbId
    parent_id: DbId | None = None
    name: ShortLine


class CategoryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    scheme_id: int
    parent_id: int | None
    name: str


# ---------------------------------------------------------------- articles


class ArticleIn(_In):
    subject: Line
    body: Html
    keywords: Annotated[list[Keyword], Field(max_length=30)] = []
    content_type: Literal[CONTENT_TYPES] = "general"  # type: ignore[valid-type]
    nature: Literal[NATURES] = "reference"  # type: ignore[valid-type]
    urgency: Literal[URGENCIES] = "normal"  # type: ignore[valid-type]
    confidentiality: Level = "internal"
    external: bool = False
    employee_id: Tag = ""
    category_ids: Annotated[list[DbId], Field(max_length=50)] = []
    audience_roles: Annotated[list[Role], Field(max_length=10)] = []
    audience_department_ids: Annotated[list[DbId], Field(max_length=100)] = []
    effective_at: When | None = None
    expires_at: When | None = None
    link_ids: Annotated[list[DbId], Field(max_length=50)] = []


class ArticlePatch(_In):
    """Every field optional; ``version`` is the optimistic-lock check."""

    version: int
    note: Annotated[str, Field(max_length=200), AfterValidator(_one_line)] = ""
    subject: Line | None = None
    body: Html | None = None
    keywords: Annotated[list[Keyword], Field(max_length=30)] | None = None
    content_type: Literal[CONTENT_TYPES] | None = None  # type: ignore[valid-type]
    nature: Literal[NATURES] | None = None  # type: ignore[valid-type]
    urgency: Literal[URGENCIES] | None = None  # type: ignore[valid-type]
    confidentiality: Level | None = None
    external: bool | None = None
    employee_id: Tag | None = None
    category_ids: Annotated[list[DbId], Field(max_length=50)] | None = None
    audience_roles: Annotated[list[Role], Field(max_length=10)] | None = None
    audience_department_ids: Annotated[list[DbId], Field(max_length=100)] | None = None
    effective_at: When | None = None
    expires_at: When | None = None
    link_ids: Annotated[list[DbId], Field(max_length=50)] | None = None


class VersionIn(_In):
    version: int
    renotify: bool = False


class RestoreIn(_In):
    version: int
    revision: Annotated[int, Field(ge=1, le=2**31 - 1)]


class AttachmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_at: Utc


class LinkOut(BaseModel):
    id: int
    subject: str


class ArticleOut(BaseModel):
    id: int
    version: int
    status: str
    subject: str
    body: str
    keywords: list[str]
    content_type: str
    nature: str
    urgency: str
    confidentiality: str
    external: bool
    author_id: int
    author_name: str
    employee_id: str
    created_at: Utc
    updated_at: Utc
    published_at: Utc | None
    effective_at: Utc | None
    expires_at: Utc | None
    category_ids: list[int]
    audience_roles: list[str]
    audience_department_ids: list[int]
    links: list[LinkOut]
    attachments: list[AttachmentOut]
    read: bool


class ArticleSummary(BaseModel):
    id: int
    subject: str
    snippet: str
    status: str
    urgency: str
    content_type: str
    nature: str
    confidentiality: str
    author_name: str
    employee_id: str
    created_at: Utc
    updated_at: Utc
    published_at: Utc | None


class ArticlePage(BaseModel):
    total: int
    total_exact: bool
    items: list[ArticleSummary]


class RevisionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    number: int
    at: Utc
    user_id: int
    subject: str
    body: str
    keywords: str
    note: str


class IndexEntry(BaseModel):
    value: str
    label: str
    count: int
    article_ids: list[int]


class UnreadItem(BaseModel):
    id: int
    subject: str
    urgency: str
    published_at: Utc | None


class UnreadOut(BaseModel):
    total: int
    urgent: int
    items: list[UnreadItem]


class UrgentCount(BaseModel):
    user_id: int
    username: str
    unread_urgent: int


# ---------------------------------------------------------------- board


class TopicIn(_In):
    title: Line
    body: LongText


class TopicPatch(_In):
    version: int
    title: Line | None = None
    body: LongText | None = None


class ReplyIn(_In):
    body: LongText


class ModerateIn(_In):
    pinned: bool | None = None
    locked: bool | None = None
    deleted: bool | None = None


class ReplyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    topic_id: int
    body: str
    author_id: int
    created_at: Utc
    updated_at: Utc


class TopicOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    version: int
    title: str
    body: str
    author_id: int
    created_at: Utc
    updated_at: Utc
    views: int
    pinned: bool
    locked: bool
    replies: int = 0


class TopicDetail(TopicOut):
    reply_list: list[ReplyOut]


class EditOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    at: Utc
    user_id: int
    reply_id: int | None
    old_title: str
    old_body: str


# ---------------------------------------------------------------- exams

QuestionKind = Literal["single", "multiple", "true_false", "short"]
OptionText = Annotated[str, Field(min_length=1, max_length=500), AfterValidator(_no_controls)]


class QuestionIn(_In):
    kind: QuestionKind
    text: LongText
    options: Annotated[list[OptionText], Field(max_length=10)] = []
    answer: int | list[int] | bool | Annotated[str, Field(max_length=5000)]
    category_id: DbId | None = None
    difficulty: Annotated[int, Field(ge=1, le=5)] = 3
    points: Annotated[float, Field(gt=0, le=100)] = 1.0


class QuestionOut(BaseModel):
    id: int
    kind: str
    text: str
    options: list[str]
    answer: Any = None
    category_id: int | None
    difficulty: int
    points: float


class RuleItem(_In):
    count: Annotated[int, Field(ge=1, le=200)]
    category_id: DbId | None = None
    difficulty: Annotated[int, Field(ge=1, le=5)] | None = None
    kind: QuestionKind | None = None


class PaperIn(_In):
    title: Line
    mode: Literal["fixed", "random"]
    question_ids: Annotated[list[DbId], Field(max_length=200)] = []
    rule: Annotated[list[RuleItem], Field(max_length=20)] = []
    duration_minutes: Annotated[int, Field(ge=1, le=600)] = 30
    self_test: bool = False


class PaperOut(BaseModel):
    id: int
    title: str
    mode: str
    duration_minutes: int
    self_test: bool
    question_ids: list[int]
    rule: list[dict[str, Any]]


class AttemptOut(BaseModel):
    id: int
    paper_id: int
    user_id: int
    status: str
    started_at: Utc
    deadline: Utc
    submitted_at: Utc | None
    score: float | None
    max_score: float
    questions: list[QuestionOut]


class SubmitIn(_In):
    answers: dict[str, int | list[int] | bool | Annotated[str, Field(max_length=5000)]]


class GradeIn(_In):
    question_id: DbId
    score: Annotated[float, Field(ge=0, le=100)]


class ResultOut(BaseModel):
    attempt_id: int
    paper_id: int
    title: str
    user_id: int
    self_test: bool
    status: str
    score: float | None
    max_score: float
    submitted_at: Utc | None


class EvaluationOut(BaseModel):
    user_id: int
    start: Utc
    end: Utc
    exams: int
    exam_percent: float | None
    qc_evaluations: int
    qc_percent: float | None
    overall: float | None
    weights: dict[str, float]
