"""The database itself refuses to rewrite history: sales, stock movements and the ledger are facts.

On PostgreSQL (production) triggers from the migration refuse DELETE on every money and stock table
and UPDATE where a row is a fact; on SQLite (one laptop) the audit log is guarded by triggers and
the ledger by the ORM.
"""

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from core.extensions import db
from tests.factories import payouts as f

GUARDED_DELETES = ["sales", "sale_lines", "payments", "stock_movements", "ledger_entries", "ledger_transactions"]
GUARDED_UPDATES = [
    ("payments", "amount = amount + 1"),
    ("stock_movements", "qty_delta = qty_delta - 1"),
    ("ledger_transactions", "kind = kind"),
]


@pytest.fixture
def recorded_sale():
    shop = f.shop()
    item = f.product(shop.sentra, price=100_000, stock=5)
    return f.sell(shop, [(item, 2)])


def _refused(statement: str) -> bool:
    try:
        with db.engine.begin() as conn:
            conn.exec_driver_sql(statement)
    except DBAPIError as error:
        return "append-only" in str(error)
    return False


@pytest.mark.parametrize("statement", ["DELETE FROM audit_entries", "UPDATE audit_entries SET action = 'x'"])
def test_the_audit_log_cannot_be_rewritten_on_any_database(recorded_sale, statement):
    assert _refused(statement)


@pytest.mark.postgresql_only
@pytest.mark.parametrize("table", GUARDED_DELETES)
def test_history_rows_cannot_be_deleted(recorded_sale, table):
    assert _refused(f"DELETE FROM {table}")
    assert db.session.scalar(sa.text(f"SELECT count(*) FROM {table}")) > 0


@pytest.mark.postgresql_only
@pytest.mark.parametrize(("table", "change"), GUARDED_UPDATES)
def test_history_rows_cannot_be_rewritten(recorded_sale, table, change):
    assert _refused(f"UPDATE {table} SET {change}")


@pytest.mark.postgresql_only
def test_a_ledger_entry_only_ever_gains_its_release_time(recorded_sale):
    assert _refused("UPDATE ledger_entries SET amount = amount + 1")
    with db.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE ledger_entries SET available_at = now() WHERE available_at IS NULL")
    assert _refused("UPDATE ledger_entries SET available_at = now() - interval '1 day'")


def test_the_orm_refuses_to_change_a_ledger_entry(recorded_sale):
    from payouts.models import LedgerEntry

    entry = db.session.scalars(sa.select(LedgerEntry)).first()
    entry.amount += 1
    with pytest.raises(RuntimeError, match="immutable"):
        db.session.flush()
    db.session.rollback()
