"""Login throttling that slows an attacker, not the owner.

Every check of a password or PIN goes through *gates* (rows of `LoginThrottle`, one per key).
Before the secret is checked, each gate is **claimed** by one conditional UPDATE
(`... SET failures = failures + 1 WHERE key = :k AND next_allowed_at <= :now AND blocked_at IS NULL`);
rowcount 1 means "you may check". The claim counts the attempt as a failure up front and a correct
secret resets it, so however many requests arrive at once (threads, gunicorn workers, hosts), the
number of checks never exceeds what the rules allow. On PostgreSQL the claimed row stays locked
until the request commits, so a concurrent claim waits and then sees the new count; on SQLite every
write transaction starts with BEGIN IMMEDIATE (core/db.py).

Rules (config.py, LOGIN_*):
- progressive delay per gate: the first LOGIN_FREE_FAILURES failures cost nothing, then each one
  makes the next check wait LOGIN_DELAY_SECONDS, doubled per further failure, at most
  LOGIN_MAX_DELAY_SECONDS. Failures older than LOGIN_FAILURE_WINDOW_HOURS are forgotten.
- a PIN cap (PIN_MAX_FAILURES within the window, across every address and device): the PIN is then
  blocked until staff reset it.

Which gates a login goes through is decided by the caller (accounts/services.py): a known device
or address only meets its own gate, so failures from elsewhere never block the owner.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from accounts.models import LoginThrottle
from core.db import UTCDateTime
from core.errors import DomainError
from core.extensions import db

KEY_MAX = 400  # LoginThrottle.key


class LoginThrottled(DomainError):
    status = 429
    title = "Terlalu banyak percobaan"


class PinBlocked(DomainError):
    status = 403
    title = "PIN diblokir"


@dataclass(frozen=True)
class Gate:
    key: str
    #: the wait grows with the failures (LOGIN_FREE_FAILURES free, then exponential, capped)
    progressive: bool = True
    #: block (until reset) after this many failures in the window; None: never block
    cap: int | None = None


def gate_key(*parts: str) -> str:
    """A key of at most KEY_MAX characters; long parts are replaced by their digest."""
    key = ":".join(parts)
    if len(key) <= KEY_MAX:
        return key
    return key[:200] + "#" + hashlib.sha256(key.encode()).hexdigest()


def delay_after(failures: int) -> timedelta:
    """How long the next check waits after `failures` failures in a row."""
    config = current_app.config
    free = config["LOGIN_FREE_FAILURES"]
    if failures < free:
        return timedelta(0)
    seconds = config["LOGIN_DELAY_SECONDS"] * 2 ** min(failures - free, 20)
    return timedelta(seconds=min(seconds, config["LOGIN_MAX_DELAY_SECONDS"]))


def wait_text(wait: timedelta) -> str:
    seconds = max(1, int(wait.total_seconds() + 0.999))
    if seconds < 60:
        return f"{seconds} detik"
    return f"{(seconds + 59) // 60} menit"


def _window_start(now: datetime) -> datetime:
    return now - timedelta(hours=current_app.config["LOGIN_FAILURE_WINDOW_HOURS"])


def _open_since(now: datetime) -> datetime:
    """A `next_allowed_at` that lets anyone in: well in the past, so that a concurrent request
    whose clock reading was taken a moment earlier (before it waited for the row) is not refused."""
    return now - timedelta(minutes=1)


def _ensure_rows(keys: list[str], now: datetime) -> None:
    dialect = db.session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    rows = [{"key": key, "failures": 0, "window_started_at": now, "next_allowed_at": _open_since(now)}
            for key in keys]
    db.session.execute(insert(LoginThrottle).values(rows).on_conflict_do_nothing(index_elements=["key"]))


def _claim_one(gate: Gate, now: datetime) -> int | None:
    """Count one attempt on this gate if it may be checked now; the new count, or None if refused."""
    T = LoginThrottle
    stale = T.window_started_at <= _window_start(now)
    counted = sa.case((stale, 0), else_=T.failures)
    conditions = [T.key == gate.key, T.next_allowed_at <= now, T.blocked_at.is_(None)]
    if gate.cap is not None:
        conditions.append(counted < gate.cap)
    row = db.session.execute(
        sa.update(T).where(*conditions)
        .values(failures=counted + 1,
                window_started_at=sa.case((stale, sa.literal(now, UTCDateTime())), else_=T.window_started_at))
        .returning(T.failures)
        .execution_options(synchronize_session=False)
    ).first()
    if row is None:
        return None
    failures = int(row[0])
    if gate.progressive and delay_after(failures):
        db.session.execute(
            sa.update(T).where(T.key == gate.key).values(next_allowed_at=now + delay_after(failures))
            .execution_options(synchronize_session=False)
        )
    return failures


@dataclass(frozen=True)
class Refusal:
    gate: Gate
    blocked: bool
    wait: timedelta


def claim(gates: list[Gate], now: datetime) -> Refusal | None:
    """Claim one check on every gate, or on none of them: the refusal (which gate, how long), if any.

    Gates are claimed in the given order; callers keep one order (most specific first) so two
    requests never wait on each other's rows in opposite orders.
    """
    _ensure_rows([g.key for g in gates], now)
    refused: Gate | None = None
    savepoint = db.session.begin_nested()
    for gate in gates:
        if _claim_one(gate, now) is None:
            refused = gate
            break
    if refused is None:
        savepoint.commit()
        return None
    savepoint.rollback()  # the gates claimed before the refusing one give their claim back
    row = db.session.execute(
        sa.select(LoginThrottle.failures, LoginThrottle.window_started_at, LoginThrottle.next_allowed_at,
                  LoginThrottle.blocked_at).where(LoginThrottle.key == refused.key)
    ).one()
    in_window = row.window_started_at > _window_start(now)
    blocked = row.blocked_at is not None or (
        refused.cap is not None and in_window and row.failures >= refused.cap)
    return Refusal(refused, blocked, max(row.next_allowed_at - now, timedelta(0)))


def next_wait(gates: list[Gate], now: datetime) -> timedelta:
    """The longest wait the gates now impose (shown with a failed attempt)."""
    later = db.session.scalar(
        sa.select(sa.func.max(LoginThrottle.next_allowed_at)).where(LoginThrottle.key.in_([g.key for g in gates]))
    )
    return max(later - now, timedelta(0)) if later is not None else timedelta(0)


def block_if_capped(gate: Gate, now: datetime) -> bool:
    """After a failure: block the gate once it reached its cap. True if this call blocked it."""
    if gate.cap is None:
        return False
    result = db.session.execute(
        sa.update(LoginThrottle)
        .where(LoginThrottle.key == gate.key, LoginThrottle.failures >= gate.cap, LoginThrottle.blocked_at.is_(None))
        .values(blocked_at=now).execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def blocked_at(key: str) -> datetime | None:
    return db.session.scalar(sa.select(LoginThrottle.blocked_at).where(LoginThrottle.key == key))


def reset(keys: list[str], now: datetime, *, unblock: bool = False) -> None:
    """Forget the failures on these gates (a correct secret; `unblock`: staff reset the PIN)."""
    conditions = [LoginThrottle.key.in_(keys)]
    if not unblock:
        conditions.append(LoginThrottle.blocked_at.is_(None))
    db.session.execute(
        sa.update(LoginThrottle).where(*conditions)
        .values(failures=0, window_started_at=now, next_allowed_at=_open_since(now), blocked_at=None)
        .execution_options(synchronize_session=False)
    )


# --- known devices ------------------------------------------------------------------------------
# A long-lived signed cookie set at a successful login: a random device id and a digest of each
# account that logged in on this browser. A correct login from such a device only meets the
# device's own gate, so an attacker elsewhere cannot keep the owner out.

DEVICE_COOKIE = "sentra_device"
DEVICE_ACCOUNTS_MAX = 20


def _serializer():
    from itsdangerous import URLSafeTimedSerializer

    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="sentra-known-device")


def account_digest(kind: str, identifier: str) -> str:
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, f"{kind}:{identifier}".encode(), hashlib.sha256).hexdigest()[:24]


def read_device(cookie: str | None) -> dict | None:
    """The device in this cookie ({"id": …, "accounts": [...]}), or None if absent, forged or expired."""
    if not cookie:
        return None
    from itsdangerous import BadSignature

    max_age = current_app.config["LOGIN_DEVICE_COOKIE_DAYS"] * 86400
    try:
        data = _serializer().loads(cookie, max_age=max_age)
    except BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("id"), str) or not isinstance(data.get("accounts"), list):
        return None
    return data


def known_device_id(cookie: str | None, kind: str, identifier: str) -> str | None:
    """The device id if this browser's cookie says this account logged in on it before."""
    device = read_device(cookie)
    if device is None or account_digest(kind, identifier) not in device["accounts"]:
        return None
    return device["id"][:64]


