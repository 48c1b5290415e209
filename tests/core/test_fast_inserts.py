"""core.db.insert_new: rows in by one Core INSERT, attached as if loaded, gone again on rollback."""

from __future__ import annotations

import sqlalchemy as sa

from core.audit import AuditEntry
from core.db import insert_new, insert_rows
from core.extensions import db


def entry(action: str) -> AuditEntry:
    return AuditEntry(action=action, entity_type="Test", after={"n": 1})


def test_inserted_rows_are_persistent_with_every_attribute_set():
    first, second = entry("a"), entry("b")
    insert_new(db.session, [first, second])
    assert first in db.session and second in db.session
    assert first.id and second.id == first.id + 1
    assert first.created_at is not None and first.before is None  # Python defaults applied
    assert db.session.get(AuditEntry, second.id) is second
    db.session.commit()
    assert db.session.scalar(sa.select(AuditEntry.action).where(AuditEntry.id == second.id)) == "b"


def test_rows_leave_the_session_when_their_transaction_rolls_back():
    lost = entry("lost")
    insert_new(db.session, [lost])
    db.session.rollback()
    assert lost not in db.session
    again = entry("again")  # SQLite gives it the rolled-back row's id: no clash with a stale object
    insert_new(db.session, [again])
    assert again in db.session and db.session.get(AuditEntry, again.id) is again


def test_rows_of_a_rolled_back_savepoint_leave_the_session_and_the_others_stay():
    kept = entry("kept")
    insert_new(db.session, [kept])
    savepoint = db.session.begin_nested()
    lost = entry("lost")
    insert_new(db.session, [lost])
    savepoint.rollback()
    assert kept in db.session and lost not in db.session
    db.session.commit()
    assert db.session.scalars(sa.select(AuditEntry.action)).all() == ["kept"]


def test_insert_rows_fills_python_defaults():
    insert_rows(db.session, AuditEntry, [{"action": a, "entity_type": "Test"} for a in ("x", "y")])
    rows = db.session.execute(sa.select(AuditEntry.action, AuditEntry.created_at).order_by(AuditEntry.id)).all()
    assert [a for a, _ in rows] == ["x", "y"] and all(created for _, created in rows)
