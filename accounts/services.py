"""Account rules: creating users, checking credentials with throttling, password and PIN rules."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from datetime import date, datetime, timedelta
from itertools import pairwise

import sqlalchemy as sa
from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash

from accounts.models import STAFF_ROLES, LoginAttempt, LoginThrottle, Role, User
from accounts.throttle import (
    Gate,
    LoginThrottled,
    PinBlocked,
    block_if_capped,
    blocked_at,
    claim,
    device_cookie_value,
    gate_key,
    known_device_id,
    next_wait,
    reset,
    wait_text,
)
from core.alerts import raise_alert
from core.audit import record_audit
from core.db import utcnow
from core.errors import DomainError, ValidationFailed
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


#: words anyone would try first against this application's accounts
APP_WORDS = ("sentra", "kreasi", "atensi", "balai", "kemensos", "kasir", "manajer", "admin")
PASSWORD_MIN, PASSWORD_MAX = 12, 128
#: zxcvbn's own cap on what it analyses (its run time grows fast with length)
ZXCVBN_MAX = 72


def _personal_words(*values: str | None) -> list[str]:
    words: list[str] = []
    for value in values:
        words += [w for w in re.split(r"[\W_]+", (value or "").lower()) if len(w) >= 3]
    return words


def password_problems(password: str, user_inputs: tuple[str | None, ...] | list[str | None] = ()) -> str | None:
    """Why this password is refused, or None (OWASP ASVS 5.0 §6.2).

    - at least 12 characters, at most 128 (long passphrases welcome; paste allowed);
    - no composition rules (no "must contain a digit");
    - refused when zxcvbn rates it below 3 of 4 ("safely unguessable": about 10^8 guesses or
      more). zxcvbn knows the common-password lists (and English words, names, keyboard patterns,
      dates, repeats, sequences), so "password1234" or "qwertyuiop123" score 1;
    - refused when the user's own name or e-mail (`user_inputs`), or this application's words,
      make up half of it or more ("budisantoso12" for Budi Santoso).
    Only the first 72 characters are rated (zxcvbn's limit); a longer passphrase whose first 72
    characters are weak is refused, which is what its owner would want to hear.
    """
    from zxcvbn import zxcvbn

    password = password or ""
    if len(password) < PASSWORD_MIN:
        return f"Kata sandi minimal {PASSWORD_MIN} karakter. Frasa beberapa kata mudah diingat dan kuat."
    if len(password) > PASSWORD_MAX:
        return f"Kata sandi maksimal {PASSWORD_MAX} karakter."
    personal = _personal_words(*user_inputs)
    rated = password[:ZXCVBN_MAX]
    result = zxcvbn(rated, user_inputs=[*personal, *APP_WORDS])
    if result["score"] < 3:
        return ("Kata sandi terlalu mudah ditebak (kata sandi umum, kata tunggal, atau pola seperti "
                "123/qwerty). Coba frasa beberapa kata.")
    covered = sum(len(m["token"]) for m in result["sequence"]
                  if m["pattern"] == "dictionary" and m.get("dictionary_name") == "user_inputs")
    if covered * 2 >= len(rated):
        return "Kata sandi terlalu mirip dengan nama, e-mail, atau nama aplikasi ini."
    return None


def _birth_date_forms(birth: date) -> set[str]:
    """6-digit forms of a date of birth someone might pick as a PIN."""
    dd, mm, yy, yyyy = f"{birth.day:02d}", f"{birth.month:02d}", f"{birth.year % 100:02d}", f"{birth.year:04d}"
    ddmmyyyy, yyyymmdd = dd + mm + yyyy, yyyy + mm + dd
    return {dd + mm + yy, yy + mm + dd, mm + dd + yy, ddmmyyyy[:6], ddmmyyyy[2:], yyyymmdd[:6], yyyymmdd[2:]}


def pin_problems(pin: str, *, birth_date: date | None = None, phones: tuple[str | None, ...] = ()) -> str | None:
    """Why this 6-digit PIN is refused, or None.

    Refused: all the same digit, a repeated pattern (121212, 123123), a run up or down with
    wrap-around (123456, 654321, 890123), the owner's date of birth in its usual 6-digit forms
    (DDMMYY, YYMMDD, MMDDYY, and DDMMYYYY / YYYYMMDD cut to 6 digits), the last 6 digits of their
    phone number. Used for makers' login PINs and managers' approval PINs alike.
    """
    if not PIN_PATTERN.match(pin or ""):
        return "PIN harus 6 angka."
    digits = [int(c) for c in pin]
    steps = {(b - a) % 10 for a, b in pairwise(digits)}
    if steps in ({1}, {9}) or any(pin == pin[:n] * (6 // n) for n in (1, 2, 3)):
        return "PIN terlalu mudah ditebak (angka sama, berulang, atau berurutan)."
    if birth_date is not None and pin in _birth_date_forms(birth_date):
        return "PIN terlalu mudah ditebak: jangan pakai tanggal lahir."
    for phone in phones:
        phone_digits = re.sub(r"\D", "", phone or "")
        if len(phone_digits) >= 6 and pin == phone_digits[-6:]:
            return "PIN terlalu mudah ditebak: jangan pakai 6 angka terakhir nomor HP."
    return None


def maker_pin_problems(pin: str, maker, phone: str | None) -> str | None:
    """Why a maker's PIN is refused (guessable from their birth date or phone numbers), or None."""
    return pin_problems(pin, birth_date=maker.birth_date if maker else None,
                        phones=(phone, maker.phone if maker else None))


# --- login throttling (accounts/throttle.py has the mechanism) -----------------------------------

IDENTIFIER_MAX = 254  # LoginAttempt.identifier
EMAIL, PHONE = "email", "phone"  # what an identifier is; staff and buyers share e-mail identifiers
PIN_BLOCKED_MESSAGE = ("PIN diblokir karena terlalu banyak percobaan yang salah. Hubungi petugas Sentra "
                       "untuk mengatur ulang PIN Anda.")


def _known_address(identifier: str, remote_addr: str, now: datetime) -> bool:
    """Did this account log in successfully from this address recently?"""
    since = now - timedelta(days=current_app.config["LOGIN_KNOWN_ADDRESS_DAYS"])
    return db.session.scalar(
        sa.select(LoginAttempt.id).where(
            LoginAttempt.identifier == identifier[:IDENTIFIER_MAX], LoginAttempt.remote_addr == remote_addr[:64],
            LoginAttempt.succeeded.is_(True), LoginAttempt.created_at >= since,
        ).limit(1)
    ) is not None


def _pin_cap_gate(kind: str, identifier: str) -> Gate:
    return Gate(gate_key("cap", kind, identifier), progressive=False,
                cap=current_app.config["PIN_MAX_FAILURES"])


def login_gates(kind: str, identifier: str, remote_addr: str, device_id: str | None, now: datetime, *,
                pin: bool = False) -> list[Gate]:
    """The gates a login attempt must claim, most specific first.

    - a known device (signed cookie from an earlier login of this account): its own gate only;
    - an address this account logged in from before: the (account, address) gate only;
    - anywhere else: the (account, address) gate and the account's gate.
    So failures from elsewhere slow the attacker without keeping the owner out, and no gate is
    shared by different accounts behind one address (a whole Balai behind one connection).
    A PIN also meets its cap (every address and device together), since 10^6 PINs are few.
    """
    if device_id:
        gates = [Gate(gate_key("dev", kind, identifier, device_id))]
    else:
        gates = [Gate(gate_key("addr", kind, identifier, remote_addr[:64]))]
        if not _known_address(identifier, remote_addr, now):
            gates.append(Gate(gate_key("acct", kind, identifier)))
    if pin:
        gates.append(_pin_cap_gate(kind, identifier))
    return gates


def _alert_pin_blocked(user: User, now: datetime) -> None:
    raise_alert(
        "accounts.maker_pin_blocked",
        f"PIN pembuat {user.name} ({user.phone}) diblokir setelah {current_app.config['PIN_MAX_FAILURES']} "
        "kali salah dalam sehari. Pastikan pembuatnya sendiri yang mencoba, lalu atur ulang PIN-nya "
        "(Pengguna & peran → Atur ulang PIN).",
        key=f"maker-pin-blocked:{user.id}:{now:%Y%m%dT%H%M%S%f}",
        entity=user, sentra_id=user.maker.sentra_id if user.maker else None,
    )


def _throttled_check(kind: str, identifier: str, remote_addr: str, device_cookie: str | None,
                     user: User | None, verify: Callable[[User], bool], secret: str, *, pin: bool,
                     now: datetime | None) -> User:
    """Claim the gates, check the secret, count the outcome; failures are kept (commit them on error)."""
    now = now or utcnow()
    device_id = known_device_id(device_cookie, kind, identifier)
    gates = login_gates(kind, identifier, remote_addr, device_id, now, pin=pin)
    refusal = claim(gates, now)
    if refusal is not None:
        if refusal.blocked:
            raise PinBlocked(PIN_BLOCKED_MESSAGE)
        raise LoginThrottled(f"Terlalu banyak percobaan masuk yang gagal. Demi keamanan, tunggu "
                             f"{wait_text(refusal.wait)} lalu coba lagi.", retry_after=refusal.wait.total_seconds())
    if user is None:
        _spend_hash_time(secret)
    if user is None or not verify(user):
        db.session.add(LoginAttempt(identifier=identifier[:IDENTIFIER_MAX], remote_addr=remote_addr[:64],
                                    succeeded=False, created_at=now))
        if pin and block_if_capped(gates[-1], now):
            if user is not None:
                _alert_pin_blocked(user, now)
                record_audit(None, "account.pin_blocked", user)
            db.session.flush()
            raise PinBlocked(PIN_BLOCKED_MESSAGE)
        db.session.flush()
        wait = next_wait(gates, now)
        detail = GENERIC_LOGIN_ERROR
        if wait:
            detail += f" Demi keamanan, percobaan berikutnya bisa dalam {wait_text(wait)}."
        raise LoginFailed(detail)
    reset([g.key for g in gates], now)
    db.session.add(LoginAttempt(identifier=identifier[:IDENTIFIER_MAX], remote_addr=remote_addr[:64],
                                succeeded=True, created_at=now))
    user.failed_logins = 0
    user.locked_until = None
    db.session.flush()
    return user


def _reset_account_gates(kind: str, identifier: str, now: datetime) -> None:
    """Staff reset a PIN or password: every gate of this account starts afresh (and is unblocked)."""
    db.session.execute(
        sa.update(LoginThrottle).where(sa.or_(
            LoginThrottle.key.in_([gate_key("acct", kind, identifier), gate_key("cap", kind, identifier)]),
            LoginThrottle.key.startswith(f"addr:{kind}:{identifier}:", autoescape=True),
            LoginThrottle.key.startswith(f"dev:{kind}:{identifier}:", autoescape=True),
        )).values(failures=0, window_started_at=now, next_allowed_at=now - timedelta(minutes=1), blocked_at=None)
        .execution_options(synchronize_session=False)
    )


def is_pin_blocked(user: User) -> bool:
    if user.role == Role.MAKER:
        if not user.phone:
            return False
        return blocked_at(gate_key("cap", PHONE, user.phone)) is not None
    return blocked_at(approval_gate(user).key) is not None


def approval_gate(user: User) -> Gate:
    """The manager's counter-approval PIN: a progressive delay and a cap, whatever the device."""
    return Gate(gate_key("cap", "approval", str(user.id)), progressive=True,
                cap=current_app.config["PIN_MAX_FAILURES"])


def remember_device(device_cookie: str | None, user: User) -> str:
    """The known-device cookie to set after `user` logged in on this browser."""
    if user.role == Role.MAKER:
        return device_cookie_value(device_cookie, PHONE, user.phone or "")
    return device_cookie_value(device_cookie, EMAIL, user.email or "")


_DUMMY_HASH: str | None = None


def _spend_hash_time(secret: str | None) -> None:
    """Check against a dummy hash, so an unknown user takes as long to refuse as a wrong password."""
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = generate_password_hash("not-a-real-account")
    check_password_hash(_DUMMY_HASH, secret or "")


def authenticate_by_email(email: str, password: str, remote_addr: str, *, accept: Callable[[User], bool],
                          device_cookie: str | None = None, now: datetime | None = None) -> User:
    """The user with this e-mail and password whom `accept` lets in through this form (throttled)."""
    identifier = (email or "").strip().lower()
    user = db.session.scalar(sa.select(User).where(User.email == identifier[:IDENTIFIER_MAX]))
    return _throttled_check(
        EMAIL, identifier, remote_addr, device_cookie, user,
        lambda u: accept(u) and u.is_active and u.check_password(password or ""), password, pin=False, now=now)


def authenticate_staff(email: str, password: str, remote_addr: str, device_cookie: str | None = None, *,
                       now: datetime | None = None) -> User:
    """The staff user for these credentials; failures are counted (commit them even on error)."""
    return authenticate_by_email(email, password, remote_addr, accept=lambda u: u.role in STAFF_ROLES,
                                 device_cookie=device_cookie, now=now)


def authenticate_maker(phone: str, pin: str, remote_addr: str, device_cookie: str | None = None, *,
                       now: datetime | None = None) -> User:
    try:
        identifier = normalise_phone(phone)
    except ValueError:
        identifier = (phone or "").strip()[:IDENTIFIER_MAX]
    user = db.session.scalar(sa.select(User).where(User.phone == identifier, User.role == Role.MAKER))
    return _throttled_check(PHONE, identifier, remote_addr, device_cookie, user,
                            lambda u: u.is_active and u.check_pin(pin or ""), pin, pin=True, now=now)


def create_user(
    actor: User | None,
    *,
    name: str,
    role: Role,
    email: str | None = None,
    password: str | None = None,
    sentra_ids: list[int] | None = None,
) -> User:
    """Create a staff or buyer user (e-mail + password). Maker logins: `makers.services.create_maker_login`."""
    from sentras.models import Sentra

    errors: dict[str, str] = {}
    role = Role(role)
    name = (name or "").strip()
    if not name:
        errors["name"] = "Nama wajib diisi."
    if role == Role.MAKER:
        raise ValueError("maker logins are created by makers.services.create_maker_login")
    email = (email or "").strip().lower()
    if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
        errors["email"] = "Alamat e-mail tidak valid."
    elif db.session.scalar(sa.select(User.id).where(User.email == email)):
        errors["email"] = "E-mail ini sudah dipakai akun lain."
    if problem := password_problems(password or "", (name, email)):
        errors["password"] = problem
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

    assert password is not None  # checked above
    user = User(name=name, role=role, email=email, phone=None, maker_id=None)
    user.set_password(password)
    user.sentras = sentras
    db.session.add(user)
    db.session.flush()
    record_audit(actor, "user.create", user, after={"name": name, "role": role.value, "email": email,
                                                     "phone": None, "sentras": [s.code for s in sentras]})
    return user


def update_user_access(actor: User, user: User, *, role: Role, sentra_ids: list[int], active: bool) -> User:
    """Change a user's role, Sentras and active flag; any change ends the user's sessions."""
    from sentras.models import Sentra

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


def reset_maker_pin(actor: User, user: User, new_pin: str, *, now: datetime | None = None) -> User:
    """Give a maker a new PIN: lifts a PIN block and any wait, ends the maker's sessions."""
    if user.role != Role.MAKER:
        raise ValidationFailed({"pin": "PIN hanya untuk akun pembuat."})
    if problem := maker_pin_problems(new_pin, user.maker, user.phone):
        raise ValidationFailed({"pin": problem})
    was_blocked = is_pin_blocked(user)
    user.set_pin(new_pin)
    user.failed_logins = 0
    user.locked_until = None
    user.session_version += 1
    if user.phone:
        _reset_account_gates(PHONE, user.phone, now or utcnow())
    db.session.flush()
    record_audit(actor, "user.reset_pin", user, after={"unblocked": True} if was_blocked else None)
    return user


def set_approval_pin(actor: User | None, user: User, new_pin: str, *, now: datetime | None = None) -> User:
    """Set a manager's (or admin's) counter-approval PIN; lifts its block (admins reset it)."""
    if user.role not in (Role.MANAGER, Role.ADMIN):
        raise ValidationFailed({"pin": "PIN persetujuan hanya untuk manajer dan admin."})
    if problem := pin_problems(new_pin, phones=(user.phone,)):
        raise ValidationFailed({"pin": problem})
    was_blocked = is_pin_blocked(user)
    user.set_pin(new_pin)
    reset([approval_gate(user).key], now or utcnow(), unblock=True)
    db.session.flush()
    record_audit(actor, "user.reset_approval_pin", user, after={"unblocked": True} if was_blocked else None)
    return user


def reset_staff_password(actor: User | None, user: User, new_password: str, *, now: datetime | None = None) -> User:
    """Set a staff user's password (e.g. `flask users set-password`); lifts waits and ends sessions."""
    if user.role not in STAFF_ROLES:
        raise ValidationFailed({"password": "Kata sandi hanya untuk akun staf."})
    if problem := password_problems(new_password or "", (user.name, user.email)):
        raise ValidationFailed({"password": problem})
    user.set_password(new_password)
    user.failed_logins = 0
    user.locked_until = None
    user.session_version += 1
    if user.email:
        _reset_account_gates(EMAIL, user.email, now or utcnow())
    db.session.flush()
    record_audit(actor, "user.reset_password", user)
    return user


def end_sessions(user: User) -> None:
    """Invalidate every session cookie of `user` (logout everywhere)."""
    user.session_version += 1
    db.session.flush()


@functools.cache
def _user_with_sentras() -> sa.Select:
    """The user and their Sentras in one query (nearly every staff request checks access by them),
    built once (on first use: the mappers are configured by then)."""
    return sa.select(User).options(sa.orm.joinedload(User.sentras)).where(User.id == sa.bindparam("id"))


def load_user(user_id: str) -> User | None:
    """Flask-Login loader: `<id>:<session_version>`; a stale version logs the session out."""
    try:
        raw_id, raw_version = user_id.split(":")
        user = db.session.execute(_user_with_sentras(), {"id": int(raw_id)}).unique().scalar_one_or_none()
    except (ValueError, TypeError):
        return None
    if user is None or str(user.session_version) != raw_version or not user.is_active:
        return None
    return user
