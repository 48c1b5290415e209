"""Demo payouts: a few delivered online orders and one paid payout run at Kartini Temanggung.

Runs last (after the inventory, shop and counter demos); idempotent by fixed client keys. The
online orders are released as delivered at once, so their makers' shares are payable and the
run has something to pay; one more order stays undelivered, so the portal shows a held amount.
"""

from __future__ import annotations

import sqlalchemy as sa

from accounts.models import User
from core.extensions import db
from inventory.models import Product
from payouts import ledger, services
from payouts.models import PayoutRun
from sales.models import Channel, PaymentMethod
from sales.services import LineRequest, PaymentRequest, find_sale_by_key, record_sale
from sentras.models import Sentra

ORDERS = [
    ("demo-payout-order-1", [("TMG-BTK-001", 2), ("TMG-BTK-007", 1)], True),
    ("demo-payout-order-2", [("TMG-BTK-005", 1), ("TMG-BTK-003", 1)], True),
    ("demo-payout-order-3", [("TMG-BTK-002", 1)], False),
]
RUN_KEY = "demo-payout-run-tmg-1"


def load_orders() -> int:
    sentra = db.session.scalar(sa.select(Sentra).where(Sentra.code == "TMG"))
    if sentra is None:
        return 0
    created = 0
    for key, items, delivered in ORDERS:
        if find_sale_by_key(key) is not None:
            continue
        products = {p.sku: p for p in db.session.scalars(
            sa.select(Product).where(Product.sku.in_([sku for sku, _q in items])))}
        if len(products) != len(items):
            return created
        total = sum(products[sku].price * qty for sku, qty in items)
        sale = record_sale(None, sentra, channel=Channel.ONLINE,
                           lines=[LineRequest(products[sku].id, qty) for sku, qty in items],
                           payments=[PaymentRequest(PaymentMethod.STRIPE, total, reference=f"pi_{key}")],
                           client_key=key)
        if delivered:
            ledger.release_online_hold(sale)
        created += 1
    return created


def load_run() -> int:
    sentra = db.session.scalar(sa.select(Sentra).where(Sentra.code == "TMG"))
    manager = db.session.scalar(sa.select(User).where(User.email == "manajer.tmg@sentra.test"))
    admin = db.session.scalar(sa.select(User).where(User.email == "admin@sentra.test"))
    if sentra is None or manager is None or admin is None:
        return 0
    if db.session.scalar(sa.select(PayoutRun.id).where(PayoutRun.client_key == RUN_KEY)) is not None:
        return 0
    if db.session.scalar(sa.select(PayoutRun.id).where(PayoutRun.sentra_id == sentra.id,
                                                       PayoutRun.open_marker.is_not(None))) is not None:
        return 0
    if not any(b.payable > 0 for b in ledger.all_maker_balances(sentra_id=sentra.id).values()):
        return 0
    run = services.create_run(manager, sentra, cutoff_date=sentra.local_date(), client_key=RUN_KEY,
                              note="Pencairan contoh (data demo)")
    services.approve_run(admin, run)
    services.mark_run_paid(admin, run, references={line.id: f"DEMO-TRF-{line.id:04d}" for line in run.lines})
    return 1


LOADERS = [("payout demo orders", load_orders), ("payout demo run", load_run)]
