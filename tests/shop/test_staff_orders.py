"""Staff handle orders for their own Sentra: queue, pick list, ready/shipped/done, cancel, refund."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from accounts.models import Role
from core.audit import AuditEntry
from core.extensions import db
from inventory.stock import movements_sum, stock_level
from payouts.models import Component, LedgerEntry
from sales.models import Refund, Sale, SaleStatus
from shop.models import FulfilmentStatus, OrderRefund, OrderStatus
from tests.factories import SentraFactory, UserFactory
from tests.factories.shop import ShopProductFactory, paid_fulfilment
from tests.shop.helpers import fresh, paid_and_refunded_one, pay, place_order


def actions(entity_type: str) -> list[str]:
    return db.session.scalars(sa.select(AuditEntry.action).where(AuditEntry.entity_type == entity_type)
                              .order_by(AuditEntry.id)).all()


def test_staff_see_only_their_own_sentras_orders(client, csrf, login_as):
    mine, other = SentraFactory(), SentraFactory()
    order = place_order(client, csrf, [(ShopProductFactory(sentra=mine, stock=1), 1),
                                       (ShopProductFactory(sentra=other, stock=1), 1)])
    kasir = UserFactory(sentras=[mine])
    login_as(kasir)
    page = client.get("/staf/pesanan?status=unpaid").get_data(as_text=True)
    assert page.count(order.number) == 1
    theirs = next(f for f in order.fulfilments if f.sentra_id == other.id)
    assert client.get(f"/staf/pesanan/{theirs.id}").status_code == 404
    assert client.post(f"/staf/pesanan/{theirs.id}/siap", data={"csrf_token": csrf()}).status_code == 404


def test_pickup_order_goes_ready_then_picked_up_and_each_step_is_audited(client, csrf, login_as, stripe_local):
    product = ShopProductFactory(stock=2, price=90_000)
    order = place_order(client, csrf, [(product, 1)])
    pay(client, csrf, order)
    fulfilment = fresh(order).fulfilments[0]
    kasir = UserFactory(sentras=[product.sentra])
    login_as(kasir)
    assert "Tandai siap diambil" in client.get(f"/staf/pesanan/{fulfilment.id}").get_data(as_text=True)
    client.post(f"/staf/pesanan/{fulfilment.id}/siap", data={"csrf_token": csrf()})
    assert fresh(fulfilment).status == FulfilmentStatus.READY
    assert "Siap diambil" in client.get(f"/pesanan/{order.token}").get_data(as_text=True)
    held = sa.select(LedgerEntry.available_at).where(LedgerEntry.sale_id == fresh(fulfilment).sale_id,
                                                     LedgerEntry.component == Component.MAKER)
    assert db.session.scalars(held).all() == [None]  # online earnings wait for the hand-over
    client.post(f"/staf/pesanan/{fulfilment.id}/selesai", data={"csrf_token": csrf()})
    assert fresh(fulfilment).status == FulfilmentStatus.COMPLETED
    assert None not in db.session.scalars(held).all()  # ...and are released by it
    # Status never goes backwards.
    client.post(f"/staf/pesanan/{fulfilment.id}/siap", data={"csrf_token": csrf()})
    assert fresh(fulfilment).status == FulfilmentStatus.COMPLETED
    assert actions("Fulfilment") == ["fulfilment.ready", "fulfilment.completed"]
    stripe_local.gate.wait_for(fresh(order).paid_intent_id, "payment_intent.succeeded")


def test_delivery_needs_a_tracking_number_which_the_buyer_sees(client, csrf, login_as, stripe_local):
    product = ShopProductFactory(stock=1, price=90_000)
    order = place_order(client, csrf, [(product, 1)], delivery="delivery", address="Jl. Pemuda 10, Magelang 56111")
    pay(client, csrf, order)
    fulfilment = fresh(order).fulfilments[0]
    login_as(UserFactory(sentras=[product.sentra]))
    client.post(f"/staf/pesanan/{fulfilment.id}/kirim", data={"csrf_token": csrf(), "tracking_number": ""})
    assert fresh(fulfilment).status == FulfilmentStatus.PAID
    client.post(f"/staf/pesanan/{fulfilment.id}/kirim", data={"csrf_token": csrf(), "tracking_number": "JNE123456"})
    assert fresh(fulfilment).status == FulfilmentStatus.SHIPPED
    page = client.get(f"/pesanan/{order.token}").get_data(as_text=True)
    assert "Dikirim" in page and "JNE123456" in page
    stripe_local.gate.wait_for(fresh(order).paid_intent_id, "payment_intent.succeeded")


def test_cancelling_an_unpaid_order_gives_the_held_stock_back(client, csrf, login_as):
    product = ShopProductFactory(stock=1)
    order = place_order(client, csrf, [(product, 1)])
    from shop.checkout import start_attempt

    attempt, _ = start_attempt(order, str(uuid.uuid4()), "pm_card_visa")
    attempt.status = "error"  # Stripe could not be reached: nothing in flight, the goods still held
    db.session.commit()
    assert stock_level(product.id, product.sentra_id) == 0
    login_as(UserFactory(sentras=[product.sentra]))
    fulfilment = order.fulfilments[0]
    client.post(f"/staf/pesanan/{fulfilment.id}/batal", data={"csrf_token": csrf(), "reason": "Pembeli minta batal"})
    order = fresh(order)
    assert order.status == OrderStatus.CANCELLED and order.fulfilments[0].status == FulfilmentStatus.CANCELLED
    assert stock_level(product.id, product.sentra_id) == 1 == movements_sum(product.id, product.sentra_id)
    assert actions("Order")[-1] == "order.cancelled"
    # A cancelled order cannot be paid.
    response = pay(client, csrf, order)
    assert "dibatalkan" in client.get(response.headers["Location"]).get_data(as_text=True)


class NoStripe:
    def __getattr__(self, name):
        raise AssertionError(f"Stripe must not be asked ({name})")


@pytest.mark.parametrize(("status", "intent_id"), [("created", None), ("processing", "pi_test_busy")])
def test_staff_cannot_cancel_while_a_payment_is_in_flight(client, csrf, app, login_as, monkeypatch, status,
                                                          intent_id):
    """"Bayar" was pressed and Stripe has not answered yet (no intent id to cancel at Stripe yet), or
    the bank is still processing: cancelling now could leave a paid, cancelled order."""
    from shop.checkout import start_attempt

    product = ShopProductFactory(stock=1)
    order = place_order(client, csrf, [(product, 1)])
    attempt, _ = start_attempt(order, str(uuid.uuid4()), "pm_card_visa")
    attempt.status, attempt.payment_intent_id = status, intent_id
    db.session.commit()
    monkeypatch.setitem(app.extensions, "stripe_gateway", NoStripe())
    login_as(UserFactory(sentras=[product.sentra]))

    response = client.post(f"/staf/pesanan/{order.fulfilments[0].id}/batal",
                           data={"csrf_token": csrf(), "reason": "Pembeli minta batal"})

    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Pembayaran pesanan ini sedang diproses" in page
    order = fresh(order)
    assert order.status == OrderStatus.PENDING and order.stock_held
    assert stock_level(product.id, product.sentra_id) == 0


def test_a_payment_whose_request_died_long_ago_does_not_block_cancelling(client, csrf, login_as):
    from datetime import timedelta

    from core.db import utcnow
    from shop.checkout import start_attempt

    product = ShopProductFactory(stock=1)
    order = place_order(client, csrf, [(product, 1)])
    attempt, _ = start_attempt(order, str(uuid.uuid4()), "pm_card_visa")
    db.session.commit()
    db.session.execute(sa.update(type(attempt)).where(type(attempt).id == attempt.id)
                       .values(updated_at=utcnow() - timedelta(minutes=10)))
    db.session.commit()
    login_as(UserFactory(sentras=[product.sentra]))

    client.post(f"/staf/pesanan/{order.fulfilments[0].id}/batal",
                data={"csrf_token": csrf(), "reason": "Pembeli minta batal"})

    assert fresh(order).status == OrderStatus.CANCELLED
    assert stock_level(product.id, product.sentra_id) == 1


def test_manager_refunds_one_line_then_the_rest_through_stripe_and_sales(client, csrf, login_as, stripe_local):
    product = ShopProductFactory(stock=3, price=100_000)
    order = place_order(client, csrf, [(product, 3)])
    pay(client, csrf, order)
    order = fresh(order)
    stripe_local.gate.wait_for(order.paid_intent_id, "payment_intent.succeeded")
    fulfilment, line = order.fulfilments[0], order.fulfilments[0].lines[0]
    manager = UserFactory(role=Role.MANAGER, sentras=[product.sentra])
    login_as(manager)
    key = str(uuid.uuid4())
    form = {"csrf_token": csrf(), "client_key": key, "reason": "Warna luntur", f"qty_{line.id}": "1"}
    client.post(f"/staf/pesanan/{fulfilment.id}/kembalikan-dana", data=form)
    client.post(f"/staf/pesanan/{fulfilment.id}/kembalikan-dana", data=form)  # pressed twice: once
    refunds = db.session.scalars(sa.select(OrderRefund)).all()
    assert [(r.amount, r.status) for r in refunds] == [(100_000, "succeeded")]
    assert refunds[0].stripe_refund_id.startswith("re_")
    sale = db.session.scalar(sa.select(Sale))
    assert sale.status == SaleStatus.PARTIALLY_REFUNDED
    assert stock_level(product.id, product.sentra_id) == 1
    assert fresh(fulfilment).refunded_amount == 100_000

    form = {"csrf_token": csrf(), "client_key": str(uuid.uuid4()), "reason": "Dibatalkan", f"qty_{line.id}": "2"}
    client.post(f"/staf/pesanan/{fulfilment.id}/kembalikan-dana", data=form)
    fulfilment = fresh(fulfilment)
    assert fulfilment.status == FulfilmentStatus.REFUNDED and fulfilment.refunded_amount == 300_000
    assert db.session.scalar(sa.select(Sale)).status == SaleStatus.REFUNDED
    assert db.session.scalar(sa.select(sa.func.sum(Refund.amount))) == 300_000
    assert stock_level(product.id, product.sentra_id) == 3 == movements_sum(product.id, product.sentra_id)
    assert "Dikembalikan" in client.get(f"/pesanan/{order.token}").get_data(as_text=True)
    assert actions("OrderRefund") == ["order_refund.requested", "order_refund.completed"] * 2


def test_a_kasir_cannot_refund(client, csrf, login_as, stripe_local):
    product = ShopProductFactory(stock=1, price=100_000)
    order = place_order(client, csrf, [(product, 1)])
    pay(client, csrf, order)
    order = fresh(order)
    stripe_local.gate.wait_for(order.paid_intent_id, "payment_intent.succeeded")
    login_as(UserFactory(sentras=[product.sentra]))
    fulfilment = order.fulfilments[0]
    client.post(f"/staf/pesanan/{fulfilment.id}/kembalikan-dana", data={
        "csrf_token": csrf(), "client_key": str(uuid.uuid4()), "reason": "x", f"qty_{fulfilment.lines[0].id}": "1"})
    assert db.session.scalar(sa.select(sa.func.count(OrderRefund.id))) == 0


@pytest.mark.parametrize("path", ["/staf/pesanan", "/staf/pesanan/1", "/staf/pesanan/1/daftar-ambil.pdf"])
def test_staff_pages_need_a_staff_login(client, path):
    response = client.get(path)
    assert response.status_code in (302, 401)


def test_pick_list_and_invoice_pdfs_carry_the_order(client, csrf, login_as, pdf_text, stripe_local):
    product = ShopProductFactory(stock=2, price=150_000, name="Batik Ciprat Kartini", sku="TMG-BTK-01")
    order = place_order(client, csrf, [(product, 2)], delivery="delivery",
                        address="Jl. Diponegoro 5, Semarang 50241")
    pay(client, csrf, order)
    order = fresh(order)
    stripe_local.gate.wait_for(order.paid_intent_id, "payment_intent.succeeded")

    invoice = client.get(f"/pesanan/{order.token}/faktur.pdf")
    assert invoice.status_code == 200 and invoice.mimetype == "application/pdf"
    text = pdf_text(invoice.data)
    for expected in ("FAKTUR", order.number, "Sari Pembeli", "Batik Ciprat Kartini", "Rp 300.000",
                     "Jl. Diponegoro 5", "Dibayar"):
        assert expected in text, expected
    import io

    from pypdf import PdfReader

    page = PdfReader(io.BytesIO(invoice.data)).pages[0]
    assert round(float(page.mediabox.width)) == 595 and round(float(page.mediabox.height)) == 842  # A4

    login_as(UserFactory(sentras=[product.sentra]))
    pick = client.get(f"/staf/pesanan/{order.fulfilments[0].id}/daftar-ambil.pdf")
    text = pdf_text(pick.data)
    assert "Daftar ambil" in text and "TMG-BTK-01" in text and order.number in text


def test_the_buyer_email_is_rendered_with_the_status_link(client, csrf, app):
    from shop.services import notify_buyer

    order = place_order(client, csrf, [(ShopProductFactory(stock=1, price=45_000, name="Kipas Lontar"), 1)])
    with app.test_request_context():
        body = notify_buyer(order, "confirmation")
    assert order.number in body and "Kipas Lontar" in body and "Rp 45.000" in body
    assert f"/pesanan/{order.token}" in body


def test_whole_refund_returns_goods_and_shipping(client, csrf, login_as, stripe_local):
    from tests.factories import SentraFactory as Sentras

    sentra = Sentras(shipping_fee=25_000)
    product = ShopProductFactory(sentra=sentra, stock=2, price=60_000)
    order = place_order(client, csrf, [(product, 2)], delivery="delivery", address="Jl. Kenanga 3, Bekasi 17111")
    pay(client, csrf, order)
    order = fresh(order)
    stripe_local.gate.wait_for(order.paid_intent_id, "payment_intent.succeeded")
    login_as(UserFactory(role=Role.MANAGER, sentras=[sentra]))
    fulfilment = order.fulfilments[0]
    client.post(f"/staf/pesanan/{fulfilment.id}/kembalikan-dana", data={
        "csrf_token": csrf(), "client_key": str(uuid.uuid4()), "reason": "Paket rusak", "whole": "1"})
    fulfilment = fresh(fulfilment)
    assert fulfilment.status == FulfilmentStatus.REFUNDED and fulfilment.refunded_amount == 145_000
    refunds = stripe_local.client.v1.refunds.list(params={"payment_intent": order.paid_intent_id})
    assert [r.amount for r in refunds.data] == [14_500_000]  # rupiah × 100 reached Stripe
    assert stock_level(product.id, product.sentra_id) == 2


def test_the_queue_is_newest_first_pages_past_fifty_and_finds_by_number_name_or_phone(client, login_as):
    from shop.models import Order

    sentra = SentraFactory()
    product = ShopProductFactory(sentra=sentra, stock=100, price=10_000)
    fulfilments = [paid_fulfilment(product, buyer_name=f"Pembeli {i:02d}", buyer_phone=f"0812-0000-{i:04d}")
                   for i in range(51)]
    db.session.commit()
    login_as(UserFactory(sentras=[sentra]))
    first = client.get("/staf/pesanan").get_data(as_text=True)
    newest, oldest = fulfilments[-1].order, fulfilments[0].order
    assert "51 pesanan" in first and newest.number in first and oldest.number not in first
    second = client.get("/staf/pesanan?halaman=2").get_data(as_text=True)
    assert oldest.number in second  # the 51st open order is on page 2
    assert oldest.number in client.get("/staf/pesanan?urut=lama").get_data(as_text=True)
    for query in (oldest.number, "Pembeli 00", "081200000000"):
        found = client.get("/staf/pesanan", query_string={"q": query}).get_data(as_text=True)
        assert "1 pesanan" in found and oldest.number in found, query
    home = client.get("/staf").get_data(as_text=True)
    assert "Pesanan online menunggu diproses: 51" in home
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Order)) == 51


def test_a_refund_of_damaged_goods_does_not_restock(client, csrf, login_as, stripe_local):
    product = ShopProductFactory(stock=2, price=100_000)
    paid_and_refunded_one(client, csrf, login_as, stripe_local, product, 2, "Pecah di jalan", restock="0")
    assert db.session.scalar(sa.select(OrderRefund)).status == "succeeded"
    assert stock_level(product.id, product.sentra_id) == 0  # written off, not back on the shelf
