"""Engine creation and schema migration.

SQLite is the embedded default. Each connection turns foreign keys on, uses
WAL (readers never block the writer) and a busy timeout, and every transaction
not marked :data:`READ_ONLY` starts with ``BEGIN IMMEDIATE``: a deferred
transaction that reads and then writes can fail with SQLITE_BUSY_SNAPSHOT
under WAL, whereas an immediate one just waits its turn, which keeps the
optimistic version check the only source of conflicts.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from ccsim.services.search import order_gram_tokens

#: Execution option marking a transaction that only reads (``Session.connection(
#: execution_options={READ_ONLY: True})`` before its first statement): on SQLite it
#: starts a deferred transaction and takes no writer lock.
READ_ONLY = "ccsim_read_only"

#: Used when neither ``--db`` nor ``CCSIM_DB`` is given.
DEFAULT_DB_URL = "sqlite:///ccsim-services.db"

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def resolve_db_url(url: str | None) -> str:
    """The explicit URL, else ``$CCSIM_DB``, else the embedded SQLite file."""
    return url or os.environ.get("CCSIM_DB") or DEFAULT_DB_URL


def make_engine(db_url: str) -> Engine:
    """An engine with the per-backend settings described in the module docstring."""
    url = make_url(db_url)
    if url.get_backend_name() != "sqlite":
        # Connections kept open: beyond ``pool_size`` a returned connection is
        # closed, and opening one costs a PostgreSQL backend start (milliseconds),
        # so the default 5 made 8 concurrent clients churn connections (217 vs
        # ~300 writes/s). 16 + 24 matches the 40 threads of the request pool.
        return create_engine(url, pool_pre_ping=True, pool_size=16, max_overflow=24)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (below)
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        if url.database and url.database != ":memory:":
            cur.execute("PRAGMA journal_mode=WAL")
        # In WAL mode NORMAL syncs at checkpoints, not at every commit: a commit
        # survives a crash of the process, a power loss may roll back the last
        # few, and the database is never corrupted. FULL would fsync each write.
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()
        # The short-term search index's triggers (migration 0005) compute the
        # grams of an order here: SQLite has no such function of its own.
        dbapi_conn.create_function("ccsim_order_grams", 3, order_gram_tokens, deterministic=True)

    # SQLite has one writer at a time. Waiting for it in SQLite's busy handler
    # means sleeping in growing steps (up to 100 ms) and polling; queueing on a
    # lock in this process hands the database over as soon as it is free. The
    # lock is a plain Lock because FastAPI may begin and end one request's
    # transaction on different threads of its pool.
    writer = threading.Lock()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        if conn.get_execution_options().get(READ_ONLY):
            conn.exec_driver_sql("BEGIN")  # deferred: a WAL snapshot, no lock taken
            return
        if not writer.acquire(timeout=30):
            raise OperationalError("BEGIN IMMEDIATE", None, TimeoutError("database is locked"))
        conn.info["ccsim_writer"] = True
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            _release(conn)
            raise

    def _release(conn: Any) -> None:
        if conn.info.pop("ccsim_writer", False):
            writer.release()

    # These events fire *before* SQLAlchemy ends the transaction; end it here
    # first (SQLAlchemy's own call is then a no-op) so the lock is released
    # only once the database is really free.
    @event.listens_for(engine, "commit")
    def _on_commit(conn: Any) -> None:
        try:
            conn.connection.dbapi_connection.commit()
        finally:
            _release(conn)

    @event.listens_for(engine, "rollback")
    def _on_rollback(conn: Any) -> None:
        try:
            conn.connection.dbapi_connection.rollback()
        finally:
            _release(conn)

    return engine


def include_name(name: str | None, type_: str, _parents: object) -> bool:
    """Autogenerate filter: backend-specific search structures are created by hand, not by models.

    SQLite's FTS5 tables (``*_fts*``), PostgreSQL's trigram indexes (``*_trgm*``)
    and the work orders' PostgreSQL-only ``search_grams`` column and its index.
    """
    if name is None:
        return True
    if type_ == "table":
        return "_fts" not in name
    if type_ == "index":
        return "_trgm" not in name and "search_grams" not in name
    if type_ == "column":
        return name != "search_grams"
    return True


def alembic_config(db_url: str) -> Config:
    """An Alembic config pointing at the packaged migrations; no alembic.ini needed."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", db_url.replace("%", "%%"))
    return cfg


def upgrade(db_url: str, revision: str = "head") -> None:
    """Apply migrations up to ``revision`` (idempotent)."""
    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            cfg = alembic_config(db_url)
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
    finally:
        engine.dispose()
