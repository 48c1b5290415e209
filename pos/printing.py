"""What the counter prints: the receipt, the refund slip and the Z-report, on 58 or 80 mm paper.

Each document has two forms built from the same context: a PDF (`templates/pdf/*.html`, for the
browser's print dialog or Chrome's kiosk printing) and raw ESC/POS bytes (for a printer the
browser talks to directly over Web Serial / WebUSB, with the cash-drawer pulse). The routes sit
side by side — `…/struk.pdf` and `…/struk.escpos` — so the browser finds one from the other.

The paper width is the counter device's setting (kept in its browser, sent as `?kertas=58`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime, timedelta

from flask_babel import gettext as _

from accounts.models import User
from core.db import utcnow
from core.escpos import QrMode, Ticket
from core.extensions import db
from core.i18n import local_datetime, rupiah
from sales.models import PaymentMethod, Refund, Sale

#: the roll widths a counter device can choose; the first is what a device that chose nothing gets
PAPER_WIDTHS = (80, 58)
DEFAULT_PAPER_MM = PAPER_WIDTHS[0]
#: a document printed later than this after it was made (or by someone else) is a copy ("SALINAN")
ORIGINAL_PRINT_WINDOW = timedelta(minutes=15)

_DATE = "dd-MM-yyyy HH:mm"


class BadPrintOption(ValueError):
    """A `kertas` / `qr` value no counter device sends."""


def paper_width(value: str | None) -> int:
    """`?kertas=` → 58 or 80; nothing chosen → 80 (the layout every receipt had before)."""
    if value in (None, ""):
        return DEFAULT_PAPER_MM
    try:
        width = int(value)
    except ValueError:
        raise BadPrintOption(value) from None
    if width not in PAPER_WIDTHS:
        raise BadPrintOption(value)
    return width


def qr_mode(value: str | None) -> QrMode:
    try:
        return QrMode(value or QrMode.NATIVE)
    except ValueError:
        raise BadPrintOption(value) from None


def is_copy(made_at: datetime, made_by_id: int | None, printer: User, *, asked: bool = False) -> bool:
    """A reprint asked for, by another person, or after the window, is marked SALINAN."""
    return asked or made_by_id != printer.id or utcnow() - made_at > ORIGINAL_PRINT_WINDOW


def _name(user_id: int | None) -> str:
    user = db.session.get(User, user_id) if user_id is not None else None
    return user.name if user is not None else "-"


@dataclasses.dataclass(frozen=True)
class RefundLineView:
    name: str
    quantity: int
    unit_price: int
    amount: int


@dataclasses.dataclass(frozen=True)
class RefundView:
    """One refund as printed: on its own slip, and under the sale on a reprint or the e-receipt."""

    refund: Refund
    lines: list[RefundLineView]
    cashier: str
    approver: str

    @property
    def method_label(self) -> str:
        return self.refund.method.label


def refund_view(refund: Refund) -> RefundView:
    lines = [RefundLineView(rl.sale_line.product_name, rl.quantity, rl.sale_line.unit_price, rl.amount)
             for rl in refund.lines]
    return RefundView(refund, lines, _name(refund.created_by_id), _name(refund.approved_by_id))


def refunds_context(sale: Sale) -> dict:
    """The sale's refunds, what they gave back, and what the sale comes to after them."""
    refunds = [refund_view(r) for r in sale.refunds]
    refunded = sum(r.refund.amount for r in refunds)
    return {"refunds": refunds, "refunded_total": refunded, "total_after_refunds": sale.amount_due - refunded}


def _drawer_wanted(open_drawer: bool, method: PaymentMethod | None) -> bool:
    return open_drawer and method == PaymentMethod.CASH


def _header(ticket: Ticket, sentra, title: str | None = None, *, copy: bool = False) -> None:
    ticket.center(sentra.name, bold=True)
    for text in (sentra.receipt_header, sentra.address or sentra.city):
        if text:
            ticket.center(text)
    if title:
        ticket.center(title, bold=True, tall=True)
    if copy:
        ticket.center("SALINAN", bold=True, tall=True)
    ticket.rule()


