"""Factories for the shop: published products with stock, consents, buyers."""

from __future__ import annotations

import itertools

import factory

from accounts.models import Role
from core.extensions import db
from inventory.models import MovementKind, ProductKind
from inventory.stock import move_stock
from makers.models import Consent, ConsentGiver, ConsentPurpose
from tests.factories import BaseFactory, MakerFactory, ProductFactory, SentraFactory, UserFactory


class ShopProductFactory(ProductFactory):
    """A published product; `stock=N` takes N pieces in (intake movement)."""

    is_published = True

    @factory.post_generation
    def stock(self, create, extracted, **kwargs):
        if create and extracted:
            move_stock(None, self, self.sentra_id, MovementKind.INTAKE, extracted, reference="test-intake")


class TicketFactory(ShopProductFactory):
    kind = ProductKind.SERVICE
    name = factory.Sequence(lambda n: f"Tiket Kolam Pemancingan {n}")
    category = "Wisata"
    price = 25_000
    daily_capacity = 5


class ConsentFactory(BaseFactory):
    class Meta:
        model = Consent

    maker = factory.SubFactory(MakerFactory)
    purpose = ConsentPurpose.SHOP_NAME
    given_by = ConsentGiver.MAKER
    given_by_name = factory.SelfAttribute("maker.name")
    recorded_by_id = factory.LazyFunction(lambda: UserFactory(role=Role.ADMIN).id)


def consent_all(maker, purposes=(ConsentPurpose.SHOP_NAME, ConsentPurpose.SHOP_STORY, ConsentPurpose.SHOP_PHOTO)):
    admin = UserFactory(role=Role.ADMIN)
    for purpose in purposes:
        db.session.add(Consent(maker=maker, purpose=purpose, given_by=ConsentGiver.MAKER, given_by_name=maker.name,
                               recorded_by_id=admin.id))
    db.session.commit()


__all__ = ["ConsentFactory", "SentraFactory", "ShopProductFactory", "TicketFactory", "consent_all"]


_ORDER_CLOCK = itertools.count()


def paid_fulfilment(product, *, buyer_name: str = "Sari Pembeli", buyer_phone: str = "081234567890", quantity=1):
    """A paid pickup order of `quantity` × `product`, as the queue sees it (no Stripe, no sale): for
    tests of staff lists, not of money."""
    import secrets
    import uuid
    from datetime import timedelta

    from core.db import utcnow
    from shop.models import DeliveryMethod, Fulfilment, FulfilmentStatus, Order, OrderLine, OrderStatus

    total = product.price * quantity
    created = utcnow() - timedelta(days=1) + timedelta(seconds=next(_ORDER_CLOCK))  # distinct, in creation order
    order = Order(number=f"WEB-T-{uuid.uuid4().hex[:10].upper()}", token=secrets.token_urlsafe(32),
                  status=OrderStatus.PAID, buyer_name=buyer_name, buyer_phone=buyer_phone,
                  buyer_email="sari@contoh.co.id", delivery=DeliveryMethod.PICKUP, subtotal=total, total=total,
                  created_at=created, paid_at=created)
    db.session.add(order)
    db.session.flush()
    fulfilment = Fulfilment(order_id=order.id, sentra_id=product.sentra_id, subtotal=total, shipping_fee=0,
                            total=total, status=FulfilmentStatus.PAID)
    fulfilment.lines = [OrderLine(product_id=product.id, product_name=product.name, sku=product.sku,
                                  is_stock_tracked=product.is_stock_tracked, unit_price=product.price,
                                  quantity=quantity, line_total=total)]
    db.session.add(fulfilment)
    db.session.flush()
    return fulfilment
