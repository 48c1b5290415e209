"""Sales shared by the counter (pos) and the shop: Sale, SaleLine, Payment, Refund.

A sale line keeps a snapshot of who made the goods and the split terms at the time of sale,
so the proceeds split is never recomputed from today's product settings.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import UTCDateTime, enum_column, utcnow
from core.extensions import Model
from inventory.models import SplitMode

if TYPE_CHECKING:
    from accounts.models import User
    from inventory.models import Product
    from makers.models import Maker, MakerGroup
    from sentras.models import Sentra


class Channel(enum.StrEnum):
    POS = "pos"
    ONLINE = "online"


class SaleStatus(enum.StrEnum):
    COMPLETED = "completed"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"

    @property
    def label(self) -> str:
        return {"completed": "Selesai", "partially_refunded": "Dikembalikan sebagian",
                "refunded": "Dikembalikan"}[self.value]


class PaymentMethod(enum.StrEnum):
    CASH = "cash"
    QRIS = "qris"
    CARD = "card"
    TRANSFER = "transfer"
    STRIPE = "stripe"

    @property
    def label(self) -> str:
        return {"cash": "Tunai", "qris": "QRIS", "card": "Kartu (EDC)", "transfer": "Transfer bank",
                "stripe": "Kartu online (Stripe)"}[self.value]


class Sale(Model):
    __tablename__ = "sales"

    #: not stored: True on the instance `record_sale` returns for a replayed key (the API says so)
    replayed = False

    id: Mapped[int] = mapped_column(primary_key=True)
    #: readable, unique per Sentra: <SENTRA>-<YYYYMMDD local>-<seq>, e.g. TMG-20261123-0042
    number: Mapped[str] = mapped_column(sa.String(40))
    sentra_id: Mapped[int] = mapped_column(sa.ForeignKey("sentras.id"), index=True)
    channel: Mapped[Channel] = mapped_column(enum_column(Channel))
    status: Mapped[SaleStatus] = mapped_column(enum_column(SaleStatus), default=SaleStatus.COMPLETED)
    #: the kasir (counter) or the staff/system user who booked an online order
    cashier_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    shift_id: Mapped[int | None] = mapped_column(sa.ForeignKey("pos_shifts.id"), index=True)
    #: the Sentra's local calendar day of the sale (its own time zone)
    business_date: Mapped[date] = mapped_column(sa.Date, index=True)
    #: client-generated idempotency key (UUID); one sale per key
    client_key: Mapped[str] = mapped_column(sa.String(80), unique=True)
    subtotal: Mapped[int] = mapped_column(sa.BigInteger)
    discount_total: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    #: sum of line totals (what the goods cost after discounts)
    total: Mapped[int] = mapped_column(sa.BigInteger)
    #: cash rounding (signed); amount paid = total + rounding
    rounding: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    #: unguessable token for the e-receipt link
    receipt_token: Mapped[str] = mapped_column(sa.String(43), unique=True)
    #: manager who approved a large discount on the spot
    discount_approved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    #: provisional receipt number printed by an offline POS device, <SENTRA>-<DEVICE>-<seq>
    offline_number: Mapped[str | None] = mapped_column(sa.String(40))
    #: when an offline device made the sale (its clock, clamped to the shift); None when online
    offline_sold_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    sentra: Mapped[Sentra] = relationship()
    cashier: Mapped[User | None] = relationship(foreign_keys=[cashier_id])
    lines: Mapped[list[SaleLine]] = relationship(back_populates="sale", order_by="SaleLine.id")
    payments: Mapped[list[Payment]] = relationship(back_populates="sale", order_by="Payment.id")
    refunds: Mapped[list[Refund]] = relationship(back_populates="sale", order_by="Refund.id")

    __table_args__ = (
        sa.UniqueConstraint("sentra_id", "number", name="uq_sales_sentra_number"),
        sa.UniqueConstraint("sentra_id", "offline_number", name="uq_sales_sentra_offline_number"),
        sa.CheckConstraint("subtotal >= 0 AND total >= 0 AND discount_total >= 0", name="amounts_non_negative"),
        sa.CheckConstraint("total = subtotal - discount_total", name="total_is_subtotal_less_discount"),
    )

    @property
    def amount_due(self) -> int:
        return self.total + self.rounding


class SaleLine(Model):
    __tablename__ = "sale_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    sale_id: Mapped[int] = mapped_column(sa.ForeignKey("sales.id"), index=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("products.id"), index=True)
    product_name: Mapped[str] = mapped_column(sa.String(160))
    sku: Mapped[str] = mapped_column(sa.String(40))
    category: Mapped[str] = mapped_column(sa.String(60))
    is_stock_tracked: Mapped[bool] = mapped_column(sa.Boolean)
    quantity: Mapped[int] = mapped_column(sa.Integer)
    unit_price: Mapped[int] = mapped_column(sa.BigInteger)
    #: discount on the whole line, in rupiah
    discount: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    line_total: Mapped[int] = mapped_column(sa.BigInteger)
    # Snapshot of the maker (or group) and split terms at the time of sale.
    maker_id: Mapped[int | None] = mapped_column(sa.ForeignKey("makers.id"), index=True)
    group_id: Mapped[int | None] = mapped_column(sa.ForeignKey("maker_groups.id"), index=True)
    split_mode: Mapped[SplitMode] = mapped_column(enum_column(SplitMode))
    maker_share_bps: Mapped[int] = mapped_column(sa.Integer)
    #: per unit
    maker_price: Mapped[int] = mapped_column(sa.BigInteger)
    #: per unit
    material_cost: Mapped[int] = mapped_column(sa.BigInteger)
    #: for services/tickets bought online for a date
    service_date: Mapped[date | None] = mapped_column(sa.Date)

    sale: Mapped[Sale] = relationship(back_populates="lines")
    product: Mapped[Product] = relationship()
    maker: Mapped[Maker | None] = relationship()
    group: Mapped[MakerGroup | None] = relationship()

    __table_args__ = (
        sa.CheckConstraint("quantity > 0", name="quantity_positive"),
        sa.CheckConstraint("unit_price >= 0 AND discount >= 0", name="price_discount_non_negative"),
        sa.CheckConstraint("line_total = quantity * unit_price - discount", name="line_total_exact"),
        sa.CheckConstraint("line_total >= 0", name="line_total_non_negative"),
        sa.CheckConstraint("(maker_id IS NULL) <> (group_id IS NULL)", name="one_maker_or_group"),
    )


class Payment(Model):
    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    sale_id: Mapped[int] = mapped_column(sa.ForeignKey("sales.id"), index=True)
    method: Mapped[PaymentMethod] = mapped_column(enum_column(PaymentMethod))
    #: amount applied to the sale (cash: after rounding, excluding change)
    amount: Mapped[int] = mapped_column(sa.BigInteger)
    #: cash handed over by the buyer (cash only)
    tendered: Mapped[int | None] = mapped_column(sa.BigInteger)
    change: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    #: QRIS reference, EDC approval code, transfer reference, Stripe PaymentIntent id
    reference: Mapped[str] = mapped_column(sa.String(80), default="")

    sale: Mapped[Sale] = relationship(back_populates="payments")

    __table_args__ = (
        sa.CheckConstraint("amount > 0", name="amount_positive"),
        sa.CheckConstraint("change >= 0", name="change_non_negative"),
        sa.CheckConstraint("tendered IS NULL OR tendered = amount + change", name="tendered_is_amount_plus_change"),
    )


class Refund(Model):
    __tablename__ = "refunds"

    #: not stored: True on the instance `refund_sale` returns for a replayed key (the API says so)
    replayed = False

    id: Mapped[int] = mapped_column(primary_key=True)
    sale_id: Mapped[int] = mapped_column(sa.ForeignKey("sales.id"), index=True)
    client_key: Mapped[str] = mapped_column(sa.String(80), unique=True)
    reason: Mapped[str] = mapped_column(sa.String(200))
    amount: Mapped[int] = mapped_column(sa.BigInteger)
    #: the tender the money went back by (may differ from the sale's)
    method: Mapped[PaymentMethod] = mapped_column(enum_column(PaymentMethod))
    reference: Mapped[str] = mapped_column(sa.String(80), default="")
    #: goods went back on the shelf (False for damaged goods)
    restock: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    approved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    shift_id: Mapped[int | None] = mapped_column(sa.ForeignKey("pos_shifts.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    sale: Mapped[Sale] = relationship(back_populates="refunds")
    lines: Mapped[list[RefundLine]] = relationship(back_populates="refund", order_by="RefundLine.id")

    __table_args__ = (sa.CheckConstraint("amount > 0", name="amount_positive"),)


class RefundLine(Model):
    __tablename__ = "refund_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    refund_id: Mapped[int] = mapped_column(sa.ForeignKey("refunds.id"), index=True)
    sale_line_id: Mapped[int] = mapped_column(sa.ForeignKey("sale_lines.id"), index=True)
    quantity: Mapped[int] = mapped_column(sa.Integer)
    amount: Mapped[int] = mapped_column(sa.BigInteger)

    refund: Mapped[Refund] = relationship(back_populates="lines")
    sale_line: Mapped[SaleLine] = relationship()

    __table_args__ = (
        sa.CheckConstraint("quantity > 0", name="quantity_positive"),
        sa.CheckConstraint("amount >= 0", name="amount_non_negative"),
    )


class SaleNumberCounter(Model):
    """Last sale number issued per Sentra per local business day.

    Incremented by one atomic upsert inside the sale's own transaction, so numbers are gap-free
    (a rolled-back sale gives its number back) and two counters never get the same one.
    """

    __tablename__ = "sale_number_counters"

    sentra_id: Mapped[int] = mapped_column(sa.ForeignKey("sentras.id"), primary_key=True)
    business_date: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    last_number: Mapped[int] = mapped_column(sa.Integer, default=0)

    __table_args__ = (sa.CheckConstraint("last_number >= 0", name="last_number_non_negative"),)
