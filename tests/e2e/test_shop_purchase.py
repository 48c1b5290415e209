"""A guest buys in a real browser and pays with Stripe's test payment method (localstripe)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from core.extensions import db
from shop.stripe_gateway import StripeGateway
from tests.factories import MakerFactory, SentraFactory
from tests.factories.shop import ShopProductFactory, consent_all
from tests.shop.stripe_local import running_localstripe

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    # An Indonesian phone browser: the shop answers in Indonesian (the default language).
    return {**browser_context_args, "locale": "id-ID", "viewport": {"width": 390, "height": 844}}


@pytest.fixture(scope="module")
def localstripe_url():
    with running_localstripe() as url:
        yield url


@pytest.fixture
def local_stripe(app, localstripe_url):
    original = app.extensions["stripe_gateway"]
    app.extensions["stripe_gateway"] = StripeGateway(app.config["STRIPE_SECRET_KEY"],
                                                     app.config["STRIPE_WEBHOOK_SECRET"], api_base=localstripe_url)
    yield
    app.extensions["stripe_gateway"] = original


@pytest.fixture
def shop_data():
    sentra = SentraFactory(name="Sentra Kreasi ATENSI Kartini Temanggung", code="TMG", shipping_fee=20_000)
    consented = MakerFactory(sentra=sentra, public_name="Bu Sri",
                             story="Bu Sri belajar batik ciprat di Balai Kartini sejak 2019.")
    consent_all(consented)
    private = MakerFactory(sentra=sentra, public_name="Pak Anonim", story="Cerita ini tidak boleh tampil.")
    batik = ShopProductFactory(sentra=sentra, maker=consented, name="Batik Ciprat Merah", price=150_000, stock=3)
    tas = ShopProductFactory(sentra=sentra, maker=private, name="Tas Anyaman", price=80_000, stock=2)
    db.session.commit()
    return {"sentra": sentra, "batik": batik, "tas": tas}


def test_guest_buys_and_pays_with_the_test_card(page, live_server, shop_data, local_stripe, axe_violations):
    batik = shop_data["batik"]
    page.goto(f"{live_server}/produk/{batik.id}")
    expect(page.get_by_text("Rp 150.000").first).to_be_visible()
    expect(page.get_by_text("tersisa 3")).to_be_visible()
    page.get_by_label("Jumlah").fill("2")
    page.get_by_role("button", name="Masukkan ke keranjang").click()
    expect(page).to_have_url(re.compile(r"/keranjang$"))
    page.get_by_role("link", name="Lanjut ke pembayaran").click()

    page.get_by_label("Nama lengkap").fill("Sari Pembeli")
    page.get_by_label("Nomor HP (WhatsApp)").fill("081234567890")
    page.get_by_label("E-mail").fill("sari@contoh.co.id")
    page.get_by_label("Ambil sendiri di Sentra (gratis)").check()
    page.get_by_role("button", name="Buat pesanan").click()
    expect(page.get_by_text("Menunggu pembayaran").first).to_be_visible()

    assert axe_violations(page) == [], "unpaid order page"
    page.get_by_label("Kartu uji berhasil (Visa 4242)").check()
    page.get_by_role("button", name=re.compile(r"^Bayar Rp 300\.000")).click()
    expect(page.get_by_text("Pembayaran berhasil. Terima kasih!")).to_be_visible()
    expect(page.locator("#order-status")).to_have_text("Dibayar")
    expect(page.get_by_role("link", name="Unduh faktur (PDF)")).to_be_visible()
    assert axe_violations(page) == [], "paid order page"


def test_consented_story_shows_and_a_private_one_does_not(page, live_server, shop_data):
    page.goto(f"{live_server}/produk/{shop_data['batik'].id}")
    expect(page.get_by_text("Bu Sri belajar batik ciprat")).to_be_visible()
    page.goto(f"{live_server}/produk/{shop_data['tas'].id}")
    expect(page.get_by_text("Karya penerima manfaat Sentra Sentra Kreasi ATENSI Kartini Temanggung")).to_be_visible()
    assert "Cerita ini tidak boleh tampil" not in page.content()
    assert "Pak Anonim" not in page.content()


def test_shop_pages_have_no_serious_accessibility_violations(page, live_server, shop_data, axe_violations):
    batik = shop_data["batik"]
    for path in ("/", "/katalog", f"/produk/{batik.id}", "/sentra/TMG", "/akun/daftar", "/akun/masuk"):
        page.goto(f"{live_server}{path}")
        assert axe_violations(page) == [], path
    page.goto(f"{live_server}/produk/{batik.id}")
    page.get_by_role("button", name="Masukkan ke keranjang").click()
    assert axe_violations(page) == [], "/keranjang"
    page.goto(f"{live_server}/checkout")
    assert axe_violations(page) == [], "/checkout"
    page.get_by_role("button", name="Buat pesanan").click()  # empty form: errors shown accessibly
    assert axe_violations(page) == [], "/checkout with errors"
