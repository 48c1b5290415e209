"""Demo data for the counter: manager PINs for on-the-spot approval, and one closed shift.

Runs after the inventory demo (it sells the demo goods if there are any); idempotent.
"""

from __future__ import annotations

import sqlalchemy as sa

from accounts.models import Role, User
from core.extensions import db
from inventory.models import Product, ProductKind
from inventory.stock import stock_level
from pos.models import Shift
from pos.services import close_shift, open_shift
from sales.models import Channel, PaymentMethod
from sales.services import LineRequest, PaymentRequest, find_sale_by_key, record_sale
from sentras.models import Sentra

#: PIN the demo managers (and the admin) type to approve discounts and refunds at the counter
DEMO_MANAGER_PIN = "135790"


def load_manager_pins() -> int:
    changed = 0
    for user in db.session.scalars(sa.select(User).where(User.role.in_([Role.MANAGER, Role.ADMIN]),
                                                         User.email.like("%@sentra.test"))):
        if not user.pin_hash:
            user.set_pin(DEMO_MANAGER_PIN)
            changed += 1
    db.session.flush()
    return changed


def load_closed_shift() -> int:
    """A closed shift for the demo kasir at TMG with a few sales (only if the demo goods exist)."""
    kasir = db.session.scalar(sa.select(User).where(User.email == "kasir.tmg@sentra.test"))
    sentra = db.session.scalar(sa.select(Sentra).where(Sentra.code == "TMG"))
    if kasir is None or sentra is None or find_sale_by_key("demo-tmg-sale-1") is not None:
        return 0
    if db.session.scalar(sa.select(Shift.id).where(Shift.cashier_id == kasir.id)) is not None:
        return 0
    products = db.session.scalars(
        sa.select(Product).where(Product.sentra_id == sentra.id, Product.is_active.is_(True)).order_by(Product.id)
    ).all()
    goods = [p for p in products if p.kind == ProductKind.GOODS and stock_level(p.id, sentra.id) >= 2]
    services = [p for p in products if p.kind == ProductKind.SERVICE]
    if not goods:
        return 0
    shift = open_shift(kasir, sentra, 200_000)
    baskets = [[goods[0]], [goods[-1], *services[:1]], [goods[0]]]
    created = 1
    for n, basket in enumerate(baskets, start=1):
        total = sum(p.price for p in basket)
        if n == 2:
            payments = [PaymentRequest(PaymentMethod.QRIS, total, reference=f"QRIS-DEMO-{n:03d}")]
        else:
            due = (total + 50) // 100 * 100
            payments = [PaymentRequest(PaymentMethod.CASH, due, tendered=(due // 50_000 + 1) * 50_000)]
        record_sale(kasir, sentra, channel=Channel.POS, lines=[LineRequest(p.id, 1) for p in basket],
                    payments=payments, client_key=f"demo-tmg-sale-{n}", shift=shift)
        created += 1
    from pos.services import shift_summary

    expected = shift_summary(shift).expected_cash
    counts, left = {}, expected
    for denom in (100_000, 50_000, 20_000, 10_000, 5_000, 2_000, 1_000, 500, 200, 100):
        counts[str(denom)], left = divmod(left, denom)[0], left % denom
    close_shift(kasir, shift, counts)
    return created


LOADERS = [("manager PINs", load_manager_pins), ("closed demo shift", load_closed_shift)]