def receipt_escpos(ctx: Mapping, *, paper_mm: int, qr: QrMode = QrMode.NATIVE, open_drawer: bool = True) -> bytes:
    """The sale receipt as ESC/POS; `ctx` is the PDF's context (`pos.views.receipt_context`).

    The drawer opens first (the kasir counts the change while it prints), on the original of a sale
    paid at least partly in cash.
    """
    sale: Sale = ctx["sale"]
    sentra = ctx["sentra"]
    ticket = Ticket(paper_mm)
    if not ctx["copy"] and any(_drawer_wanted(open_drawer, p.method) for p in sale.payments):
        ticket.open_drawer()
    _header(ticket, sentra, copy=ctx["copy"])
    ticket.pair(_("No."), sale.number)
    if sale.offline_number:
        ticket.pair(_("No. offline"), sale.offline_number)
    ticket.pair(_("Waktu"), local_datetime(sale.offline_sold_at or sale.created_at, sentra.timezone, _DATE))
    ticket.pair(_("Kasir"), sale.cashier.name if sale.cashier else "-")
    ticket.rule()
    for ln in sale.lines:
        ticket.line(ln.product_name, bold=True)
        ticket.pair(f"{ln.quantity} × {rupiah(ln.unit_price)}", rupiah(ln.quantity * ln.unit_price))
        if ln.discount:
            ticket.pair(_("Diskon"), "-" + rupiah(ln.discount))
        if ctx["credits"].get(ln.id):
            ticket.line(f"{_('Karya')}: {ctx['credits'][ln.id]}")
    ticket.rule()
    if sale.discount_total:
        ticket.pair(_("Subtotal"), rupiah(sale.subtotal))
        ticket.pair(_("Total diskon"), "-" + rupiah(sale.discount_total))
    ticket.pair(_("TOTAL"), rupiah(sale.total), bold=True, tall=True)
    if sale.rounding:
        ticket.pair(_("Pembulatan"), rupiah(sale.rounding))
        ticket.pair(_("Dibayar"), rupiah(sale.amount_due))
    for p in sale.payments:
        label = _(p.method.label) + (f" ({p.reference})" if p.reference else "")
        ticket.pair(label, rupiah(p.tendered if p.tendered is not None else p.amount))
    ticket.pair(_("Kembalian"), rupiah(ctx["change"]), bold=True, tall=True)
    if ctx.get("refunds"):
        ticket.rule()
        ticket.line(_("RETUR"), bold=True)
        for view in ctx["refunds"]:
            ticket.line(f"{local_datetime(view.refund.created_at, sentra.timezone, _DATE)} · {_(view.method_label)}")
            for rl in view.lines:
                ticket.line(rl.name)
                ticket.pair(f"{rl.quantity} × {rupiah(rl.unit_price)}", "-" + rupiah(rl.amount))
        ticket.pair(_("Total retur"), "-" + rupiah(ctx["refunded_total"]))
        ticket.pair(_("Total setelah retur"), rupiah(ctx["total_after_refunds"]), bold=True)
    ticket.rule()
    if sentra.receipt_footer:
        ticket.center(sentra.receipt_footer)
    ticket.center(_("Terima kasih telah mendukung karya penerima manfaat Sentra Kreasi ATENSI."))
    ticket.feed()
    ticket.qr(ctx["ereceipt_url"], qr)
    if qr != QrMode.NONE:
        ticket.center(_("Pindai untuk struk elektronik"))
    ticket.cut()
    return ticket.getvalue()


def refund_slip_context(refund: Refund, *, copy: bool) -> dict:
    sale = refund.sale
    return {"view": refund_view(refund), "refund": refund, "sale": sale, "sentra": sale.sentra, "copy": copy}


