"""Logging in and out: generic errors, throttling that slows attackers (not owners), PIN blocks, sessions."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from accounts.models import LoginAttempt, LoginThrottle, Role, User
from accounts.throttle import DEVICE_COOKIE
from core.db import utcnow
from core.extensions import db
from tests.factories import TEST_PASSWORD, TEST_PIN, MakerUserFactory, SentraFactory, UserFactory

WAIT = "Terlalu banyak percobaan masuk yang gagal"
BLOCKED = "PIN diblokir"
GENERIC = "Data masuk tidak cocok. Periksa kembali lalu coba lagi."


@pytest.fixture
def kasir():
    return UserFactory(name="Budi Kasir", email="budi@sentra.test", sentras=[SentraFactory()])


@pytest.fixture
def maker_user():
    return MakerUserFactory(name="Bu Sri", phone="6281234567890", maker__phone="6281234567890")


def staff_login(client, csrf, email, password, **kwargs):
    return client.post("/accounts/masuk", data={"csrf_token": csrf(), "email": email, "password": password},
                       **kwargs)


def maker_login(client, csrf, phone, pin, **kwargs):
    return client.post("/accounts/masuk-pembuat", data={"csrf_token": csrf(), "phone": phone, "pin": pin},
                       **kwargs)


def text(response) -> str:
    return response.get_data(as_text=True)


def test_staff_logs_in_and_lands_on_staff_home(client, csrf, kasir):
    response = staff_login(client, csrf, " BUDI@sentra.test ", TEST_PASSWORD)
    assert response.status_code == 302 and response.headers["Location"] == "/staf"
    assert "Budi Kasir" in text(client.get("/staf"))
    attempt = db.session.scalar(sa.select(LoginAttempt))
    assert attempt.succeeded and attempt.identifier == "budi@sentra.test"


def test_maker_logs_in_with_phone_and_pin(app, client, csrf, maker_user):
    from flask import url_for

    response = maker_login(client, csrf, "0812-3456-7890", TEST_PIN)
    assert response.status_code == 302
    with app.test_request_context():
        assert response.headers["Location"] == url_for("payouts.portal_home")
    with client.session_transaction() as sess:
        assert sess["_user_id"] == maker_user.get_id()


def test_login_starts_a_new_session(client, csrf, kasir):
    with client.session_transaction() as sess:
        sess["planted_by_attacker"] = "x"
        sess["lang"] = "en"
    staff_login(client, csrf, "budi@sentra.test", TEST_PASSWORD)
    with client.session_transaction() as sess:
        assert "planted_by_attacker" not in sess
        assert "csrf_token" not in sess  # a new token is issued for the new session
        assert sess["lang"] == "en"  # only the language choice survives
        assert sess["_user_id"] == kasir.get_id()


def test_next_parameter_only_redirects_to_local_paths(client, csrf, kasir):
    for target, expected in (("/accounts/pengguna", "/accounts/pengguna"), ("//evil.example/x", "/staf"),
                             ("https://evil.example/", "/staf")):
        response = client.post(f"/accounts/masuk?next={target}", data={
            "csrf_token": csrf(), "email": "budi@sentra.test", "password": TEST_PASSWORD})
        assert response.headers["Location"] == expected, target


def test_unknown_user_and_wrong_password_get_the_same_answer(client, csrf, kasir, maker_user):
    wrong_password = staff_login(client, csrf, "budi@sentra.test", "Salah-sekali-99")
    unknown_user = staff_login(client, csrf, "siapa@sentra.test", "Salah-sekali-99")
    assert wrong_password.status_code == unknown_user.status_code == 401
    assert GENERIC in text(wrong_password) and GENERIC in text(unknown_user)

    wrong_pin = maker_login(client, csrf, "0812 3456 7890", "975310")
    unknown_phone = maker_login(client, csrf, "0813 0000 1111", "975310")
    assert wrong_pin.status_code == unknown_phone.status_code == 401
    assert GENERIC in text(wrong_pin) and GENERIC in text(unknown_phone)
    # Typed identifiers are kept; secrets are not.
    assert 'value="budi@sentra.test"' in text(wrong_password)
    assert "Salah-sekali-99" not in text(wrong_password) and "975310" not in text(wrong_pin)


@pytest.mark.parametrize("role", [Role.MAKER, Role.BUYER])
def test_staff_form_refuses_non_staff_accounts(client, csrf, role):
    if role == Role.MAKER:
        user = MakerUserFactory(email="pembuat@sentra.test")
        user.set_password(TEST_PASSWORD)
        db.session.commit()
    else:
        UserFactory(role=Role.BUYER, email="pembuat@sentra.test")
    response = staff_login(client, csrf, "pembuat@sentra.test", TEST_PASSWORD)
    assert response.status_code == 401 and GENERIC in text(response)


def test_inactive_account_gets_the_generic_answer(client, csrf):
    UserFactory(email="lama@sentra.test", is_active_account=False, sentras=[SentraFactory()])
    response = staff_login(client, csrf, "lama@sentra.test", TEST_PASSWORD)
    assert response.status_code == 401 and GENERIC in text(response)


def fail(client, csrf, times, email="budi@sentra.test", **kwargs):
    for _ in range(times):
        assert staff_login(client, csrf, email, "Salah-sekali-99", **kwargs).status_code == 401


def test_failures_make_the_next_try_wait_then_the_right_password_works(client, csrf, kasir, time_machine):
    """No hard lock-out: three free failures, then a wait (said in the message) that grows."""
    time_machine.move_to(utcnow(), tick=False)
    fail(client, csrf, 2)
    third = staff_login(client, csrf, "budi@sentra.test", "Salah-sekali-99")
    assert third.status_code == 401 and GENERIC in text(third) and "bisa dalam 30 detik" in text(third)

    # Within the wait even the right password is not checked (this browser is not a known device).
    waiting = staff_login(client, csrf, "budi@sentra.test", TEST_PASSWORD)
    assert waiting.status_code == 429 and WAIT in text(waiting) and "tunggu 30 detik" in text(waiting)
    with client.session_transaction() as sess:
        assert "_user_id" not in sess

    time_machine.shift(timedelta(seconds=31))
    fourth = staff_login(client, csrf, "budi@sentra.test", "Salah-sekali-99")
    assert "bisa dalam 1 menit" in text(fourth)  # doubled
    time_machine.shift(timedelta(seconds=61))
    assert staff_login(client, csrf, "budi@sentra.test", TEST_PASSWORD).status_code == 302
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.max(LoginThrottle.failures))) == 0  # success forgets


def test_maker_pin_failures_make_the_next_try_wait(client, csrf, maker_user, time_machine):
    time_machine.move_to(utcnow(), tick=False)
    for pin in ("111111", "222222", "333333"):
        assert maker_login(client, csrf, "0812 3456 7890", pin).status_code == 401
    waiting = maker_login(client, csrf, "0812 3456 7890", TEST_PIN)
    assert waiting.status_code == 429 and WAIT in text(waiting)
    time_machine.shift(timedelta(seconds=31))
    assert maker_login(client, csrf, "0812 3456 7890", TEST_PIN).status_code == 302


def test_failures_are_counted_in_the_database_across_clients(app, csrf, kasir, time_machine):
    """Counted in the database, not in process memory: clients on other addresses share the account's count."""
    from tests.conftest import csrf_token

    time_machine.move_to(utcnow(), tick=False)
    for i in range(3):
        other = app.test_client()
        response = other.post("/accounts/masuk", environ_base={"REMOTE_ADDR": f"10.0.0.{i}"}, data={
            "csrf_token": csrf_token(other), "email": "budi@sentra.test", "password": "Salah-sekali-99"})
        assert response.status_code == 401
    fourth = app.test_client()
    response = fourth.post("/accounts/masuk", environ_base={"REMOTE_ADDR": "10.0.0.9"}, data={
        "csrf_token": csrf_token(fourth), "email": "budi@sentra.test", "password": TEST_PASSWORD})
    assert response.status_code == 429
    assert db.session.scalar(sa.select(sa.func.count(LoginAttempt.id))) == 3


