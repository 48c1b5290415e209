"""No page of the shop, checkout, order page or buyer account is wider than a 360 px phone."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from core.extensions import db
from tests.factories import SentraFactory
from tests.factories.shop import ShopProductFactory

pytestmark = pytest.mark.e2e

PHONE = {"width": 360, "height": 740}


@pytest.fixture
def phone(browser, live_server):
    context = browser.new_context(viewport=PHONE, locale="id-ID", base_url=live_server)
    page = context.new_page()
    yield page
    context.close()


def overflow(page) -> int:
    """How many CSS pixels the page is wider than the viewport (0 when it fits)."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def test_every_buyer_page_fits_a_360_px_phone(phone, live_server):
    sentra = SentraFactory(name="Sentra Kreasi ATENSI Kartini Temanggung", code="TMG", shipping_fee=15_000)
    product = ShopProductFactory(sentra=sentra, name="Kemeja Batik Ciprat Pria Lengan Panjang Motif Parang",
                                 price=275_000, stock=4, category="Busana")
    ShopProductFactory(sentra=sentra, name="Keripik Singkong Pedas", price=15_000, stock=9, category="Kuliner")
    db.session.commit()
    wide: dict[str, int] = {}

    def check(path: str | None = None) -> None:
        if path:
            phone.goto(path)
        wide[phone.url.removeprefix(live_server)] = overflow(phone)

    for path in ("/", "/katalog", "/katalog?q=batik", f"/produk/{product.id}", f"/sentra/{sentra.code}",
                 "/akun/masuk", "/akun/daftar", "/akun/lupa-sandi"):
        check(path)
    phone.goto(f"/produk/{product.id}")
    phone.get_by_role("button", name="Masukkan ke keranjang").click()
    expect(phone).to_have_url(re.compile(r"/keranjang$"))
    check()
    phone.goto("/checkout")
    check()
    phone.get_by_label("Nama").fill("Sari Pembeli")
    phone.get_by_label("Nomor HP").fill("081234567890")
    phone.get_by_label("E-mail").fill("sari@contoh.co.id")
    phone.get_by_label("Dikirim ke alamat").check()
    phone.get_by_role("textbox", name="Alamat pengiriman").fill(
        "Jl. Pahlawan Revolusi No. 123, Kelurahan Kertosari, Temanggung 56218")
    phone.get_by_role("button", name=re.compile("Buat pesanan")).click()
    expect(phone).to_have_url(re.compile(r"/pesanan/"))
    check()
    assert {path: px for path, px in wide.items() if px > 0} == {}


def test_a_processing_payment_page_updates_itself_when_the_payment_lands(phone, live_server):
    import uuid

    from shop.models import Order, OrderStatus, PaymentAttempt
    from tests.factories.shop import ShopProductFactory as Product

    product = Product(stock=2, price=45_000)
    db.session.commit()
    phone.goto(f"/produk/{product.id}")
    phone.get_by_role("button", name="Masukkan ke keranjang").click()
    phone.goto("/checkout")
    phone.get_by_label("Nama").fill("Sari Pembeli")
    phone.get_by_label("Nomor HP").fill("081234567890")
    phone.get_by_label("E-mail").fill("sari@contoh.co.id")
    phone.get_by_role("button", name=re.compile("Buat pesanan")).click()
    expect(phone).to_have_url(re.compile(r"/pesanan/"))
    order = db.session.scalar(db.select(Order))
    db.session.add(PaymentAttempt(order_id=order.id, idempotency_key=str(uuid.uuid4()), status="processing",
                                  amount=order.total))
    db.session.commit()
    phone.reload()
    expect(phone.get_by_role("heading", name="Pembayaran sedang diproses")).to_be_visible()
    expect(phone.get_by_role("button", name=re.compile("Bayar"))).to_have_count(0)  # no second payment meanwhile
    order.status = OrderStatus.PAID
    db.session.commit()
    expect(phone.get_by_role("heading", name="Pembayaran sedang diproses")).to_have_count(0, timeout=15_000)
