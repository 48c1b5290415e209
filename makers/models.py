"""Makers (penerima manfaat), their consents and payout details, and their groups (KUBE)."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import UTCDateTime, enum_column, utcnow
from core.extensions import Model

if TYPE_CHECKING:
    from sentras.models import Sentra


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
    cluster: Mapped[Cluster] = mapped_column(enum_column(Cluster))
    program: Mapped[Program] = mapped_column(enum_column(Program))
    phone: Mapped[str | None] = mapped_column(sa.String(20))
    birth_date: Mapped[date | None] = mapped_column(sa.Date)
    is_minor: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    #: guardian or pendamping (required for a minor)
    guardian_name: Mapped[str] = mapped_column(sa.String(120), default="")
    guardian_relation: Mapped[str] = mapped_column(sa.String(60), default="")
    story: Mapped[str] = mapped_column(sa.Text, default="")
    #: the portrait (full-size WebP, core.files): public only while a SHOP_PHOTO consent is valid
    photo_sha256: Mapped[str | None] = mapped_column(sa.String(64), sa.ForeignKey("stored_files.sha256"),
                                                     index=True)
    #: its 400 px thumbnail (set together with photo_sha256, by makers.services)
    photo_thumb_sha256: Mapped[str | None] = mapped_column(sa.String(64), sa.ForeignKey("stored_files.sha256"),
                                                           index=True)
    #: the portrait's file name under UPLOAD_DIR before photos moved into the database (history only)
    legacy_photo_path: Mapped[str | None] = mapped_column(sa.String(200))
    payout_method: Mapped[PayoutMethod] = mapped_column(enum_column(PayoutMethod), default=PayoutMethod.CASH)
    bank_name: Mapped[str] = mapped_column(sa.String(80), default="")
    account_number: Mapped[str] = mapped_column(sa.String(40), default="")
    account_holder: Mapped[str] = mapped_column(sa.String(120), default="")
    ewallet_provider: Mapped[str] = mapped_column(sa.String(40), default="")
    ewallet_number: Mapped[str] = mapped_column(sa.String(20), default="")
    is_active: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    sentra: Mapped[Sentra] = relationship("Sentra")
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
    purpose: Mapped[ConsentPurpose] = mapped_column(enum_column(ConsentPurpose))
    given_by: Mapped[ConsentGiver] = mapped_column(enum_column(ConsentGiver))
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
    kind: Mapped[GroupKind] = mapped_column(enum_column(GroupKind), default=GroupKind.KUBE)
    is_active: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    sentra: Mapped[Sentra] = relationship("Sentra")
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
