"""Cancelling an order cancels its PaymentIntents at Stripe first: an intent Stripe says is already
paid books the order instead; a cancel Stripe refuses or cannot take leaves the order as it was
and alerts staff. Declined intents are cancelled at once."""

from __future__ import annotations

import uuid
from datetime import timedelta

import sqlalchemy as sa

from core.alerts import StaffAlert
from core.db import utcnow
from core.extensions import db
from inventory.stock import stock_level
from sales.models import Sale
from shop.checkout import expire_reservations, release, start_attempt
from shop.models import FulfilmentStatus, OrderStatus
from shop.stripe_gateway import StripeGateway
from tests.factories import UserFactory
from tests.factories.shop import ShopProductFactory
from tests.shop.helpers import fresh, pay, place_order


def order_with_intent(client, csrf, stripe_local, method="3ds", status=None):
    """A pending order holding its piece, with a real intent at localstripe (3-D Secure: open)."""
    product = ShopProductFactory(price=75_000, stock=1)
    order = place_order(client, csrf, [(product, 1)])
    attempt, _ = start_attempt(order, str(uuid.uuid4()), method)
    db.session.commit()
    result = stripe_local.pay(order_id=order.id, order_number=order.number, amount=order.total,
                              payment_method=method, idempotency_key=attempt.idempotency_key)
    attempt.payment_intent_id = result.intent_id
    attempt.status = status or result.status
    db.session.commit()
    return product, fresh(order), result.intent_id


def staff_cancel(client, csrf, order):
    response = client.post(f"/staf/pesanan/{order.fulfilments[0].id}/batal",
                           data={"csrf_token": csrf(), "reason": "Pembeli minta batal"})
    return client.get(response.headers["Location"]).get_data(as_text=True)


def intent_status(stripe_local, intent_id):
    return stripe_local.client.v1.payment_intents.retrieve(intent_id).status


def test_staff_cancel_cancels_the_open_intent_at_stripe_before_the_order(client, csrf, login_as, stripe_local):
    product, order, intent_id = order_with_intent(client, csrf, stripe_local)
    assert intent_status(stripe_local, intent_id) == "requires_action"
    login_as(UserFactory(sentras=[product.sentra]))

    page = staff_cancel(client, csrf, order)

    assert "Pesanan dibatalkan" in page
    assert intent_status(stripe_local, intent_id) == "canceled"
    order = fresh(order)
    assert order.status == OrderStatus.CANCELLED and order.attempts[0].status == "canceled"
    assert stock_level(product.id, product.sentra_id) == 1


def test_staff_cancel_of_an_order_paid_meanwhile_books_it_instead(client, csrf, login_as, stripe_local):
    """The buyer passed 3-D Secure and Stripe charged, but neither the return nor the webhook has
    arrived yet: Stripe refuses the cancel, the order is booked. (A payment we know is still in
    flight, "created" or "processing", is not cancelled at all: test_staff_orders.)"""
    product, order, intent_id = order_with_intent(client, csrf, stripe_local, method="pm_card_visa",
                                                  status="requires_action")
    stripe_local.gate.allowed.discard(intent_id)
    login_as(UserFactory(sentras=[product.sentra]))

    page = staff_cancel(client, csrf, order)

    assert "Pesanan tidak dibatalkan: pembeli sudah membayar" in page
    order = fresh(order)
    assert order.status == OrderStatus.PAID and order.paid_intent_id == intent_id
    assert order.fulfilments[0].status == FulfilmentStatus.PAID
    assert db.session.scalar(sa.select(sa.func.count(Sale.id))) == 1
    assert intent_status(stripe_local, intent_id) == "succeeded"


def test_a_cancel_stripe_cannot_take_leaves_the_order_and_alerts_staff(client, csrf, app, login_as, stripe_local):
    product, order, intent_id = order_with_intent(client, csrf, stripe_local)
    login_as(UserFactory(sentras=[product.sentra]))
    app.extensions["stripe_gateway"] = StripeGateway("sk_test_x", "whsec_x", api_base="http://127.0.0.1:9")

    page = staff_cancel(client, csrf, order)

    assert "tidak dapat dihubungi" in page
    order = fresh(order)
    assert order.status == OrderStatus.PENDING and order.stock_held
    assert stock_level(product.id, product.sentra_id) == 0
    alert = db.session.scalar(sa.select(StaffAlert))
    assert (alert.kind, alert.sentra_id) == ("payment.cancel_failed", product.sentra_id)
    assert intent_id in alert.message and order.number in alert.message
    app.extensions["stripe_gateway"] = stripe_local
    assert intent_status(stripe_local, intent_id) == "requires_action"


