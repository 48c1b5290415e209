"""The Sentra: the tenant. Its "day" (shift, Z-report, daily report, sale numbers) is in its own time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from core.db import UTCDateTime, utcnow
from core.extensions import Model

DEFAULT_TIMEZONE = "Asia/Jakarta"


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
    #: shipped online goods nobody marked delivered: makers are paid this many days after shipping
    online_release_days: Mapped[int] = mapped_column(sa.Integer, default=14, server_default="14")
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

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone or DEFAULT_TIMEZONE)

    def local_date(self, moment: datetime | None = None) -> date:
        """The Sentra's local calendar day of an aware moment (now when None)."""
        return (moment or utcnow()).astimezone(self.zone).date()

    def day_bounds(self, day: date) -> tuple[datetime, datetime]:
        """The Sentra's local `day` as UTC bounds `[start, end)`."""
        start = datetime.combine(day, time.min, tzinfo=self.zone)
        end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=self.zone)
        return start.astimezone(UTC), end.astimezone(UTC)
