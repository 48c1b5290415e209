"""Password rules (OWASP ASVS 5.0, zxcvbn) and trivial-PIN refusal, for makers and managers alike."""

from __future__ import annotations

from datetime import date

import pytest

from accounts.demo import DEMO_PASSWORD
from accounts.models import Role
from accounts.services import password_problems, pin_problems, reset_maker_pin, set_approval_pin
from core.errors import ValidationFailed
from core.extensions import db
from tests.factories import TEST_PASSWORD, TEST_PIN, MakerUserFactory, SentraFactory, UserFactory

PASSPHRASE_100 = ("kopi tubruk sore di Temanggung sambil menunggu hujan reda, lalu batik ciprat "
                  "dijemur di halaman Balai")


@pytest.mark.parametrize("password", [
    "tigakatasaja",  # 12 letters, no digit: no composition rules
    "Kartini-Temanggung-7", DEMO_PASSWORD, TEST_PASSWORD,
    PASSPHRASE_100, "pasar-ikan-hias ✓ 2026 di pangudi luhur bekasi",
])
def test_long_and_plain_passwords_are_accepted(password):
    assert len(password) >= 12
    assert password_problems(password) is None, password


def test_passphrases_of_128_characters_are_accepted_and_longer_ones_get_a_clear_message():
    phrase = (PASSPHRASE_100 + " dan pulang naik ojek dari pasar sore.")[:128]
    assert len(phrase) == 128
    assert password_problems(phrase) is None
    assert password_problems(phrase + "x" * 200) == "Kata sandi maksimal 128 karakter."


@pytest.mark.parametrize(("password", "message"), [
    ("Pendek-12ab", "Kata sandi minimal 12 karakter."),
    ("password1234", "Kata sandi terlalu mudah ditebak"),
    ("qwertyuiop123", "Kata sandi terlalu mudah ditebak"),
    ("111111111111", "Kata sandi terlalu mudah ditebak"),
    ("Sentra12345678", "Kata sandi terlalu mudah ditebak"),
])
def test_short_and_common_passwords_are_refused(password, message):
    assert password_problems(password).startswith(message)


def test_passwords_made_of_the_users_name_or_email_are_refused():
    assert password_problems("budisantoso12", ("Budi Santoso", "budi@sentra.test")).startswith(
        "Kata sandi terlalu mirip")
    assert password_problems("budisantoso12") is None  # fine for someone else


@pytest.mark.parametrize("pin", ["000000", "777777", "123456", "654321", "890123", "210987",
                                 "121212", "123123", "456456"])
def test_repeated_and_sequential_pins_are_refused(pin):
    assert pin_problems(pin).startswith("PIN terlalu mudah ditebak")


@pytest.mark.parametrize("pin", ["170845", "450817", "081745", "170819", "081945", "194508"])
def test_a_pin_from_the_date_of_birth_is_refused(pin):
    assert "tanggal lahir" in pin_problems(pin, birth_date=date(1945, 8, 17))
    assert pin_problems(pin) is None


def test_the_last_six_digits_of_the_phone_are_refused_as_pin():
    assert "nomor HP" in pin_problems("561739", phones=("6281234561739",))
    assert pin_problems("561739") is None


@pytest.mark.parametrize("pin", [TEST_PIN, "582914", "739182", "135790", "482916", "735204"])
def test_ordinary_pins_used_by_demo_and_tests_are_accepted(pin):
    assert pin_problems(pin) is None


def test_maker_pin_reset_refuses_their_birth_date_and_phone():
    maker_user = MakerUserFactory(phone="6281234561739", maker__phone="6281234561739",
                                  maker__birth_date=date(1990, 3, 21))
    admin = UserFactory(role=Role.ADMIN)
    for pin in ("210390", "900321", "561739"):
        with pytest.raises(ValidationFailed):
            reset_maker_pin(admin, maker_user, pin)
    db.session.rollback()
    assert maker_user.check_pin(TEST_PIN)


def test_approval_pin_refuses_trivial_pins_and_is_only_for_managers():
    manager = UserFactory(role=Role.MANAGER, sentras=[SentraFactory()])
    admin = UserFactory(role=Role.ADMIN)
    with pytest.raises(ValidationFailed):
        set_approval_pin(admin, manager, "111111")
    with pytest.raises(ValidationFailed):
        set_approval_pin(admin, UserFactory(role=Role.KASIR), "739182")
    set_approval_pin(admin, manager, "739182")
    assert manager.check_pin("739182")


def test_password_fields_allow_long_passphrases_and_paste(client, login_as):
    import re

    login_as(UserFactory(role=Role.ADMIN))
    pages = [client.get("/accounts/masuk"), client.get("/accounts/pengguna/baru"), client.get("/akun/masuk")]
    for page in pages:
        for tag in re.findall(r'<input[^>]*type="password"[^>]*>', page.get_data(as_text=True)):
            if 'name="pin"' in tag:
                continue
            assert "maxlength" not in tag and "onpaste" not in tag, tag