def test_unknown_identifier_is_throttled_like_a_real_account(client, csrf, kasir, time_machine):
    """No user enumeration through the throttle: same statuses and words for a known and an unknown e-mail."""
    time_machine.move_to(utcnow(), tick=False)
    answers = {}
    for email in ("budi@sentra.test", "siapa@sentra.test"):
        answers[email] = [staff_login(client, csrf, email, "Salah-sekali-99") for _ in range(4)]
    known, unknown = answers.values()
    assert [r.status_code for r in known] == [r.status_code for r in unknown] == [401, 401, 401, 429]
    for a, b in zip(known, unknown, strict=True):
        assert _message(a) == _message(b)


def _message(response) -> str:
    import re

    return re.search(r'id="password-err"[^>]*>([^<]*)<', text(response)).group(1)


def test_success_resets_the_count(client, csrf, kasir):
    fail(client, csrf, 2)
    assert staff_login(client, csrf, "budi@sentra.test", TEST_PASSWORD).status_code == 302
    client.post("/accounts/keluar", data={"csrf_token": csrf()})
    client.delete_cookie(DEVICE_COOKIE)
    # Two fresh free failures again: the earlier two were forgotten.
    fail(client, csrf, 2)
    third = staff_login(client, csrf, "budi@sentra.test", "Salah-sekali-99")
    assert third.status_code == 401 and "bisa dalam" in text(third)


