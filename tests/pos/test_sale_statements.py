"""The counter sale path stays close to the floor: statements counted around one API sale.

Counts, never times. A two-line cash sale (two makers, one line with a material cost, cash
rounding) is, after the request's BEGIN: the user (with their Sentras), the Idempotency-Key, the
shift, the shift-row lock, the products, the sale-number counter, the sale, its lines (one INSERT
per line on SQLite, which cannot order a multi-row RETURNING; one on PostgreSQL), the payment, one
stock UPDATE per product, the movements, the audit entry, the ledger transaction, its entries —
and nothing read back after the commit.
"""

from __future__ import annotations

import re
import uuid
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from core.extensions import db
from payouts.models import LedgerEntry
from tests.factories import ProductFactory
from tests.factories.sales import counter_setup, stock_in

#: transaction control, which differs between a test (SAVEPOINTs) and production (BEGIN/COMMIT)
_CONTROL = re.compile(r"^\s*(BEGIN|SAVEPOINT|RELEASE|ROLLBACK|COMMIT)\b", re.IGNORECASE)


@contextmanager
def statements():
    seen: list[str] = []

    def record(_conn, _cursor, statement, _params, _context, executemany):
        seen.append(" ".join(statement.split()))

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)


def work(seen: list[str]) -> list[str]:
    return [s for s in seen if not _CONTROL.match(s)]


@pytest.fixture
def two_line_sale(client, login_as, csrf):
    sentra, kasir, _manager, batik, _ticket, shift = counter_setup(price=150_050)
    bag = ProductFactory(sentra=sentra, price=75_000, material_cost=10_000, maker_share_bps=7_000)
    stock_in(bag, 10)
    login_as(kasir)
    body = {"shift_id": shift.id,
            "lines": [{"product_id": batik.id, "quantity": 1}, {"product_id": bag.id, "quantity": 2}],
            "payments": [{"method": "cash", "amount": 300_100, "tendered": 400_000}]}

    def sell(key: str | None = None):
        headers = {"Idempotency-Key": key or str(uuid.uuid4()), "X-CSRFToken": csrf()}
        # A request starts with an empty session in production; here the test's session outlives
        # requests, so empty it (else refreshing what the test loaded would be counted).
        db.session.remove()
        return client.post("/pos/api/sales", json=body, headers=headers)

    first = sell()  # the ledger accounts of this Sentra and its makers now exist (and are cached)
    assert first.status_code == 201, first.get_json()
    return sell


def test_a_counter_sale_takes_sixteen_statements_and_reads_nothing_back(two_line_sale, db_backend):
    with statements() as seen:
        answer = two_line_sale()
    assert answer.status_code == 201, answer.get_json()
    done = work(seen)
    line_inserts = 2 if db_backend == "sqlite" else 1
    assert len(done) == 14 + line_inserts, "\n".join(done)
    assert sum(s.startswith("SELECT") for s in done) == 4  # user, key, shift, products
    assert sum("FROM sales WHERE sales.client_key" in s for s in done) == 1  # the key is looked up once
    assert sum("ledger_accounts" in s for s in done) == 1  # checked inside the ledger transaction INSERT
    # The answer was built before the commit: after it, not one statement.
    commits = [i for i, s in enumerate(seen) if re.match(r"^(RELEASE|COMMIT)\b", s)]
    assert commits and commits[-1] == len(seen) - 1, seen[commits[-1]:] if commits else seen
    entries = db.session.scalars(sa.select(LedgerEntry).where(LedgerEntry.sale_id == answer.get_json()["id"])).all()
    assert len(entries) == 7 and sum(e.amount for e in entries) == 0


def test_a_replay_looks_the_key_up_once_and_writes_nothing(two_line_sale):
    key = str(uuid.uuid4())
    first = two_line_sale(key)
    with statements() as seen:
        again = two_line_sale(key)
    assert again.status_code == 201 and again.headers.get("Idempotent-Replayed") == "true"
    assert again.get_json() == first.get_json()
    done = work(seen)
    assert sum("FROM sales WHERE sales.client_key" in s for s in done) == 1
    assert not [s for s in done if s.startswith(("INSERT", "UPDATE", "DELETE"))]
    assert len(done) <= 6, "\n".join(done)  # user, key, Sentra, lines, payments
