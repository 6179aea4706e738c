"""What a service module needs from the application: the plumbing built in ``create_app``.

Work orders live in ``app.py``; QC and the knowledge base are separate packages
that each contribute a router. They get the application's database sessions,
authentication, audit log and clock through this one object, so there is one
way to authenticate and one audit trail for every service.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import Request
from sqlalchemy.orm import Session

from ccsim.services.models import User

__all__ = ["ServiceContext"]


@dataclass(frozen=True)
class ServiceContext:
    """The application's plumbing, handed to each service's ``build_router``.

    Use as FastAPI dependencies: ``db: Annotated[Session, Depends(ctx.get_db)]``
    and ``me: Annotated[User, Depends(ctx.current_user)]``. ``audit(db, request,
    user_id, action, target, outcome, detail)`` adds an audit row to ``db``'s
    transaction; ``now()`` is the application's clock as naive UTC.
    """

    get_db: Callable[[], AsyncIterator[Session]]
    current_user: Callable[..., User]
    audit: Callable[[Session, Request, int | None, str, str, str, Any], None]
    now: Callable[[], datetime]
    settings: Any
