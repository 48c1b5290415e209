"""Counter shifts, cash count, shift totals (Z-report), manager approval by PIN, visitor tally."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, cast

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from accounts.models import User
from accounts.services import approval_gate
from accounts.throttle import block_if_capped, claim, next_wait, reset, wait_text
from core.alerts import raise_alert
from core.audit import record_audit
from core.db import utcnow
from core.errors import Conflict, DomainError, Forbidden, ShiftClosed, ValidationFailed
from core.extensions import db
from pos.models import Shift, ShiftStatus, VisitorTally
from sales.models import Payment, PaymentMethod, Refund, Sale, SaleLine
from sales.services import is_manager_of
from sentras.models import Sentra

#: Indonesian banknotes and coins counted at shift close, largest first
DENOMINATIONS = (100_000, 50_000, 20_000, 10_000, 5_000, 2_000, 1_000, 500, 200, 100)
MAX_FLOAT = 100_000_000


def open_shift(actor: User, sentra: Sentra, opening_float: int) -> Shift:
    """Open a shift for `actor` at `sentra`; one open shift per kasir per Sentra."""
    if not isinstance(opening_float, int) or opening_float < 0 or opening_float > MAX_FLOAT:
        raise ValidationFailed({"opening_float": "Modal awal kas harus antara Rp 0 dan Rp 100.000.000."})
    if current_shift(actor, sentra.id) is not None:
        raise Conflict("Anda masih punya sesi kasir yang terbuka di Sentra ini. Tutup dulu sesi itu.")
    shift = Shift(sentra_id=sentra.id, cashier_id=actor.id, status=ShiftStatus.OPEN,
                  opening_float=opening_float, opened_at=utcnow(), open_marker=1)
    try:
        with db.session.begin_nested():
            db.session.add(shift)
            db.session.flush()
    except IntegrityError:
        raise Conflict("Anda masih punya sesi kasir yang terbuka di Sentra ini.") from None
    record_audit(actor, "shift.opened", shift, after={"opening_float": opening_float})
    return shift


def current_shift(user: User, sentra_id: int | None = None) -> Shift | None:
    """The user's open shift (at `sentra_id`, or the most recent one anywhere)."""
    query = sa.select(Shift).where(Shift.cashier_id == user.id, Shift.status == ShiftStatus.OPEN)
    if sentra_id is not None:
        query = query.where(Shift.sentra_id == sentra_id)
    return db.session.scalar(query.order_by(Shift.opened_at.desc()).limit(1))


def parse_denominations(counts: Mapping[str, Any]) -> dict[str, int]:
    """{"100000": "3", ...} → {"100000": 3, ...}; every denomination present, blanks as 0."""
    result: dict[str, int] = {}
    errors: dict[str, str] = {}
    for denom in DENOMINATIONS:
        raw = counts.get(str(denom), 0)
        raw = 0 if raw in (None, "") else raw
        try:
            value = int(raw)
        except (TypeError, ValueError):
            errors[f"d{denom}"] = f"Jumlah lembar/keping Rp {denom:,} harus angka bulat.".replace(",", ".")
            continue
        if value < 0 or value > 100_000:
            errors[f"d{denom}"] = f"Jumlah lembar/keping Rp {denom:,} tidak wajar.".replace(",", ".")
            continue
        result[str(denom)] = value
    if errors:
        raise ValidationFailed(errors)
    return result


@dataclass
class ShiftSummary:
    shift: Shift
    sale_count: int = 0
    gross: int = 0
    discounts: int = 0
    net: int = 0
    rounding: int = 0
    #: money received per tender (cash: applied amount, i.e. tendered minus change)
    by_tender: dict[str, int] = field(default_factory=dict)
    cash_tendered: int = 0
    cash_change: int = 0
    by_category: dict[str, int] = field(default_factory=dict)
    refund_count: int = 0
    refunds_by_tender: dict[str, int] = field(default_factory=dict)
    refunds_total: int = 0
    expected_cash: int = 0

    @property
    def tender_rows(self) -> list[tuple[str, int]]:
        return [(PaymentMethod(m).label, v) for m, v in sorted(self.by_tender.items())]

    @property
    def refund_rows(self) -> list[tuple[str, int]]:
        return [(PaymentMethod(m).label, v) for m, v in sorted(self.refunds_by_tender.items())]

    @property
    def received_total(self) -> int:
        return sum(self.by_tender.values())


