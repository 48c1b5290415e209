"""Database helpers shared by every package: UTC timestamps, engine set-up, fast inserts."""

from __future__ import annotations

import enum
import functools
import sqlite3
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, make_transient, make_transient_to_detached, scoped_session
from sqlalchemy.types import TypeDecorator

#: a session or the scoped `db.session`
AnySession = Session | scoped_session[Any]


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


def dialect_name(session: AnySession) -> str:
    """"postgresql" or "sqlite": the database `session` talks to."""
    return session.get_bind().dialect.name


def upsert_insert(dialect: str, target: Any) -> Any:
    """`INSERT` with `ON CONFLICT` support for the dialect (`dialect_name(session)`). Build such a
    statement once per dialect (`functools.cache`) and pass the values when executing it."""
    return (pg_insert if dialect == "postgresql" else sqlite_insert)(target)


def insert_on_conflict(table: sa.Table, on_conflict: str, *, returning: str = "") -> sa.TextClause:
    """`INSERT INTO <table> (<every column but the serial key>) VALUES (:<column>, ...) ON CONFLICT
    <on_conflict> [RETURNING <returning>]`: a statement to build once and run with a dict of values.

    SQLAlchemy 2.0 does not cache its dialects' `insert().on_conflict_do_*()` (they compile anew on
    every execution, a good part of a sale's time); this text, with a typed parameter per column,
    compiles once. PostgreSQL and SQLite share the syntax, so it suits both.
    """
    columns = [c for c in table.columns if c is not table.autoincrement_column]
    names = ", ".join('"' + c.name + '"' for c in columns)
    values = ", ".join(":" + c.key for c in columns)
    sql = f"INSERT INTO {table.name} ({names}) VALUES ({values}) ON CONFLICT {on_conflict}"
    if returning:
        sql += f" RETURNING {returning}"
    return sa.text(sql).bindparams(*[sa.bindparam(c.key, type_=c.type) for c in columns])


@functools.cache
def _insert(table: sa.Table, returning_serial: bool) -> Any:
    stmt = sa.insert(table)
    if returning_serial:
        assert table.autoincrement_column is not None
        stmt = stmt.returning(table.autoincrement_column, sort_by_parameter_order=True)
    return stmt


def _python_default(column: sa.Column) -> Any:
    default = column.default
    if default is None:
        return None
    if default.is_scalar:
        return default.arg  # type: ignore[attr-defined]
    if default.is_callable:
        return default.arg(None)  # type: ignore[attr-defined]
    raise TypeError(f"{column} has a SQL default; insert it through the ORM")  # pragma: no cover


def insert_rows(session: AnySession, model: Any, rows: list[dict[str, Any]]) -> None:
    """INSERT plain rows (column key → value) of `model` with one Core statement (an executemany:
    one multi-row INSERT on PostgreSQL). Python column defaults fill what the rows leave out; no
    ORM objects are made and no ids come back. Every row must name the same columns."""
    if not rows:
        return
    table = model.__table__
    serial = table.autoincrement_column
    missing = [c for c in table.columns if c.key not in rows[0] and c is not serial]
    for row in rows:
        for column in missing:
            row[column.key] = _python_default(column)
    session.connection().execute(sa.insert(table), rows)


def column_values(instance: Any) -> dict[str, Any]:
    """The row a new (transient) instance makes, column key → value, with its Python column defaults
    applied to the instance too; a primary key left unset is left out (the database assigns it)."""
    mapper = sa.inspect(type(instance))
    table = mapper.local_table
    values = sa.inspect(instance).dict
    row = {}
    for prop in mapper.column_attrs:
        column = prop.columns[0]
        if column.table is not table:  # pragma: no cover - no inheritance in our models
            continue
        if prop.key not in values:
            if column.primary_key:
                continue
            setattr(instance, prop.key, _python_default(column))
        row[column.key] = values[prop.key]
    return row


