"""Payout runs, slips and the maker portal's queries. Services flush; the caller commits once."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import cast

import sqlalchemy as sa
from flask import current_app

from accounts.models import User
from core.audit import record_audit
from core.db import utcnow
from core.errors import Conflict, DomainError, Forbidden, ValidationFailed
from core.exports import csv_text
from core.extensions import db
from core.files import ImportCounts, read_legacy_file, store_file
from core.money import format_rupiah
from core.uploads import check_extension, open_image, refuse_markup
from inventory.models import Product, StockLevel
from makers.models import Maker, MakerGroupMember, PayoutMethod
from payouts import ledger
from payouts.models import (
    Component,
    LedgerEntry,
    LedgerTransaction,
    LineStatus,
    MakerPortalVisit,
    PayoutItem,
    PayoutLine,
    PayoutRun,
    RunStatus,
    TransactionKind,
)
from sentras.models import Sentra

#: where slip scans used to be written, under UPLOAD_DIR (read only by `flask files import-uploads`)
LEGACY_SLIP_DIR = "payout-slips"
#: Pillow format of an accepted slip photo → its stored content type
SLIP_IMAGES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
#: stored content type of a slip scan → the extension of its download name
SLIP_EXTENSIONS = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}
#: a scanned slip is at most this many pixels a side once re-encoded (still readable when printed)
SLIP_MAX_SIDE = 3000


# --- payout runs ------------------------------------------------------------------------------

def create_run(actor: User, sentra: Sentra, *, cutoff_date: date, client_key: str,
               methods: dict[int, PayoutMethod] | None = None, note: str = "",
               now: datetime | None = None) -> PayoutRun:
    """A draft run: one line per maker with unpaid earnings payable by the end of `cutoff_date`.

    Makers whose unpaid entries net to zero or less get a skipped line saying why (a negative
    balance is a clawback the next earnings recover). Idempotent by `client_key`.
    """
    now = now or utcnow()
    existing = db.session.scalar(sa.select(PayoutRun).where(PayoutRun.client_key == client_key))
    if existing is not None:
        if existing.sentra_id != sentra.id or existing.cutoff_date != cutoff_date:
            raise DomainError("Kunci permintaan ini sudah dipakai untuk pencairan lain.")
        return existing
    if cutoff_date > sentra.local_date(now):
        raise ValidationFailed({"cutoff_date": "Tanggal batas tidak boleh di masa depan."})
    _refuse_if_open_run(sentra.id)

    cutoff_at = sentra.day_bounds(cutoff_date)[1]
    up_to = min(cutoff_at, now)
    run = PayoutRun(sentra_id=sentra.id, cutoff_date=cutoff_date, cutoff_at=cutoff_at, status=RunStatus.DRAFT,
                    open_marker=1, client_key=client_key, note=note[:200], created_by_id=actor.id, created_at=now)
    try:
        with db.session.begin_nested():
            db.session.add(run)
    except sa.exc.IntegrityError:
        raise Conflict("Pencairan lain untuk Sentra ini sedang dibuat atau belum selesai. "
                       "Selesaikan atau batalkan dulu yang itu.") from None

    # A MAKER entry always names its maker.
    maker_ids = cast("Sequence[int]", db.session.scalars(
        sa.select(LedgerEntry.maker_id).distinct()
        .where(LedgerEntry.sentra_id == sentra.id, LedgerEntry.component == Component.MAKER)
    ).all())
    makers = {m.id: m for m in db.session.scalars(sa.select(Maker).where(Maker.id.in_(maker_ids)))}
    for maker_id in sorted(maker_ids, key=lambda i: (makers[i].name, i)):
        maker = makers[maker_id]
        entries = db.session.scalars(ledger.unpaid_entries_query(maker_id, sentra.id, up_to)).all()
        if not entries:
            continue
        balance = -sum(e.amount for e in entries)
        method = PayoutMethod((methods or {}).get(maker_id, maker.payout_method))
        if balance <= 0:
            reason = ("Saldo nol: tidak ada yang perlu dibayar." if balance == 0 else
                      f"Saldo minus {format_rupiah(-balance)} karena ada pengembalian barang setelah "
                      "pencairan; dipotong dari pendapatan berikutnya.")
            db.session.add(PayoutLine(run=run, maker_id=maker_id, amount=0, balance=balance, method=method,
                                      status=LineStatus.SKIPPED, skip_reason=reason))
            continue
        problem = _method_problem(maker, method)
        line = PayoutLine(run=run, maker_id=maker_id, amount=balance, balance=balance, method=method,
                          status=LineStatus.PENDING, skip_reason=problem or "")
        db.session.add(line)
        db.session.flush()
        db.session.add_all([PayoutItem(line_id=line.id, entry_id=e.id, live_marker=1) for e in entries])
    db.session.flush()
    if not any(line.status == LineStatus.PENDING for line in run.lines):
        skipped = "; ".join(f"{line.maker.name}: {line.skip_reason}" for line in run.lines)
        raise ValidationFailed({"cutoff_date": "Tidak ada saldo yang siap dicairkan sampai tanggal batas ini."
                                + (f" Dilewati — {skipped}" if skipped else "")})
    record_audit(actor, "payout_run.create", run, after={"cutoff_date": cutoff_date.isoformat(),
                                                         "total": run.total, "lines": len(run.lines)})
    return run


def set_line_method(actor: User, line: PayoutLine, method: PayoutMethod | str) -> PayoutLine:
    """Change how a draft line is paid (e.g. the maker asks to keep it as savings)."""
    try:
        method = PayoutMethod(method)
    except ValueError:
        raise ValidationFailed({"method": "Cara pembayaran tidak dikenal."}) from None
    if line.run.status != RunStatus.DRAFT or line.status != LineStatus.PENDING:
        raise Conflict("Cara pembayaran hanya bisa diubah sebelum pencairan disetujui.")
    before = {"method": str(line.method)}
    line.method = method
    line.skip_reason = _method_problem(line.maker, method) or ""
    db.session.flush()
    record_audit(actor, "payout_line.method", line, sentra_id=line.run.sentra_id, before=before,
                 after={"method": str(method)})
    return line


def _method_problem(maker: Maker, method: PayoutMethod) -> str | None:
    if method == PayoutMethod.BANK and not (maker.bank_name and maker.account_number):
        return "Data rekening bank pembuat belum lengkap; minta petugas melengkapinya."
    if method == PayoutMethod.EWALLET and not maker.ewallet_number:
        return "Nomor dompet digital pembuat belum diisi."
    return None


def _refuse_if_open_run(sentra_id: int) -> None:
    open_run = db.session.scalar(
        sa.select(PayoutRun).where(PayoutRun.sentra_id == sentra_id, PayoutRun.open_marker.is_not(None))
    )
    if open_run is not None:
        raise Conflict(f"Masih ada pencairan #{open_run.id} yang belum selesai untuk Sentra ini. "
                       "Selesaikan atau batalkan dulu.")


def _check_within_payable(line: PayoutLine, now: datetime) -> None:
    payable = ledger.maker_balance(line.maker_id, sentra_id=line.run.sentra_id, now=now).payable
    if line.amount > payable:
        raise ValidationFailed({"amount": (
            f"Pencairan untuk {line.maker.name} ({format_rupiah(line.amount)}) lebih besar dari saldo yang "
            f"siap dicairkan ({format_rupiah(payable)}), misalnya karena ada pengembalian barang. "
            "Batalkan pencairan ini lalu buat yang baru.")})


def approve_run(actor: User, run: PayoutRun, *, now: datetime | None = None) -> PayoutRun:
    """A second person approves; the creator cannot approve their own run."""
    now = now or utcnow()
    if run.status == RunStatus.APPROVED and run.approved_by_id == actor.id:
        return run
    if run.status != RunStatus.DRAFT:
        raise Conflict(f"Pencairan ini berstatus '{run.status.label}', tidak bisa disetujui.")
    if run.created_by_id == actor.id:
        raise Forbidden("Persetujuan harus oleh orang lain, bukan pembuat daftar pencairan.")
    for line in run.lines:
        if line.status == LineStatus.PENDING:
            _check_within_payable(line, now)
    run.status = RunStatus.APPROVED
    run.approved_by_id = actor.id
    run.approved_at = now
    db.session.flush()
    record_audit(actor, "payout_run.approve", run, after={"total": run.total}, approved_by=actor)
    return run


def mark_line_paid(actor: User, line: PayoutLine, *, reference: str = "", now: datetime | None = None) -> PayoutLine:
    """Pay one line: posts the ledger entries once. Marking it paid again changes nothing."""
    now = now or utcnow()
    # Lock the line (PostgreSQL) so two clicks cannot both post; SQLite already serialises writers.
    db.session.refresh(line, with_for_update=True)
    if line.status == LineStatus.PAID:
        return line
    run = line.run
    if line.status == LineStatus.SKIPPED:
        raise Conflict("Baris ini dilewati (saldo nol atau minus); tidak ada yang dibayar.")
    if run.status != RunStatus.APPROVED:
        raise Conflict("Pencairan harus disetujui orang kedua sebelum dibayar.")
    reference = (reference or "").strip()
    if line.method in (PayoutMethod.BANK, PayoutMethod.EWALLET) and not reference:
        raise ValidationFailed({"reference": "Nomor referensi transfer wajib diisi."})
    if line.method == PayoutMethod.CASH and not reference:
        reference = f"BP-{run.sentra.code}-{run.id}-{line.id}"
    _check_within_payable(line, now)
    ledger.post_payout(line, actor.id, now)
    line.status = LineStatus.PAID
    line.reference = reference[:80]
    line.paid_at = now
    line.paid_by_id = actor.id
    db.session.flush()
    record_audit(actor, "payout_line.paid", line, sentra_id=run.sentra_id,
                 after={"maker_id": line.maker_id, "amount": line.amount, "method": str(line.method),
                        "reference": line.reference})
    if all(other.status != LineStatus.PENDING for other in run.lines):
        run.status = RunStatus.PAID
        run.open_marker = None
        run.closed_at = now
        db.session.flush()
    return line


def mark_run_paid(actor: User, run: PayoutRun, *, references: dict[int, str] | None = None,
                  now: datetime | None = None) -> PayoutRun:
    """Pay every pending line (cash lines get a slip number; transfers need their reference)."""
    references = references or {}
    for line in list(run.lines):
        if line.status == LineStatus.PENDING:
            mark_line_paid(actor, line, reference=references.get(line.id, ""), now=now)
    return run


def cancel_run(actor: User, run: PayoutRun, *, reason: str, now: datetime | None = None) -> PayoutRun:
    """Cancel an unpaid run: its entries become free for the next run. Nothing is deleted."""
    now = now or utcnow()
    if run.status == RunStatus.CANCELLED:
        return run
    if run.status == RunStatus.PAID or any(line.status == LineStatus.PAID for line in run.lines):
        raise Conflict("Pencairan yang sudah (sebagian) dibayar tidak bisa dibatalkan.")
    if not reason.strip():
        raise ValidationFailed({"reason": "Alasan pembatalan wajib diisi."})
    db.session.execute(
        sa.update(PayoutItem).where(PayoutItem.line_id.in_([line.id for line in run.lines]))
        .values(live_marker=None).execution_options(synchronize_session=False)
    )
    run.status = RunStatus.CANCELLED
    run.open_marker = None
    run.closed_at = now
    run.note = (run.note + f" | Dibatalkan: {reason.strip()}")[:200]
    db.session.flush()
    db.session.expire_all()
    record_audit(actor, "payout_run.cancel", run, after={"reason": reason})
    return run


def transfer_csv(run: PayoutRun) -> str:
    """Bulk-transfer file for the bank / e-wallet lines of a run (cells escaped by core.exports)."""
    rows: list[list[object]] = [["line_id", "nama_penerima", "bank_atau_dompet", "nomor_rekening", "atas_nama",
                                 "jumlah", "berita", "status", "referensi"]]
    for line in run.lines:
        if line.status == LineStatus.SKIPPED or line.method not in (PayoutMethod.BANK, PayoutMethod.EWALLET):
            continue
        maker = line.maker
        if line.method == PayoutMethod.BANK:
            provider, number, holder = maker.bank_name, maker.account_number, maker.account_holder or maker.name
        else:
            provider, number, holder = maker.ewallet_provider, maker.ewallet_number, maker.name
        rows.append([line.id, maker.name, provider, number, holder, line.amount,
                     f"Pencairan SKA {run.sentra.code} #{run.id}", str(line.status), line.reference])
    return csv_text(rows)


def attach_slip(actor: User, line: PayoutLine, data: bytes, filename: str | None = None) -> PayoutLine:
    """Store the photo/scan of the signed slip in the database; size capped, checked by content (core.uploads).

    A photo (JPEG, PNG or WebP) is decoded — pixels capped before decoding — and re-encoded, so what
    is stored is pixels we wrote. A PDF scan is kept as it is, but only a real one: `%PDF-` magic,
    an `%%EOF` trailer, the `.pdf` name if it has one, and no HTML/script or PDF JavaScript in it.
    SVG, HTML and polyglots are refused. That byte check is a first line only (a PDF can hide a
    name as `/J#61vaScript` or in a compressed stream): what keeps a scan harmless is how it is
    served — only as a sandboxed download (core.files.file_response), never rendered in the app.

    A new upload replaces the line's slip; the earlier file stays stored (the audit log names both).
    """
    limit = current_app.config.get("UPLOAD_IMAGE_MAX_BYTES", 5 * 1024 * 1024)
    if not data:
        raise ValidationFailed({"slip": "Pilih berkas foto atau PDF bukti yang sudah ditandatangani."})
    if len(data) > limit:
        raise ValidationFailed({"slip": f"Berkas terlalu besar (maksimal {limit // (1024 * 1024)} MB)."})
    if data.startswith(b"%PDF-"):
        _check_pdf(data, filename)
        content_type = "application/pdf"
    elif data.startswith((b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")) or (data[:4] == b"RIFF" and data[8:12] == b"WEBP"):
        image = open_image(data, "slip", allowed=set(SLIP_IMAGES), filename=filename)
        assert image.format is not None  # open_image accepted it as one of SLIP_IMAGES
        content_type = SLIP_IMAGES[image.format]
        data = _reencode_image(image)
    else:
        refuse_markup(data, "slip")
        raise ValidationFailed({"slip": "Berkas harus foto (JPG/PNG/WebP) atau PDF."})
    stored = store_file(data, content_type)
    before = {"slip_sha256": line.slip_sha256}
    line.slip_file = stored
    line.slip_uploaded_at = utcnow()
    db.session.flush()
    record_audit(actor, "payout_line.slip", line, sentra_id=line.run.sentra_id, before=before,
                 after={"slip_sha256": stored.sha256})
    return line


def _check_pdf(data: bytes, filename: str | None) -> None:
    check_extension(filename, "PDF", "slip")
    refuse_markup(data, "slip")
    if b"%%EOF" not in data[-2048:]:
        raise ValidationFailed({"slip": "Berkas PDF ini rusak atau tidak lengkap. Pindai ulang lalu unggah lagi."})
    if b"/JavaScript" in data or b"/JS" in data:
        raise ValidationFailed({"slip": "PDF berisi skrip tidak diterima. Pindai ulang sebagai PDF biasa."})


def _reencode_image(image) -> bytes:
    from PIL import ImageOps

    fmt = image.format
    image = ImageOps.exif_transpose(image)
    image.thumbnail((SLIP_MAX_SIDE, SLIP_MAX_SIDE))
    out = io.BytesIO()
    if fmt == "JPEG":
        image.convert("RGB").save(out, "JPEG", quality=85)
    elif fmt == "WEBP":
        image.convert("RGB").save(out, "WEBP", quality=85)
    else:
        image.save(out, "PNG")
    return out.getvalue()


def slip_download_name(line: PayoutLine) -> str:
    """The name a downloaded slip scan is saved under, e.g. `bukti-12.pdf`."""
    content_type = line.slip_file.content_type if line.slip_file is not None else ""
    return f"bukti-{line.id}.{SLIP_EXTENSIONS.get(content_type, 'bin')}"


def import_legacy_slips(folder: Path) -> ImportCounts:
    """Move signed slip scans still on disk (`legacy_slip_path` under `folder`/payout-slips, the old
    UPLOAD_DIR) into the database as they are; idempotent, the files on disk are not touched.
    A slip uploaded again since the move is not replaced by the old one."""
    counts = ImportCounts()
    lines = db.session.scalars(sa.select(PayoutLine).where(PayoutLine.legacy_slip_path.is_not(None))
                               .order_by(PayoutLine.id))
    for line in lines:
        if line.slip_sha256 is not None:
            counts.already += 1
            continue
        data = read_legacy_file(folder / LEGACY_SLIP_DIR, line.legacy_slip_path)
        content_type = _sniff_slip(data) if data else None
        if data is None or content_type is None:
            counts.missing += 1
            continue
        line.slip_file = store_file(data, content_type)
        counts.moved += 1
    db.session.flush()
    return counts


def _sniff_slip(data: bytes) -> str | None:
    """The content type of a stored slip by its first bytes (what attach_slip accepted)."""
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


# --- what a payout covers ---------------------------------------------------------------------

@dataclass(frozen=True)
class CoveredRow:
    business_date: date
    sale_number: str
    product_name: str
    quantity: int
    amount: int
    kind: str


def _refund_line_join(query: sa.Select) -> sa.Select:
    """Join the refund line a refund entry reverses (none for a sale entry): its quantity and amount
    are what was given back, not the sale line's."""
    from sales.models import RefundLine

    return query.outerjoin(RefundLine, sa.and_(RefundLine.refund_id == LedgerTransaction.refund_id,
                                               RefundLine.sale_line_id == LedgerEntry.sale_line_id))


