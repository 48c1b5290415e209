"""Factories for the shop: published products with stock, consents, buyers."""

from __future__ import annotations

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