def refund_slip_escpos(ctx: Mapping, *, paper_mm: int, open_drawer: bool = True) -> bytes:
    """The refund slip: the lines given back, the money and how, who approved; the buyer and the
    manager sign it. The drawer opens on the original of a cash refund."""
    view: RefundView = ctx["view"]
    refund, sale, sentra = ctx["refund"], ctx["sale"], ctx["sentra"]
    ticket = Ticket(paper_mm)
    if not ctx["copy"] and _drawer_wanted(open_drawer, refund.method):
        ticket.open_drawer()
    _header(ticket, sentra, _("SLIP RETUR"), copy=ctx["copy"])
    ticket.pair(_("No. retur"), f"R-{refund.id}")
    ticket.pair(_("Penjualan"), sale.number)
    ticket.pair(_("Waktu"), local_datetime(refund.created_at, sentra.timezone, _DATE))
    ticket.pair(_("Kasir"), view.cashier)
    ticket.pair(_("Disetujui"), view.approver)
    ticket.rule()
    for rl in view.lines:
        ticket.line(rl.name, bold=True)
        ticket.pair(f"{rl.quantity} × {rupiah(rl.unit_price)}", "-" + rupiah(rl.amount))
    ticket.rule()
    ticket.pair(_("DIKEMBALIKAN"), rupiah(refund.amount), bold=True, tall=True)
    ticket.pair(_("Lewat"), _(view.method_label) + (f" ({refund.reference})" if refund.reference else ""))
    ticket.line(_("Barang kembali ke stok") + ": " + (_("Ya") if refund.restock else _("Tidak (rusak)")))
    ticket.line(_("Alasan") + ": " + refund.reason)
    ticket.rule()
    ticket.feed()
    ticket.line(_("Tanda tangan pembeli") + ":")
    ticket.feed(2)
    ticket.line("_" * (ticket.columns // 2))
    ticket.line(_("Tanda tangan manajer") + ":")
    ticket.feed(2)
    ticket.line("_" * (ticket.columns // 2))
    ticket.cut()
    return ticket.getvalue()


def z_report_escpos(ctx: Mapping, *, paper_mm: int) -> bytes:
    """The shift's Z-report, section for section as the PDF."""
    shift, sentra, summary = ctx["shift"], ctx["sentra"], ctx["summary"]
    ticket = Ticket(paper_mm)
    ticket.center(_("LAPORAN Z"), bold=True, tall=True)
    ticket.center(sentra.name)
    ticket.center(f"{_('Sesi')} #{shift.id} · {_('Kasir')}: {shift.cashier.name}")
    closed = local_datetime(shift.closed_at, sentra.timezone, _DATE) if shift.closed_at else _("masih terbuka")
    ticket.center(f"{local_datetime(shift.opened_at, sentra.timezone, _DATE)} – {closed}")

    def section(title: str) -> None:
        ticket.feed()
        ticket.line(title, bold=True)
        ticket.rule()

    section(_("Penjualan"))
    ticket.pair(_("Transaksi"), str(summary.sale_count))
    ticket.pair(_("Penjualan kotor"), rupiah(summary.gross))
    ticket.pair(_("Diskon"), "-" + rupiah(summary.discounts))
    ticket.pair(_("Penjualan bersih"), rupiah(summary.net), bold=True)
    ticket.pair(_("Pembulatan tunai"), rupiah(summary.rounding))
    section(_("Per cara bayar"))
    for label, amount in summary.tender_rows:
        ticket.pair(_(label), rupiah(amount))
    ticket.pair(_("Jumlah diterima"), rupiah(summary.received_total), bold=True)
    section(_("Per kategori"))
    for category, amount in summary.by_category.items():
        ticket.pair(category, rupiah(amount))
    section(f"{_('Retur')} ({summary.refund_count})")
    for label, amount in summary.refund_rows:
        ticket.pair(_(label), "-" + rupiah(amount))
    if not summary.refund_rows:
        ticket.line(_("Tidak ada"))
    section(_("Kas"))
    ticket.pair(_("Modal awal"), rupiah(shift.opening_float))
    ticket.pair(_("Tunai diterima"), rupiah(summary.cash_tendered))
    ticket.pair(_("Kembalian"), "-" + rupiah(summary.cash_change))
    ticket.pair(_("Retur tunai"), "-" + rupiah(summary.refunds_by_tender.get("cash", 0)))
    expected = shift.expected_cash if shift.expected_cash is not None else summary.expected_cash
    ticket.pair(_("Kas diharapkan"), rupiah(expected), bold=True)
    if shift.counted_cash is not None:
        ticket.pair(_("Kas dihitung"), rupiah(shift.counted_cash), bold=True)
        ticket.pair(_("Selisih"), rupiah(shift.variance), bold=True)
    if shift.counted_denominations:
        section(_("Rincian hitung kas"))
        for d in ctx["denominations"]:
            n = shift.counted_denominations.get(str(d), 0)
            if n:
                ticket.pair(f"{rupiah(d)} × {n}", rupiah(d * n))
    ticket.feed()
    ticket.center(f"{_('Dicetak')} {local_datetime(ctx['printed_at'], sentra.timezone, _DATE)}")
    ticket.feed()
    for who in (_("Tanda tangan kasir"), _("Tanda tangan manajer")):
        ticket.line(who + ":")
        ticket.feed(2)
        ticket.line("_" * (ticket.columns // 2))
    ticket.cut()
    return ticket.getvalue()


def printer_test_escpos(*, paper_mm: int, qr: QrMode, url: str) -> bytes:
    """A page to set a counter's printer up with: the column ruler shows whether the width is right."""
    ticket = Ticket(paper_mm)
    ticket.center(_("TES PRINTER"), bold=True, tall=True)
    ticket.center(_("Kertas %(mm)s mm · %(cols)s kolom", mm=paper_mm, cols=ticket.columns))
    ticket.rule()
    ticket.line("".join(str(i % 10) for i in range(1, ticket.columns + 1)))
    ticket.pair(_("Kiri"), _("Kanan"))
    ticket.pair(_("TOTAL"), rupiah(67_000), bold=True, tall=True)
    ticket.rule()
    ticket.qr(url, qr)
    ticket.center(_("Jika kode QR tidak tercetak, pilih \"QR sebagai gambar\" di pengaturan printer."))
    ticket.cut()
    return ticket.getvalue()
