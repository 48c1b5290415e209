"""`flask users create-admin` and `flask demo load` through the CLI runner."""

from __future__ import annotations

import sqlalchemy as sa

from accounts.models import Role, User
from core.audit import AuditEntry
from core.extensions import db


def users() -> list[User]:
    found = list(db.session.scalars(sa.select(User)))
    db.session.rollback()
    return found


def test_create_admin_makes_an_admin_who_can_log_in(runner, client, csrf):
    result = runner.invoke(args=["users", "create-admin", "--email", "Kepala@Sentra.test", "--name", "Kepala Balai",
                                 "--password", "Batik-Ciprat-2026"])
    assert result.exit_code == 0, result.output
    assert "Admin dibuat: kepala@sentra.test" in result.output
    [admin] = users()
    assert admin.role == Role.ADMIN and admin.name == "Kepala Balai" and admin.sentras == []
    assert db.session.scalar(sa.select(AuditEntry.action)) == "user.create"

    response = client.post("/accounts/masuk", data={"csrf_token": csrf(), "email": "kepala@sentra.test",
                                                    "password": "Batik-Ciprat-2026"})
    assert response.status_code == 302 and response.headers["Location"] == "/staf"


def test_create_admin_prompts_for_missing_values(runner):
    result = runner.invoke(args=["users", "create-admin"],
                           input="admin@sentra.test\nAdmin Pusat\nBatik-Ciprat-2026\nBatik-Ciprat-2026\n")
    assert result.exit_code == 0, result.output
    assert [u.email for u in users()] == ["admin@sentra.test"]


def test_create_admin_refuses_a_weak_password(runner):
    result = runner.invoke(args=["users", "create-admin", "--email", "admin@sentra.test", "--name", "Admin",
                                 "--password", "rahasia"])
    assert result.exit_code != 0
    assert "Kata sandi minimal 12 karakter." in result.output
    assert users() == []


def test_create_admin_refuses_bad_email_and_duplicates(runner):
    bad = runner.invoke(args=["users", "create-admin", "--email", "bukan-email", "--name", "Admin",
                              "--password", "Batik-Ciprat-2026"])
    assert bad.exit_code != 0 and "Alamat e-mail tidak valid." in bad.output
    ok = runner.invoke(args=["users", "create-admin", "--email", "admin@sentra.test", "--name", "Admin",
                             "--password", "Batik-Ciprat-2026"])
    assert ok.exit_code == 0
    again = runner.invoke(args=["users", "create-admin", "--email", "ADMIN@sentra.test", "--name", "Admin 2",
                                "--password", "Batik-Ciprat-2026"])
    assert again.exit_code != 0 and "E-mail ini sudah dipakai akun lain." in again.output
    assert len(users()) == 1


def test_set_password_unlocks_and_ends_sessions(runner):
    from datetime import timedelta

    from core.db import utcnow
    from tests.factories import UserFactory

    user = UserFactory(role=Role.ADMIN, email="admin@sentra.test", locked_until=utcnow() + timedelta(minutes=9))
    version = user.session_version
    result = runner.invoke(args=["users", "set-password", "--email", "ADMIN@sentra.test",
                                 "--password", "Kartini-Temanggung-7"])
    assert result.exit_code == 0, result.output
    db.session.refresh(user)
    assert user.check_password("Kartini-Temanggung-7") and user.locked_until is None
    assert user.session_version == version + 1
    assert db.session.scalar(sa.select(AuditEntry.action)) == "user.reset_password"


def test_set_password_refuses_weak_passwords_and_unknown_users(runner):
    from tests.factories import TEST_PASSWORD, UserFactory

    user = UserFactory(role=Role.ADMIN, email="admin@sentra.test")
    weak = runner.invoke(args=["users", "set-password", "--email", "admin@sentra.test", "--password", "12345"])
    assert weak.exit_code != 0 and "Kata sandi minimal 12 karakter." in weak.output
    unknown = runner.invoke(args=["users", "set-password", "--email", "siapa@sentra.test",
                                  "--password", "Kartini-Temanggung-7"])
    assert unknown.exit_code != 0 and "Tidak ada akun" in unknown.output
    db.session.refresh(user)
    assert user.check_password(TEST_PASSWORD)
    assert db.session.scalar(sa.select(sa.func.count(AuditEntry.id))) == 0