def device_cookie_value(cookie: str | None, kind: str, identifier: str) -> str:
    """The cookie to set after a successful login: this account added to the device's accounts."""
    import secrets

    device = read_device(cookie) or {"id": secrets.token_urlsafe(16), "accounts": []}
    digest = account_digest(kind, identifier)
    others = [a for a in device["accounts"] if a != digest][-(DEVICE_ACCOUNTS_MAX - 1):]
    accounts = [*others, digest]
    return _serializer().dumps({"id": device["id"], "accounts": accounts})


def set_device_cookie(response, value: str) -> None:
    """Put the known-device cookie on a login response (HttpOnly, SameSite=Lax, Secure in production)."""
    response.set_cookie(
        DEVICE_COOKIE, value, max_age=current_app.config["LOGIN_DEVICE_COOKIE_DAYS"] * 86400,
        httponly=True, samesite="Lax", secure=current_app.config.get("SESSION_COOKIE_SECURE", False),
    )


def prune_login_throttles(now: datetime) -> int:
    """Forget gates that hold nothing any more: no block, and the last failure window long over.
    (Login counters, not money: nothing of the ledger is ever deleted.)"""
    window = timedelta(hours=int(current_app.config["LOGIN_FAILURE_WINDOW_HOURS"]))
    result = db.session.execute(
        sa.delete(LoginThrottle).where(LoginThrottle.blocked_at.is_(None), LoginThrottle.next_allowed_at < now,
                                       LoginThrottle.window_started_at < now - window)
        .execution_options(synchronize_session=False))
    return int(result.rowcount)  # type: ignore[attr-defined]
