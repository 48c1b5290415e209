"""The audit log cannot be rewritten on PostgreSQL even by the application's own database role.

Always runs against a throw-away PostgreSQL (whatever `--db` says): the point is PostgreSQL's
roles. The app role (tests/ops/conftest.py: APP_ROLE_GRANTS) has row rights on every table but
owns nothing and is no superuser, so it can neither get past the trigger nor switch it off.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from core.audit import record_audit
from core.extensions import db
from tests.ops.conftest import APP_ROLE


@pytest.fixture
def app_role_conn(pg_stack):
    with pg_stack.app.app_context():
        record_audit(None, "test.entry", entity_type="Test", entity_id=1, after={"value": 1})
        db.session.commit()
        entry_id = db.session.scalar(sa.text("SELECT MAX(id) FROM audit_entries"))
    engine = sa.create_engine(pg_stack.app_url)
    try:
        with engine.connect() as conn:
            assert conn.scalar(sa.text("SELECT current_user")) == APP_ROLE
            assert conn.scalar(sa.text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")) is False
            conn.rollback()
            yield conn, entry_id
    finally:
        engine.dispose()


def _refused(conn, statement: str, **params) -> str:
    conn.rollback()
    with pytest.raises(sa.exc.DBAPIError) as caught, conn.begin():
        conn.execute(sa.text(statement), params)
    return str(caught.value.orig)


def test_app_role_may_append_and_read(app_role_conn):
    conn, entry_id = app_role_conn
    with conn.begin():
        conn.execute(sa.text("INSERT INTO audit_entries (created_at, action, entity_type) "
                             "VALUES (now(), 'app.append', 'Test')"))
    assert conn.scalar(sa.text("SELECT count(*) FROM audit_entries WHERE id >= :i"), {"i": entry_id}) == 2


@pytest.mark.parametrize("statement", [
    "UPDATE audit_entries SET action = 'forged' WHERE id = :i",
    "UPDATE audit_entries SET after = NULL WHERE id = :i",
    "DELETE FROM audit_entries WHERE id = :i",
])
def test_app_role_cannot_update_or_delete(app_role_conn, pg_stack, statement):
    conn, entry_id = app_role_conn
    assert "append-only" in _refused(conn, statement, i=entry_id)
    with pg_stack.app.app_context():
        assert db.session.scalar(sa.text("SELECT action FROM audit_entries WHERE id = :i"), {"i": entry_id}) \
            == "test.entry"


@pytest.mark.parametrize("statement", [
    "ALTER TABLE audit_entries DISABLE TRIGGER audit_entries_no_change",
    "DROP TRIGGER audit_entries_no_change ON audit_entries",
    "SET session_replication_role = replica",
    "TRUNCATE audit_entries",
    "CREATE OR REPLACE FUNCTION refuse_history_change() RETURNS trigger AS $$ BEGIN RETURN OLD; END; "
    "$$ LANGUAGE plpgsql",
])
def test_app_role_cannot_switch_the_guard_off(app_role_conn, pg_stack, statement):
    conn, entry_id = app_role_conn
    message = _refused(conn, statement)
    assert "permission denied" in message or "must be owner" in message, message
    with pg_stack.app.app_context():
        assert db.session.scalar(sa.text("SELECT count(*) FROM pg_trigger WHERE tgname = 'audit_entries_no_change' "
                                         "AND tgenabled = 'O'")) == 1
    assert "append-only" in _refused(conn, "DELETE FROM audit_entries WHERE id = :i", i=entry_id)