def test_the_48_hour_cancel_cancels_open_intents_and_books_one_found_paid(client, csrf, stripe_local):
    _p1, open_order, open_intent = order_with_intent(client, csrf, stripe_local, status="error")
    _p2, paid_order, paid_intent = order_with_intent(client, csrf, stripe_local, method="pm_card_visa",
                                                     status="error")
    stripe_local.gate.allowed.discard(paid_intent)
    for order in (open_order, paid_order):
        release(order, "the hold lapsed long ago")
    db.session.commit()

    expire_reservations(utcnow() + timedelta(hours=49), gateway=stripe_local)
    db.session.commit()

    assert intent_status(stripe_local, open_intent) == "canceled"
    assert fresh(open_order).status == OrderStatus.CANCELLED
    assert fresh(paid_order).status == OrderStatus.PAID


def test_the_48_hour_cancel_keeps_the_order_and_alerts_when_stripe_is_down(client, csrf, stripe_local):
    _product, order, _intent_id = order_with_intent(client, csrf, stripe_local, status="error")
    release(order, "the hold lapsed long ago")
    db.session.commit()
    down = StripeGateway("sk_test_x", "whsec_x", api_base="http://127.0.0.1:9")

    for _run in range(2):  # cron runs again: still one alert
        expire_reservations(utcnow() + timedelta(hours=49), gateway=down)
        db.session.commit()

    assert fresh(order).status == OrderStatus.PENDING
    assert db.session.scalars(sa.select(StaffAlert.kind)).all() == ["payment.cancel_failed"]


def test_a_declined_intent_is_cancelled_at_stripe(client, csrf, stripe_local):
    order = place_order(client, csrf, [(ShopProductFactory(price=120_000, stock=1), 1)])
    pay(client, csrf, order, method="pm_card_chargeCustomerFail")
    attempt = fresh(order).attempts[0]
    assert attempt.status == "declined" and attempt.payment_intent_id
    assert intent_status(stripe_local, attempt.payment_intent_id) == "canceled"


def test_staff_cancel_of_an_intent_stripe_does_not_know_is_a_clear_refusal_not_a_500(client, csrf, login_as,
                                                                                    stripe_local):
    product, order, _intent_id = order_with_intent(client, csrf, stripe_local)
    order.attempts[0].payment_intent_id = "pi_unknown_at_stripe"
    db.session.commit()
    login_as(UserFactory(sentras=[product.sentra]))

    response = client.post(f"/staf/pesanan/{order.fulfilments[0].id}/batal",
                           data={"csrf_token": csrf(), "reason": "Pembeli minta batal"})

    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "pi_unknown_at_stripe" in page and "Stripe" in page
    assert fresh(order).status == OrderStatus.PENDING
    assert db.session.scalar(sa.select(StaffAlert.kind)) == "payment.cancel_failed"


def abandoned_order_with_intent(client, csrf, stripe_local):
    """An unpaid order from two days ago, nothing held, with an intent still open at localstripe."""
    _product, order, intent_id = order_with_intent(client, csrf, stripe_local, status="error")
    release(order, "the hold lapsed long ago")
    order.created_at = utcnow() - timedelta(hours=49)
    db.session.commit()
    return fresh(order), intent_id


def test_expire_reservations_goes_on_past_an_intent_stripe_does_not_know(client, csrf, runner, stripe_local):
    unknown, _ = abandoned_order_with_intent(client, csrf, stripe_local)
    unknown.attempts[0].payment_intent_id = "pi_unknown_at_stripe"
    db.session.commit()
    good, good_intent = abandoned_order_with_intent(client, csrf, stripe_local)

    result = runner.invoke(args=["shop", "expire-reservations"])

    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert fresh(good).status == OrderStatus.CANCELLED
    assert intent_status(stripe_local, good_intent) == "canceled"
    assert fresh(unknown).status == OrderStatus.PENDING
    alert = db.session.scalar(sa.select(StaffAlert))
    assert alert.kind == "payment.cancel_failed" and "pi_unknown_at_stripe" in alert.message


def test_expire_reservations_commits_each_order_so_one_failure_keeps_the_others(client, csrf, app, runner,
                                                                                 stripe_local):
    """The first order's intent is cancelled at Stripe: that must stay on record even when a later
    order fails in a way nobody foresaw."""
    good, good_intent = abandoned_order_with_intent(client, csrf, stripe_local)
    broken, broken_intent = abandoned_order_with_intent(client, csrf, stripe_local)
    real_cancel = stripe_local.cancel

    def cancel(intent_id):
        if intent_id == broken_intent:
            raise RuntimeError("unforeseen")
        return real_cancel(intent_id)

    stripe_local.cancel = cancel
    result = runner.invoke(args=["shop", "expire-reservations"])

    assert result.exit_code == 0, result.output
    assert intent_status(stripe_local, good_intent) == "canceled"
    assert fresh(good).status == OrderStatus.CANCELLED
    assert fresh(broken).status == OrderStatus.PENDING
