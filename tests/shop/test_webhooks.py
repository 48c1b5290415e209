"""Webhooks: verified, processed once by event id, never moving an order backwards."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
import urllib.request
import uuid

import pytest
import sqlalchemy as sa

from core.extensions import db
from inventory.stock import stock_level
from sales.models import Sale
from shop.checkout import start_attempt
from shop.models import OrderStatus, PaymentAttempt, WebhookEvent
from shop.stripe_gateway import PaymentUnavailable
from tests.factories.shop import ShopProductFactory
from tests.shop.helpers import fresh, place_order


def signed(secret: str, event: dict, timestamp: int | None = None) -> tuple[bytes, str]:
    body = json.dumps(event).encode()
    timestamp = timestamp if timestamp is not None else int(time.time())
    signature = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return body, f"t={timestamp},v1={signature}"


def intent_event(order, intent_id: str, kind: str = "payment_intent.succeeded", amount: int | None = None,
                 currency: str = "idr", event_id: str | None = None) -> dict:
    return {
        "id": event_id or f"evt_{uuid.uuid4().hex[:16]}", "object": "event", "type": kind,
        "data": {"object": {
            "id": intent_id, "object": "payment_intent",
            "amount": (order.total if amount is None else amount) * 100, "currency": currency,
            "status": "succeeded" if kind.endswith("succeeded") else "requires_payment_method",
            "metadata": {"order_id": str(order.id), "order_number": order.number},
        }},
    }


def post_event(client, app, event, timestamp=None, secret=None):
    body, header = signed(secret or app.config["STRIPE_WEBHOOK_SECRET"], event, timestamp)
    return client.post("/stripe/webhook", data=body, headers={"Stripe-Signature": header},
                       content_type="application/json")


def pending_order_with_attempt(client, csrf, stock=2, quantity=1, intent_id="pi_test_1"):
    product = ShopProductFactory(price=80_000, stock=stock)
    order = place_order(client, csrf, [(product, quantity)])
    attempt, _new = start_attempt(order, str(uuid.uuid4()), "pm_card_visa")
    attempt.payment_intent_id = intent_id
    attempt.status = "processing"
    db.session.commit()
    return product, fresh(order)


def test_the_same_webhook_three_times_fulfils_once(client, csrf, app):
    product, order = pending_order_with_attempt(client, csrf)
    event = intent_event(order, "pi_test_1")
    outcomes = [post_event(client, app, event).get_json()["outcome"] for _ in range(3)]
    assert outcomes == ["fulfilled", "duplicate", "duplicate"]
    assert fresh(order).status == OrderStatus.PAID
    assert db.session.scalar(sa.select(sa.func.count(Sale.id))) == 1
    assert db.session.scalar(sa.select(sa.func.count(WebhookEvent.id))) == 1
    assert stock_level(product.id, product.sentra_id) == 1


def test_a_second_event_for_a_paid_order_is_recorded_and_changes_nothing(client, csrf, app):
    _product, order = pending_order_with_attempt(client, csrf)
    assert post_event(client, app, intent_event(order, "pi_test_1")).get_json()["outcome"] == "fulfilled"
    assert post_event(client, app, intent_event(order, "pi_test_1")).get_json()["outcome"] == "already_paid"
    assert db.session.scalar(sa.select(sa.func.count(Sale.id))) == 1


def test_payment_failed_after_succeeded_changes_nothing(client, csrf, app):
    product, order = pending_order_with_attempt(client, csrf)
    post_event(client, app, intent_event(order, "pi_test_1"))
    response = post_event(client, app, intent_event(order, "pi_test_1", kind="payment_intent.payment_failed"))
    assert response.get_json()["outcome"] == "ignored_not_pending"
    order = fresh(order)
    assert order.status == OrderStatus.PAID and order.attempts[0].status == "succeeded"
    assert stock_level(product.id, product.sentra_id) == 1


def test_a_late_failure_of_an_old_attempt_does_not_release_the_new_attempts_hold(client, csrf, app):
    product, order = pending_order_with_attempt(client, csrf, stock=1)
    # The first attempt failed synchronously; the buyer pressed Bayar again (a new hold).
    first = order.attempts[0]
    first.status = "declined"
    db.session.commit()
    second, _ = start_attempt(fresh(order), str(uuid.uuid4()), "pm_card_visa")
    second.payment_intent_id, second.status = "pi_test_2", "processing"
    db.session.commit()
    response = post_event(client, app, intent_event(order, "pi_test_1", kind="payment_intent.payment_failed"))
    assert response.get_json()["outcome"] == "recorded"
    assert fresh(order).stock_held and stock_level(product.id, product.sentra_id) == 0
    # ...and the new attempt's success still fulfils.
    assert post_event(client, app, intent_event(order, "pi_test_2")).get_json()["outcome"] == "fulfilled"


def test_success_arriving_before_the_failure_of_the_same_attempt_wins(client, csrf, app):
    _product, order = pending_order_with_attempt(client, csrf)
    events = [intent_event(order, "pi_test_1"), intent_event(order, "pi_test_1", "payment_intent.payment_failed")]
    for event in events:
        post_event(client, app, event)
    assert fresh(order).status == OrderStatus.PAID


@pytest.mark.parametrize("tamper", ["signature", "secret", "old", "missing", "body"])
def test_forged_or_stale_webhooks_are_refused_and_change_nothing(client, csrf, app, tamper):
    _product, order = pending_order_with_attempt(client, csrf)
    event = intent_event(order, "pi_test_1")
    timestamp = int(time.time()) - 301 if tamper == "old" else None
    body, header = signed("whsec_attacker" if tamper == "secret" else app.config["STRIPE_WEBHOOK_SECRET"], event,
                          timestamp)
    headers = {"Stripe-Signature": header}
    if tamper == "signature":
        headers["Stripe-Signature"] = header[:-4] + "0000"
    elif tamper == "missing":
        headers = {}
    elif tamper == "body":
        body = body.replace(b'"amount": 8000000', b'"amount": 100')
    response = client.post("/stripe/webhook", data=body, headers=headers, content_type="application/json")
    assert response.status_code == 400
    assert fresh(order).status == OrderStatus.PENDING
    assert db.session.scalar(sa.select(sa.func.count(WebhookEvent.id))) == 0
    assert db.session.scalar(sa.select(sa.func.count(Sale.id))) == 0


def test_amount_or_currency_mismatch_does_not_fulfil(client, csrf, app):
    _product, order = pending_order_with_attempt(client, csrf)
    assert post_event(client, app, intent_event(order, "pi_test_1", amount=1_000)).get_json()["outcome"] == \
        "amount_mismatch"
    assert post_event(client, app, intent_event(order, "pi_test_1", currency="usd")).get_json()["outcome"] == \
        "amount_mismatch"
    assert fresh(order).status == OrderStatus.PENDING
    assert db.session.scalar(sa.select(sa.func.count(Sale.id))) == 0


def test_an_event_for_an_unknown_order_is_recorded_and_ignored(client, app):
    class Ghost:
        id, total, number = 999, 10_000, "WEB-00000000-00999"

    response = post_event(client, app, intent_event(Ghost, "pi_ghost"))
    assert response.status_code == 200 and response.get_json()["outcome"] == "unknown_order"
    event = db.session.scalar(sa.select(WebhookEvent))
    assert event.outcome == "unknown_order" and event.order_id is None
    response = post_event(client, app, {"id": "evt_other", "type": "customer.created",
                                        "data": {"object": {"id": "cus_1", "object": "customer"}}})
    assert response.get_json()["outcome"] == "ignored"


def test_paid_after_the_hold_expired_takes_the_stock_again(client, csrf, app):
    from shop.checkout import expire_reservations

    product, order = pending_order_with_attempt(client, csrf, stock=1)
    from datetime import timedelta

    from core.db import utcnow

    assert expire_reservations(utcnow() + timedelta(hours=1)) == 1
    db.session.commit()
    assert stock_level(product.id, product.sentra_id) == 1
    assert post_event(client, app, intent_event(order, "pi_test_1")).get_json()["outcome"] == "fulfilled"
    assert stock_level(product.id, product.sentra_id) == 0


def test_concurrent_deliveries_of_one_event_fulfil_once(client, csrf, app, shop_server, webhook_gate):
    _product, order = pending_order_with_attempt(client, csrf, intent_id="pi_test_conc")
    webhook_gate.allowed.add("pi_test_conc")
    body, header = signed(app.config["STRIPE_WEBHOOK_SECRET"], intent_event(order, "pi_test_conc"))
    db.session.commit()
    statuses = []

    def deliver():
        request = urllib.request.Request(f"{shop_server}/stripe/webhook", data=body, headers={
            "Stripe-Signature": header, "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            statuses.append((response.status, json.loads(response.read())["outcome"]))

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    webhook_gate.reset()
    assert sorted(s for s, _ in statuses) == [200] * 4
    assert sorted(o for _, o in statuses) == ["duplicate"] * 3 + ["fulfilled"]
    assert db.session.scalar(sa.select(sa.func.count(Sale.id))) == 1


def test_a_lost_answer_is_fulfilled_by_localstripes_webhook(client, csrf, app, stripe_local):
    """Stripe charged but our call's answer was lost: the signed webhook alone fulfils the order."""
    product = ShopProductFactory(price=65_000, stock=2)
    order = place_order(client, csrf, [(product, 1)])
    real_pay = stripe_local.pay
    charged = {}

    def pay_then_lose_answer(**kwargs):
        charged["result"] = real_pay(**kwargs)
        raise PaymentUnavailable("Layanan pembayaran sedang tidak dapat dihubungi.")

    stripe_local.pay = pay_then_lose_answer
    client.post(f"/pesanan/{order.token}/bayar", data={"csrf_token": csrf(), "attempt_key": str(uuid.uuid4()),
                                                      "payment_method": "pm_card_visa"})
    assert fresh(order).status == OrderStatus.PENDING
    intent_id = charged["result"].intent_id
    assert stripe_local.gate.wait_for(intent_id, "payment_intent.succeeded") == 200
    order = fresh(order)
    assert order.status == OrderStatus.PAID and order.paid_intent_id == intent_id
    assert db.session.scalar(sa.select(WebhookEvent.outcome)) == "fulfilled"
    assert db.session.scalar(sa.select(sa.func.count(Sale.id))) == 1
    assert db.session.scalar(sa.select(sa.func.count(PaymentAttempt.id))) == 2  # ours (error) + webhook's


