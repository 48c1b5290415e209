import pytest

from tests.factories import SentraFactory, UserFactory, TEST_PASSWORD

pytestmark = pytest.mark.e2e


def test_staff_logs_in_with_keyboard_only(page, live_server):
    sentra = SentraFactory()
    UserFactory(email="kasir@sentra.test", name="Budi Kasir", sentras=[sentra])
    page.goto(f"{live_server}/accounts/masuk")
    page.get_by_label("E-mail").focus()
    page.keyboard.type("kasir@sentra.test")
    page.keyboard.press("Tab")
    page.keyboard.type(TEST_PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server}/staf")
    assert "Budi Kasir" in page.content()


def test_login_pages_have_no_serious_accessibility_violations(page, live_server, axe_violations):
    for path in ("/accounts/masuk", "/accounts/masuk-pembuat"):
        page.goto(f"{live_server}{path}")
        assert axe_violations(page) == [], path
