"""Factories and helpers for sales and counter shifts."""

from __future__ import annotations

import uuid

import factory

from accounts.models import Role
from core.extensions import db
from inventory.models import MovementKind, ProductKind
from inventory.stock import move_stock
from pos.models import Shift, ShiftStatus
from tests.factories import BaseFactory, ProductFactory, SentraFactory, UserFactory


class ShiftFactory(BaseFactory):
    class Meta:
        model = Shift

    sentra = factory.SubFactory(SentraFactory)
    cashier = factory.SubFactory(UserFactory, role=Role.KASIR)
    status = ShiftStatus.OPEN
    opening_float = 200_000
    open_marker = 1


class TicketFactory(ProductFactory):
    name = factory.Sequence(lambda n: f"Tiket Kolam Pemancingan {n}")
    category = "Tiket"
    kind = ProductKind.SERVICE
    price = 25_000


def stock_in(product, qty: int, actor=None) -> None:
    """Put `qty` pieces of `product` on the shelf (an intake movement), committed."""
    move_stock(actor, product, product.sentra_id, MovementKind.INTAKE, qty, reference="test-intake",
               client_key=str(uuid.uuid4()))
    db.session.commit()


def counter_setup(*, stock: int = 10, price: int = 150_000):
    """A Sentra with a kasir on an open shift, a manager, one stocked product and one ticket."""
    sentra = SentraFactory(code="TMG")
    kasir = UserFactory(role=Role.KASIR, sentras=[sentra], name="Kasir Ani")
    manager = UserFactory(role=Role.MANAGER, sentras=[sentra], name="Manajer Budi")
    product = ProductFactory(sentra=sentra, price=price)
    ticket = TicketFactory(sentra=sentra, maker=product.maker)
    if stock:
        stock_in(product, stock)
    shift = ShiftFactory(sentra=sentra, cashier=kasir)
    return sentra, kasir, manager, product, ticket, shift
