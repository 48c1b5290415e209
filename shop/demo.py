"""Demo data for the shop: flat delivery fees per Sentra and published goods (idempotent)."""

from __future__ import annotations

import sqlalchemy as sa

from core.extensions import db
from inventory.models import Product
from sentras.models import Sentra

#: flat delivery fee per demo Sentra (rupiah)
SHIPPING_FEES = {"TMG": 20_000, "BKS": 15_000, "JKT": 15_000, "MKS": 35_000}


def load_shipping_fees() -> int:
    changed = 0
    for sentra in db.session.scalars(sa.select(Sentra).where(Sentra.code.in_(SHIPPING_FEES))):
        if not sentra.shipping_fee:
            sentra.shipping_fee = SHIPPING_FEES[sentra.code]
            changed += 1
    db.session.flush()
    return changed


def load_published_products() -> int:
    """If nothing is published yet (first load), publish the active goods so the shop has something to sell.

    Runs on every `make run`: once anything is published, staff decisions to unpublish stand.
    """
    if db.session.scalar(sa.select(Product.id).where(Product.is_published.is_(True)).limit(1)) is not None:
        return 0
    products = db.session.scalars(sa.select(Product).where(Product.is_active.is_(True),
                                                           Product.is_published.is_(False))).all()
    for product in products:
        product.is_published = True
    db.session.flush()
    return len(products)


LOADERS = [("shop shipping fees", load_shipping_fees), ("shop published products", load_published_products)]
