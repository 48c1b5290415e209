"""Admin pages: list users, create staff and maker logins, change access, reset a maker's PIN."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from accounts.models import LoginAttempt, Role, User, user_sentras
from accounts.services import authenticate_maker
from core.audit import AuditEntry
from core.extensions import db
from tests.factories import TEST_PIN, MakerFactory, MakerUserFactory, SentraFactory, UserFactory

STRONG_PASSWORD = "Batik-Ciprat-2026"


def row_counts() -> dict[str, int]:
    counts = {
        name: db.session.scalar(sa.select(sa.func.count()).select_from(table))
        for name, table in (("users", User.__table__), ("user_sentras", user_sentras),
                            ("audit_entries", AuditEntry.__table__), ("login_attempts", LoginAttempt.__table__))
    }
    db.session.rollback()
    return counts


def audit_entries(action: str) -> list[AuditEntry]:
    return list(db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == action)))


@pytest.fixture
def admin(login_as):
    user = UserFactory(role=Role.ADMIN, name="Admin Pusat")
    login_as(user)
    return user


@pytest.fixture
def sentras():
    return SentraFactory(code="TMG"), SentraFactory(code="BKS")


# --- list ---------------------------------------------------------------------------------------

def test_user_list_filters_by_role_sentra_and_search(client, admin, sentras):
    tmg, bks = sentras
    UserFactory(name="Budi Kasir", email="budi@sentra.test", sentras=[tmg])
    UserFactory(name="Dewi Manajer", role=Role.MANAGER, sentras=[bks])
    MakerUserFactory(name="Bu Sri", phone="6281234567890", maker__phone="6281234567890", maker__sentra=tmg)

    page = client.get("/accounts/pengguna").get_data(as_text=True)
    assert all(name in page for name in ("Budi Kasir", "Dewi Manajer", "Bu Sri", "Admin Pusat"))

    by_role = client.get("/accounts/pengguna?role=manager").get_data(as_text=True)
    assert "Dewi Manajer" in by_role and "Budi Kasir" not in by_role

    by_sentra = client.get(f"/accounts/pengguna?sentra={tmg.id}").get_data(as_text=True)
    assert "Budi Kasir" in by_sentra and "Bu Sri" in by_sentra and "Dewi Manajer" not in by_sentra
    by_other_sentra = client.get(f"/accounts/pengguna?sentra={bks.id}").get_data(as_text=True)
    assert "Dewi Manajer" in by_other_sentra and "Bu Sri" not in by_other_sentra

    by_email = client.get("/accounts/pengguna?q=BUDI@").get_data(as_text=True)
    assert "Budi Kasir" in by_email and "Dewi Manajer" not in by_email

    by_phone = client.get("/accounts/pengguna?q=0812-3456").get_data(as_text=True)
    assert "Bu Sri" in by_phone and "Budi Kasir" not in by_phone

    nothing = client.get("/accounts/pengguna?q=%25_zzz&role=bogus&sentra=x")
    assert nothing.status_code == 200
    assert "Tidak ada pengguna yang cocok." in nothing.get_data(as_text=True)


def test_admin_menu_links_to_user_pages_only_for_admins(client, login_as, sentras):
    admin = UserFactory(role=Role.ADMIN)
    kasir = UserFactory(sentras=[sentras[0]])
    login_as(admin)
    assert "/accounts/pengguna" in client.get("/staf").get_data(as_text=True)
    login_as(kasir)
    assert "/accounts/pengguna" not in client.get("/staf").get_data(as_text=True)


@pytest.mark.parametrize("role", [Role.MANAGER, Role.KASIR])
def test_non_admin_staff_cannot_open_user_pages(client, login_as, sentras, role, csrf):
    user = UserFactory(role=role, sentras=[sentras[0]])
    login_as(user)
    assert client.get("/accounts/pengguna").status_code == 403
    before = row_counts()
    response = client.post("/accounts/pengguna/baru", data={
        "csrf_token": csrf(), "name": "Penyusup", "email": "x@sentra.test", "password": STRONG_PASSWORD,
        "role": "admin"})
    assert response.status_code == 403
    assert row_counts() == before


# --- create staff ---------------------------------------------------------------------------------

def test_admin_creates_kasir_with_sentras_and_audit_entry(client, admin, sentras, csrf):
    tmg, bks = sentras
    response = client.post("/accounts/pengguna/baru", data={
        "csrf_token": csrf(), "name": "Agus Pratama", "email": " Agus@Sentra.TEST ", "password": STRONG_PASSWORD,
        "role": "kasir", "sentra_ids": [str(tmg.id), str(bks.id)]})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/accounts/pengguna")

    user = db.session.scalar(sa.select(User).where(User.email == "agus@sentra.test"))
    assert user.role == Role.KASIR and user.name == "Agus Pratama"
    assert user.sentra_ids == {tmg.id, bks.id}
    assert user.check_password(STRONG_PASSWORD) and STRONG_PASSWORD not in user.password_hash
    [entry] = audit_entries("user.create")
    assert entry.actor_id == admin.id and entry.entity_type == "User" and entry.entity_id == str(user.id)
    assert entry.after["role"] == "kasir" and entry.after["sentras"] == ["BKS", "TMG"]
    assert "password" not in entry.after


def test_admin_may_be_created_without_sentras(client, admin, csrf):
    response = client.post("/accounts/pengguna/baru", data={
        "csrf_token": csrf(), "name": "Admin Dua", "email": "admin2@sentra.test", "password": STRONG_PASSWORD,
        "role": "admin"})
    assert response.status_code == 302
    assert db.session.scalar(sa.select(User.role).where(User.email == "admin2@sentra.test")) == Role.ADMIN


STAFF_BAD_INPUT = [
    pytest.param({"email": "bukan-email"}, "Alamat e-mail tidak valid.", id="bad-email"),
    pytest.param({"email": "a@b"}, "Alamat e-mail tidak valid.", id="email-without-domain"),
    pytest.param({"email": ""}, "E-mail wajib diisi.", id="missing-email"),
    pytest.param({"email": "budi@sentra.test"}, "E-mail ini sudah dipakai akun lain.", id="duplicate-email"),
    pytest.param({"email": "BUDI@sentra.test"}, "E-mail ini sudah dipakai akun lain.", id="duplicate-email-case"),
    pytest.param({"password": "Pendek-12ab"}, "Kata sandi minimal 12 karakter.", id="short-password"),
    pytest.param({"password": "Password1234"}, "Kata sandi terlalu mudah ditebak", id="common-password"),
    pytest.param({"password": "sitiaminah2026"}, "Kata sandi terlalu mirip dengan nama", id="own-name"),
    pytest.param({"password": ""}, "Kata sandi wajib diisi.", id="missing-password"),
    pytest.param({"name": "  "}, "Nama wajib diisi.", id="missing-name"),
    pytest.param({"name": "x" * 121}, "Nama maksimal 120 karakter.", id="long-name"),
    pytest.param({"role": "maker"}, "Pilih peran dari daftar.", id="role-not-staff"),
    pytest.param({"role": "superuser"}, "Pilih peran dari daftar.", id="unknown-role"),
    pytest.param({"sentra_ids": ["999999"]}, "Sentra tidak dikenal.", id="unknown-sentra"),
    pytest.param({"sentra_ids": ["abc"]}, "Sentra tidak dikenal.", id="non-numeric-sentra"),
    pytest.param({"sentra_ids": []}, "Pilih minimal satu Sentra untuk staf ini.", id="kasir-without-sentra"),
]


@pytest.mark.parametrize(("override", "message"), STAFF_BAD_INPUT)
def test_bad_staff_input_shows_message_keeps_input_and_writes_nothing(client, admin, sentras, csrf,
                                                                     override, message):
    UserFactory(email="budi@sentra.test", sentras=[sentras[0]])
    data = {"name": "Siti Aminah", "email": "siti@sentra.test", "password": STRONG_PASSWORD, "role": "kasir",
            "sentra_ids": [str(sentras[0].id)], **override}
    before = row_counts()

    response = client.post("/accounts/pengguna/baru", data={"csrf_token": csrf(), **data})

    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'-err">{message}' in html  # next to the field
    # What was typed stays in the form, except the password.
    if data["name"].strip() and len(data["name"]) <= 120:
        assert f'value="{data["name"]}"' in html
    if data["email"]:
        assert f'value="{data["email"]}"' in html
    if data["password"]:
        assert data["password"] not in html
    assert row_counts() == before


# --- create maker login ---------------------------------------------------------------------------

def test_admin_creates_maker_login_that_works_with_pin(client, admin, sentras, csrf):
    maker = MakerFactory(sentra=sentras[0], name="Sri Rahayu")
    response = client.post("/accounts/pengguna/baru-pembuat", data={
        "csrf_token": csrf(), "maker_id": str(maker.id), "name": "Bu Sri", "phone": "0812-3456-7890",
        "pin": "582914"})
    assert response.status_code == 302

    user = db.session.scalar(sa.select(User).where(User.maker_id == maker.id))
    assert user.role == Role.MAKER and user.phone == "6281234567890" and user.email is None
    assert authenticate_maker("+62 812 3456 7890", "582914", "127.0.0.1").id == user.id
    [entry] = audit_entries("user.create")
    assert entry.actor_id == admin.id and entry.after["phone"] == "6281234567890"


def test_maker_form_lists_only_makers_without_login(client, admin, sentras):
    MakerFactory(sentra=sentras[0], name="Belum Punya Akun")
    MakerUserFactory(maker__name="Sudah Punya Akun")
    html = client.get("/accounts/pengguna/baru-pembuat").get_data(as_text=True)
    assert "Belum Punya Akun" in html and "Sudah Punya Akun" not in html


MAKER_BAD_INPUT = [
    pytest.param({"phone": "12345"}, "Nomor HP tidak valid.", id="bad-phone"),
    pytest.param({"phone": "0212345678"}, "Nomor HP tidak valid.", id="landline"),
    pytest.param({"phone": "0812 9999 0000"}, "Nomor HP ini sudah dipakai akun lain.", id="duplicate-phone"),
    pytest.param({"pin": "12345"}, "PIN harus 6 angka.", id="pin-5-digits"),
    pytest.param({"pin": "1234567"}, "PIN harus 6 angka.", id="pin-7-digits"),
    pytest.param({"pin": "12a456"}, "PIN harus 6 angka.", id="pin-letters"),
    pytest.param({"pin": "111111"}, "PIN terlalu mudah ditebak", id="pin-repeated"),
    pytest.param({"pin": "123456"}, "PIN terlalu mudah ditebak", id="pin-ascending"),
    pytest.param({"pin": "987654"}, "PIN terlalu mudah ditebak", id="pin-descending"),
    pytest.param({"maker_id": "999999"}, "Pilih data pembuat (PM) yang sudah terdaftar.", id="unknown-maker"),
    pytest.param({"maker_id": ""}, "Pilih data pembuat (PM) yang sudah terdaftar.", id="no-maker"),
    pytest.param({"maker_id": "abc"}, "Pilih data pembuat (PM) yang sudah terdaftar.", id="non-numeric-maker"),
    pytest.param({"maker_id": "taken"}, "Pembuat ini sudah punya akun.", id="maker-has-login"),
    pytest.param({"name": ""}, "Nama wajib diisi.", id="missing-name"),
]


@pytest.mark.parametrize(("override", "message"), MAKER_BAD_INPUT)
def test_bad_maker_input_shows_message_keeps_input_and_writes_nothing(client, admin, sentras, csrf,
                                                                     override, message):
    maker = MakerFactory(sentra=sentras[0])
    taken = MakerUserFactory(phone="6281299990000", maker__phone="6281299990000")
    data = {"maker_id": str(maker.id), "name": "Bu Sri", "phone": "0812 3456 7890", "pin": "582914", **override}
    if data["maker_id"] == "taken":
        data["maker_id"] = str(taken.maker_id)
    before = row_counts()

    response = client.post("/accounts/pengguna/baru-pembuat", data={"csrf_token": csrf(), **data})

    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html
    if data["name"]:
        assert f'value="{data["name"]}"' in html
    assert f'value="{data["phone"]}"' in html
    assert f'value="{data["pin"]}"' not in html
    assert row_counts() == before


# --- access: role, Sentras, active ------------------------------------------------------------------

def test_role_change_is_audited_and_ends_the_users_sessions(app, client, admin, sentras, csrf):
    from tests.conftest import login

    tmg, bks = sentras
    kasir = UserFactory(name="Budi", sentras=[tmg])
    kasir_client = app.test_client()
    login(kasir_client, kasir)
    assert kasir_client.get("/staf").status_code == 200

    response = client.post(f"/accounts/pengguna/{kasir.id}/akses", data={
        "csrf_token": csrf(), "role": "manager", "sentra_ids": [str(bks.id)], "active": "y"})
    assert response.status_code == 302

    db.session.refresh(kasir)
    assert kasir.role == Role.MANAGER and kasir.sentra_ids == {bks.id}
    [entry] = audit_entries("user.update_access")
    assert entry.actor_id == admin.id
    assert entry.before == {"role": "kasir", "sentras": ["TMG"], "active": True}
    assert entry.after == {"role": "manager", "sentras": ["BKS"], "active": True}
    # The old session cookie no longer works: the session version moved on.
    assert kasir_client.get("/staf").status_code == 302


def test_deactivated_user_is_logged_out_and_cannot_log_in(app, client, admin, sentras, csrf):
    from tests.conftest import login
    from tests.factories import TEST_PASSWORD

    kasir = UserFactory(email="budi@sentra.test", sentras=[sentras[0]])
    kasir_client = app.test_client()
    login(kasir_client, kasir)
    response = client.post(f"/accounts/pengguna/{kasir.id}/akses", data={
        "csrf_token": csrf(), "role": "kasir", "sentra_ids": [str(sentras[0].id)]})
    assert response.status_code == 302
    assert kasir_client.get("/staf").status_code == 302

    fresh = app.test_client()
    token = _token_for(fresh)
    refused = fresh.post("/accounts/masuk", data={"csrf_token": token, "email": "budi@sentra.test",
                                                  "password": TEST_PASSWORD})
    assert refused.status_code == 401
    assert "Data masuk tidak cocok" in refused.get_data(as_text=True)


def _token_for(client) -> str:
    from tests.conftest import csrf_token

    return csrf_token(client)


def test_access_form_shows_current_values(client, admin, sentras):
    kasir = UserFactory(sentras=[sentras[1]])
    html = client.get(f"/accounts/pengguna/{kasir.id}/akses").get_data(as_text=True)
    assert f'value="{sentras[1].id}" id="sentra_ids-{sentras[1].id}" checked' in html
    assert '<option selected value="kasir">' in html


@pytest.mark.parametrize(("data", "message"), [
    pytest.param({"role": "manager", "sentra_ids": ["999999"]}, "Sentra tidak dikenal.", id="unknown-sentra"),
    pytest.param({"role": "manager"}, "Pilih minimal satu Sentra untuk staf ini.", id="no-sentra"),
    pytest.param({"role": "maker"}, "Pilih peran dari daftar.", id="staff-to-maker"),
    pytest.param({"role": "root"}, "Pilih peran dari daftar.", id="unknown-role"),
])
def test_bad_access_change_writes_nothing(client, admin, sentras, csrf, data, message):
    kasir = UserFactory(sentras=[sentras[0]])
    version = kasir.session_version
    before = row_counts()
    response = client.post(f"/accounts/pengguna/{kasir.id}/akses", data={"csrf_token": csrf(), "active": "y", **data})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert row_counts() == before
    db.session.refresh(kasir)
    assert kasir.role == Role.KASIR and kasir.sentra_ids == {sentras[0].id} and kasir.session_version == version


def test_admin_cannot_demote_or_disable_themselves(client, admin, csrf):
    response = client.post(f"/accounts/pengguna/{admin.id}/akses", data={"csrf_token": csrf(), "role": "kasir"})
    assert response.status_code == 422
    assert "tidak bisa menurunkan peran" in response.get_data(as_text=True)
    db.session.refresh(admin)
    assert admin.role == Role.ADMIN and admin.is_active_account


def test_maker_account_keeps_maker_role(client, admin, csrf):
    maker_user = MakerUserFactory()
    html = client.get(f"/accounts/pengguna/{maker_user.id}/akses").get_data(as_text=True)
    assert 'value="kasir"' not in html
    response = client.post(f"/accounts/pengguna/{maker_user.id}/akses",
                           data={"csrf_token": csrf(), "role": "admin", "active": "y"})
    assert response.status_code == 422
    db.session.refresh(maker_user)
    assert maker_user.role == Role.MAKER


def test_unknown_user_is_404(client, admin):
    assert client.get("/accounts/pengguna/999999/akses").status_code == 404
    assert client.get("/accounts/pengguna/999999/pin").status_code == 404


# --- PIN reset -------------------------------------------------------------------------------------

def test_pin_reset_unlocks_ends_sessions_and_is_audited(app, client, admin, csrf):
    from datetime import timedelta

    from core.db import utcnow
    from tests.conftest import login

    maker_user = MakerUserFactory(phone="6281234567890", maker__phone="6281234567890",
                                  locked_until=utcnow() + timedelta(minutes=10))
    maker_client = app.test_client()
    login(maker_client, maker_user)

    response = client.post(f"/accounts/pengguna/{maker_user.id}/pin", data={"csrf_token": csrf(), "pin": "739182"})
    assert response.status_code == 302

    db.session.refresh(maker_user)
    assert maker_user.check_pin("739182") and not maker_user.check_pin(TEST_PIN)
    assert maker_user.locked_until is None
    [entry] = audit_entries("user.reset_pin")
    assert entry.actor_id == admin.id and entry.entity_id == str(maker_user.id)
    assert "739182" not in str(entry.before) + str(entry.after)
    # The maker's open session ended; the new PIN logs in.
    assert not _still_logged_in(maker_client)
    assert authenticate_maker("0812 3456 7890", "739182", "127.0.0.1").id == maker_user.id


def _still_logged_in(test_client) -> bool:
    """True when the client's session cookie still names a valid, current user."""
    from accounts.services import load_user

    with test_client.session_transaction() as sess:
        user_id = sess.get("_user_id")
    return bool(user_id) and load_user(user_id) is not None


