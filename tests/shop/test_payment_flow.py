"""Paying orders end to end against a real localstripe: card, 3-D Secure, decline then success."""

from __future__ import annotations

import sqlalchemy as sa

from core.extensions import db
from inventory.models import MovementKind, StockMovement
from inventory.stock import movements_sum, stock_level
from sales.models import Channel, Payment, PaymentMethod, Sale
from shop.models import FulfilmentStatus, OrderStatus, WebhookEvent
from shop.stripe_gateway import PaymentUnavailable
from tests.factories import SentraFactory
from tests.factories.shop import ShopProductFactory
from tests.shop.helpers import fresh, pay, place_order
from tests.shop.stripe_local import IdempotentHTTP, RecordingGateway


def test_guest_pays_by_card_and_each_sentra_gets_its_own_online_sale(client, csrf, stripe_local):
    tmg, bks = SentraFactory(code="TMG"), SentraFactory(code="BKS")
    batik = ShopProductFactory(sentra=tmg, price=150_000, stock=5)
    kopi = ShopProductFactory(sentra=bks, price=40_000, stock=3, name="Kopi Robusta")
    order = place_order(client, csrf, [(batik, 2), (kopi, 1)])
    assert order.total == 340_000 and len(order.fulfilments) == 2

    response = pay(client, csrf, order)
    assert response.status_code == 302
    order = fresh(order)
    assert order.status == OrderStatus.PAID
    assert {f.status for f in order.fulfilments} == {FulfilmentStatus.PAID}
    sales = db.session.scalars(sa.select(Sale).order_by(Sale.sentra_id)).all()
    assert [(s.channel, s.total) for s in sales] == [(Channel.ONLINE, 300_000), (Channel.ONLINE, 40_000)]
    payments = db.session.scalars(sa.select(Payment)).all()
    assert {p.method for p in payments} == {PaymentMethod.STRIPE}
    assert {p.reference for p in payments} == {order.paid_intent_id}
    assert stock_level(batik.id, tmg.id) == 3 == movements_sum(batik.id, tmg.id)
    assert stock_level(kopi.id, bks.id) == 2
    # The reservation became a sale: RESERVATION, RELEASE, SALE for each goods line.
    kinds = db.session.scalars(sa.select(StockMovement.kind).where(StockMovement.product_id == batik.id)
                               .order_by(StockMovement.id)).all()
    assert kinds == [MovementKind.INTAKE, MovementKind.RESERVATION, MovementKind.RELEASE, MovementKind.SALE]

    # localstripe's signed webhook arrives a moment later and changes nothing.
    assert stripe_local.gate.wait_for(order.paid_intent_id, "payment_intent.succeeded") == 200
    event = db.session.scalar(sa.select(WebhookEvent))
    assert event.outcome == "already_paid"
    assert db.session.scalar(sa.select(sa.func.count(Sale.id))) == 2

    page = client.get(f"/pesanan/{order.token}").get_data(as_text=True)
    assert "Dibayar" in page


def test_three_d_secure_requires_action_then_the_buyer_approves(client, csrf, stripe_local):
    product = ShopProductFactory(price=75_000, stock=2)
    order = place_order(client, csrf, [(product, 1)])
    response = pay(client, csrf, order, method="3ds")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/pesanan/{order.token}/3ds")
    order = fresh(order)
    assert order.status == OrderStatus.PENDING and order.stock_held
    assert order.attempts[-1].status == "requires_action"
    assert stock_level(product.id, product.sentra_id) == 1  # held while the bank asks

    page = client.get(f"/pesanan/{order.token}/3ds")
    assert page.status_code == 200 and "Setujui pembayaran" in page.get_data(as_text=True)
    response = client.post(f"/pesanan/{order.token}/3ds", data={"csrf_token": csrf(), "hasil": "setuju"})
    assert response.status_code == 302
    order = fresh(order)
    assert order.status == OrderStatus.PAID
    assert stripe_local.gate.wait_for(order.paid_intent_id, "payment_intent.succeeded") == 200
    assert db.session.scalar(sa.select(sa.func.count(Sale.id))) == 1


def test_three_d_secure_refused_releases_the_stock_and_the_order_stays_payable(client, csrf, stripe_local):
    product = ShopProductFactory(price=75_000, stock=1)
    order = place_order(client, csrf, [(product, 1)])
    pay(client, csrf, order, method="3ds")
    response = client.post(f"/pesanan/{order.token}/3ds", data={"csrf_token": csrf(), "hasil": "tolak"})
    assert response.status_code == 302
    order = fresh(order)
    assert order.status == OrderStatus.PENDING and not order.stock_held
    assert stock_level(product.id, product.sentra_id) == 1
    assert "3-D Secure" in client.get(f"/pesanan/{order.token}").get_data(as_text=True)


def test_declined_card_shows_a_clear_message_then_another_card_pays(client, csrf, stripe_local):
    product = ShopProductFactory(price=120_000, stock=1)
    order = place_order(client, csrf, [(product, 1)])

    response = pay(client, csrf, order, method="pm_card_chargeCustomerFail")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Kartu ditolak oleh bank penerbit" in page
    order = fresh(order)
    assert order.status == OrderStatus.PENDING and not order.stock_held
    assert stock_level(product.id, product.sentra_id) == 1  # a failed payment gives the piece back

    pay(client, csrf, order, method="pm_card_visa")
    order = fresh(order)
    assert order.status == OrderStatus.PAID
    assert stock_level(product.id, product.sentra_id) == 0
    assert [a.status for a in order.attempts] == ["declined", "succeeded"]
    assert stripe_local.gate.wait_for(order.paid_intent_id, "payment_intent.succeeded") == 200


