"""Sentras, makers (penerima manfaat) and their groups, products, and the stock ledger."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import UTCDateTime, utcnow
from core.extensions import Model

if TYPE_CHECKING:
    from accounts.models import User


def _enum(cls: type[enum.Enum], length: int = 24) -> sa.Enum:
    return sa.Enum(cls, native_enum=False, length=length, validate_strings=True,
                   values_callable=lambda e: [m.value for m in e])


class Sentra(Model):
    """A Sentra Kreasi ATENSI shop; its "day" is in its own time zone."""

    __tablename__ = "sentras"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: short code used in sale numbers, e.g. TMG in TMG-20261123-0042
    code: Mapped[str] = mapped_column(sa.String(8), unique=True)
    name: Mapped[str] = mapped_column(sa.String(160))
    #: the parent Balai / Balai Besar / Loka
    balai: Mapped[str] = mapped_column(sa.String(160))
    city: Mapped[str] = mapped_column(sa.String(80))
    province: Mapped[str] = mapped_column(sa.String(80))
    #: IANA zone: Asia/Jakarta (WIB), Asia/Makassar (WITA), Asia/Jayapura (WIT)
    timezone: Mapped[str] = mapped_column(sa.String(40), default="Asia/Jakarta")
    address: Mapped[str] = mapped_column(sa.Text, default="")
    opening_hours: Mapped[str] = mapped_column(sa.String(200), default="")
    about: Mapped[str] = mapped_column(sa.Text, default="")
    receipt_header: Mapped[str] = mapped_column(sa.Text, default="")
    receipt_footer: Mapped[str] = mapped_column(sa.Text, default="")
    #: VAT in basis points added on top of prices; 0 = prices include no tax (the default)
    tax_bps: Mapped[int] = mapped_column(sa.Integer, default=0)
    #: days before counter earnings become payable to makers
    hold_days: Mapped[int] = mapped_column(sa.Integer, default=7)
    #: flat delivery fee for online orders from this Sentra
    shipping_fee: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    is_active: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        sa.CheckConstraint("tax_bps >= 0 AND tax_bps <= 10000", name="tax_bps_range"),
        sa.CheckConstraint("hold_days >= 0", name="hold_days_non_negative"),
        sa.CheckConstraint("shipping_fee >= 0", name="shipping_fee_non_negative"),
    )

    @property
    def timezone_label(self) -> str:
        from core.i18n import TIMEZONE_LABELS

        return TIMEZONE_LABELS.get(self.timezone, self.timezone)


class Cluster(enum.StrEnum):
    ANAK = "anak"
    LANSIA = "lanjut_usia"
    DISABILITAS = "disabilitas"
    NAPZA = "napza"
    TUNA_SOSIAL = "tuna_sosial"

    @property
    def label(self) -> str:
        return {
            "anak": "Anak",
            "lanjut_usia": "Lanjut usia",
            "disabilitas": "Penyandang disabilitas",
            "napza": "Korban penyalahgunaan NAPZA",
            "tuna_sosial": "Tuna sosial & korban perdagangan orang",
        }[self.value]


class Program(enum.StrEnum):
    ATENSI = "atensi"
    PKH = "pkh"
    KUBE = "kube"
    PROKUS = "prokus"

    @property
    def label(self) -> str:
        return {"atensi": "ATENSI", "pkh": "PKH", "kube": "KUBE", "prokus": "Prokus"}[self.value]


class PayoutMethod(enum.StrEnum):
    CASH = "cash"
    BANK = "bank"
    EWALLET = "ewallet"
    SAVINGS = "savings"

    @property
    def label(self) -> str:
        return {"cash": "Tunai", "bank": "Transfer bank", "ewallet": "Dompet digital",
                "savings": "Simpan sebagai tabungan"}[self.value]


class Maker(Model):
    """A penerima manfaat who makes goods. Personal data is never public without consent."""

    __tablename__ = "makers"

    id: Mapped[int] = mapped_column(primary_key=True)
    sentra_id: Mapped[int] = mapped_column(sa.ForeignKey("sentras.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    #: the name shown publicly (receipts, shop) when consent is given, e.g. "Bu Sri"
    public_name: Mapped[str] = mapped_column(sa.String(120))
    cluster: Mapped[Cluster] = mapped_column(_enum(Cluster))
    program: Mapped[Program] = mapped_column(_enum(Program))
    phone: Mapped[str | None] = mapped_column(sa.String(20))
    birth_date: Mapped[date | None] = mapped_column(sa.Date)
    is_minor: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    #: guardian or pendamping (required for a minor)
    guardian_name: Mapped[str] = mapped_column(sa.String(120), default="")
    guardian_relation: Mapped[str] = mapped_column(sa.String(60), default="")
    story: Mapped[str] = mapped_column(sa.Text, default="")
    photo_path: Mapped[str | None] = mapped_column(sa.String(200))
    payout_method: Mapped[PayoutMethod] = mapped_column(_enum(PayoutMethod), default=PayoutMethod.CASH)
    bank_name: Mapped[str] = mapped_column(sa.String(80), default="")
    account_number: Mapped[str] = mapped_column(sa.String(40), default="")
    account_holder: Mapped[str] = mapped_column(sa.String(120), default="")
    ewallet_provider: Mapped[str] = mapped_column(sa.String(40), default="")
    ewallet_number: Mapped[str] = mapped_column(sa.String(20), default="")
    is_active: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    sentra: Mapped[Sentra] = relationship()
    consents: Mapped[list[Consent]] = relationship(back_populates="maker", order_by="Consent.id")

    __table_args__ = (
        sa.CheckConstraint("NOT is_minor OR guardian_name <> ''", name="minor_has_guardian"),
    )

    def has_consent(self, purpose: ConsentPurpose) -> bool:
        """True while a valid, unrevoked consent for `purpose` exists (a guardian's for a minor)."""
        return any(
            consent.purpose == purpose
            and consent.revoked_at is None
            and (not self.is_minor or consent.given_by == ConsentGiver.GUARDIAN)
            for consent in self.consents
        )


class ConsentPurpose(enum.StrEnum):
    RECEIPT_NAME = "receipt_name"
    SHOP_NAME = "shop_name"
    SHOP_STORY = "shop_story"
    SHOP_PHOTO = "shop_photo"

    @property
    def label(self) -> str:
        return {"receipt_name": "Nama di struk", "shop_name": "Nama di toko online",
                "shop_story": "Cerita di toko online", "shop_photo": "Foto di toko online"}[self.value]


class ConsentGiver(enum.StrEnum):
    MAKER = "maker"
    GUARDIAN = "guardian"


class Consent(Model):
    """One consent for one use, recorded with who gave it and who recorded it; revocable."""

    __tablename__ = "consents"

    id: Mapped[int] = mapped_column(primary_key=True)
    maker_id: Mapped[int] = mapped_column(sa.ForeignKey("makers.id"), index=True)
    purpose: Mapped[ConsentPurpose] = mapped_column(_enum(ConsentPurpose))
    given_by: Mapped[ConsentGiver] = mapped_column(_enum(ConsentGiver))
    given_by_name: Mapped[str] = mapped_column(sa.String(120))
    recorded_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    maker: Mapped[Maker] = relationship(back_populates="consents")


class GroupKind(enum.StrEnum):
    KUBE = "kube"
    CO_MAKERS = "co_makers"


class MakerGroup(Model):
    """A KUBE (group business) or co-makers of an item; proceeds split among members by weight."""

    __tablename__ = "maker_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    sentra_id: Mapped[int] = mapped_column(sa.ForeignKey("sentras.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    kind: Mapped[GroupKind] = mapped_column(_enum(GroupKind), default=GroupKind.KUBE)
    is_active: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    sentra: Mapped[Sentra] = relationship()
    members: Mapped[list[MakerGroupMember]] = relationship(
        back_populates="group", order_by="MakerGroupMember.maker_id", cascade="all, delete-orphan"
    )


class MakerGroupMember(Model):
    __tablename__ = "maker_group_members"

    group_id: Mapped[int] = mapped_column(sa.ForeignKey("maker_groups.id"), primary_key=True)
    maker_id: Mapped[int] = mapped_column(sa.ForeignKey("makers.id"), primary_key=True)
    #: relative share of the group's proceeds (e.g. 1, 1, 2)
    share_weight: Mapped[int] = mapped_column(sa.Integer)

    group: Mapped[MakerGroup] = relationship(back_populates="members")
    maker: Mapped[Maker] = relationship()

    __table_args__ = (sa.CheckConstraint("share_weight > 0", name="share_weight_positive"),)


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
    kind: Mapped[ProductKind] = mapped_column(_enum(ProductKind), default=ProductKind.GOODS)
    price: Mapped[int] = mapped_column(sa.BigInteger)
    maker_id: Mapped[int | None] = mapped_column(sa.ForeignKey("makers.id"), index=True)
    group_id: Mapped[int | None] = mapped_column(sa.ForeignKey("maker_groups.id"), index=True)
    split_mode: Mapped[SplitMode] = mapped_column(_enum(SplitMode), default=SplitMode.PERCENT)
    maker_share_bps: Mapped[int] = mapped_column(sa.Integer, default=0)
    maker_price: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    #: per unit, recovered by the Sentra before the split
    material_cost: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    #: services/tickets sellable online per date; NULL = unlimited
    daily_capacity: Mapped[int | None] = mapped_column(sa.Integer)
    is_published: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    is_active: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
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
    #: generated file name under UPLOAD_DIR (never the uploader's name)
    path: Mapped[str] = mapped_column(sa.String(200))
    position: Mapped[int] = mapped_column(sa.Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


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
    kind: Mapped[MovementKind] = mapped_column(_enum(MovementKind))
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
    split_mode: Mapped[SplitMode] = mapped_column(_enum(SplitMode))
    maker_share_bps: Mapped[int] = mapped_column(sa.Integer, default=0)
    maker_price: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    material_cost: Mapped[int] = mapped_column(sa.BigInteger, default=0)

    intake: Mapped[ConsignmentIntake] = relationship(back_populates="lines")
    product: Mapped[Product] = relationship()

    __table_args__ = (sa.CheckConstraint("qty > 0", name="intake_qty_positive"),)
