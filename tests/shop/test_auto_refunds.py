"""Money that arrives where it must not stay is given back in full, once per PaymentIntent, and
staff are told: a payment for an order staff cancelled, a payment of the wrong amount."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from accounts.models import Role
from core.alerts import StaffAlert
from core.db import utcnow
from core.extensions import db
from sales.models import Sale
from shop.checkout import start_attempt
from shop.models import OrderStatus, PaymentRefund
from shop.stripe_gateway import PaymentUnavailable
from tests.factories import UserFactory
from tests.factories.shop import ShopProductFactory
from tests.shop.helpers import fresh, place_order
from tests.shop.test_webhooks import intent_event, post_event


def charged_order(client, csrf, stripe_local, *, amount_delta: int = 0):
    """An order with a real succeeded intent at localstripe whose webhook the test delivers itself."""
    product = ShopProductFactory(price=80_000, stock=2)
    order = place_order(client, csrf, [(product, 1)])
    attempt, _ = start_attempt(order, str(uuid.uuid4()), "pm_card_visa")
    db.session.commit()
    result = stripe_local.pay(order_id=order.id, order_number=order.number, amount=order.total + amount_delta,
                              payment_method="pm_card_visa", idempotency_key=attempt.idempotency_key)
    assert result.succeeded
    stripe_local.gate.allowed.discard(result.intent_id)  # localstripe's own delivery is dropped
    attempt.payment_intent_id, attempt.status = result.intent_id, "processing"
    db.session.commit()
    return product, fresh(order), result


def stripe_refunds(stripe_local, intent_id):
    return [r.amount for r in stripe_local.client.v1.refunds.list(params={"payment_intent": intent_id}).data]


def cancel_in_db(order):
    """Staff cancelled the order while the buyer's payment was on its way."""
    order.status = OrderStatus.CANCELLED
    order.cancel_reason = "Pembeli minta batal"
    db.session.commit()


def test_a_payment_for_a_cancelled_order_is_refunded_once_and_staff_are_alerted(
        client, csrf, app, stripe_local, login_as):
    product, order, result = charged_order(client, csrf, stripe_local)
    cancel_in_db(order)
    event = intent_event(order, result.intent_id)

    outcomes = [post_event(client, app, event).get_json()["outcome"] for _ in range(2)]

    assert outcomes == ["order_cancelled", "duplicate"]
    assert stripe_refunds(stripe_local, result.intent_id) == [8_000_000]  # Rp 80.000, once
    refund = db.session.scalar(sa.select(PaymentRefund))
    assert (refund.order_id, refund.kind, refund.amount, refund.status) == (order.id, "order_cancelled", 80_000,
                                                                             "succeeded")
    assert refund.stripe_refund_id.startswith("re_")
    alerts = db.session.scalars(sa.select(StaffAlert)).all()
    assert [(a.kind, a.sentra_id, a.entity_type, a.entity_id) for a in alerts] == [
        ("payment.refund_order_cancelled", product.sentra_id, "Order", str(order.id))]
    assert order.number in alerts[0].message and "Rp 80.000" in alerts[0].message
    assert fresh(order).status == OrderStatus.CANCELLED
    assert db.session.scalar(sa.select(sa.func.count(Sale.id))) == 0
    # The staff order page shows the refund.
    login_as(UserFactory(role=Role.MANAGER, sentras=[product.sentra]))
    page = client.get(f"/staf/pesanan/{order.fulfilments[0].id}").get_data(as_text=True)
    assert "Dikembalikan otomatis" in page and refund.stripe_refund_id in page


def test_a_payment_of_the_wrong_amount_is_refunded_in_full_and_the_order_stays_payable(
        client, csrf, app, stripe_local):
    _product, order, result = charged_order(client, csrf, stripe_local, amount_delta=-30_000)

    response = post_event(client, app, intent_event(order, result.intent_id, amount=order.total - 30_000))

    assert response.get_json()["outcome"] == "amount_mismatch"
    assert stripe_refunds(stripe_local, result.intent_id) == [5_000_000]  # everything that was charged
    refund = db.session.scalar(sa.select(PaymentRefund))
    assert (refund.kind, refund.amount, refund.status) == ("amount_mismatch", 50_000, "succeeded")
    assert db.session.scalar(sa.select(StaffAlert.kind)) == "payment.refund_amount_mismatch"
    assert fresh(order).status == OrderStatus.PENDING


