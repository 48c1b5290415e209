"""The buyer hears of every step — paid, ready, shipped, received, refunded, cancelled — by e-mail
through the job queue (plain text and HTML, in the language they shopped in), once per event; staff
can send the same message by WhatsApp."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from accounts.models import Role
from core.extensions import db
from core.jobs.models import Job
from shop.messages import whatsapp_link, whatsapp_number
from tests.factories import UserFactory
from tests.factories.shop import ShopProductFactory
from tests.shop.helpers import fresh, paid_and_refunded_one, pay, place_order


def mails() -> list[dict]:
    """The queued buyer e-mails, oldest first (their payloads: to, subject, body, html)."""
    return [job.payload for job in db.session.scalars(
        sa.select(Job).where(Job.name == "mail.deliver").order_by(Job.id))]


def subjects() -> list[str]:
    return [mail["subject"] for mail in mails()]


def test_a_pickup_order_tells_the_buyer_paid_ready_and_picked_up(client, csrf, login_as, stripe_local):
    product = ShopProductFactory(stock=2, price=90_000)
    order = place_order(client, csrf, [(product, 1)])
    pay(client, csrf, order)
    stripe_local.gate.wait_for(fresh(order).paid_intent_id, "payment_intent.succeeded")
    fulfilment = fresh(order).fulfilments[0]
    login_as(UserFactory(sentras=[product.sentra]))
    client.post(f"/staf/pesanan/{fulfilment.id}/siap", data={"csrf_token": csrf()})
    client.post(f"/staf/pesanan/{fulfilment.id}/siap", data={"csrf_token": csrf()})  # pressed twice: one mail
    client.post(f"/staf/pesanan/{fulfilment.id}/selesai", data={"csrf_token": csrf()})
    n = order.number
    assert subjects() == [f"Pesanan {n} diterima", f"Pembayaran pesanan {n} diterima", f"Pesanan {n} siap diambil",
                          f"Pesanan {n} sudah Anda terima"]
    ready = mails()[2]
    assert product.sentra.name in ready["body"] and f"/pesanan/{order.token}" in ready["body"]
    assert ready["html"].startswith("<!doctype html>") and f'href="http://127.0.0.1:5000/pesanan/{order.token}"' \
        in ready["html"]


def test_a_shipped_order_carries_its_tracking_number(client, csrf, login_as, stripe_local):
    product = ShopProductFactory(stock=1, price=90_000)
    order = place_order(client, csrf, [(product, 1)], delivery="delivery", address="Jl. Pemuda 10, Magelang 56111")
    pay(client, csrf, order)
    fulfilment = fresh(order).fulfilments[0]
    login_as(UserFactory(sentras=[product.sentra]))
    client.post(f"/staf/pesanan/{fulfilment.id}/kirim", data={"csrf_token": csrf(), "tracking_number": "JNE123456"})
    shipped = mails()[-1]
    assert shipped["subject"] == f"Pesanan {order.number} sudah dikirim"
    assert "JNE123456" in shipped["body"] and "Jl. Pemuda 10" in shipped["body"]
    stripe_local.gate.wait_for(fresh(order).paid_intent_id, "payment_intent.succeeded")


def test_a_cancelled_order_says_why(client, csrf, login_as):
    product = ShopProductFactory(stock=1, price=45_000)
    order = place_order(client, csrf, [(product, 1)])
    fulfilment = order.fulfilments[0]
    login_as(UserFactory(role=Role.MANAGER, sentras=[product.sentra]))
    client.post(f"/staf/pesanan/{fulfilment.id}/batal", data={"csrf_token": csrf(), "reason": "Stok rusak"})
    cancelled = mails()[-1]
    assert cancelled["subject"] == f"Pesanan {order.number} dibatalkan"
    assert "Alasan: Stok rusak" in cancelled["body"] and "tidak ada yang perlu dikembalikan" in cancelled["body"]


def test_a_staff_refund_tells_the_amount_and_the_pieces(client, csrf, login_as, stripe_local):
    product = ShopProductFactory(stock=3, price=100_000, name="Taplak Batik")
    order = paid_and_refunded_one(client, csrf, login_as, stripe_local, product, 3, "Warna luntur")
    refunded = mails()[-1]
    assert refunded["subject"] == f"Dana pesanan {order.number} dikembalikan"
    assert "Rp 100.000" in refunded["body"] and "Taplak Batik × 1" in refunded["body"]
    assert "Alasan: Warna luntur" in refunded["body"]


def test_a_buyer_who_shopped_in_english_is_written_to_in_english(client, csrf):
    client.post("/bahasa", data={"csrf_token": csrf(), "lang": "en"})
    order = place_order(client, csrf, [(ShopProductFactory(stock=1, price=45_000), 1)])
    assert order.buyer_locale == "en"
    [confirmation] = mails()
    assert confirmation["subject"] == f"Order {order.number} received"
    assert confirmation["body"].startswith("Hello ") and "Pay and follow the order at:" in confirmation["body"]


@pytest.mark.parametrize("phone, number", [("0812-3456-7890", "6281234567890"), ("+62 812 3456 7890", "6281234567890"),
                                           ("6281234567890", "6281234567890"), ("12345", None), ("", None)])
def test_phone_numbers_become_whatsapp_numbers(phone, number):
    assert whatsapp_number(phone) == number


def test_staff_can_send_the_status_message_by_whatsapp(client, csrf, login_as, stripe_local):
    product = ShopProductFactory(stock=1, price=90_000)
    order = place_order(client, csrf, [(product, 1)], phone="0812-3456-7890")
    pay(client, csrf, order)
    stripe_local.gate.wait_for(fresh(order).paid_intent_id, "payment_intent.succeeded")
    fulfilment = fresh(order).fulfilments[0]
    link = whatsapp_link(fulfilment)
    assert link.startswith("https://wa.me/6281234567890?text=") and "Pembayaran%20pesanan" in link
    login_as(UserFactory(sentras=[product.sentra]))
    page = client.get(f"/staf/pesanan/{fulfilment.id}").get_data(as_text=True)
    assert "Kirim via WhatsApp" in page and "https://wa.me/6281234567890?text=" in page


def test_after_a_refund_the_order_page_and_invoice_show_the_net_total_and_the_issuer(client, csrf, login_as,
                                                                                      stripe_local, pdf_text):
    product = ShopProductFactory(stock=2, price=100_000)
    order = paid_and_refunded_one(client, csrf, login_as, stripe_local, product, 2, "Cacat")
    page = client.get(f"/pesanan/{order.token}").get_data(as_text=True)
    assert "Total bersih: Rp 100.000" in page
    text = " ".join(pdf_text(client.get(f"/pesanan/{order.token}/faktur.pdf").data).split())
    assert "Total Rp 200.000" in text and "Dikembalikan -Rp 100.000" in text and "Total bersih Rp 100.000" in text
    sentra = product.sentra
    assert f"Penerbit: {sentra.name}, {sentra.balai}" in text and "Kementerian Sosial RI" in text
