"""Alembic revisions, applied in order by ``ccsim db upgrade`` and at start-up."""