def test_a_refund_whose_answer_was_lost_is_finished_by_the_redelivery_without_a_second_refund(
        client, csrf, app, stripe_local):
    _product, order, result = charged_order(client, csrf, stripe_local)
    cancel_in_db(order)
    event = intent_event(order, result.intent_id)
    real_refund = stripe_local.refund_intent

    def refund_then_lose_answer(**kwargs):
        real_refund(**kwargs)
        raise PaymentUnavailable("Layanan pembayaran sedang tidak dapat dihubungi.")

    stripe_local.refund_intent = refund_then_lose_answer
    assert post_event(client, app, event).get_json()["outcome"] == "order_cancelled"
    refund = db.session.scalar(sa.select(PaymentRefund))
    assert refund.status == "pending" and "tidak dapat dihubungi" in refund.message
    assert "payment.refund_failed" in db.session.scalars(sa.select(StaffAlert.kind)).all()

    stripe_local.refund_intent = real_refund
    assert post_event(client, app, event).get_json()["outcome"] == "duplicate"  # Stripe delivers again

    assert stripe_refunds(stripe_local, result.intent_id) == [8_000_000]
    refund = fresh(refund)
    assert refund.status == "succeeded" and refund.stripe_refund_id.startswith("re_")


def test_a_crash_after_recording_the_refund_is_finished_once_by_a_later_redelivery(client, csrf, app, stripe_local):
    from shop.webhooks import claim_refund, process_event

    _product, order, result = charged_order(client, csrf, stripe_local)
    cancel_in_db(order)
    event = intent_event(order, result.intent_id)
    # The first delivery recorded the event and its refund, claimed it, and died before Stripe answered.
    assert process_event(event) == "order_cancelled"
    db.session.commit()
    claim_refund(db.session.scalar(sa.select(PaymentRefund.id)))
    db.session.commit()

    post_event(client, app, event)  # a redelivery at once: the claim may still be running, leave it
    assert stripe_refunds(stripe_local, result.intent_id) == []

    refund = db.session.scalar(sa.select(PaymentRefund))
    refund.attempted_at = utcnow() - timedelta(minutes=5)
    db.session.commit()
    post_event(client, app, event)  # later: the claim is stale, this delivery finishes the refund
    post_event(client, app, event)

    assert stripe_refunds(stripe_local, result.intent_id) == [8_000_000]
    assert fresh(refund).status == "succeeded"


def refunds_down(stripe_local, only=None):
    """Stripe cannot be reached for refunds (of the intents in `only`, or all); returns the undo."""
    real_refund = stripe_local.refund_intent

    def down(**kwargs):
        if only is None or kwargs["intent_id"] in only:
            raise PaymentUnavailable("Layanan pembayaran sedang tidak dapat dihubungi.")
        return real_refund(**kwargs)

    stripe_local.refund_intent = down
    return lambda: setattr(stripe_local, "refund_intent", real_refund)


def answer(response):
    return response.status_code, response.get_json()["outcome"]


def test_the_webhook_answers_503_until_the_refund_is_sent_so_stripe_delivers_again(client, csrf, app, stripe_local):
    _product, order, result = charged_order(client, csrf, stripe_local)
    cancel_in_db(order)
    event = intent_event(order, result.intent_id)
    stripe_back = refunds_down(stripe_local)

    assert answer(post_event(client, app, event)) == (503, "order_cancelled")
    assert answer(post_event(client, app, event)) == (503, "duplicate")  # redelivered, Stripe still down
    assert stripe_refunds(stripe_local, result.intent_id) == []
    assert db.session.scalar(sa.select(PaymentRefund.status)) == "pending"

    stripe_back()
    assert answer(post_event(client, app, event)) == (200, "duplicate")
    assert answer(post_event(client, app, event)) == (200, "duplicate")
    assert stripe_refunds(stripe_local, result.intent_id) == [8_000_000]
    assert db.session.scalar(sa.select(PaymentRefund.status)) == "succeeded"


