"""Database helpers shared by every package: UTC timestamps and engine set-up."""

from __future__ import annotations

import enum
from collections.abc import Callable
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(UTC)


def enum_column(cls: type[enum.Enum], length: int = 24) -> sa.Enum:
    """A string enum column storing member values (VARCHAR + validation, no native ENUM type)."""
    return sa.Enum(cls, native_enum=False, length=length, validate_strings=True,
                   values_callable=lambda e: [m.value for m in e])


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC datetime on both SQLite (which stores naive) and PostgreSQL."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use aware UTC datetimes")
        return value.astimezone(UTC)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def configure_engine(engine: Engine, *, write_intent: Callable[[], bool] | None = None) -> None:
    """SQLite: foreign keys on, WAL, and `BEGIN IMMEDIATE` for every transaction that may write.

    A plain deferred `BEGIN` lets two writers both read and then fail with "database is locked"
    when they upgrade to a write lock; `BEGIN IMMEDIATE` takes the write lock up front so the
    busy timeout queues them instead (see notes/reliability.md). A transaction that only reads
    needs no write lock: `write_intent()` (the unit of work's `may_write`: False inside a
    GET/HEAD/OPTIONS request) says which, and those begin deferred, so readers never queue behind
    writers (WAL lets them read while another connection writes).
    """
    if engine.dialect.name != "sqlite":
        return
    intent = write_intent or (lambda: True)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        if engine.url.database not in (None, "", ":memory:"):
            cur.execute("PRAGMA journal_mode=WAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE" if intent() else "BEGIN")
