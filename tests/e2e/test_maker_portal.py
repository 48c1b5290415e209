"""A maker logs in with phone + PIN on a real browser, reads the balance; axe-core finds nothing serious."""

from __future__ import annotations

import pytest

from tests.factories import TEST_PIN, MakerUserFactory
from tests.factories.payouts import product, sell, shop

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    # Indonesian is the default UI language; the browser asks for it explicitly.
    return {**browser_context_args, "locale": "id-ID"}


@pytest.fixture
def maker_with_sales():
    s = shop(hold_days=0)
    user = MakerUserFactory(maker__sentra=s.sentra, maker__name="Sri Rahayu", maker__phone="6281234567890",
                            phone="6281234567890", name="Sri Rahayu")
    item = product(s.sentra, maker=user.maker, price=84_375, bps=8_000, name="Batik Ciprat Biru")
    sell(s, [(item, 1)])
    return user


def test_maker_logs_in_with_phone_and_pin_and_reads_balance(page, live_server, maker_with_sales):
    page.goto(f"{live_server}/accounts/masuk-pembuat")
    page.get_by_label("Nomor HP").fill("0812 3456 7890")
    page.get_by_label("PIN (6 angka)").fill(TEST_PIN)
    page.get_by_role("button", name="Masuk").click()
    page.wait_for_url(f"{live_server}/payouts/saya")
    ready = page.get_by_role("region", name="Saldo siap dicairkan")
    assert "Rp 67.500" in ready.inner_text()
    page.get_by_role("link", name="Yang terjual", exact=True).click()
    assert "Batik Ciprat Biru" in page.content()


def test_portal_pages_have_no_serious_accessibility_violations(page, live_server, maker_with_sales,
                                                                axe_violations):
    page.goto(f"{live_server}/accounts/masuk-pembuat")
    page.get_by_label("Nomor HP").fill("081234567890")
    page.get_by_label("PIN (6 angka)").fill(TEST_PIN)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server}/payouts/saya")
    for path in ("/payouts/saya", "/payouts/saya/penjualan", "/payouts/saya/stok", "/payouts/saya/pencairan"):
        page.goto(f"{live_server}{path}")
        assert axe_violations(page) == [], path
