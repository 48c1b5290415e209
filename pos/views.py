"""Counter pages: open/close shift, the sale screen, history, refunds, receipts, Z-report, printer."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import date
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote

import segno
import sqlalchemy as sa
from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import selectinload

from accounts.access import manager_required, require_sentra_access, staff_required
from core.db import utcnow
from core.errors import Conflict, DomainError
from core.escpos import COLUMNS, QrMode
from core.extensions import db
from core.money import MoneyParseError, parse_rupiah
from core.pdf import render_pdf
from core.security import allow_printing_frames
from core.unit_of_work import refusals_flashed, rollback_now
from makers.models import ConsentPurpose
from pos import bp, printing
from pos.api import checked_approver
from pos.forms import ShiftCloseForm, ShiftOpenForm
from pos.models import Shift, ShiftStatus, StockConflict
from pos.offline import conflicts_for, price_differences_for, resolve_conflict
from pos.printing import PAPER_WIDTHS, BadPrintOption, is_copy, paper_width, qr_mode
from pos.services import (
    DENOMINATIONS,
    close_shift,
    current_shift,
    managers_of,
    open_shift,
    shift_summary,
    visitor_count,
)
from sales.models import PaymentMethod, Refund, Sale
from sales.services import refund_sale, refundable_quantities
from sentras.models import Sentra

COUNTER_TENDERS = [PaymentMethod.CASH, PaymentMethod.QRIS, PaymentMethod.CARD, PaymentMethod.TRANSFER]


def get_shift_or_404(shift_id: int) -> Shift:
    shift = db.session.get(Shift, shift_id)
    require_sentra_access(current_user, shift.sentra_id if shift else None)
    assert shift is not None  # require_sentra_access answered 404 otherwise
    return shift


def get_sale_or_404(sale_id: int) -> Sale:
    sale = db.session.get(Sale, sale_id)
    require_sentra_access(current_user, sale.sentra_id if sale else None)
    assert sale is not None  # require_sentra_access answered 404 otherwise
    return sale


def get_refund_or_404(refund_id: int) -> Refund:
    refund = db.session.get(Refund, refund_id)
    require_sentra_access(current_user, refund.sale.sentra_id if refund else None)
    assert refund is not None  # require_sentra_access answered 404 otherwise
    return refund


def _user_sentras() -> list[Sentra]:
    if current_user.role == "admin":
        return list(db.session.scalars(sa.select(Sentra).where(Sentra.is_active.is_(True)).order_by(Sentra.code)))
    return [s for s in current_user.sentras if s.is_active]


@bp.route("/", methods=["GET", "POST"])
@staff_required
def index():
    """The kasir's start: the open shift's sale screen, or the form to open one."""
    sentras = _user_sentras()
    if request.method == "GET":
        shift = current_shift(current_user)
        if shift is not None:
            return redirect(url_for("pos.sale_screen", shift_id=shift.id))
    form = ShiftOpenForm()
    form.sentra_id.choices = [(s.id, f"{s.code} — {s.name}") for s in sentras]
    if form.validate_on_submit():
        sentra = db.session.get(Sentra, form.sentra_id.data)
        require_sentra_access(current_user, sentra.id if sentra else None)
        assert sentra is not None  # require_sentra_access answered 404 otherwise
        try:
            opening_float = parse_rupiah(form.opening_float.data)
            shift = open_shift(current_user, sentra, opening_float)
        except MoneyParseError as exc:
            form.opening_float.errors.append(str(exc))
        except DomainError as exc:
            rollback_now()  # the page is shown again (200) with the message: nothing is kept
            form.opening_float.errors.append(exc.detail)
        else:
            flash(_("Sesi kasir dibuka."), "success")
            return redirect(url_for("pos.sale_screen", shift_id=shift.id))
    return render_template("pos/index.html", form=form, sentras=sentras)


def queue_messages() -> dict[str, str]:
    """What offline-queue.js says on every counter page (it reads them from #pos-messages)."""
    return {
        "logout_refused": _("Tidak bisa keluar: %(n)s penjualan offline belum tersinkron ke server. Sambungkan ke "
                            "internet dan tekan “Sinkronkan sekarang” dulu; jika keluar, penjualan itu tidak bisa "
                            "dikirim."),
        "close_waits": _("Sesi belum bisa ditutup: %(n)s penjualan offline di perangkat ini belum tersinkron. "
                         "Hubungkan ke internet; penjualan dikirim otomatis, lalu tombol Tutup sesi aktif lagi."),
    }


def sale_screen_messages() -> dict:
    """Every message sale.js builds, from the same catalogue as the server's (`%(name)s` filled in
    by the script); the payment method and reference labels come along."""
    return {
        **queue_messages(),
        "method_labels": {str(t): _(t.label) for t in COUNTER_TENDERS},
        "reference_labels": {"qris": _("Nomor referensi QRIS"), "card": _("Kode persetujuan EDC"),
                             "transfer": _("Referensi transfer bank")},
        "reference": _("Referensi"),
        # cart and scanning
        "cart_empty": _("Keranjang kosong."),
        "cart_empty_scan": _("Keranjang kosong: pindai barang dulu."),
        "cart_count": _("%(n)s barang"),
        "cart_cleared": _("Keranjang dikosongkan."),
        "qty_less": _("Kurangi %(name)s"),
        "qty_more": _("Tambah %(name)s"),
        "line_remove": _("Hapus %(name)s"),
        "added": _("Ditambahkan: %(name)s (%(qty)s). Total %(total)s."),
        "added_many": _("%(n)s barang ditambahkan. Total %(total)s."),
        "removed": _("Dihapus: %(name)s."),
        "selected": _("Terpilih: %(name)s."),
        "qty_set": _("%(name)s: jumlah %(qty)s."),
        "qty_range": _("Jumlah harus antara 1 dan 9999."),
        "stock_short": _("Stok %(name)s tidak cukup: tersisa %(n)s."),
        "price_changed": _("Harga %(name)s berubah di server: %(old)s → %(price)s."),
        "stock_n": _("stok %(n)s"),
        "service": _("layanan"),
        "discount_range": _("Diskon harus antara Rp 0 dan %(max)s."),
        "discount_set": _("%(name)s: diskon %(amount)s."),
        "discount_set_approval": _("%(name)s: diskon %(amount)s — perlu PIN manajer saat bayar."),
        "not_found": _("Barang dengan kode/nama “%(code)s” tidak ditemukan."),
        "dismiss_code": _("Tutup pesan kode %(code)s"),
        "many_found": _("%(n)s barang cocok. Pilih dengan panah lalu Enter."),
        "looking_up": _("Memproses %(n)s kode…"),
        "scan_failed": _("Kode gagal diproses: %(error)s"),
        "search_failed": _("Pencarian gagal."),
        "search_offline": _("Koneksi terputus: pencarian gagal. Coba lagi."),
        "offline_no_catalogue": _("Offline dan katalog belum tersimpan di perangkat ini."),
        "payment_in_flight": _("Pembayaran sedang dikirim/menunggu kepastian. Tekan Bayar untuk mengirim ulang."),
        "waiting_for_items": _("Menunggu barang yang baru dipindai…"),
        # scanner settings
        "scanner_saved": _("Pengaturan pemindai disimpan di perangkat ini."),
        "gap_range": _("Jeda harus angka bulat antara 5 dan 1000 ms."),
        "scanner_test_result": _("Terbaca “%(code)s”: %(n)s karakter, jeda terlama %(gap)s ms, diakhiri %(key)s."),
        # tiles
        "favourites": _("Favorit"),
        "favourites_edit": _("Atur favorit"),
        "favourites_editing": _("Ketuk barang untuk menandai atau melepas favorit."),
        "favourites_saved": _("Favorit disimpan di perangkat ini."),
        "favourite_added": _("%(name)s jadi favorit."),
        "favourite_removed": _("%(name)s bukan favorit lagi."),
        "no_favourites": _("Belum ada favorit: tekan “Atur favorit”, lalu ketuk barangnya."),
        "tiles_loading": _("Memuat katalog…"),
        # payment panel
        "due_prompt": _("Harus dibayar %(due)s. Enter = uang pas."),
        "due_rest": _("Sisa %(due)s."),
        "cash_rounded": _("Total %(total)s, tunai dibulatkan ke %(unit)s."),
        "exact_cash": _("Uang pas %(amount)s"),
        "change_will_be": _("Kembalian %(change)s. Tekan Bayar."),
        "already_paid": _("Sudah lunas; tekan Bayar."),
        "cash_invalid": _("Uang diterima tidak valid. Contoh: 50000 atau 50rb."),
        "cash_short": _("Uang diterima %(tendered)s kurang dari %(due)s. Minta uang lagi, atau tekan “Tambah "
                        "pembayaran (split)” lalu bayar sisanya dengan cara lain."),
        "cash_split_unit": _("Tunai untuk split harus kelipatan %(unit)s."),
        "amount_range": _("Jumlah harus antara Rp 1 dan %(max)s."),
        "reference_required": _("%(label)s wajib diisi."),
        "payment_added": _("Pembayaran dicatat: %(method)s %(amount)s."),
        "payment_remove": _("Hapus pembayaran %(method)s %(amount)s"),
        "payment_removed": _("Pembayaran dihapus. Harus dibayar %(due)s."),
        "pin_needed": _("Diskon di atas batas: manajer perlu memasukkan PIN."),
        "sending": _("Mengirim pembayaran…"),
        "server_status": _("Server menjawab %(status)s. Coba lagi."),
        "retry_safe": _("Tekan Bayar untuk mencoba lagi (tidak akan dobel)."),
        "connection_lost": _("Koneksi terputus. Tekan Bayar lagi: transaksi ini tidak akan tercatat dua kali (tanpa "
                             "koneksi ke server, disimpan di perangkat dan dikirim nanti dengan kunci yang sama)."),
        "pending_after_reload": _("Pembayaran terakhir belum pasti terkirim. Buka pembayaran (F9) lalu tekan Bayar "
                                  "untuk mengirim ulang — tidak akan dobel."),
        "offline_unavailable": _("Penyimpanan offline tidak tersedia di peramban ini."),
        "offline_approval": _("Diskon di atas batas perlu PIN manajer, dan PIN hanya bisa diperiksa saat online. "
                              "Kurangi diskon atau tunggu koneksi."),
        "device_unregistered": _("Perangkat ini belum terdaftar untuk penjualan offline. Sambungkan ke internet "
                                 "sekali, lalu coba lagi."),
        "offline_save_failed": _("Penjualan offline gagal disimpan di perangkat: %(error)s. Jangan serahkan barang; "
                                 "coba lagi."),
        # done panel
        "done": _("Transaksi %(number)s selesai. Kembalian %(change)s."),
        "offline_done": _("Transaksi offline %(number)s disimpan di perangkat. Kembalian %(change)s. Akan dikirim ke "
                          "server saat online."),
        "offline_number": _("%(number)s (offline)"),
        "offline_not_synced": _("Belum tersinkron: struk ini dicetak dari perangkat; struk elektronik dan nomor "
                                "server tersedia setelah sinkron."),
        "offline_synced_number": _("%(offline)s (offline) → %(number)s"),
        # offline receipt printed by the browser
        "receipt_offline_banner": _("OFFLINE — belum tersinkron"),
        "receipt_offline_number": _("No. offline"),
        "receipt_time": _("Waktu"),
        "receipt_cashier": _("Kasir"),
        "receipt_discount": _("Diskon"),
        "receipt_credit": _("Karya: %(name)s"),
        "receipt_subtotal": _("Subtotal"),
        "receipt_discount_total": _("Total diskon"),
        "receipt_total": _("TOTAL"),
        "receipt_rounding": _("Pembulatan"),
        "receipt_paid": _("Dibayar"),
        "receipt_change": _("Kembalian"),
        "receipt_thanks": _("Terima kasih telah mendukung karya penerima manfaat Sentra Kreasi ATENSI."),
        "receipt_after_sync": _("Struk resmi dengan nomor server tersedia setelah sinkron."),
        # visitors, sync
        "visitors_today": _("Pengunjung hari ini: %(n)s."),
        "visitor_failed": _("Gagal menghitung pengunjung."),
        "visitor_offline": _("Koneksi terputus: pengunjung belum terhitung."),
        "offline_unsupported": _("Mode offline tidak tersedia di peramban ini."),
        "sync_offline": _("Offline"),
        "sync_server_down": _("Server tidak terjangkau"),
        "sync_online": _("Online"),
        "sync_waiting": _("%(n)s penjualan menunggu sinkron"),
        "sync_all_done": _("semua penjualan tersinkron"),
        "sync_rejected": _("%(n)s ditolak server: %(reason)s"),
        "sync_rejected_alert": _("Penjualan offline %(number)s ditolak server: %(reason)s Hubungi manajer."),
        "synced": _("%(n)s penjualan offline tersinkron: %(list)s."),
        "sync_login": _("Sinkron tertunda: sesi login berakhir. Masuk lagi sebagai kasir yang sama."),
        "sync_still_offline": _("Masih offline: penjualan dikirim otomatis saat koneksi kembali."),
        "syncing": _("Menyinkronkan…"),
    }


@bp.context_processor
def js_messages():
    return {"queue_messages": queue_messages}


@bp.get("/sesi/<int:shift_id>/jual")
@staff_required
def sale_screen(shift_id: int):
    shift = get_shift_or_404(shift_id)
    if shift.cashier_id != current_user.id:
        abort(404)
    if shift.status != ShiftStatus.OPEN:
        flash(_("Sesi kasir ini sudah ditutup."), "error")
        return redirect(url_for("pos.shift_detail", shift_id=shift.id))
    allow_printing_frames()
    return render_template(
        "pos/sale.html", shift=shift, sentra=shift.sentra, managers=managers_of(shift.sentra),
        visitors=visitor_count(shift.sentra), tenders=COUNTER_TENDERS,
        rounding_unit=current_app.config.get("CASH_ROUNDING_UNIT", 1),
        approval_bps=current_app.config.get("MANAGER_APPROVAL_DISCOUNT_BPS", 1000),
        pos_messages=sale_screen_messages(),
    )


@bp.route("/sesi/<int:shift_id>/tutup", methods=["GET", "POST"])
@staff_required
def shift_close(shift_id: int):
    shift = get_shift_or_404(shift_id)
    if shift.status != ShiftStatus.OPEN:
        return redirect(url_for("pos.shift_detail", shift_id=shift.id))
    form = ShiftCloseForm()
    if form.validate_on_submit():
        counts = {str(d): form[f"d{d}"].data for d in DENOMINATIONS}
        try:
            close_shift(current_user, shift, counts)
        except DomainError as exc:
            rollback_now()  # the count page is shown again (200) with the messages: nothing is kept
            for name, message in getattr(exc, "errors", {}).items():
                if name in form:
                    form[name].errors.append(message)
            if not getattr(exc, "errors", None):
                flash(exc.detail, "error")
        else:
            flash(_("Sesi kasir ditutup. Cetak laporan Z."), "success")
            return redirect(url_for("pos.shift_detail", shift_id=shift.id))
    # The expected cash is shown only after the count (a blind count is harder to fudge).
    return render_template("pos/close.html", shift=shift, form=form, denominations=DENOMINATIONS)


@bp.get("/sesi/<int:shift_id>")
@staff_required
def shift_detail(shift_id: int):
    shift = get_shift_or_404(shift_id)
    summary = shift_summary(shift)
    sales = db.session.scalars(sa.select(Sale).where(Sale.shift_id == shift.id).options(selectinload(Sale.payments))
                               .order_by(Sale.id.desc())).all()
    # Offline sales synced after the close still belong to this shift (see pos/offline.py).
    late_offline = [s for s in sales if s.offline_number and shift.closed_at and s.created_at > shift.closed_at]
    allow_printing_frames()
    return render_template("pos/shift.html", shift=shift, summary=summary, sales=sales, late_offline=late_offline)


def _z_report_context(shift: Shift) -> dict:
    return {"shift": shift, "sentra": shift.sentra, "summary": shift_summary(shift),
            "denominations": DENOMINATIONS, "printed_at": utcnow()}


@bp.get("/sesi/<int:shift_id>/laporan-z.pdf")
@staff_required
def z_report_pdf(shift_id: int):
    shift = get_shift_or_404(shift_id)
    paper, _qr = _print_options()
    pdf = render_pdf("z_report.html", roll_width_mm=paper, **_z_report_context(shift))
    return _pdf_response(pdf, f"laporan-z-{shift.sentra.code}-{shift.id}.pdf")


@bp.get("/sesi/<int:shift_id>/laporan-z.escpos")
@staff_required
def z_report_escpos(shift_id: int):
    shift = get_shift_or_404(shift_id)
    paper, _qr = _print_options()
    data = printing.z_report_escpos(_z_report_context(shift), paper_mm=paper)
    return _escpos_response(data, f"laporan-z-{shift.sentra.code}-{shift.id}.bin")


@bp.get("/penjualan")
@staff_required
def sale_history():
    """Sales of one shift (`?shift_id=`) or of one day at a Sentra (today by default); `?q=` finds
    a sale by its number or its offline receipt number, on any day."""
    sentras = _user_sentras()
    shift = None
    sentra: Sentra | None
    q = " ".join(request.args.get("q", "").split())[:40]
    query = sa.select(Sale).options(selectinload(Sale.payments)).order_by(Sale.id.desc())
    day = None
    if request.args.get("shift_id", "").isdigit():
        shift = get_shift_or_404(int(request.args["shift_id"]))
        query = query.where(Sale.shift_id == shift.id)
        sentra = shift.sentra
    else:
        sentra_id = request.args.get("sentra_id", "")
        sentra = next((s for s in sentras if str(s.id) == sentra_id), sentras[0] if sentras else None)
        if sentra is None:
            abort(404)
        query = query.where(Sale.sentra_id == sentra.id)
        if request.args.get("date") or not q:
            day = sentra.local_date(utcnow())
            try:
                day = date.fromisoformat(request.args.get("date") or day.isoformat())
            except ValueError:
                flash(_("Tanggal tidak valid; menampilkan hari ini."), "error")
            query = query.where(Sale.business_date == day)
    if q:
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_").upper() + "%"
        query = query.where(sa.or_(sa.func.upper(Sale.number).like(pattern, escape="\\"),
                                   sa.func.upper(Sale.offline_number).like(pattern, escape="\\")))
    sales = db.session.scalars(query.limit(500)).all()
    return render_template("pos/history.html", sales=sales, shift=shift, sentra=sentra, sentras=sentras,
                           total=sum(s.total for s in sales), q=q, day=day)


@bp.get("/penjualan/<int:sale_id>")
@staff_required
def sale_detail(sale_id: int):
    sale = get_sale_or_404(sale_id)
    allow_printing_frames()
    new_refund = request.args.get("retur", "")
    return render_template("pos/sale_detail.html", sale=sale, refundable=refundable_quantities(sale),
                           managers=managers_of(sale.sentra), tenders=COUNTER_TENDERS,
                           refund_key=str(uuid.uuid4()), credits=_credits(sale),
                           new_refund_id=int(new_refund) if new_refund.isdigit() else None)


@bp.post("/penjualan/<int:sale_id>/retur")
@staff_required
def refund_create(sale_id: int):
    """Refund (void) lines of a sale; the manager types their PIN on the spot."""
    sale = get_sale_or_404(sale_id)
    lines = []
    for line in sale.lines:
        raw = (request.form.get(f"qty_{line.id}") or "").strip()
        if raw and raw != "0":
            if not raw.isdigit():
                flash(_("Jumlah retur harus angka bulat."), "error")
                return redirect(url_for("pos.sale_detail", sale_id=sale.id))
            lines.append((line.id, int(raw)))
    refund = None
    with refusals_flashed():
        try:
            method = PaymentMethod(request.form.get("method", ""))
            approver = checked_approver(sale.sentra_id, request.form.get("approver_id"),
                                        request.form.get("approver_pin", ""))
            shift = current_shift(current_user, sale.sentra_id)
            if method == PaymentMethod.CASH and shift is None:
                raise Conflict(_("Buka sesi kasir dulu: uang tunai dikembalikan dari laci sesi Anda."))
            refund = refund_sale(current_user, sale, lines=lines, method=method,
                                 reason=request.form.get("reason", ""),
                                 client_key=request.form.get("client_key", ""), approver=approver,
                                 restock=request.form.get("restock") == "1",
                                 reference=request.form.get("reference", ""), shift=shift)
        except ValueError:
            raise DomainError(_("Pilih cara pengembalian uang.")) from None
        flash(_("Retur dicatat: %(amount)s dikembalikan.", amount=_rp(refund.amount)), "success")
    # The detail page then offers the new refund's slip first (one key prints it).
    return redirect(url_for("pos.sale_detail", sale_id=sale.id, retur=refund.id if refund else None))


def _rp(amount: int) -> str:
    from core.i18n import rupiah

    return rupiah(amount)


def _credits(sale: Sale) -> dict[int, str]:
    """"Karya: …" per sale line: the maker's public name only with consent; a group's name."""
    credits: dict[int, str] = {}
    for line in sale.lines:
        if line.group is not None:
            credits[line.id] = line.group.name
        elif line.maker is not None and line.maker.has_consent(ConsentPurpose.RECEIPT_NAME):
            credits[line.id] = line.maker.public_name
    return credits


def _ereceipt_url(sale: Sale) -> str:
    base = current_app.config.get("PUBLIC_BASE_URL", "").rstrip("/")
    return base + url_for("pos.ereceipt", token=sale.receipt_token)


def _pdf_response(pdf: bytes, filename: str) -> Response:
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _escpos_response(data: bytes, filename: str) -> Response:
    """Raw printer bytes for the browser to pass to the printer (Web Serial / WebUSB)."""
    response = Response(data, mimetype="application/octet-stream")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _print_options() -> tuple[int, QrMode]:
    """The counter device's printer settings from the query: `kertas` (58/80), `qr`; 400 otherwise."""
    try:
        return paper_width(request.args.get("kertas")), qr_mode(request.args.get("qr"))
    except BadPrintOption:
        abort(400)


def _drawer_allowed() -> bool:
    """`laci=0`: the device has no cash drawer on its printer (or the kasir turned the kick off)."""
    return request.args.get("laci") != "0"


@lru_cache(maxsize=4096)
def receipt_qr_svg(url: str) -> str:
    """The e-receipt link as an inline SVG QR code: a pure function of the URL, drawn once per
    process (a reprint, the e-receipt page and the PDF reuse it)."""
    return segno.make_qr(url, error="m").svg_inline(scale=2, border=2)


def receipt_context(sale: Sale, *, copy: bool) -> dict:
    url = _ereceipt_url(sale)
    return {
        "sale": sale, "sentra": sale.sentra, "credits": _credits(sale), "copy": copy, "ereceipt_url": url,
        "qr_svg": receipt_qr_svg(url),
        "change": sum(p.change for p in sale.payments),
        "tendered": sum((p.tendered if p.tendered is not None else p.amount) for p in sale.payments),
        **printing.refunds_context(sale),
    }


def _receipt_is_copy(sale: Sale) -> bool:
    return is_copy(sale.created_at, sale.cashier_id, current_user, asked=request.args.get("salinan") == "1")


@bp.get("/penjualan/<int:sale_id>/struk.pdf")
@staff_required
def receipt_pdf(sale_id: int):
    sale = get_sale_or_404(sale_id)
    paper, _qr = _print_options()
    pdf = render_pdf("receipt.html", roll_width_mm=paper, **receipt_context(sale, copy=_receipt_is_copy(sale)))
    return _pdf_response(pdf, f"struk-{sale.number}.pdf")


@bp.get("/penjualan/<int:sale_id>/struk.escpos")
@staff_required
def receipt_escpos(sale_id: int):
    """The receipt as ESC/POS bytes (`kertas`, `qr`, `laci=0` as for the PDF): the drawer opens on
    the original of a cash sale."""
    sale = get_sale_or_404(sale_id)
    paper, qr = _print_options()
    data = printing.receipt_escpos(receipt_context(sale, copy=_receipt_is_copy(sale)), paper_mm=paper, qr=qr,
                          open_drawer=_drawer_allowed())
    return _escpos_response(data, f"struk-{sale.number}.bin")


def _refund_slip(refund_id: int) -> tuple[Refund, dict]:
    refund = get_refund_or_404(refund_id)
    copy = is_copy(refund.created_at, refund.created_by_id, current_user, asked=request.args.get("salinan") == "1")
    return refund, printing.refund_slip_context(refund, copy=copy)


@bp.get("/retur/<int:refund_id>/slip.pdf")
@staff_required
def refund_slip_pdf(refund_id: int):
    refund, ctx = _refund_slip(refund_id)
    paper, _qr = _print_options()
    pdf = render_pdf("refund_slip.html", roll_width_mm=paper, **ctx)
    return _pdf_response(pdf, f"slip-retur-{refund.sale.number}-R{refund.id}.pdf")


@bp.get("/retur/<int:refund_id>/slip.escpos")
@staff_required
def refund_slip_escpos(refund_id: int):
    refund, ctx = _refund_slip(refund_id)
    paper, _qr = _print_options()
    data = printing.refund_slip_escpos(ctx, paper_mm=paper, open_drawer=_drawer_allowed())
    return _escpos_response(data, f"slip-retur-{refund.sale.number}-R{refund.id}.bin")


@bp.get("/struk/<token>")
def ereceipt(token: str):
    """The buyer's e-receipt, by an unguessable link (no login)."""
    if len(token) < 20 or len(token) > 64:
        abort(404)
    sale = db.session.scalar(sa.select(Sale).where(Sale.receipt_token == token))
    if sale is None:
        abort(404)
    url = _ereceipt_url(sale)
    text = _("Struk %(number)s dari %(sentra)s: %(url)s", number=sale.number, sentra=sale.sentra.name, url=url)
    return render_template("pos/ereceipt.html", **receipt_context(sale, copy=False),
                           whatsapp_url="https://wa.me/?text=" + quote(text))


# ---------------------------------------------------------------------------------------------
# This counter device's printer (settings kept in its browser by static/js/pos/print.js)

@bp.get("/printer")
@staff_required
def printer_settings():
    allow_printing_frames()
    return render_template("pos/printer.html", papers=[(mm, COLUMNS[mm]) for mm in PAPER_WIDTHS])


def _test_page_url() -> str:
    return current_app.config.get("PUBLIC_BASE_URL", "").rstrip("/") + url_for("pos.printer_settings")


@bp.get("/printer/tes.pdf")
@staff_required
def printer_test_pdf():
    paper, _qr = _print_options()
    pdf = render_pdf("printer_test.html", roll_width_mm=paper, qr_svg=receipt_qr_svg(_test_page_url()),
                     printed_at=utcnow())
    return _pdf_response(pdf, f"tes-printer-{paper}mm.pdf")


@bp.get("/printer/tes.escpos")
@staff_required
def printer_test_escpos():
    paper, qr = _print_options()
    return _escpos_response(printing.printer_test_escpos(paper_mm=paper, qr=qr, url=_test_page_url()),
                            f"tes-printer-{paper}mm.bin")


# ---------------------------------------------------------------------------------------------
# Offline counter: the installable app (manifest, service worker) and stock conflicts

#: files the service worker keeps for the sale screen to open offline
SHELL_FILES = ("css/app.css", "css/pos.css", "js/pos/sale.js", "js/pos/offline-queue.js", "js/pos/print.js",
               "fonts/DejaVuSans.ttf", "fonts/DejaVuSans-Bold.ttf", "img/pos/icon-192.png", "img/pos/icon-512.png")


@bp.get("/manifest.webmanifest")
def manifest():
    manifest = {
        "name": "Kasir Sentra Kreasi ATENSI", "short_name": "Kasir SKA", "lang": "id",
        "start_url": url_for("pos.index"), "scope": url_for("pos.index"), "display": "standalone",
        "background_color": "#ffffff", "theme_color": "#7a2e0e",
        "icons": [{"src": url_for("static", filename=f"img/pos/icon-{n}.png"), "sizes": f"{n}x{n}",
                   "type": "image/png", "purpose": "any"} for n in (192, 512)],
    }
    response = current_app.response_class(json.dumps(manifest), mimetype="application/manifest+json")
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/sw.js")
def service_worker():
    """The service worker, from /pos/ so its scope covers every counter page; never cached."""
    assert current_app.static_folder is not None
    static = Path(current_app.static_folder)
    digest = hashlib.sha256()
    for name in ("js/pos/sw.js", *SHELL_FILES):
        digest.update((static / name).read_bytes())
    source = (static / "js/pos/sw.js").read_text(encoding="utf-8")
    shell = [url_for("static", filename=name) for name in SHELL_FILES]
    source = source.replace("__VERSION__", digest.hexdigest()[:16]).replace("__SHELL__", json.dumps(shell))
    response = current_app.response_class(source, mimetype="application/javascript")
    response.headers["Cache-Control"] = "no-cache, no-store, max-age=0"
    response.headers["Service-Worker-Allowed"] = url_for("pos.index")
    return response


def _managed_sentra_ids() -> set[int] | None:
    return None if current_user.role == "admin" else set(current_user.sentra_ids)


@bp.get("/konflik-stok")
@manager_required
def stock_conflicts():
    """Offline sales that sold more than the books held, and prices that differed, for a manager."""
    sentra_ids = _managed_sentra_ids()
    return render_template("pos/conflicts.html", conflicts=conflicts_for(sentra_ids),
                           resolved=[c for c in conflicts_for(sentra_ids, open_only=False) if c.resolved_at][-20:],
                           differences=price_differences_for(sentra_ids))


@bp.post("/konflik-stok/<int:conflict_id>/selesaikan")
@manager_required
def stock_conflict_resolve(conflict_id: int):
    conflict = db.session.get(StockConflict, conflict_id)
    require_sentra_access(current_user, conflict.sentra_id if conflict else None)
    assert conflict is not None  # require_sentra_access answered 404 otherwise
    with refusals_flashed():
        resolve_conflict(current_user, conflict, request.form.get("note", ""))
        flash(_("Konflik stok %(sale)s diselesaikan: stok disesuaikan %(qty)s.",
                sale=conflict.sale.number, qty=conflict.missing_qty), "success")
    return redirect(url_for("pos.stock_conflicts"))
