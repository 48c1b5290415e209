"""Account rules: creating users, checking credentials with lock-out, PIN resets."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash

from accounts.models import STAFF_ROLES, LoginAttempt, Role, User
from core.audit import record_audit
from core.db import utcnow
from core.errors import AccountLocked, DomainError, ValidationFailed
from core.extensions import db

GENERIC_LOGIN_ERROR = "Data masuk tidak cocok. Periksa kembali lalu coba lagi."
PIN_PATTERN = re.compile(r"^\d{6}$")


class LoginFailed(DomainError):
    status = 401
    title = "Gagal masuk"


def normalise_phone(raw: str) -> str:
    """Indonesian mobile numbers as 62…: "0812-3456-7890", "+62 812 3456 7890" → "6281234567890"."""
    digits = re.sub(r"[\s\-().]", "", raw or "")
    if digits.startswith("+"):
        digits = digits[1:]
    if digits.startswith("0"):
        digits = "62" + digits[1:]
    if not re.fullmatch(r"628\d{7,11}", digits):
        raise ValueError("Nomor HP tidak valid. Contoh: 0812 3456 7890.")
    return digits


def password_problems(password: str) -> str | None:
    if len(password) < 10:
        return "Kata sandi minimal 10 karakter."
    if not (re.search(r"[A-Za-z]", password) and re.search(r"\d", password)):
        return "Kata sandi harus berisi huruf dan angka."
    if password.lower() in {"password123", "qwerty12345", "1234567890", "sentra12345"}:
        return "Kata sandi terlalu mudah ditebak."
    return None


def pin_problems(pin: str) -> str | None:
    if not PIN_PATTERN.match(pin or ""):
        return "PIN harus 6 angka."
    if len(set(pin)) == 1 or pin in "0123456789" or pin in "9876543210":
        return "PIN terlalu mudah ditebak (angka sama atau berurutan)."
    return None


def _locked_until(identifier: str, user: User | None) -> datetime | None:
    """When the lock on this account (or this unknown identifier) ends, if it is locked now.

    An identifier with no user behind it locks after the same number of failures, so the
    answers for "no such user" and "wrong password" stay indistinguishable (no enumeration).
    """
    now = utcnow()
    if user is not None:
        return user.locked_until if user.locked_until and user.locked_until > now else None
    lock = timedelta(minutes=current_app.config["LOGIN_LOCK_MINUTES"])
    recent = list(db.session.scalars(
        sa.select(LoginAttempt.created_at)
        .where(LoginAttempt.identifier == identifier[:IDENTIFIER_MAX], LoginAttempt.succeeded.is_(False),
               LoginAttempt.created_at >= now - lock)
        .order_by(LoginAttempt.created_at.desc())
        .limit(current_app.config["LOGIN_MAX_FAILURES"])
    ))
    if len(recent) >= current_app.config["LOGIN_MAX_FAILURES"]:
        return recent[0] + lock
    return None


def _check_throttle(identifier: str, remote_addr: str, user: User | None) -> None:
    now = utcnow()
    locked_until = _locked_until(identifier, user)
    if locked_until is not None:
        minutes = max(1, int((locked_until - now).total_seconds() // 60) + 1)
        raise AccountLocked(
            f"Terlalu banyak percobaan gagal. Akun dikunci sementara; coba lagi dalam {minutes} menit "
            "atau hubungi admin Sentra."
        )
    window_start = now - timedelta(minutes=current_app.config["LOGIN_LOCK_MINUTES"])
    failures_from_addr = db.session.scalar(
        sa.select(sa.func.count(LoginAttempt.id)).where(
            LoginAttempt.remote_addr == remote_addr,
            LoginAttempt.succeeded.is_(False),
            LoginAttempt.created_at >= window_start,
        )
    )
    if failures_from_addr >= current_app.config["LOGIN_MAX_FAILURES_PER_IP"]:
        raise AccountLocked("Terlalu banyak percobaan masuk dari perangkat ini. Tunggu beberapa menit lalu coba lagi.")


IDENTIFIER_MAX = 254  # LoginAttempt.identifier


def _register_failure(identifier: str, remote_addr: str, user: User | None) -> None:
    # Whatever was typed is recorded within the column's size (a 10,000-character "e-mail" was a 500).
    db.session.add(LoginAttempt(identifier=identifier[:IDENTIFIER_MAX], remote_addr=remote_addr[:64],
                                succeeded=False))
    if user is not None:
        # Conditional increment in SQL so concurrent workers never lose a failure.
        db.session.execute(
            sa.update(User).where(User.id == user.id).values(failed_logins=User.failed_logins + 1)
        )
        db.session.refresh(user)
        if user.failed_logins >= current_app.config["LOGIN_MAX_FAILURES"]:
            user.locked_until = utcnow() + timedelta(minutes=current_app.config["LOGIN_LOCK_MINUTES"])
            user.failed_logins = 0
            record_audit(None, "account.locked", user, after={"locked_until": user.locked_until})
    db.session.flush()


def _register_success(identifier: str, remote_addr: str, user: User) -> None:
    db.session.add(LoginAttempt(identifier=identifier, remote_addr=remote_addr, succeeded=True))
    user.failed_logins = 0
    user.locked_until = None
    db.session.flush()


_DUMMY_HASH: str | None = None


def _spend_hash_time(secret: str | None) -> None:
    """Check against a dummy hash, so an unknown user takes as long to refuse as a wrong password."""
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = generate_password_hash("not-a-real-account")
    check_password_hash(_DUMMY_HASH, secret or "")


def authenticate_staff(email: str, password: str, remote_addr: str) -> User:
    """The staff user for these credentials; failures are counted (commit them even on error)."""
    identifier = (email or "").strip().lower()
    user = db.session.scalar(sa.select(User).where(User.email == identifier))
    _check_throttle(identifier, remote_addr, user)
    if user is None:
        _spend_hash_time(password)
    ok = user is not None and user.check_password(password or "") and user.role in STAFF_ROLES and user.is_active
    if not ok:
        _register_failure(identifier, remote_addr, user)
        raise LoginFailed(GENERIC_LOGIN_ERROR)
    _register_success(identifier, remote_addr, user)
    return user


def authenticate_maker(phone: str, pin: str, remote_addr: str) -> User:
    try:
        identifier = normalise_phone(phone)
    except ValueError:
        identifier = (phone or "").strip()
    user = db.session.scalar(sa.select(User).where(User.phone == identifier, User.role == Role.MAKER))
    _check_throttle(identifier, remote_addr, user)
    if user is None:
        _spend_hash_time(pin)
    ok = user is not None and user.check_pin(pin or "") and user.is_active
    if not ok:
        _register_failure(identifier, remote_addr, user)
        raise LoginFailed(GENERIC_LOGIN_ERROR)
    _register_success(identifier, remote_addr, user)
    return user


def create_user(
    actor: User | None,
    *,
    name: str,
    role: Role,
    email: str | None = None,
    password: str | None = None,
    phone: str | None = None,
    pin: str | None = None,
    maker_id: int | None = None,
    sentra_ids: list[int] | None = None,
) -> User:
    """Create a staff user (e-mail + password) or a maker login (phone + PIN)."""
    from inventory.models import Maker, Sentra

    errors: dict[str, str] = {}
    role = Role(role)
    name = (name or "").strip()
    if not name:
        errors["name"] = "Nama wajib diisi."
    if role == Role.MAKER:
        try:
            phone = normalise_phone(phone or "")
        except ValueError as exc:
            errors["phone"] = str(exc)
        if problem := pin_problems(pin or ""):
            errors["pin"] = problem
        if maker_id is None or db.session.get(Maker, maker_id) is None:
            errors["maker_id"] = "Pilih data pembuat (PM) yang sudah terdaftar."
        elif db.session.scalar(sa.select(User.id).where(User.maker_id == maker_id)):
            errors["maker_id"] = "Pembuat ini sudah punya akun."
        if phone and "phone" not in errors and db.session.scalar(sa.select(User.id).where(User.phone == phone)):
            errors["phone"] = "Nomor HP ini sudah dipakai akun lain."
        email = None
    else:
        email = (email or "").strip().lower()
        if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
            errors["email"] = "Alamat e-mail tidak valid."
        elif db.session.scalar(sa.select(User.id).where(User.email == email)):
            errors["email"] = "E-mail ini sudah dipakai akun lain."
        if problem := password_problems(password or ""):
            errors["password"] = problem
        phone = None
    sentras = []
    if role in (Role.MANAGER, Role.KASIR):
        if not sentra_ids:
            errors["sentra_ids"] = "Pilih minimal satu Sentra untuk staf ini."
        else:
            sentras = list(db.session.scalars(sa.select(Sentra).where(Sentra.id.in_(sentra_ids)).order_by(Sentra.code)))
            if len(sentras) != len(set(sentra_ids)):
                errors["sentra_ids"] = "Sentra tidak dikenal."
    if errors:
        raise ValidationFailed(errors)

    user = User(name=name, role=role, email=email, phone=phone, maker_id=maker_id if role == Role.MAKER else None)
    if role == Role.MAKER:
        user.set_pin(pin)
    else:
        user.set_password(password)
    user.sentras = sentras
    db.session.add(user)
    db.session.flush()
    record_audit(actor, "user.create", user, after={"name": name, "role": role.value, "email": email,
                                                     "phone": phone, "sentras": [s.code for s in sentras]})
    return user


def update_user_access(actor: User, user: User, *, role: Role, sentra_ids: list[int], active: bool) -> User:
    """Change a user's role, Sentras and active flag; any change ends the user's sessions."""
    from inventory.models import Sentra

    role = Role(role)
    if (role == Role.MAKER) != (user.role == Role.MAKER):
        raise ValidationFailed({"role": "Akun pembuat dan akun staf tidak bisa saling diubah."})
    if user.id == actor.id and (role != Role.ADMIN or not active):
        raise ValidationFailed({"role": "Anda tidak bisa menurunkan peran atau menonaktifkan akun sendiri."})
    sentras = list(db.session.scalars(sa.select(Sentra).where(Sentra.id.in_(sentra_ids or [])).order_by(Sentra.code)))
    if len(sentras) != len(set(sentra_ids or [])):
        raise ValidationFailed({"sentra_ids": "Sentra tidak dikenal."})
    if role in (Role.MANAGER, Role.KASIR) and not sentras:
        raise ValidationFailed({"sentra_ids": "Pilih minimal satu Sentra untuk staf ini."})
    before = {"role": user.role.value, "sentras": [s.code for s in user.sentras], "active": user.is_active_account}
    after = {"role": role.value, "sentras": [s.code for s in sentras], "active": active}
    if after == before:
        return user  # nothing changed: no audit entry, nobody logged out
    user.role = role
    user.sentras = sentras
    user.is_active_account = active
    if user.id != actor.id:
        # Their open sessions end, so the new access applies at once (an admin editing their
        # own Sentras keeps working: they cannot lower their own role or disable themselves).
        user.session_version += 1
    db.session.flush()
    record_audit(actor, "user.update_access", user, before=before, after=after)
    return user


def reset_maker_pin(actor: User, user: User, new_pin: str) -> User:
    if user.role != Role.MAKER:
        raise ValidationFailed({"pin": "PIN hanya untuk akun pembuat."})
    if problem := pin_problems(new_pin):
        raise ValidationFailed({"pin": problem})
    user.set_pin(new_pin)
    user.failed_logins = 0
    user.locked_until = None
    user.session_version += 1
    db.session.flush()
    record_audit(actor, "user.reset_pin", user)
    return user


def reset_staff_password(actor: User | None, user: User, new_password: str) -> User:
    """Set a staff user's password (e.g. `flask users set-password`); unlocks and ends sessions."""
    if user.role not in STAFF_ROLES:
        raise ValidationFailed({"password": "Kata sandi hanya untuk akun staf."})
    if problem := password_problems(new_password or ""):
        raise ValidationFailed({"password": problem})
    user.set_password(new_password)
    user.failed_logins = 0
    user.locked_until = None
    user.session_version += 1
    db.session.flush()
    record_audit(actor, "user.reset_password", user)
    return user


def end_sessions(user: User) -> None:
    """Invalidate every session cookie of `user` (logout everywhere)."""
    user.session_version += 1
    db.session.flush()


def load_user(user_id: str) -> User | None:
    """Flask-Login loader: `<id>:<session_version>`; a stale version logs the session out."""
    try:
        raw_id, raw_version = user_id.split(":")
        user = db.session.get(User, int(raw_id))
    except (ValueError, TypeError):
        return None
    if user is None or str(user.session_version) != raw_version or not user.is_active:
        return None
    return user