def insert_new(session: AnySession, instances: Sequence[Any]) -> None:
    """INSERT new (transient) instances of one mapped class with one Core statement and attach them
    to `session` as persistent, as if they had just been loaded: no unit-of-work flush.

    Pending changes are flushed first (rows the new ones refer to exist). Foreign keys must be set as
    columns (`sale_id=...`), not through relationships. Column defaults are applied in Python, so
    every attribute is set afterwards and reading one never reloads. The ids come back by RETURNING
    in parameter order: one statement on PostgreSQL; SQLite cannot order a multi-row RETURNING, so
    there SQLAlchemy sends one INSERT per row (still one call). Collections between such rows are
    set by the caller with `set_committed_value`, never by assignment, which would cascade the rows
    into the next flush and insert them twice.
    """
    if not instances:
        return
    session.flush()
    mapper = sa.inspect(type(instances[0]))
    table = mapper.local_table
    rows = [column_values(instance) for instance in instances]
    serial = table.autoincrement_column
    if serial is None or all(serial.key in row for row in rows):
        session.connection().execute(_insert(table, False), rows)
    else:
        key = mapper.get_property_by_column(serial).key
        ids = session.connection().execute(_insert(table, True), rows if len(rows) > 1 else rows[0]).scalars().all()
        for instance, new_id in zip(instances, ids, strict=True):
            setattr(instance, key, new_id)
    attach_loaded(session, instances)


def attach_loaded(session: AnySession, instances: Sequence[Any]) -> None:
    """Make transient instances whose rows were just inserted by hand persistent in `session`, with
    every attribute as set (their primary keys included): no INSERT, no reload.

    Should the transaction (or savepoint) they went in with roll back, they leave the session again,
    as objects the ORM flushed would (see `_forget_rolled_back_rows`): no stale row stays in the
    identity map, where a new row given the same id (SQLite reuses them) would clash with it.
    """
    for instance in instances:
        make_transient_to_detached(instance)
        session.add(instance)
    real = session() if isinstance(session, scoped_session) else session
    current = real.get_nested_transaction() or real.get_transaction()
    # (Entries of transactions that are over were handled when they ended.)
    attached = [(t, objs) for t, objs in real.info.get(_ATTACHED, ()) if t.is_active]
    real.info[_ATTACHED] = [*attached, (current, list(instances))]


#: session.info key: [(the session transaction, instances attached by `attach_loaded` in it)]
_ATTACHED = "core.db.attached"


@event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back_rows(session: Session, previous_transaction: Any) -> None:
    attached = session.info.get(_ATTACHED)
    if not attached:
        return
    kept = []
    for transaction, instances in attached:
        outer = transaction
        while outer is not None and outer is not previous_transaction:
            outer = outer.parent
        if outer is None:  # not inside the transaction that rolled back
            kept.append((transaction, instances))
            continue
        for instance in instances:
            if instance in session:
                session.expunge(instance)
            make_transient(instance)
    session.info[_ATTACHED] = kept


@event.listens_for(Session, "after_commit")
def _forget_attached_on_commit(session: Session) -> None:
    session.info.pop(_ATTACHED, None)  # they are rows for good now


#: SQLite: how long a statement waits for a lock before "database is locked"
BUSY_TIMEOUT_MS = 30_000
#: how often a transaction that will write asks again for SQLite's write lock
WRITE_LOCK_POLL_SECONDS = 0.001


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
        cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        if engine.url.database not in (None, "", ":memory:"):
            cur.execute("PRAGMA journal_mode=WAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        if not intent():
            conn.exec_driver_sql("BEGIN")
        else:
            _begin_immediate(conn)


def _begin_immediate(conn: sa.Connection) -> None:
    """`BEGIN IMMEDIATE`, asking again every millisecond while another connection writes.

    SQLite's own busy handler sleeps ever longer between tries (up to 100 ms), so under a queue
    of writers the lock often sat free while they slept, and a sale could wait a second; asking
    every millisecond (a few microseconds each, on the raw connection) hands it on at once.
    """
    raw = conn.connection.dbapi_connection
    assert raw is not None
    raw.execute("PRAGMA busy_timeout=0")
    try:
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            return
        except sa.exc.OperationalError as error:
            if not _locked(error.orig):
                raise
        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
        while True:
            time.sleep(WRITE_LOCK_POLL_SECONDS)
            try:
                raw.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as error:
                if not _locked(error) or time.monotonic() > deadline:
                    raise
    finally:
        raw.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")


def _locked(error: BaseException | None) -> bool:
    return isinstance(error, sqlite3.OperationalError) and "locked" in str(error)
