"""Counter shifts (sesi kasir) and the daily visitor tally."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import UTCDateTime, enum_column, utcnow
from core.extensions import Model

if TYPE_CHECKING:
    from accounts.models import User
    from inventory.models import Product
    from sales.models import Sale
    from sentras.models import Sentra


class ShiftStatus(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class Shift(Model):
    __tablename__ = "pos_shifts"

    id: Mapped[int] = mapped_column(primary_key=True)
    sentra_id: Mapped[int] = mapped_column(sa.ForeignKey("sentras.id"), index=True)
    cashier_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    status: Mapped[ShiftStatus] = mapped_column(enum_column(ShiftStatus), default=ShiftStatus.OPEN)
    opening_float: Mapped[int] = mapped_column(sa.BigInteger)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: {"100000": 3, "50000": 2, ...} counted at close
    counted_denominations: Mapped[dict | None] = mapped_column(sa.JSON)
    counted_cash: Mapped[int | None] = mapped_column(sa.BigInteger)
    expected_cash: Mapped[int | None] = mapped_column(sa.BigInteger)
    #: counted − expected (negative = short)
    variance: Mapped[int | None] = mapped_column(sa.BigInteger)
    #: set only while open, so the unique index allows one open shift per kasir per Sentra
    open_marker: Mapped[int | None] = mapped_column(sa.Integer, default=1)

    sentra: Mapped[Sentra] = relationship()
    cashier: Mapped[User] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("sentra_id", "cashier_id", "open_marker", name="uq_pos_shifts_one_open"),
        sa.CheckConstraint("opening_float >= 0", name="opening_float_non_negative"),
        sa.CheckConstraint("(status = 'open') = (open_marker IS NOT NULL)", name="open_marker_matches_status"),
    )

    @property
    def is_open(self) -> bool:
        """Sales may be booked to it (`sales.services.CounterShift`)."""
        return self.status == ShiftStatus.OPEN


class VisitorTally(Model):
    """Visitors counted at the counter, per Sentra per local day."""

    __tablename__ = "visitor_tallies"

    sentra_id: Mapped[int] = mapped_column(sa.ForeignKey("sentras.id"), primary_key=True)
    business_date: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    count: Mapped[int] = mapped_column(sa.Integer, default=0)

    __table_args__ = (sa.CheckConstraint("count >= 0", name="count_non_negative"),)


class PosDevice(Model):
    """A browser that sells at a Sentra; its short code makes offline receipt numbers unique."""

    __tablename__ = "pos_devices"

    id: Mapped[int] = mapped_column(primary_key=True)
    sentra_id: Mapped[int] = mapped_column(sa.ForeignKey("sentras.id"), index=True)
    #: 4 characters of base32 (A–Z, 2–7), unique per Sentra: the middle part of <SENTRA>-<DEVICE>-<seq>
    code: Mapped[str] = mapped_column(sa.String(8))
    registered_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (sa.UniqueConstraint("sentra_id", "code", name="uq_pos_devices_sentra_code"),)


class StockConflict(Model):
    """An offline sale sold more pieces than the server had: the shortfall waits for a manager."""

    __tablename__ = "pos_stock_conflicts"

    id: Mapped[int] = mapped_column(primary_key=True)
    sentra_id: Mapped[int] = mapped_column(sa.ForeignKey("sentras.id"), index=True)
    sale_id: Mapped[int] = mapped_column(sa.ForeignKey("sales.id"), index=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("products.id"))
    #: pieces sold that the stock ledger did not have (the sale movement took only what existed)
    missing_qty: Mapped[int] = mapped_column(sa.Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    #: the found-stock ADJUSTMENT movement that resolved it
    adjustment_id: Mapped[int | None] = mapped_column(sa.ForeignKey("stock_movements.id"))
    note: Mapped[str] = mapped_column(sa.String(200), default="")

    sale: Mapped[Sale] = relationship()
    product: Mapped[Product] = relationship()
    resolved_by: Mapped[User | None] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("sale_id", "product_id", name="uq_pos_stock_conflicts_sale_product"),
        sa.CheckConstraint("missing_qty > 0", name="missing_qty_positive"),
    )


class PriceDifference(Model):
    """An offline sale charged a unit price other than the server's price at sync time."""

    __tablename__ = "pos_price_differences"

    id: Mapped[int] = mapped_column(primary_key=True)
    sentra_id: Mapped[int] = mapped_column(sa.ForeignKey("sentras.id"), index=True)
    sale_id: Mapped[int] = mapped_column(sa.ForeignKey("sales.id"), index=True)
    sale_line_id: Mapped[int] = mapped_column(sa.ForeignKey("sale_lines.id"), unique=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("products.id"))
    paid_price: Mapped[int] = mapped_column(sa.BigInteger)
    server_price: Mapped[int] = mapped_column(sa.BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    sale: Mapped[Sale] = relationship()
    product: Mapped[Product] = relationship()