@pytest.mark.parametrize(("pin", "message"), [
    ("12345", "PIN harus 6 angka."),
    ("abcdef", "PIN harus 6 angka."),
    ("000000", "PIN terlalu mudah ditebak"),
    ("456789", "PIN terlalu mudah ditebak"),
    ("", "PIN wajib diisi."),
])
def test_bad_pin_reset_keeps_old_pin(client, admin, csrf, pin, message):
    maker_user = MakerUserFactory()
    before = row_counts()
    response = client.post(f"/accounts/pengguna/{maker_user.id}/pin", data={"csrf_token": csrf(), "pin": pin})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert row_counts() == before
    db.session.refresh(maker_user)
    assert maker_user.check_pin(TEST_PIN)


def test_pin_reset_is_only_for_maker_accounts(client, admin, sentras, csrf):
    kasir = UserFactory(sentras=[sentras[0]])
    assert client.get(f"/accounts/pengguna/{kasir.id}/pin").status_code == 404
    assert client.post(f"/accounts/pengguna/{kasir.id}/pin",
                       data={"csrf_token": csrf(), "pin": "739182"}).status_code == 404


def test_saving_unchanged_access_changes_nothing(app, client, admin, sentras, csrf):
    from tests.conftest import login

    kasir = UserFactory(sentras=[sentras[0]])
    kasir_client = app.test_client()
    login(kasir_client, kasir)
    before = row_counts()
    response = client.post(f"/accounts/pengguna/{kasir.id}/akses", data={
        "csrf_token": csrf(), "role": "kasir", "sentra_ids": [str(sentras[0].id)], "active": "y"})
    assert response.status_code == 302
    assert row_counts() == before
    assert kasir_client.get("/staf").status_code == 200


def test_admin_may_change_own_sentras_and_stay_logged_in(client, admin, sentras, csrf):
    response = client.post(f"/accounts/pengguna/{admin.id}/akses", data={
        "csrf_token": csrf(), "role": "admin", "sentra_ids": [str(sentras[1].id)], "active": "y"})
    assert response.status_code == 302
    assert client.get("/accounts/pengguna").status_code == 200
    [entry] = audit_entries("user.update_access")
    assert entry.after["sentras"] == ["BKS"]