def test_paid_after_the_goods_went_elsewhere_cancels_and_refunds_in_full(client, csrf, app, stripe_local):
    """The hold lapsed, the last piece sold at the counter, then the buyer's payment succeeded."""
    from datetime import timedelta

    from core.db import utcnow
    from inventory.models import MovementKind
    from inventory.stock import move_stock
    from shop.checkout import expire_reservations

    product = ShopProductFactory(price=70_000, stock=1)
    order = place_order(client, csrf, [(product, 1)])
    attempt, _ = start_attempt(order, str(uuid.uuid4()), "pm_card_visa")
    db.session.commit()
    result = stripe_local.pay(order_id=order.id, order_number=order.number, amount=order.total,
                              payment_method="pm_card_visa", idempotency_key=attempt.idempotency_key)
    stripe_local.gate.allowed.discard(result.intent_id)  # we deliver the event ourselves, after the sale
    attempt.payment_intent_id, attempt.status = result.intent_id, "processing"
    expire_reservations(utcnow() + timedelta(hours=1))
    move_stock(None, product, product.sentra_id, MovementKind.SALE, 1, reference="counter")
    db.session.commit()

    response = post_event(client, app, intent_event(order, result.intent_id))
    assert response.get_json()["outcome"] == "unfulfillable_refund"
    order = fresh(order)
    assert order.status == OrderStatus.CANCELLED and "dikembalikan penuh" in order.cancel_reason
    refunds = stripe_local.client.v1.refunds.list(params={"payment_intent": result.intent_id})
    assert [r.amount for r in refunds.data] == [7_000_000]
    assert db.session.scalar(sa.select(sa.func.count(Sale.id))) == 0
    assert stock_level(product.id, product.sentra_id) == 0