def shift_summary(shift: Shift) -> ShiftSummary:
    """Totals of one shift from its sales, payments and refunds (the Z-report's numbers)."""
    summary = ShiftSummary(shift=shift)
    row = db.session.execute(
        sa.select(sa.func.count(Sale.id), sa.func.coalesce(sa.func.sum(Sale.subtotal), 0),
                  sa.func.coalesce(sa.func.sum(Sale.discount_total), 0),
                  sa.func.coalesce(sa.func.sum(Sale.total), 0), sa.func.coalesce(sa.func.sum(Sale.rounding), 0))
        .where(Sale.shift_id == shift.id)
    ).one()
    summary.sale_count, summary.gross, summary.discounts, summary.net, summary.rounding = (int(v) for v in row)
    for method, amount, tendered, change in db.session.execute(
        sa.select(Payment.method, sa.func.sum(Payment.amount), sa.func.coalesce(sa.func.sum(Payment.tendered), 0),
                  sa.func.sum(Payment.change))
        .join(Sale, Sale.id == Payment.sale_id).where(Sale.shift_id == shift.id).group_by(Payment.method)
    ):
        summary.by_tender[str(method)] = int(amount)
        if method == PaymentMethod.CASH:
            summary.cash_tendered, summary.cash_change = int(tendered), int(change)
    for category, total in db.session.execute(
        sa.select(SaleLine.category, sa.func.sum(SaleLine.line_total))
        .join(Sale, Sale.id == SaleLine.sale_id).where(Sale.shift_id == shift.id)
        .group_by(SaleLine.category).order_by(SaleLine.category)
    ):
        summary.by_category[category] = int(total)
    refunds: dict[str, int] = defaultdict(int)
    for refund in db.session.scalars(sa.select(Refund).where(Refund.shift_id == shift.id)):
        refunds[str(refund.method)] += refund.amount
        summary.refund_count += 1
    summary.refunds_by_tender = dict(refunds)
    summary.refunds_total = sum(refunds.values())
    summary.expected_cash = (shift.opening_float + summary.cash_tendered - summary.cash_change
                             - refunds.get(str(PaymentMethod.CASH), 0))
    return summary


def close_shift(actor: User, shift: Shift, counts: Mapping[str, Any]) -> Shift:
    """Close the shift with the cash counted per denomination; stores expected cash and variance."""
    if shift.status != ShiftStatus.OPEN:
        raise ShiftClosed("Sesi kasir ini sudah ditutup.")
    if shift.cashier_id != actor.id and not is_manager_of(actor, shift.sentra_id):
        raise Forbidden("Hanya kasir pemilik sesi atau manajer yang dapat menutup sesi ini.")
    denominations = parse_denominations(counts)
    counted = sum(int(d) * n for d, n in denominations.items())
    # Lock the shift row first, so a sale racing the close either lands before it or is refused.
    db.session.execute(
        sa.update(Shift).where(Shift.id == shift.id, Shift.status == ShiftStatus.OPEN)
        .values(status=ShiftStatus.OPEN).execution_options(synchronize_session=False)
    )
    summary = shift_summary(shift)
    shift.status = ShiftStatus.CLOSED
    shift.open_marker = None
    shift.closed_at = utcnow()
    shift.counted_denominations = denominations
    shift.counted_cash = counted
    shift.expected_cash = summary.expected_cash
    shift.variance = counted - summary.expected_cash
    db.session.flush()
    record_audit(actor, "shift.closed", shift, after={
        "counted_cash": counted, "expected_cash": summary.expected_cash, "variance": shift.variance,
        "denominations": denominations, "sales": summary.sale_count,
    })
    return shift


_shifts = cast(sa.Table, Shift.__table__)
#: a no-op UPDATE of an open shift's row: its lock (PostgreSQL) until the sale commits
_LOCK_OPEN_SHIFT = (sa.update(_shifts)
                    .where(_shifts.c.id == sa.bindparam("shift_id"), _shifts.c.status == ShiftStatus.OPEN)
                    .values(status=ShiftStatus.OPEN))


def lock_open_shift(shift: Shift) -> None:
    """Take the shift row's lock inside the sale's transaction and refuse a closed shift.

    `close_shift` updates the same row, so a sale and a close never interleave on PostgreSQL;
    SQLite serialises writers anyway.
    """
    result = db.session.connection().execute(_LOCK_OPEN_SHIFT, {"shift_id": shift.id})
    if result.rowcount != 1:
        db.session.refresh(shift)
        raise ShiftClosed("Sesi kasir ini sudah ditutup. Buka sesi baru untuk menjual.")


class WrongPin(Forbidden):
    """A wrong manager PIN; the boundary records the failure (and commits it) before answering."""

    def __init__(self, detail: str, *, user_id: int, **extra):
        super().__init__(detail, field="approver_pin", **extra)
        self.user_id = user_id


def _pin_identifier(user_id: int) -> str:
    return f"approval-pin:{user_id}"