def _quantity_and_total():
    """(pieces, amount) of an entry's line: the sale line's for a sale, the refund line's for a refund."""
    from sales.models import RefundLine, SaleLine

    return (sa.func.coalesce(RefundLine.quantity, SaleLine.quantity),
            sa.func.coalesce(RefundLine.amount, SaleLine.line_total))


def covered_rows(line: PayoutLine) -> list[CoveredRow]:
    """The sale lines (and refunds) a payout line pays for: the trail sale line → share → payout."""
    from sales.models import Sale, SaleLine

    quantity, _total = _quantity_and_total()
    rows = db.session.execute(_refund_line_join(
        sa.select(LedgerTransaction.business_date, Sale.number, SaleLine.product_name, quantity,
                  LedgerEntry.amount, LedgerTransaction.kind)
        .select_from(PayoutItem)
        .join(LedgerEntry, LedgerEntry.id == PayoutItem.entry_id)
        .join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
        .join(SaleLine, SaleLine.id == LedgerEntry.sale_line_id)
        .join(Sale, Sale.id == SaleLine.sale_id))
        .where(PayoutItem.line_id == line.id)
        .order_by(LedgerEntry.id)
    ).all()
    return [CoveredRow(d, n, p, q, -a, "Penjualan" if k == TransactionKind.SALE else "Pengembalian")
            for d, n, p, q, a, k in rows]


