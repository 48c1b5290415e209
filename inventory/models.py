"""Products (goods and services/tickets), their photos, consignment intakes and the stock ledger."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import UTCDateTime, enum_column, utcnow
from core.extensions import Model
from makers.models import Maker, MakerGroup
from sentras.models import Sentra

if TYPE_CHECKING:
    from accounts.models import User


class ProductKind(enum.StrEnum):
    GOODS = "goods"
    SERVICE = "service"


class SplitMode(enum.StrEnum):
    #: maker gets `maker_share_bps` of (line total − material cost)
    PERCENT = "percent"
    #: maker gets `maker_price` per unit; the Sentra keeps the rest
    FIXED = "fixed"


class Product(Model):
    __tablename__ = "products"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the Sentra that took the goods in on consignment and sets the price
    sentra_id: Mapped[int] = mapped_column(sa.ForeignKey("sentras.id"), index=True)
    sku: Mapped[str] = mapped_column(sa.String(40), unique=True)
    #: EAN-13; an in-store code (prefix 2) is generated when the product has none
    barcode: Mapped[str] = mapped_column(sa.String(13), unique=True)
    name: Mapped[str] = mapped_column(sa.String(160))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    category: Mapped[str] = mapped_column(sa.String(60), index=True)
    kind: Mapped[ProductKind] = mapped_column(enum_column(ProductKind), default=ProductKind.GOODS)
    price: Mapped[int] = mapped_column(sa.BigInteger)
    maker_id: Mapped[int | None] = mapped_column(sa.ForeignKey("makers.id"), index=True)
    group_id: Mapped[int | None] = mapped_column(sa.ForeignKey("maker_groups.id"), index=True)
    split_mode: Mapped[SplitMode] = mapped_column(enum_column(SplitMode), default=SplitMode.PERCENT)
    maker_share_bps: Mapped[int] = mapped_column(sa.Integer, default=0)
    maker_price: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    #: per unit, recovered by the Sentra before the split
    material_cost: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    #: services/tickets sellable online per date; NULL = unlimited
    daily_capacity: Mapped[int | None] = mapped_column(sa.Integer)
    is_published: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    is_active: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    #: indexed: the shop shows the newest first (its home page reads only the first few)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    sentra: Mapped[Sentra] = relationship()
    maker: Mapped[Maker | None] = relationship()
    group: Mapped[MakerGroup | None] = relationship()
    photos: Mapped[list[ProductPhoto]] = relationship(order_by="ProductPhoto.position")

    __table_args__ = (
        sa.CheckConstraint("price >= 0", name="price_non_negative"),
        sa.CheckConstraint("(maker_id IS NULL) <> (group_id IS NULL)", name="one_maker_or_group"),
        sa.CheckConstraint("maker_share_bps >= 0 AND maker_share_bps <= 10000", name="share_bps_range"),
        sa.CheckConstraint("maker_price >= 0 AND maker_price <= price", name="maker_price_range"),
        sa.CheckConstraint("material_cost >= 0 AND material_cost <= price", name="material_cost_range"),
        sa.CheckConstraint("daily_capacity IS NULL OR daily_capacity > 0", name="daily_capacity_positive"),
    )

    @property
    def is_stock_tracked(self) -> bool:
        return self.kind == ProductKind.GOODS


class ProductPhoto(Model):
    __tablename__ = "product_photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("products.id"), index=True)
    #: the full-size WebP (core.files), public at its hash; NULL only for an old upload not yet
    #: moved into the database (`legacy_path`, `flask files import-uploads`)
    file_sha256: Mapped[str | None] = mapped_column(sa.String(64), sa.ForeignKey("stored_files.sha256"), index=True)
    #: its 400 px thumbnail (catalogue cards)
    thumb_sha256: Mapped[str | None] = mapped_column(sa.String(64), sa.ForeignKey("stored_files.sha256"), index=True)
    #: the file name it had under UPLOAD_DIR before photos moved into the database (history only)
    legacy_path: Mapped[str | None] = mapped_column(sa.String(200))
    position: Mapped[int] = mapped_column(sa.Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        sa.CheckConstraint("(file_sha256 IS NULL) = (thumb_sha256 IS NULL)", name="file_with_thumb"),
        sa.CheckConstraint("file_sha256 IS NOT NULL OR legacy_path IS NOT NULL", name="has_file"),
    )


class StockLevel(Model):
    """Cached stock of a product at a Sentra; always equals the sum of its movements."""

    __tablename__ = "stock_levels"

    product_id: Mapped[int] = mapped_column(sa.ForeignKey("products.id"), primary_key=True)
    sentra_id: Mapped[int] = mapped_column(sa.ForeignKey("sentras.id"), primary_key=True)
    qty: Mapped[int] = mapped_column(sa.Integer, default=0)

    __table_args__ = (sa.CheckConstraint("qty >= 0", name="qty_non_negative"),)


class MovementKind(enum.StrEnum):
    INTAKE = "intake"
    SALE = "sale"
    RETURN = "return"
    ADJUSTMENT = "adjustment"
    TRANSFER_OUT = "transfer_out"
    TRANSFER_IN = "transfer_in"
    RESERVATION = "reservation"
    RELEASE = "release"

    @property
    def label(self) -> str:
        return {"intake": "Titipan masuk", "sale": "Terjual", "return": "Retur", "adjustment": "Penyesuaian (opname)",
                "transfer_out": "Transfer keluar", "transfer_in": "Transfer masuk",
                "reservation": "Dipesan online", "release": "Pesanan dilepas"}[self.value]


class StockMovement(Model):
    """One row per change of stock; never updated or deleted."""

    __tablename__ = "stock_movements"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("products.id"), index=True)
    sentra_id: Mapped[int] = mapped_column(sa.ForeignKey("sentras.id"), index=True)
    kind: Mapped[MovementKind] = mapped_column(enum_column(MovementKind))
    #: signed: positive into the Sentra's stock, negative out of it
    qty_delta: Mapped[int] = mapped_column(sa.Integer)
    reason: Mapped[str] = mapped_column(sa.String(200), default="")
    #: what caused it, e.g. "sale:123", "intake:7", "order:55"
    reference: Mapped[str] = mapped_column(sa.String(80), default="")
    #: a manager flagged this as a discrepancy (e.g. a found piece at the counter)
    is_discrepancy: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    #: idempotency: one movement per (key, product) at most
    client_key: Mapped[str | None] = mapped_column(sa.String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    product: Mapped[Product] = relationship()

    __table_args__ = (
        sa.CheckConstraint("qty_delta <> 0", name="qty_delta_non_zero"),
        sa.UniqueConstraint("client_key", "product_id", "kind", name="uq_stock_movements_client_key"),
    )


class ConsignmentIntake(Model):
    """Goods a maker (or group) left at a Sentra on consignment; printed as a tanda terima."""

    __tablename__ = "consignment_intakes"

    id: Mapped[int] = mapped_column(primary_key=True)
    sentra_id: Mapped[int] = mapped_column(sa.ForeignKey("sentras.id"), index=True)
    maker_id: Mapped[int | None] = mapped_column(sa.ForeignKey("makers.id"), index=True)
    group_id: Mapped[int | None] = mapped_column(sa.ForeignKey("maker_groups.id"), index=True)
    #: the staff member who received the goods
    received_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    #: idempotency: a retried submission returns the first intake
    client_key: Mapped[str] = mapped_column(sa.String(80), unique=True)
    note: Mapped[str] = mapped_column(sa.String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    sentra: Mapped[Sentra] = relationship()
    maker: Mapped[Maker | None] = relationship()
    group: Mapped[MakerGroup | None] = relationship()
    received_by: Mapped[User] = relationship()
    lines: Mapped[list[ConsignmentIntakeLine]] = relationship(
        back_populates="intake", order_by="ConsignmentIntakeLine.id", cascade="all, delete-orphan"
    )

    __table_args__ = (
        sa.CheckConstraint("(maker_id IS NULL) <> (group_id IS NULL)", name="intake_one_maker_or_group"),
    )

    @property
    def number(self) -> str:
        return f"TT-{self.sentra.code}-{self.id:05d}"


class ConsignmentIntakeLine(Model):
    """One product taken in, with the price and split terms agreed at that moment (a snapshot)."""

    __tablename__ = "consignment_intake_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    intake_id: Mapped[int] = mapped_column(sa.ForeignKey("consignment_intakes.id"), index=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("products.id"), index=True)
    qty: Mapped[int] = mapped_column(sa.Integer)
    price: Mapped[int] = mapped_column(sa.BigInteger)
    split_mode: Mapped[SplitMode] = mapped_column(enum_column(SplitMode))
    maker_share_bps: Mapped[int] = mapped_column(sa.Integer, default=0)
    maker_price: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    material_cost: Mapped[int] = mapped_column(sa.BigInteger, default=0)

    intake: Mapped[ConsignmentIntake] = relationship(back_populates="lines")
    product: Mapped[Product] = relationship()

    __table_args__ = (sa.CheckConstraint("qty > 0", name="intake_qty_positive"),)
