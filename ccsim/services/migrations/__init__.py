"""Alembic migrations of the services schema (a package so wheels ship it)."""
