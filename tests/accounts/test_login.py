"""Logging in and out: generic errors, lock-out counted in the database, per-address throttle, sessions."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from accounts.models import LoginAttempt, Role, User
from core.audit import AuditEntry
from core.db import utcnow
from core.extensions import db
from tests.factories import TEST_PASSWORD, TEST_PIN, MakerUserFactory, SentraFactory, UserFactory

LOCKED = "Akun dikunci sementara"
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


def test_staff_account_locks_after_five_failures(client, csrf, kasir):
    for _ in range(4):
        assert staff_login(client, csrf, "budi@sentra.test", "Salah-sekali-99").status_code == 401
    fifth = staff_login(client, csrf, "budi@sentra.test", "Salah-sekali-99")
    assert fifth.status_code == 401

    # Locked: even the right password is refused, with a message that says so.
    locked = staff_login(client, csrf, "budi@sentra.test", TEST_PASSWORD)
    assert locked.status_code == 429
    assert LOCKED in text(locked) and "15 menit" in text(locked)
    with client.session_transaction() as sess:
        assert "_user_id" not in sess
    db.session.refresh(kasir)
    assert kasir.locked_until > utcnow() + timedelta(minutes=14)
    assert db.session.scalar(sa.select(AuditEntry.action).where(AuditEntry.entity_id == str(kasir.id))) == (
        "account.locked")

    # After the lock period the right password works again.
    kasir.locked_until = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert staff_login(client, csrf, "budi@sentra.test", TEST_PASSWORD).status_code == 302
    db.session.refresh(kasir)
    assert kasir.failed_logins == 0 and kasir.locked_until is None


def test_maker_pin_locks_after_five_failures(client, csrf, maker_user):
    for pin in ("111111", "222222", "333333", "444444", "555555"):
        assert maker_login(client, csrf, "0812 3456 7890", pin).status_code == 401
    locked = maker_login(client, csrf, "0812 3456 7890", TEST_PIN)
    assert locked.status_code == 429 and LOCKED in text(locked)

    maker_user.locked_until = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert maker_login(client, csrf, "0812 3456 7890", TEST_PIN).status_code == 302


def test_failures_are_counted_in_the_database_across_clients(app, csrf, kasir):
    """Counted in the database, not in process memory: five clients, one failure each, still lock."""
    from tests.conftest import csrf_token

    for i in range(5):
        other = app.test_client()
        response = other.post("/accounts/masuk", environ_base={"REMOTE_ADDR": f"10.0.0.{i}"}, data={
            "csrf_token": csrf_token(other), "email": "budi@sentra.test", "password": "Salah-sekali-99"})
        assert response.status_code == 401
    db.session.refresh(kasir)
    assert kasir.locked_until is not None and kasir.locked_until > utcnow()
    assert db.session.scalar(sa.select(sa.func.count(LoginAttempt.id))) == 5


def test_unknown_identifier_locks_like_a_real_account(client, csrf):
    """No user enumeration through the lock-out: an unknown e-mail locks after as many failures."""
    for _ in range(5):
        assert staff_login(client, csrf, "siapa@sentra.test", "Salah-sekali-99").status_code == 401
    locked = staff_login(client, csrf, "siapa@sentra.test", "Salah-sekali-99")
    assert locked.status_code == 429 and LOCKED in text(locked)


def test_lock_after_success_resets_the_count(client, csrf, kasir):
    for _ in range(4):
        staff_login(client, csrf, "budi@sentra.test", "Salah-sekali-99")
    assert staff_login(client, csrf, "budi@sentra.test", TEST_PASSWORD).status_code == 302
    db.session.refresh(kasir)
    assert kasir.failed_logins == 0
    client.post("/accounts/keluar", data={"csrf_token": csrf()})
    assert staff_login(client, csrf, "budi@sentra.test", "Salah-sekali-99").status_code == 401
    db.session.refresh(kasir)
    assert kasir.failed_logins == 1 and kasir.locked_until is None


def test_too_many_failures_from_one_address_are_throttled(app, client, csrf, kasir):
    now = utcnow()
    limit = app.config["LOGIN_MAX_FAILURES_PER_IP"]
    db.session.add_all([
        LoginAttempt(identifier=f"tebak{i}@sentra.test", remote_addr="203.0.113.9", succeeded=False, created_at=now)
        for i in range(limit)
    ])
    db.session.commit()

    throttled = staff_login(client, csrf, "budi@sentra.test", TEST_PASSWORD,
                            environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert throttled.status_code == 429
    assert "Terlalu banyak percobaan masuk dari perangkat ini" in text(throttled)
    # The same account from another address is fine, and old failures age out of the window.
    assert staff_login(client, csrf, "budi@sentra.test", TEST_PASSWORD,
                       environ_base={"REMOTE_ADDR": "198.51.100.7"}).status_code == 302
    db.session.execute(sa.update(LoginAttempt).values(created_at=now - timedelta(hours=1)))
    db.session.commit()
    client.post("/accounts/keluar", data={"csrf_token": csrf()})
    assert staff_login(client, csrf, "budi@sentra.test", TEST_PASSWORD,
                       environ_base={"REMOTE_ADDR": "203.0.113.9"}).status_code == 302


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