# --- maker portal -----------------------------------------------------------------------------

@dataclass(frozen=True)
class SoldRow:
    entry_id: int
    created_at: datetime
    business_date: date
    sentra_name: str
    sentra_timezone: str
    product_name: str
    quantity: int
    unit_price: int
    line_total: int
    share: int
    is_refund: bool
    is_group: bool
    is_new: bool


def maker_sales(maker_id: int, *, month: date | None = None, since: datetime | None = None) -> list[SoldRow]:
    """The maker's own share of every sale line (and refund), newest first; month by sale date."""
    from sales.models import Sale, SaleLine

    quantity, total = _quantity_and_total()
    query = (
        _refund_line_join(
            sa.select(LedgerEntry.id, LedgerEntry.created_at, LedgerTransaction.kind, Sale.business_date, Sentra.name,
                      Sentra.timezone, SaleLine.product_name, quantity, SaleLine.unit_price, total,
                      SaleLine.group_id, LedgerEntry.amount)
            .join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
            .join(SaleLine, SaleLine.id == LedgerEntry.sale_line_id)
            .join(Sale, Sale.id == SaleLine.sale_id)
            .join(Sentra, Sentra.id == Sale.sentra_id))
        .where(LedgerEntry.maker_id == maker_id, LedgerEntry.component == Component.MAKER)
        .order_by(LedgerEntry.created_at.desc(), LedgerEntry.id.desc())
    )
    if month is not None:
        first = month.replace(day=1)
        nxt = (first + timedelta(days=32)).replace(day=1)
        query = query.where(Sale.business_date >= first, Sale.business_date < nxt)
    rows = []
    for (entry_id, created_at, kind, bdate, sentra_name, tz, name, qty, price, total, group_id,
         amount) in db.session.execute(query):
        is_refund = kind == TransactionKind.REFUND
        rows.append(SoldRow(entry_id, created_at, bdate, sentra_name, tz, name, qty, price, total, -amount, is_refund,
                            group_id is not None, bool(since and created_at > since and not is_refund)))
    return rows


