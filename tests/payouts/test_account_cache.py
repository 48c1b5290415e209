"""Ledger account ids are cached per process, and a cached id that is no longer right is never used.

The cache (payouts.ledger.account_ids) could be wrong after a rolled-back transaction created an
account, or after the database was emptied or restored under the running process: the posting
checks every cached (id, key) pair in the statement that inserts its transaction.
"""

from __future__ import annotations

import sqlalchemy as sa

from core.extensions import db
from payouts import ledger
from payouts.models import LedgerAccount, LedgerEntry
from sales.models import Sale
from tests.factories.payouts import product, sell, shop


def posted_to(sale) -> set[tuple[str, str]]:
    """(component, account key) of every entry the sale posted."""
    return set(db.session.execute(
        sa.select(LedgerEntry.component, LedgerAccount.key)
        .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)
        .where(LedgerEntry.sale_id == sale.id)).tuples())


def test_a_wrong_cached_account_id_is_never_posted_to():
    s = shop()
    batik = product(s.sentra, price=150_000, bps=8_000)
    sell(s, [(batik, 1)])
    revenue, payable = f"sentra_revenue:s{s.sentra.id}", f"maker_payable:m{batik.maker_id}"
    right = ledger.account_ids.cached([revenue, payable])
    assert set(right) == {revenue, payable}
    # As after a restore: each key now points at the other account's id.
    ledger.account_ids.remember({revenue: right[payable], payable: right[revenue]})

    sale = sell(s, [(batik, 2)])

    assert {("sentra", revenue), ("maker", payable)} <= posted_to(sale)
    assert ledger.account_ids.cached([revenue, payable]) == right  # looked up again
    assert ledger.maker_balance(batik.maker_id).total == 3 * 120_000


def test_an_account_made_by_a_rolled_back_sale_is_made_again():
    s = shop()
    sell(s, [(product(s.sentra), 1)])  # this Sentra's accounts exist
    newcomer = product(s.sentra, price=50_000, bps=10_000)  # a maker without an account yet
    payable = f"maker_payable:m{newcomer.maker_id}"

    savepoint = db.session.begin_nested()
    lost = sell(s, [(newcomer, 1)], commit=False)
    assert ledger.account_ids.cached([payable])  # cached, but only ever created in the savepoint
    savepoint.rollback()
    assert lost not in db.session  # the rows written by hand left the session with the savepoint
    assert db.session.scalar(sa.select(LedgerAccount).where(LedgerAccount.key == payable)) is None

    sale = sell(s, [(newcomer, 1)])

    assert ("maker", payable) in posted_to(sale)
    assert db.session.get(Sale, sale.id) is sale
    assert ledger.maker_balance(newcomer.maker_id).total == 50_000
