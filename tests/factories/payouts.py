"""Helpers for payout and report tests: real sales and refunds through `record_sale`/`refund_sale`."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from accounts.models import Role
from core.extensions import db
from inventory.models import Product, SplitMode
from sales.models import Channel, PaymentMethod, Sale
from sales.services import LineRequest, PaymentRequest, record_sale, refund_sale
from tests.factories import (
    MakerFactory,
    MakerGroupFactory,
    MakerGroupMemberFactory,
    ProductFactory,
    SentraFactory,
    UserFactory,
)
from tests.factories.sales import ShiftFactory, stock_in


def key() -> str:
    return str(uuid.uuid4())


@dataclass
class Shop:
    sentra: object
    kasir: object
    manager: object
    manager2: object
    shift: object


def shop(code: str = "TMG", hold_days: int = 0, **sentra_kw) -> Shop:
    """A Sentra with a kasir on an open shift and two managers (creator and approver of payouts)."""
    sentra = SentraFactory(code=code, hold_days=hold_days, **sentra_kw)
    kasir = UserFactory(role=Role.KASIR, sentras=[sentra], name=f"Kasir {code}")
    manager = UserFactory(role=Role.MANAGER, sentras=[sentra], name=f"Manajer {code}")
    manager2 = UserFactory(role=Role.MANAGER, sentras=[sentra], name=f"Manajer Dua {code}")
    shift = ShiftFactory(sentra=sentra, cashier=kasir)
    return Shop(sentra, kasir, manager, manager2, shift)


def product(sentra, *, maker=None, group=None, price: int = 150_000, bps: int = 8_000, mode=SplitMode.PERCENT,
            maker_price: int = 0, material: int = 0, stock: int = 1_000, **kw) -> Product:
    if maker is None and group is None:
        maker = MakerFactory(sentra=sentra)
    item = ProductFactory(sentra=sentra, maker=maker, group=group, price=price, maker_share_bps=bps,
                          split_mode=mode, maker_price=maker_price, material_cost=material, **kw)
    if stock:
        stock_in(item, stock)
    return item


def group(sentra, weights: list[int], makers=None):
    kube = MakerGroupFactory(sentra=sentra)
    makers = makers or [MakerFactory(sentra=sentra) for _ in weights]
    for maker, weight in zip(makers, weights, strict=True):
        MakerGroupMemberFactory(group=kube, maker=maker, share_weight=weight)
    return kube, makers


def sell(s: Shop, items: list[tuple[Product, int] | tuple[Product, int, int]], *, channel=Channel.POS,
         method=PaymentMethod.QRIS, commit: bool = True) -> Sale:
    """Sell (product, qty[, discount]) items; paid exactly by QRIS (no cash rounding) by default."""
    lines = [LineRequest(p.id, q, *(rest or ())) for p, q, *rest in items]
    total = sum(p.price * q - (rest[0] if rest else 0) for p, q, *rest in items)
    if method == PaymentMethod.CASH:
        payments = [PaymentRequest(method, total, tendered=total)]
    else:
        payments = [PaymentRequest(method, total, reference=f"REF-{key()[:8]}")]
    sale = record_sale(s.kasir if channel == Channel.POS else None, s.sentra, channel=channel, lines=lines,
                       payments=payments, client_key=key(), shift=s.shift if channel == Channel.POS else None,
                       discount_approver=s.manager)
    if commit:
        db.session.commit()
    return sale


def refund(s: Shop, sale: Sale, lines: list[tuple[int, int]], commit: bool = True):
    result = refund_sale(s.kasir, sale, lines=lines, method=PaymentMethod.QRIS, reason="Cacat jahitan",
                         client_key=key(), approver=s.manager, restock=True, reference="RF")
    if commit:
        db.session.commit()
    return result