def record_visit(maker_id: int, now: datetime | None = None, *, min_gap: timedelta = timedelta(minutes=30)
                 ) -> datetime | None:
    """Note a visit; returns the time before which sales are no longer "baru"."""
    now = now or utcnow()
    visit = db.session.get(MakerPortalVisit, maker_id)
    if visit is None:
        db.session.add(MakerPortalVisit(maker_id=maker_id, last_seen_at=now, previous_seen_at=None))
        db.session.flush()
        return None
    if now - visit.last_seen_at >= min_gap:
        visit.previous_seen_at = visit.last_seen_at
        visit.last_seen_at = now
        db.session.flush()
    return visit.previous_seen_at


def new_since(maker_id: int) -> datetime | None:
    visit = db.session.get(MakerPortalVisit, maker_id)
    return visit.previous_seen_at if visit else None


def maker_stock(maker_id: int) -> list[tuple[str, str, int]]:
    """(Sentra, product, quantity) for goods the maker made alone or as a group member."""
    group_ids = sa.select(MakerGroupMember.group_id).where(MakerGroupMember.maker_id == maker_id)
    rows = db.session.execute(
        sa.select(Sentra.name, Product.name, StockLevel.qty)
        .join(Product, Product.id == StockLevel.product_id)
        .join(Sentra, Sentra.id == StockLevel.sentra_id)
        .where(sa.or_(Product.maker_id == maker_id, Product.group_id.in_(group_ids)))
        .order_by(Sentra.name, Product.name)
    ).all()
    return [(s, p, int(q)) for s, p, q in rows]