def test_a_redelivery_while_another_delivery_sends_the_refund_answers_503(client, csrf, app, stripe_local):
    from shop.webhooks import claim_refund, process_event

    _product, order, result = charged_order(client, csrf, stripe_local)
    cancel_in_db(order)
    event = intent_event(order, result.intent_id)
    assert process_event(event) == "order_cancelled"
    db.session.commit()
    claim_refund(db.session.scalar(sa.select(PaymentRefund.id)))  # the first delivery is sending it
    db.session.commit()

    assert answer(post_event(client, app, event)) == (503, "duplicate")
    assert stripe_refunds(stripe_local, result.intent_id) == []


def test_a_paid_order_that_cannot_be_booked_answers_503_until_its_refund_is_sent(client, csrf, app, stripe_local):
    """The cancel_after_failed_fulfilment path: the goods went elsewhere, the refund must go back."""
    from inventory.models import MovementKind
    from inventory.stock import move_stock
    from shop.checkout import expire_reservations

    product, order, result = charged_order(client, csrf, stripe_local)
    expire_reservations(utcnow() + timedelta(hours=1))
    move_stock(None, product, product.sentra_id, MovementKind.SALE, 2, reference="counter")
    db.session.commit()
    event = intent_event(order, result.intent_id)
    stripe_back = refunds_down(stripe_local)

    assert answer(post_event(client, app, event)) == (503, "unfulfillable_refund")
    assert fresh(order).status == OrderStatus.CANCELLED
    stripe_back()
    assert answer(post_event(client, app, event)) == (200, "duplicate")
    assert stripe_refunds(stripe_local, result.intent_id) == [8_000_000]


def pending_refund_for(client, csrf, stripe_local, *, age=timedelta(0)):
    """A cancelled order whose payment's refund was recorded (by its webhook) but not sent."""
    from shop.webhooks import process_event

    _product, order, result = charged_order(client, csrf, stripe_local)
    cancel_in_db(order)
    assert process_event(intent_event(order, result.intent_id)) == "order_cancelled"
    refund = db.session.scalar(sa.select(PaymentRefund).where(PaymentRefund.payment_intent_id == result.intent_id))
    refund.created_at = utcnow() - age
    db.session.commit()
    return refund, result.intent_id


def test_retry_pending_refunds_sends_each_due_refund_and_one_failure_keeps_the_others(client, csrf, stripe_local):
    from shop.refunds import retry_pending_refunds

    failing, failing_intent = pending_refund_for(client, csrf, stripe_local, age=timedelta(minutes=10))
    due, due_intent = pending_refund_for(client, csrf, stripe_local, age=timedelta(minutes=10))
    fresh_one, fresh_intent = pending_refund_for(client, csrf, stripe_local)  # its webhook is sending it now
    refunds_down(stripe_local, only={failing_intent})

    assert retry_pending_refunds() == 1

    assert stripe_refunds(stripe_local, due_intent) == [8_000_000]
    assert fresh(due).status == "succeeded"
    assert stripe_refunds(stripe_local, failing_intent) == [] and stripe_refunds(stripe_local, fresh_intent) == []
    failing = fresh(failing)
    assert failing.status == "pending" and failing.attempted_at is None and "tidak dapat dihubungi" in failing.message
    assert fresh(fresh_one).status == "pending"
    kinds = db.session.scalars(sa.select(StaffAlert.kind).where(StaffAlert.kind.like("payment.refund_%"))).all()
    assert "payment.refund_failed" in kinds and "payment.refund_stuck" not in kinds
    # A few minutes later the fresh one is due too; a refund already sent is never sent again.
    assert retry_pending_refunds(utcnow() + timedelta(minutes=5)) == 1
    assert stripe_refunds(stripe_local, fresh_intent) == [8_000_000]
    assert stripe_refunds(stripe_local, due_intent) == [8_000_000]


def test_a_refund_that_keeps_failing_raises_a_stuck_alert_once(client, csrf, stripe_local):
    from shop.refunds import retry_pending_refunds

    refund, intent_id = pending_refund_for(client, csrf, stripe_local, age=timedelta(hours=2))
    refunds_down(stripe_local)

    for _run in range(2):
        assert retry_pending_refunds() == 0

    stuck = db.session.scalars(sa.select(StaffAlert).where(StaffAlert.kind == "payment.refund_stuck")).all()
    assert len(stuck) == 1
    assert refund.order.number in stuck[0].message and intent_id in stuck[0].message
    assert fresh(refund).status == "pending"


