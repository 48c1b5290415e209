"""Goods shipped their Sentra's `online_release_days` ago that staff never marked delivered: the nightly job makes
the makers' held online earnings payable anyway, once."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from core.extensions import db
from payouts.models import Component, LedgerEntry
from shop.models import FulfilmentStatus
from tests.factories import UserFactory
from tests.factories.shop import ShopProductFactory
from tests.shop.helpers import fresh, pay, place_order


def _held(sale_id: int) -> list:
    return list(db.session.scalars(sa.select(LedgerEntry.available_at).where(
        LedgerEntry.sale_id == sale_id, LedgerEntry.component == Component.MAKER)))


def test_makers_are_paid_for_goods_shipped_long_ago_that_nobody_marked_delivered(client, csrf, login_as, app,
                                                                                 stripe_local):
    from shop.services import release_unconfirmed_deliveries

    product = ShopProductFactory(stock=1, price=90_000)
    order = place_order(client, csrf, [(product, 1)], delivery="delivery", address="Jl. Pemuda 10, Magelang 56111")
    pay(client, csrf, order)
    fulfilment = fresh(order).fulfilments[0]
    login_as(UserFactory(sentras=[product.sentra]))
    client.post(f"/staf/pesanan/{fulfilment.id}/kirim", data={"csrf_token": csrf(), "tracking_number": "JNE1"})
    fulfilment = fresh(fulfilment)
    assert fulfilment.status == FulfilmentStatus.SHIPPED and _held(fulfilment.sale_id) == [None]
    shipped = fulfilment.shipped_at
    days = fulfilment.sentra.online_release_days
    assert days == 14  # the default
    assert release_unconfirmed_deliveries(shipped + timedelta(days=days - 1)) == 0
    assert _held(fulfilment.sale_id) == [None]  # not yet: staff may still mark it
    due = shipped + timedelta(days=days, minutes=1)
    assert release_unconfirmed_deliveries(due) == 1
    assert _held(fulfilment.sale_id) == [due]
    assert release_unconfirmed_deliveries(due + timedelta(days=1)) == 0  # once
    assert fresh(fulfilment).status == FulfilmentStatus.SHIPPED
    stripe_local.gate.wait_for(fresh(order).paid_intent_id, "payment_intent.succeeded")


def test_each_sentra_sets_its_own_number_of_days(client, csrf, login_as, stripe_local):
    from shop.services import release_unconfirmed_deliveries

    product = ShopProductFactory(stock=1, price=90_000, sentra__online_release_days=3)
    order = place_order(client, csrf, [(product, 1)], delivery="delivery", address="Jl. Pemuda 10, Magelang 56111")
    pay(client, csrf, order)
    fulfilment = fresh(order).fulfilments[0]
    login_as(UserFactory(sentras=[product.sentra]))
    client.post(f"/staf/pesanan/{fulfilment.id}/kirim", data={"csrf_token": csrf(), "tracking_number": "JNE3"})
    shipped = fresh(fulfilment).shipped_at
    assert release_unconfirmed_deliveries(shipped + timedelta(days=2)) == 0
    assert release_unconfirmed_deliveries(shipped + timedelta(days=3, minutes=1)) == 1
    stripe_local.gate.wait_for(fresh(order).paid_intent_id, "payment_intent.succeeded")