def maker_payout_lines(maker_id: int) -> list[PayoutLine]:
    return list(db.session.scalars(
        sa.select(PayoutLine).join(PayoutRun)
        .where(PayoutLine.maker_id == maker_id, PayoutLine.status == LineStatus.PAID)
        .order_by(PayoutLine.paid_at.desc())
    ))


@dataclass(frozen=True)
class Statement:
    maker: Maker
    month: date
    opening: int
    earnings: int
    refunds: int
    payouts: int
    closing: int
    rows: list[tuple[datetime, str, str, int]]


def monthly_statement(maker: Maker, month: date) -> Statement:
    """Opening balance, earnings, refunds, payouts, closing for one calendar month (maker's Sentra zone)."""
    first = month.replace(day=1)
    nxt = (first + timedelta(days=32)).replace(day=1)
    start, end = maker.sentra.day_bounds(first)[0], maker.sentra.day_bounds(nxt)[0]
    e = LedgerEntry
    opening = -int(db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(e.amount), 0)).where(e.maker_id == maker.id, e.created_at < start)))
    rows = db.session.execute(_statement_rows_query(maker.id, start, end)).all()
    earnings = sum(-row.amount for row in rows if row.kind == TransactionKind.SALE)
    refunds = sum(row.amount for row in rows if row.kind == TransactionKind.REFUND)
    payouts = sum(row.amount for row in rows if row.kind == TransactionKind.PAYOUT)
    labels = {TransactionKind.SALE: "Terjual", TransactionKind.REFUND: "Dikembalikan pembeli",
              TransactionKind.PAYOUT: "Pencairan"}
    described = [(row.created_at, labels[TransactionKind(row.kind)], _statement_description(row), -row.amount)
                 for row in rows]
    return Statement(maker, first, opening, earnings, refunds, payouts, opening + earnings - refunds - payouts,
                     described)


