import pytest

from tests.factories import TEST_PASSWORD, SentraFactory, UserFactory

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


def test_admin_creates_a_kasir_with_keyboard_and_pages_pass_axe(page, live_server, axe_violations):
    from accounts.models import Role

    SentraFactory(code="TMG", name="Kartini Temanggung")
    UserFactory(email="admin@sentra.test", name="Admin Pusat", role=Role.ADMIN)
    page.goto(f"{live_server}/accounts/masuk")
    page.get_by_label("E-mail").fill("admin@sentra.test")
    page.get_by_label("Kata sandi").fill(TEST_PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server}/staf")

    page.get_by_role("link", name="Pengguna & peran").click()
    page.wait_for_url(f"{live_server}/accounts/pengguna")
    assert axe_violations(page) == []
    page.get_by_role("link", name="Tambah akun staf").click()
    assert axe_violations(page) == []

    # A weak password: the message sits next to the field, the rest of the input is kept.
    page.get_by_label("Nama lengkap").fill("Siti Aminah")
    page.get_by_label("E-mail").fill("siti@sentra.test")
    page.get_by_label("Kata sandi awal").fill("pendek")
    page.get_by_label("TMG · Kartini Temanggung").check()
    page.get_by_role("button", name="Simpan").click()
    assert page.locator("#password-err").inner_text() == (
        "Kata sandi minimal 12 karakter. Frasa beberapa kata mudah diingat dan kuat.")
    assert page.get_by_label("E-mail").input_value() == "siti@sentra.test"
    assert page.get_by_label("Kata sandi awal").input_value() == ""
    assert page.get_by_label("TMG · Kartini Temanggung").is_checked()
    assert axe_violations(page) == []

    page.get_by_label("Kata sandi awal").fill("Batik-Ciprat-2026")
    page.get_by_label("Kata sandi awal").press("Enter")
    page.wait_for_url(f"{live_server}/accounts/pengguna")
    assert "Siti Aminah" in page.content()

    page.goto(f"{live_server}/accounts/pengguna/baru-pembuat")
    assert axe_violations(page) == []
