"""Engine set-up for SQLite and PostgreSQL, and the write-transaction marker.

SQLite follows SQLAlchemy's documented pysqlite recipe: the driver's own transaction
handling is switched off and SQLAlchemy's `begin` event issues the BEGIN itself. Write
transactions (services inside `atomic`) begin with BEGIN IMMEDIATE, so two writers
queue on the busy timeout instead of failing half-way with SQLITE_BUSY; read-only work
(page views) begins a plain deferred transaction and never blocks a writer under WAL.
"""

from __future__ import annotations

import sqlite3
from contextvars import ContextVar

from sqlalchemy import event
from sqlalchemy.engine import Engine

SQLITE_BUSY_TIMEOUT_MS = 10_000
write_intent: ContextVar[bool] = ContextVar("write_intent", default=False)


def _configure_sqlite(dbapi_connection, _record) -> None:
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _begin_sqlite(conn) -> None:
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write_intent.get() else "BEGIN")


def init_app() -> None:
    """Listen to every engine's connections and transaction begins (once per process; create_app calls it)."""
    for name, listener in (("connect", _configure_sqlite), ("begin", _begin_sqlite)):
        if not event.contains(Engine, name, listener):
            event.listen(Engine, name, listener)
