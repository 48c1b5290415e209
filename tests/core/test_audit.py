"""The audit log: who, what, when, before/after; append-only for the ORM and for raw SQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from accounts.models import Role
from core.audit import AuditEntry, record_audit
from core.db import utcnow
from core.extensions import db
from tests.factories import ProductFactory, SentraFactory, UserFactory


@pytest.fixture
def entry():
    manager = UserFactory(role=Role.MANAGER, name="Sri Manajer")
    product = ProductFactory(price=150_000)
    created = record_audit(manager, "product.price_change", product, before={"price": 150_000},
                           after={"price": 135_000, "changed_at": datetime(2026, 11, 1, 3, 0, tzinfo=UTC)})
    db.session.commit()
    return created


def test_record_audit_stores_who_what_when_and_before_after(entry):
    stored = db.session.get(AuditEntry, entry.id)
    product_sentra = stored.sentra_id
    assert stored.actor_id is not None and stored.action == "product.price_change"
    assert stored.entity_type == "Product" and stored.entity_id is not None
    assert product_sentra is not None  # taken from the entity
    assert stored.before == {"price": 150_000}
    assert stored.after == {"price": 135_000, "changed_at": "2026-11-01T03:00:00+00:00"}
    assert stored.created_at.tzinfo is not None
    assert utcnow() - timedelta(minutes=1) < stored.created_at <= utcnow()


def test_record_audit_with_second_approver_and_system_actor():
    sentra = SentraFactory()
    kasir = UserFactory(sentras=[sentra])
    manager = UserFactory(role=Role.MANAGER, sentras=[sentra])
    approved = record_audit(kasir, "sale.discount", entity_type="Sale", entity_id=42, sentra_id=sentra.id,
                            after={"discount": 20_000}, approved_by=manager)
    system = record_audit(None, "webhook.received", entity_type="StripeEvent", entity_id="evt_1")
    db.session.commit()
    assert (approved.actor_id, approved.approved_by_id, approved.entity_id) == (kasir.id, manager.id, "42")
    assert system.actor_id is None and system.entity_id == "evt_1" and system.before is None


def test_audit_entry_is_written_in_the_callers_transaction():
    user = UserFactory()
    record_audit(user, "user.something", user)
    db.session.rollback()  # the change failed, so the entry must not exist either
    assert db.session.scalar(sa.select(sa.func.count(AuditEntry.id))) == 0


def test_orm_refuses_to_update_an_audit_entry(entry):
    entry.action = "product.nothing_happened"
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.commit()
    db.session.rollback()
    assert db.session.get(AuditEntry, entry.id).action == "product.price_change"


def test_orm_refuses_to_delete_an_audit_entry(entry):
    db.session.delete(entry)
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.commit()
    db.session.rollback()
    assert db.session.get(AuditEntry, entry.id) is not None


@pytest.mark.parametrize("statement", [
    "UPDATE audit_entries SET action = 'rewritten'",
    "UPDATE audit_entries SET after = NULL",
    "DELETE FROM audit_entries",
])
def test_database_refuses_raw_sql_changes(entry, statement):
    """A trigger (PostgreSQL and SQLite) refuses even SQL that bypasses the ORM."""
    entry_id = entry.id
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        db.session.execute(sa.text(statement))
        db.session.flush()
    db.session.rollback()
    stored = db.session.get(AuditEntry, entry_id)
    assert stored is not None and stored.action == "product.price_change" and stored.after is not None


@pytest.mark.committed  # checked on a connection of its own
def test_append_only_triggers_are_installed(entry):
    if db.engine.dialect.name != "postgresql":
        # SQLite: one trigger for UPDATE, one for DELETE.
        assert db.session.scalar(sa.text(
            "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_entries'")) == 2
        return
    with db.engine.connect() as conn:
        names = set(conn.scalars(sa.text(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = 'audit_entries'::regclass AND NOT tgisinternal")))
        assert names == {"audit_entries_no_change"}
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            conn.execute(sa.text("DELETE FROM audit_entries WHERE id = :id"), {"id": entry.id})
        conn.rollback()