def test_flask_shop_send_refunds_sends_the_pending_refunds(client, csrf, runner, stripe_local, caplog, run_jobs):
    caplog.set_level(logging.INFO)
    refund, intent_id = pending_refund_for(client, csrf, stripe_local, age=timedelta(minutes=10))

    result = runner.invoke(args=["shop", "send-refunds"])

    assert result.exit_code == 0, result.output
    assert "1 pengembalian dana dikirim" in result.output
    assert stripe_refunds(stripe_local, intent_id) == [8_000_000]
    assert fresh(refund).status == "succeeded"
    # The buyer's e-mail (with its link to the order page) is rendered outside a request too, and sent by its job.
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    run_jobs()
    assert any("dikembalikan" in r.getMessage() for r in caplog.records if r.name == "sentra.mail")


@pytest.mark.parametrize("case", ["order_cancelled", "amount_mismatch"])
def test_a_charge_the_order_cannot_take_tells_the_buyer_it_is_refunded_not_that_it_succeeded(
        client, csrf, stripe_local, case):
    """The buyer's own "Bayar": Stripe charged, but the order was cancelled meanwhile (staff, before
    this payment was on record) or the amount is not the order's. The money goes back at once."""
    from shop.models import Order
    from tests.shop.helpers import pay

    order = place_order(client, csrf, [(ShopProductFactory(price=80_000, stock=2), 1)])
    real_pay = stripe_local.pay
    charged = {"order_cancelled": 80_000, "amount_mismatch": 50_000}[case]

    def pay_meanwhile(**kwargs):
        if case == "order_cancelled":
            cancel_in_db(db.session.get_one(Order, order.id))
        return real_pay(**{**kwargs, "amount": charged})

    stripe_local.pay = pay_meanwhile
    response = pay(client, csrf, order)

    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Pembayaran berhasil" not in page
    assert "tidak dapat dipakai untuk pesanan ini" in page and "dikembalikan" in page
    intent_id = fresh(order).attempts[0].payment_intent_id
    assert stripe_refunds(stripe_local, intent_id) == [charged * 100]
    refund = db.session.scalar(sa.select(PaymentRefund))
    assert (refund.kind, refund.amount, refund.status) == (case, charged, "succeeded")
    # localstripe's webhook for the payment arrives afterwards: the same refund, not a second one.
    assert stripe_local.gate.wait_for(intent_id, "payment_intent.succeeded") == 200
    assert stripe_refunds(stripe_local, intent_id) == [charged * 100]
    assert fresh(order).status == (OrderStatus.CANCELLED if case == "order_cancelled" else OrderStatus.PENDING)


def test_a_second_payment_for_an_order_booked_meanwhile_is_refunded_and_the_buyer_told(client, csrf, stripe_local):
    """The first "Bayar" charged but its answer was lost; while the buyer paid again, the first
    payment's webhook booked the order. (localstripe ignores idempotency keys, so the second press
    is a second intent here, as another card would be on real Stripe.)"""
    from shop.models import Order
    from shop.webhooks import process_event
    from tests.shop.helpers import pay

    order = place_order(client, csrf, [(ShopProductFactory(price=80_000, stock=2), 1)])
    real_pay = stripe_local.pay
    first = {}

    def lose_then_book_meanwhile(**kwargs):
        if not first:
            first["result"] = real_pay(**kwargs)
            stripe_local.gate.allowed.discard(first["result"].intent_id)  # delivered below, by hand
            raise PaymentUnavailable("Layanan pembayaran sedang tidak dapat dihubungi.")
        event = intent_event(db.session.get_one(Order, order.id), first["result"].intent_id)
        assert process_event(event) == "fulfilled"
        db.session.commit()
        return real_pay(**kwargs)

    stripe_local.pay = lose_then_book_meanwhile
    pay(client, csrf, order)
    response = pay(client, csrf, order)

    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "sudah dibayar sebelumnya" in page and "Pembayaran berhasil" not in page
    order = fresh(order)
    second = next(a.payment_intent_id for a in order.attempts if a.message != "dari webhook" and a.payment_intent_id)
    assert order.status == OrderStatus.PAID and order.paid_intent_id == first["result"].intent_id != second
    assert stripe_refunds(stripe_local, second) == [8_000_000]
    assert stripe_refunds(stripe_local, order.paid_intent_id) == []
    assert stripe_local.gate.wait_for(second, "payment_intent.succeeded") == 200
    assert stripe_refunds(stripe_local, second) == [8_000_000]
