"""The double-entry ledger, payout runs and the maker portal's last visit.

Sign convention: an entry's `amount` is signed rupiah, **debit positive, credit negative**; every
transaction's entries sum to zero. A maker's payable account is a liability, so what the Sentra
owes the maker is `-sum(amount)` of that account's entries. No balance is stored anywhere:
balances are sums of entries, so they cannot drift.

Ledger rows are immutable (the ORM refuses updates and deletes). The one exception is the hold
of an online sale: its maker entries are posted with `available_at = NULL` ("held until the
goods are delivered or picked up") and `release_online_hold` sets that timestamp once, from
NULL to a value, with a guarded UPDATE; nothing else about an entry ever changes.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import UTCDateTime, enum_column, utcnow
from core.extensions import Model
from core.files import StoredFile
from makers.models import PayoutMethod

if TYPE_CHECKING:
    from accounts.models import User
    from makers.models import Maker
    from sentras.models import Sentra


class AccountKind(enum.StrEnum):
    #: per maker: what the Sentra owes the maker (liability)
    MAKER_PAYABLE = "maker_payable"
    #: per maker: payouts kept as savings at the maker's request (liability)
    MAKER_SAVINGS = "maker_savings"
    #: per Sentra: the Sentra's own share (income)
    SENTRA_REVENUE = "sentra_revenue"
    #: per Sentra: material cost recovered before the split (income)
    MATERIALS_RECOVERED = "materials_recovered"
    #: per Sentra: cash in the drawer (asset)
    SENTRA_CASH = "sentra_cash"
    #: per Sentra and tender: QRIS, card EDC, bank transfer, Stripe money on its way (asset)
    PAYMENT_PROVIDER_CLEARING = "payment_provider_clearing"
    #: per Sentra: cash rounding (income/expense)
    ROUNDING = "rounding"
    #: per Sentra: sales recorded without a matching payment (should stay at zero)
    RECEIVABLE = "receivable"
    #: per Sentra and payout method: money paid out to makers (cash box, bank, e-wallet)
    PAYOUT_OUT = "payout_out"


class TransactionKind(enum.StrEnum):
    SALE = "sale"
    REFUND = "refund"
    PAYOUT = "payout"


class Component(enum.StrEnum):
    """What an entry is, so reports and payouts can find it without reading accounts."""

    MATERIAL = "material"
    MAKER = "maker"
    SENTRA = "sentra"
    TENDER = "tender"
    ROUNDING = "rounding"
    RECEIVABLE = "receivable"
    PAYOUT = "payout"


class LedgerAccount(Model):
    __tablename__ = "ledger_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: natural key, e.g. "maker_payable:m12", "payment_provider_clearing:s3:qris"
    key: Mapped[str] = mapped_column(sa.String(80), unique=True)
    kind: Mapped[AccountKind] = mapped_column(enum_column(AccountKind, 32))
    sentra_id: Mapped[int | None] = mapped_column(sa.ForeignKey("sentras.id"), index=True)
    maker_id: Mapped[int | None] = mapped_column(sa.ForeignKey("makers.id"), index=True)
    #: payment method or payout method for tender accounts; "" otherwise
    tender: Mapped[str] = mapped_column(sa.String(24), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LedgerTransaction(Model):
    """One posting: a sale, a refund or a payout; its entries sum to zero."""

    __tablename__ = "ledger_transactions"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[TransactionKind] = mapped_column(enum_column(TransactionKind))
    #: what caused it, e.g. "sale:TMG-20261123-0042", "refund:7", "payout-line:3"
    reference: Mapped[str] = mapped_column(sa.String(80))
    #: idempotency: one posting per cause ("sale:<id>", "refund:<id>", "payout-line:<id>")
    client_key: Mapped[str] = mapped_column(sa.String(80), unique=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    sentra_id: Mapped[int] = mapped_column(sa.ForeignKey("sentras.id"), index=True)
    #: the Sentra's local calendar day of the posting (reports group by it)
    business_date: Mapped[date] = mapped_column(sa.Date, index=True)
    sale_id: Mapped[int | None] = mapped_column(sa.ForeignKey("sales.id"), index=True)
    refund_id: Mapped[int | None] = mapped_column(sa.ForeignKey("refunds.id"), unique=True)
    payout_line_id: Mapped[int | None] = mapped_column(sa.ForeignKey("payout_lines.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    entries: Mapped[list[LedgerEntry]] = relationship(back_populates="transaction", order_by="LedgerEntry.id")


class LedgerEntry(Model):
    __tablename__ = "ledger_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    transaction_id: Mapped[int] = mapped_column(sa.ForeignKey("ledger_transactions.id"), index=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("ledger_accounts.id"), index=True)
    #: signed rupiah: debit positive, credit negative
    amount: Mapped[int] = mapped_column(sa.BigInteger)
    component: Mapped[Component] = mapped_column(enum_column(Component, 16))
    sentra_id: Mapped[int] = mapped_column(sa.ForeignKey("sentras.id"))
    #: set on maker entries (earnings, refund reversals, payouts)
    maker_id: Mapped[int | None] = mapped_column(sa.ForeignKey("makers.id"))
    sale_id: Mapped[int | None] = mapped_column(sa.ForeignKey("sales.id"), index=True)
    sale_line_id: Mapped[int | None] = mapped_column(sa.ForeignKey("sale_lines.id"), index=True)
    refund_line_id: Mapped[int | None] = mapped_column(sa.ForeignKey("refund_lines.id"), index=True)
    payout_line_id: Mapped[int | None] = mapped_column(sa.ForeignKey("payout_lines.id"), index=True)
    #: maker entries: when the money becomes payable (end of the hold); NULL = held until an
    #: online order is delivered or picked up
    available_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    transaction: Mapped[LedgerTransaction] = relationship(back_populates="entries")
    account: Mapped[LedgerAccount] = relationship()

    __table_args__ = (
        sa.CheckConstraint("amount <> 0", name="amount_non_zero"),
        sa.Index("ix_ledger_entries_maker", "maker_id", "sentra_id", "available_at"),
        sa.Index("ix_ledger_entries_line_component", "sale_line_id", "component"),
    )


@event.listens_for(LedgerAccount, "before_update")
@event.listens_for(LedgerAccount, "before_delete")
@event.listens_for(LedgerTransaction, "before_update")
@event.listens_for(LedgerTransaction, "before_delete")
@event.listens_for(LedgerEntry, "before_update")
@event.listens_for(LedgerEntry, "before_delete")
def _refuse_change(_mapper, _connection, _target):
    raise RuntimeError("ledger rows are immutable; post a correcting transaction instead")


class RunStatus(enum.StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"
    PAID = "paid"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return {"draft": "Draf (menunggu persetujuan)", "approved": "Disetujui (siap dibayar)",
                "paid": "Sudah dibayar", "cancelled": "Dibatalkan"}[self.value]


class LineStatus(enum.StrEnum):
    PENDING = "pending"
    PAID = "paid"
    SKIPPED = "skipped"

    @property
    def label(self) -> str:
        return {"pending": "Belum dibayar", "paid": "Sudah dibayar", "skipped": "Dilewati"}[self.value]


class PayoutRun(Model):
    """A batch of payouts for one Sentra, covering payable earnings up to a cut-off date."""

    __tablename__ = "payout_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    sentra_id: Mapped[int] = mapped_column(sa.ForeignKey("sentras.id"), index=True)
    #: the Sentra's local date; earnings payable by the end of that day are covered
    cutoff_date: Mapped[date] = mapped_column(sa.Date)
    #: the end of `cutoff_date` in the Sentra's time zone, in UTC
    cutoff_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[RunStatus] = mapped_column(enum_column(RunStatus), default=RunStatus.DRAFT)
    #: 1 while draft/approved, NULL afterwards: one open run per Sentra (unique index)
    open_marker: Mapped[int | None] = mapped_column(sa.Integer, default=1)
    client_key: Mapped[str] = mapped_column(sa.String(80), unique=True)
    note: Mapped[str] = mapped_column(sa.String(200), default="")
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    approved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    sentra: Mapped[Sentra] = relationship()
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    approved_by: Mapped[User | None] = relationship(foreign_keys=[approved_by_id])
    lines: Mapped[list[PayoutLine]] = relationship(back_populates="run", order_by="PayoutLine.id")

    __table_args__ = (
        sa.UniqueConstraint("sentra_id", "open_marker", name="uq_payout_runs_one_open"),
        sa.CheckConstraint("(status IN ('draft', 'approved')) = (open_marker IS NOT NULL)",
                           name="open_marker_matches_status"),
    )

    @property
    def total(self) -> int:
        return sum(line.amount for line in self.lines if line.status != LineStatus.SKIPPED)


class PayoutLine(Model):
    __tablename__ = "payout_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(sa.ForeignKey("payout_runs.id"), index=True)
    maker_id: Mapped[int] = mapped_column(sa.ForeignKey("makers.id"), index=True)
    #: what the maker is paid (0 for a skipped line)
    amount: Mapped[int] = mapped_column(sa.BigInteger)
    #: a skipped line's balance (zero or negative), shown with the reason
    balance: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    method: Mapped[PayoutMethod] = mapped_column(enum_column(PayoutMethod))
    status: Mapped[LineStatus] = mapped_column(enum_column(LineStatus), default=LineStatus.PENDING)
    skip_reason: Mapped[str] = mapped_column(sa.String(200), default="")
    #: bank/e-wallet transfer reference, or the slip number for cash
    reference: Mapped[str] = mapped_column(sa.String(80), default="")
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paid_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    #: the signed slip scan (core.files; a re-encoded photo or a checked PDF), private to the
    #: Sentra's staff and the maker; a new upload points here anew, the old file stays stored
    slip_sha256: Mapped[str | None] = mapped_column(sa.String(64), sa.ForeignKey("stored_files.sha256"))
    slip_uploaded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: the scan's file name under UPLOAD_DIR/payout-slips before scans moved into the database (history only)
    legacy_slip_path: Mapped[str | None] = mapped_column(sa.String(200))

    run: Mapped[PayoutRun] = relationship(back_populates="lines")
    maker: Mapped[Maker] = relationship()
    paid_by: Mapped[User | None] = relationship(foreign_keys=[paid_by_id])
    slip_file: Mapped[StoredFile | None] = relationship()
    items: Mapped[list[PayoutItem]] = relationship(back_populates="line", order_by="PayoutItem.entry_id")

    __table_args__ = (
        sa.UniqueConstraint("run_id", "maker_id", name="uq_payout_lines_run_maker"),
        sa.CheckConstraint("amount >= 0", name="amount_non_negative"),
        sa.CheckConstraint("status = 'skipped' OR amount > 0", name="paid_lines_positive"),
    )


class PayoutItem(Model):
    """Links a payout line to the exact maker ledger entry it pays (at most once)."""

    __tablename__ = "payout_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    line_id: Mapped[int] = mapped_column(sa.ForeignKey("payout_lines.id"), index=True)
    entry_id: Mapped[int] = mapped_column(sa.ForeignKey("ledger_entries.id"), index=True)
    #: 1 while the run is open or paid; NULL once its run is cancelled, freeing the entry
    live_marker: Mapped[int | None] = mapped_column(sa.Integer, default=1)

    line: Mapped[PayoutLine] = relationship(back_populates="items")
    entry: Mapped[LedgerEntry] = relationship()

    __table_args__ = (sa.UniqueConstraint("entry_id", "live_marker", name="uq_payout_items_entry_once"),)


class MakerPortalVisit(Model):
    """When a maker last looked, so new sales can be highlighted ("baru terjual")."""

    __tablename__ = "maker_portal_visits"

    maker_id: Mapped[int] = mapped_column(sa.ForeignKey("makers.id"), primary_key=True)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: the visit before the current one: sales after it are "baru"
    previous_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
