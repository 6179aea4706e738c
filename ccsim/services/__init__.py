"""Back-office services: one FastAPI application over SQLAlchemy (SQLite or PostgreSQL).

Install with the ``services`` extra. :func:`create_app` builds the application
for a database URL (migrating it first); ``ccsim serve`` runs it under uvicorn.
"""

from __future__ import annotations

from ccsim.services.app import Settings, create_app

__all__ = ["Settings", "create_app"]