def test_pressing_bayar_twice_with_the_same_form_charges_once(client, csrf, stripe_local):
    product = ShopProductFactory(price=50_000, stock=3)
    order = place_order(client, csrf, [(product, 1)])
    key = "8b0d5f52-4a38-4c39-9e0d-8f5c1c1b7a11"
    pay(client, csrf, order, attempt_key=key)
    pay(client, csrf, order, attempt_key=key)
    order = fresh(order)
    assert len(order.attempts) == 1 and order.status == OrderStatus.PAID
    assert stock_level(product.id, product.sentra_id) == 2
    stripe_local.gate.wait_for(order.paid_intent_id, "payment_intent.succeeded")


def test_stripe_unreachable_keeps_the_order_and_a_retry_pays(client, csrf, app, stripe_local):
    from shop.stripe_gateway import StripeGateway

    product = ShopProductFactory(price=50_000, stock=1)
    order = place_order(client, csrf, [(product, 1)])
    app.extensions["stripe_gateway"] = StripeGateway("sk_test_x", "whsec_x", api_base="http://127.0.0.1:9")
    response = pay(client, csrf, order)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "tidak dapat dihubungi" in page
    order = fresh(order)
    assert order.status == OrderStatus.PENDING and order.attempts[-1].status == "error"

    app.extensions["stripe_gateway"] = stripe_local
    pay(client, csrf, order)
    order = fresh(order)
    assert order.status == OrderStatus.PAID
    assert stock_level(product.id, product.sentra_id) == 0
    stripe_local.gate.wait_for(order.paid_intent_id, "payment_intent.succeeded")


def test_bayar_retried_after_a_lost_answer_sends_stripe_the_same_idempotency_key(client, csrf, app, stripe_local):
    """Order + amount + try number + payment method: the retry of a try whose answer was lost, with
    the same card, is the same intent at Stripe; a try Stripe answered (a decline) moves on to a new key."""
    order = place_order(client, csrf, [(ShopProductFactory(price=50_000, stock=1), 1)])
    real_pay = stripe_local.pay
    keys = []

    def pay_recording_key(**kwargs):
        keys.append(kwargs["idempotency_key"])
        if len(keys) == 1:
            raise PaymentUnavailable("Layanan pembayaran sedang tidak dapat dihubungi.")
        return real_pay(**kwargs)

    stripe_local.pay = pay_recording_key
    pay(client, csrf, order, method="pm_card_chargeCustomerFail")  # the answer is lost
    pay(client, csrf, order, method="pm_card_chargeCustomerFail")  # the retry, a new form: declined
    pay(client, csrf, order)  # and another card
    assert keys[0] == keys[1] and keys[0].startswith(f"order-{order.id}-rp50000-try1-")
    assert keys[2].startswith(f"order-{order.id}-rp50000-try2-")
    order = fresh(order)
    assert order.status == OrderStatus.PAID
    stripe_local.gate.wait_for(order.paid_intent_id, "payment_intent.succeeded")


def test_bayar_retried_with_another_card_after_a_lost_answer_pays(client, csrf, app, stripe_local, monkeypatch):
    """Real Stripe answers a key reused with other parameters with an IdempotencyError (localstripe
    does not enforce keys, so an HTTP client in front of it does): the retry with another card must
    get its own key and pay, not be shown as a declined card."""
    http = IdempotentHTTP()
    gateway = RecordingGateway(app.config["STRIPE_SECRET_KEY"], app.config["STRIPE_WEBHOOK_SECRET"],
                               api_base=stripe_local.api_base, gate=stripe_local.gate, http_client=http)
    monkeypatch.setitem(app.extensions, "stripe_gateway", gateway)
    order = place_order(client, csrf, [(ShopProductFactory(price=50_000, stock=1), 1)])

    http.lose_next_answer = True
    pay(client, csrf, order, method="pm_card_chargeCustomerFail")  # Stripe declined; we never heard
    assert [a.status for a in fresh(order).attempts] == ["error"]
    response = pay(client, csrf, order, method="pm_card_visa")  # the buyer tries another card

    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Pembayaran berhasil" in page
    order = fresh(order)
    assert order.status == OrderStatus.PAID
    assert [a.status for a in order.attempts] == ["error", "succeeded"]
    assert len(set(http.keys)) == 2
    gateway.gate.wait_for(order.paid_intent_id, "payment_intent.succeeded")


def test_bayar_again_while_3d_secure_waits_reuses_the_open_intent(client, csrf, stripe_local):
    order = place_order(client, csrf, [(ShopProductFactory(price=50_000, stock=1), 1)])
    first = pay(client, csrf, order, method="3ds")
    assert first.headers["Location"].endswith("/3ds")
    again = pay(client, csrf, order, method="3ds")  # a new form (the buyer went back and pressed again)
    assert again.headers["Location"].endswith("/3ds")
    order = fresh(order)
    assert len(order.attempts) == 1 and order.attempts[0].status == "requires_action"
    intents = stripe_local.client.v1.payment_intents.list().data
    assert [i.id for i in intents] == [order.attempts[0].payment_intent_id]


def test_the_return_from_3d_secure_for_an_intent_stripe_does_not_know_is_a_message_not_a_500(
        client, csrf, stripe_local):
    order = place_order(client, csrf, [(ShopProductFactory(price=50_000, stock=1), 1)])
    pay(client, csrf, order, method="3ds")
    attempt = fresh(order).attempts[0]
    attempt.payment_intent_id = "pi_unknown_at_stripe"
    db.session.commit()

    for url in (f"/pesanan/{order.token}/kembali", f"/pesanan/{order.token}/3ds"):
        response = client.get(url)
        assert response.status_code == 302, url
        page = client.get(response.headers["Location"]).get_data(as_text=True)
        assert "pi_unknown_at_stripe" in page
    assert fresh(order).attempts[0].status == "requires_action"
