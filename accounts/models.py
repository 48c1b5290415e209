"""Users, roles and their Sentras; login attempts counted in the database."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from core.db import UTCDateTime, utcnow
from core.extensions import Model, db

if TYPE_CHECKING:
    from makers.models import Maker
    from sentras.models import Sentra


class Role(enum.StrEnum):
    ADMIN = "admin"
    MANAGER = "manager"
    KASIR = "kasir"
    MAKER = "maker"
    BUYER = "buyer"

    @property
    def label(self) -> str:
        return {
            "admin": "Admin",
            "manager": "Manajer",
            "kasir": "Kasir",
            "maker": "Pembuat (PM)",
            "buyer": "Pembeli",
        }[self.value]


STAFF_ROLES = frozenset({Role.ADMIN, Role.MANAGER, Role.KASIR})

user_sentras = sa.Table(
    "user_sentras",
    db.metadata,
    sa.Column("user_id", sa.ForeignKey("users.id"), primary_key=True),
    sa.Column("sentra_id", sa.ForeignKey("sentras.id"), primary_key=True),
)


class User(UserMixin, Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    role: Mapped[Role] = mapped_column(sa.Enum(Role, native_enum=False, length=16, validate_strings=True))
    #: staff and buyers log in by e-mail; unique among users who have one
    email: Mapped[str | None] = mapped_column(sa.String(254), unique=True)
    #: makers log in by phone (normalised to 62…); unique among users who have one
    phone: Mapped[str | None] = mapped_column(sa.String(20), unique=True)
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    pin_hash: Mapped[str | None] = mapped_column(sa.String(255))
    #: the maker record this login belongs to (role maker only)
    maker_id: Mapped[int | None] = mapped_column(sa.ForeignKey("makers.id"), unique=True)
    locale: Mapped[str] = mapped_column(sa.String(5), default="id")
    is_active_account: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    #: legacy hard lock-out (no longer set; throttling lives in `LoginThrottle`), cleared on resets
    failed_logins: Mapped[int] = mapped_column(sa.Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: bumped on logout/disable/PIN reset to end every existing session of this user
    session_version: Mapped[int] = mapped_column(sa.Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    sentras: Mapped[list[Sentra]] = relationship(secondary=user_sentras, order_by="Sentra.code")
    maker: Mapped[Maker | None] = relationship(foreign_keys=[maker_id])

    __table_args__ = (
        sa.CheckConstraint("failed_logins >= 0", name="failed_logins_non_negative"),
        sa.CheckConstraint("role <> 'maker' OR maker_id IS NOT NULL", name="maker_user_has_maker"),
    )

    def get_id(self) -> str:
        # The session version makes old session cookies invalid after logout-everywhere events.
        return f"{self.id}:{self.session_version}"

    @property
    def is_active(self) -> bool:
        return self.is_active_account

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def sentra_ids(self) -> set[int]:
        return {s.id for s in self.sentras}

    def can_access_sentra(self, sentra_id: int) -> bool:
        return self.role == Role.ADMIN or sentra_id in self.sentra_ids

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        if not self.password_hash:
            return False
        return check_password_hash(self.password_hash, password)

    def set_pin(self, pin: str) -> None:
        self.pin_hash = generate_password_hash(pin)

    def check_pin(self, pin: str) -> bool:
        if not self.pin_hash:
            return False
        return check_password_hash(self.pin_hash, pin)


class LoginAttempt(Model):
    """Every failed or successful login, for per-account lock-out and per-address throttling."""

    __tablename__ = "login_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the e-mail or phone typed (normalised), even if no such user exists
    identifier: Mapped[str] = mapped_column(sa.String(254), index=True)
    remote_addr: Mapped[str] = mapped_column(sa.String(64), index=True)
    succeeded: Mapped[bool] = mapped_column(sa.Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class LoginThrottle(Model):
    """One throttle per key ("account", "account at address", "account on device", "PIN cap").

    A secret is checked only after a conditional UPDATE claimed this row (see accounts/throttle.py),
    so concurrent guesses on any number of workers never get more checks than the rules allow.
    """

    __tablename__ = "login_throttles"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: e.g. "acct:staff:budi@sentra.test", "addr:maker:6281…|203.0.113.9", "cap:approval:12"
    key: Mapped[str] = mapped_column(sa.String(400), unique=True)
    #: failures counted since `window_started_at` (a claim counts as one until the secret proves right)
    failures: Mapped[int] = mapped_column(sa.Integer, default=0)
    window_started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: no check of the secret before this time (progressive delay)
    next_allowed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: set when a PIN reached its failure cap: no check at all until staff reset the PIN
    blocked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (sa.CheckConstraint("failures >= 0", name="failures_non_negative"),)
