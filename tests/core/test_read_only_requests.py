"""SQLite: only a transaction that may write takes the write lock (core/db.py, core/unit_of_work.py).

GET/HEAD/OPTIONS requests begin deferred, so a page view reads (WAL) while a sale holds the write
lock; every other request, CLI command, job and test begins IMMEDIATE, and so does a GET whose view
is marked `@writes`. (The tests that prove no update is lost with the lock are in
tests/inventory/test_concurrency.py, tests/pos/test_concurrency.py and tests/accounts.)
"""

from __future__ import annotations

import sqlite3
import threading
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from core.extensions import db
from core.unit_of_work import may_write

pytestmark = pytest.mark.committed  # real transactions, each with its own BEGIN


@pytest.fixture
def sqlite_file(database_url, db_backend) -> str:
    if db_backend != "sqlite":
        pytest.skip("SQLite's write lock")
    return database_url.removeprefix("sqlite:///")


@contextmanager
def begins():
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        if statement.startswith("BEGIN"):
            seen.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)


@pytest.mark.parametrize(("method", "path", "begin"), [
    ("GET", "/health", "BEGIN"),
    ("HEAD", "/health", "BEGIN"),
    ("POST", "/pos/api/sales", "BEGIN IMMEDIATE"),
    ("GET", "/keranjang", "BEGIN IMMEDIATE"),  # @writes: the cart is made or merged on view
    ("GET", "/tidak-ada", "BEGIN IMMEDIATE"),  # no view matched: nothing promised
])
def test_only_a_transaction_that_may_write_begins_immediate(app, sqlite_file, method, path, begin):
    with app.test_request_context(path, method=method), begins() as seen:
        db.session.execute(sa.text("SELECT 1"))
        db.session.rollback()
    assert seen == [begin]


def test_outside_a_request_every_transaction_may_write(app, sqlite_file):
    assert may_write()
    with begins() as seen:
        db.session.execute(sa.text("SELECT 1"))
        db.session.rollback()
    assert seen == ["BEGIN IMMEDIATE"]


def test_a_page_is_read_while_another_connection_holds_the_write_lock(app, sqlite_file):
    writer = sqlite3.connect(sqlite_file, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # as a sale in progress does
    answers: list[int] = []
    reader = threading.Thread(target=lambda: answers.append(app.test_client().get("/health").status_code))
    try:
        reader.start()
        reader.join(timeout=10)  # BEGIN IMMEDIATE would wait for the lock (busy timeout 30 s)
        assert answers == [200]
    finally:
        writer.execute("ROLLBACK")
        writer.close()
        reader.join(timeout=40)