def test_known_device_is_not_kept_out_by_failures_elsewhere(app, client, csrf, kasir, time_machine):
    time_machine.move_to(utcnow(), tick=False)
    assert staff_login(client, csrf, "budi@sentra.test", TEST_PASSWORD).status_code == 302
    assert client.get_cookie(DEVICE_COOKIE) is not None
    client.post("/accounts/keluar", data={"csrf_token": csrf()})

    attacker = app.test_client()
    from tests.conftest import csrf_token

    for _ in range(8):
        attacker.post("/accounts/masuk", environ_base={"REMOTE_ADDR": "198.51.100.66"}, data={
            "csrf_token": csrf_token(attacker), "email": "budi@sentra.test", "password": "Salah-sekali-99"})
        time_machine.shift(timedelta(minutes=16))  # the attacker waits out every delay
    # The owner's own browser (known device cookie), from a brand-new address, goes straight in.
    assert staff_login(client, csrf, "budi@sentra.test", TEST_PASSWORD,
                       environ_base={"REMOTE_ADDR": "203.0.113.200"}).status_code == 302


def test_known_address_is_not_kept_out_by_failures_elsewhere(app, client, csrf, kasir, time_machine):
    time_machine.move_to(utcnow(), tick=False)
    balai = {"REMOTE_ADDR": "203.0.113.9"}
    assert staff_login(client, csrf, "budi@sentra.test", TEST_PASSWORD, environ_base=balai).status_code == 302
    client.post("/accounts/keluar", data={"csrf_token": csrf()})
    client.delete_cookie(DEVICE_COOKIE)  # e.g. another browser at the same Balai

    elsewhere = {"REMOTE_ADDR": "198.51.100.66"}
    fail(client, csrf, 3, environ_base=elsewhere)
    assert staff_login(client, csrf, "budi@sentra.test", TEST_PASSWORD, environ_base=elsewhere).status_code == 429
    assert staff_login(client, csrf, "budi@sentra.test", TEST_PASSWORD, environ_base=balai).status_code == 302


def test_wrong_guesses_from_a_known_address_are_still_slowed(client, csrf, kasir, time_machine):
    time_machine.move_to(utcnow(), tick=False)
    balai = {"REMOTE_ADDR": "203.0.113.9"}
    assert staff_login(client, csrf, "budi@sentra.test", TEST_PASSWORD, environ_base=balai).status_code == 302
    client.post("/accounts/keluar", data={"csrf_token": csrf()})
    client.delete_cookie(DEVICE_COOKIE)
    fail(client, csrf, 3, environ_base=balai)
    assert staff_login(client, csrf, "budi@sentra.test", "Salah-sekali-99", environ_base=balai).status_code == 429


def test_a_forged_device_cookie_counts_as_no_device(client, csrf, kasir, time_machine):
    time_machine.move_to(utcnow(), tick=False)
    fail(client, csrf, 3)
    client.set_cookie(DEVICE_COOKIE, "eyJpZCI6ImFiYyIsImFjY291bnRzIjpbXX0.forged.sig")
    assert staff_login(client, csrf, "budi@sentra.test", TEST_PASSWORD).status_code == 429


def test_failures_from_one_address_never_refuse_a_correct_login_there(client, csrf, kasir, time_machine):
    """A whole Balai sits behind one connection: others' failures there never keep a colleague out."""
    time_machine.move_to(utcnow(), tick=False)
    balai = {"REMOTE_ADDR": "203.0.113.9"}
    for i in range(40):
        assert staff_login(client, csrf, f"tebak{i}@sentra.test", "Salah-sekali-99",
                           environ_base=balai).status_code == 401
    assert staff_login(client, csrf, "budi@sentra.test", TEST_PASSWORD, environ_base=balai).status_code == 302


def test_the_wait_grows_exponentially_and_is_capped(app):
    from accounts.throttle import delay_after

    waits = [delay_after(n).total_seconds() for n in range(1, 10)]
    assert waits == [0, 0, 30, 60, 120, 240, 480, 900, 900]
    assert delay_after(10_000).total_seconds() == app.config["LOGIN_MAX_DELAY_SECONDS"]


def block_maker_pin(client, csrf, phone, time_machine, wrong="975310"):
    """Ten wrong PINs from ten addresses, waiting out every delay: the cap is across addresses."""
    responses = []
    for i in range(10):
        responses.append(maker_login(client, csrf, phone, wrong, environ_base={"REMOTE_ADDR": f"10.1.0.{i}"}))
        time_machine.shift(timedelta(minutes=16))
    return responses