def _statement_rows_query(maker_id: int, start: datetime, end: datetime) -> sa.Select:
    """A maker's ledger entries in [start, end) with what they are about: the product and pieces
    (sold or given back) of a sale or refund, the method and reference of a payout."""
    from sales.models import Sale, SaleLine

    e, t = LedgerEntry, LedgerTransaction
    quantity, _total = _quantity_and_total()
    return _refund_line_join(
        sa.select(e.created_at, t.kind, e.amount, SaleLine.product_name, quantity.label("quantity"),
                  Sale.number.label("sale_number"), PayoutLine.method, PayoutLine.reference)
        .join(t, t.id == e.transaction_id)
        .outerjoin(SaleLine, SaleLine.id == e.sale_line_id)
        .outerjoin(Sale, Sale.id == SaleLine.sale_id)
        .outerjoin(PayoutLine, PayoutLine.id == t.payout_line_id)
        .where(e.maker_id == maker_id, e.created_at >= start, e.created_at < end)
        .order_by(e.created_at, e.id))


def _statement_description(row) -> str:
    if row.product_name is not None:
        return f"{row.product_name} × {row.quantity} ({row.sale_number})"
    if row.method is not None:
        method = PayoutMethod(row.method).label
        return method + (f" — {row.reference}" if row.reference else "")
    return ""