def approve_with_pin(sentra_id: int, approver_id: Any, pin: str, *, now: datetime | None = None) -> User:
    """The manager (or admin) of this Sentra whose approval PIN was typed on the spot — never their
    login password, which must not be typed in front of the kasir.

    The check is gated by the manager's approval throttle (accounts.services.approval_gate,
    claimed atomically in the database): a few free failures, then a growing wait, and after
    PIN_MAX_FAILURES within a day the approval PIN is blocked until an admin resets it (a staff
    alert says so). A wrong PIN raises `WrongPin` with the failure already counted: the boundary
    must commit it (`checked_approver`), so call this before the request writes anything else.
    """
    try:
        user = db.session.get(User, int(approver_id)) if approver_id not in (None, "") else None
    except (TypeError, ValueError, OverflowError):
        user = None
    pin = (pin or "").strip()
    if user is None or not pin:
        raise Forbidden("Pilih manajer dan masukkan PIN manajer.", field="approver_pin")
    if not is_manager_of(user, sentra_id):
        raise Forbidden("Yang menyetujui harus manajer Sentra ini.", field="approver_id")
    if not user.pin_hash:
        raise Forbidden(f"{user.name} belum punya PIN persetujuan. Buat di menu \"PIN persetujuan saya\" "
                        "(atau minta admin), atau minta manajer lain.", field="approver_pin")
    now = now or utcnow()
    gate = approval_gate(user)
    blocked_text = (f"PIN persetujuan {user.name} diblokir karena terlalu banyak PIN salah. Minta admin "
                    "mengatur ulang PIN itu, atau minta manajer lain.")
    refusal = claim([gate], now)
    if refusal is not None:
        if refusal.blocked:
            raise Forbidden(blocked_text, field="approver_pin")
        raise Forbidden(f"Terlalu banyak PIN salah untuk {user.name}. Tunggu {wait_text(refusal.wait)} "
                        "lalu coba lagi, atau minta manajer lain.", field="approver_pin")
    if not user.check_pin(pin):
        if block_if_capped(gate, now):
            sentra_ids = sorted(user.sentra_ids)
            raise_alert(
                "pos.approval_pin_blocked",
                f"PIN persetujuan {user.name} diblokir setelah {current_app.config['PIN_MAX_FAILURES']} kali "
                "salah dalam sehari. Pastikan manajernya sendiri yang mencoba, lalu admin mengatur ulang PIN itu.",
                key=f"approval-pin-blocked:{user.id}:{now:%Y%m%dT%H%M%S%f}",
                entity=user, sentra_id=sentra_ids[0] if len(sentra_ids) == 1 else None,
            )
            raise WrongPin("PIN manajer salah. " + blocked_text, user_id=user.id)
        wait = next_wait([gate], now)
        detail = "PIN manajer salah."
        if wait:
            detail += f" Percobaan berikutnya bisa dalam {wait_text(wait)}."
        raise WrongPin(detail, user_id=user.id)
    reset([gate.key], now)
    return user


def record_pin_failure(error: WrongPin, remote_addr: str | None) -> None:
    """Log a wrong manager PIN (already counted by the throttle; the caller commits both)."""
    from accounts.models import LoginAttempt

    db.session.add(LoginAttempt(identifier=_pin_identifier(error.user_id), remote_addr=(remote_addr or "-")[:64],
                                succeeded=False))
    db.session.flush()


def managers_of(sentra: Sentra) -> list[User]:
    """Managers who can approve on the spot at this Sentra (its managers, then admins)."""
    from accounts.models import Role, user_sentras

    managers = db.session.scalars(
        sa.select(User).join(user_sentras, user_sentras.c.user_id == User.id)
        .where(user_sentras.c.sentra_id == sentra.id, User.role == Role.MANAGER, User.is_active_account.is_(True))
        .order_by(User.name)
    ).all()
    admins = db.session.scalars(
        sa.select(User).where(User.role == Role.ADMIN, User.is_active_account.is_(True)).order_by(User.name)
    ).all()
    return list(managers) + [a for a in admins if a not in managers]


def count_visitor(sentra: Sentra, delta: int = 1) -> tuple[date, int]:
    """Add `delta` visitors to today's tally at this Sentra (its own local day), atomically."""
    if delta not in (1, -1):
        raise DomainError("Penghitung pengunjung hanya bisa +1 atau -1.")
    today = sentra.local_date(utcnow())
    dialect = db.session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    if delta > 0:
        stmt = (
            insert(VisitorTally).values(sentra_id=sentra.id, business_date=today, count=1)
            .on_conflict_do_update(index_elements=["sentra_id", "business_date"],
                                   set_={"count": VisitorTally.count + 1})
            .returning(VisitorTally.count)
        )
        count = int(db.session.execute(stmt).scalar_one())
    else:
        left = db.session.execute(
            sa.update(VisitorTally)
            .where(VisitorTally.sentra_id == sentra.id, VisitorTally.business_date == today, VisitorTally.count > 0)
            .values(count=VisitorTally.count - 1).returning(VisitorTally.count)
        ).scalar()
        count = int(left) if left is not None else visitor_count(sentra)
    return today, count


def visitor_count(sentra: Sentra) -> int:
    today = sentra.local_date(utcnow())
    value = db.session.scalar(
        sa.select(VisitorTally.count).where(VisitorTally.sentra_id == sentra.id, VisitorTally.business_date == today)
    )
    return int(value or 0)