def test_maker_pin_is_blocked_after_ten_failures_across_addresses_until_staff_reset(
        client, csrf, maker_user, time_machine):
    from accounts.services import reset_maker_pin
    from core.alerts import StaffAlert

    time_machine.move_to(utcnow(), tick=False)
    responses = block_maker_pin(client, csrf, "0812 3456 7890", time_machine)
    assert [r.status_code for r in responses] == [401] * 9 + [403]
    assert BLOCKED in text(responses[-1]) and "Hubungi petugas Sentra" in text(responses[-1])
    # Blocked: the right PIN, from anywhere, any time later today, is not even checked.
    time_machine.shift(timedelta(hours=3))
    blocked = maker_login(client, csrf, "0812 3456 7890", TEST_PIN, environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert blocked.status_code == 403 and BLOCKED in text(blocked)

    [alert] = db.session.scalars(sa.select(StaffAlert)).all()
    assert alert.kind == "accounts.maker_pin_blocked" and alert.entity_id == str(maker_user.id)
    assert alert.sentra_id == maker_user.maker.sentra_id and "Bu Sri" in alert.message

    admin = UserFactory(role=Role.ADMIN)
    reset_maker_pin(admin, db.session.get(User, maker_user.id), "739182")
    db.session.commit()
    assert maker_login(client, csrf, "0812 3456 7890", "739182").status_code == 302
    client.post("/accounts/keluar", data={"csrf_token": csrf()})

    # A second block is a second alert (one alert per block).
    client.delete_cookie(DEVICE_COOKIE)
    block_maker_pin(client, csrf, "0812 3456 7890", time_machine)
    assert db.session.scalar(sa.select(sa.func.count(StaffAlert.id))) == 2


def test_a_known_device_does_not_raise_the_pin_cap(client, csrf, maker_user, time_machine):
    time_machine.move_to(utcnow(), tick=False)
    assert maker_login(client, csrf, "0812 3456 7890", TEST_PIN).status_code == 302
    client.post("/accounts/keluar", data={"csrf_token": csrf()})
    responses = block_maker_pin(client, csrf, "0812 3456 7890", time_machine)
    assert responses[-1].status_code == 403 and BLOCKED in text(responses[-1])


def test_unknown_phone_is_blocked_like_a_real_maker(client, csrf, maker_user, time_machine):
    from core.alerts import StaffAlert

    time_machine.move_to(utcnow(), tick=False)
    known = block_maker_pin(client, csrf, "0812 3456 7890", time_machine)
    unknown = block_maker_pin(client, csrf, "0813 0000 1111", time_machine)
    assert [r.status_code for r in known] == [r.status_code for r in unknown]
    assert BLOCKED in text(unknown[-1])
    assert db.session.scalar(sa.select(sa.func.count(StaffAlert.id))) == 1  # alerts only for a real maker


def test_bad_login_form_input_is_422_with_messages(client, csrf):
    response = client.post("/accounts/masuk", data={"csrf_token": csrf(), "email": "", "password": ""})
    assert response.status_code == 422
    assert "E-mail wajib diisi." in text(response) and "Kata sandi wajib diisi." in text(response)
    response = client.post("/accounts/masuk-pembuat", data={"csrf_token": csrf(), "phone": "0812", "pin": "12"})
    assert response.status_code == 422 and "PIN harus 6 angka." in text(response)
    assert db.session.scalar(sa.select(sa.func.count(LoginAttempt.id))) == 0


def test_logout_ends_the_session_and_old_cookies(app, client, csrf, kasir):
    staff_login(client, csrf, "budi@sentra.test", TEST_PASSWORD)
    with client.session_transaction() as sess:
        stolen = dict(sess)
    response = client.post("/accounts/keluar", data={"csrf_token": csrf()})
    assert response.status_code == 302
    assert client.get("/staf").status_code == 302

    # A copy of the old session cookie is worthless after logout.
    replay = app.test_client()
    with replay.session_transaction() as sess:
        sess.update(stolen)
    assert replay.get("/staf").status_code == 302
    db.session.refresh(kasir)
    assert db.session.get(User, kasir.id).session_version == 2


def test_logout_needs_post_with_csrf(client, login_as, kasir):
    login_as(kasir)
    assert client.get("/accounts/keluar").status_code == 405
    assert client.post("/accounts/keluar").status_code == 400
    assert client.get("/staf").status_code == 200


def test_anonymous_is_sent_to_the_right_login_page(client):
    response = client.get("/staf")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/accounts/masuk?next=/staf")


def test_idle_session_expires(app, client, csrf, kasir, monkeypatch):
    """The session cookie's signed timestamp is checked server-side (PERMANENT_SESSION_LIFETIME)."""
    staff_login(client, csrf, "budi@sentra.test", TEST_PASSWORD)
    assert client.get("/staf").status_code == 200
    monkeypatch.setitem(app.config, "PERMANENT_SESSION_LIFETIME", timedelta(seconds=-1))
    assert client.get("/staf").status_code == 302
