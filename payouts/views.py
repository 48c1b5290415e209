"""Maker portal and payout pages: load, authorise, call a service, render (the request commits once)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from accounts.access import (
    maker_required,
    manager_required,
    require_own_maker,
    require_sentra_access,
    scoped_sentra_ids,
)
from core.db import utcnow
from core.errors import DomainError, ValidationFailed
from core.exports import csv_text
from core.extensions import db
from core.files import file_response
from core.money import terbilang
from core.pdf import render_pdf
from core.unit_of_work import refusals_flashed, writes
from makers.models import Maker, PayoutMethod
from payouts import bp, ledger, services
from payouts.forms import ActionForm, CancelForm, PayLineForm, RunCreateForm, SlipUploadForm
from payouts.models import LineStatus, PayoutLine, PayoutRun, RunStatus
from sentras.models import Sentra

if TYPE_CHECKING:
    from werkzeug.wrappers import Response as BaseResponse


# --- loaders ----------------------------------------------------------------------------------

def get_run_or_404(run_id: int) -> PayoutRun:
    run = db.session.get(PayoutRun, run_id)
    if run is None:
        abort(404)
    require_sentra_access(current_user, run.sentra_id)
    return run


def get_line_or_404(line_id: int) -> PayoutLine:
    line = db.session.get(PayoutLine, line_id)
    if line is None:
        abort(404)
    require_sentra_access(current_user, line.run.sentra_id)
    return line


def _own_line_or_404(line_id: int) -> PayoutLine:
    line = db.session.get(PayoutLine, line_id)
    if line is None or line.status != LineStatus.PAID:
        abort(404)
    require_own_maker(current_user, line.maker_id)
    return line


def _scoped_sentras() -> list[Sentra]:
    ids = scoped_sentra_ids(current_user)
    query = sa.select(Sentra).order_by(Sentra.name)
    if ids is not None:
        query = query.where(Sentra.id.in_(ids))
    return list(db.session.scalars(query))


def _month_arg(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return datetime.strptime(value, "%Y-%m").date()
    except ValueError:
        return None


# --- staff: runs ------------------------------------------------------------------------------

@bp.route("/runs", methods=["GET", "POST"])
@manager_required
def run_list():
    sentras = _scoped_sentras()
    form = RunCreateForm()
    form.sentra_id.choices = [(s.id, s.name) for s in sentras]
    selected = request.args.get("sentra_id", type=int) or (sentras[0].id if sentras else None)
    status = 200
    if form.validate_on_submit():
        require_sentra_access(current_user, form.sentra_id.data)
        sentra = db.session.get(Sentra, form.sentra_id.data)
        assert sentra is not None  # require_sentra_access answered 404 otherwise
        try:
            run = services.create_run(current_user, sentra, cutoff_date=form.cutoff_date.data,
                                      client_key=form.client_key.data or str(uuid.uuid4()),
                                      note=form.note.data or "")
        except DomainError as error:
            _attach_errors(form, error)
            status = error.status
            selected = sentra.id
        else:
            flash(_("Daftar pencairan dibuat. Minta orang kedua memeriksa dan menyetujui."), "success")
            return redirect(url_for("payouts.run_detail", run_id=run.id))
    elif request.method == "POST":
        status = 422
    if request.method == "GET":
        form.client_key.data = str(uuid.uuid4())
        if selected:
            form.sentra_id.data = selected
            selected_sentra = db.session.get(Sentra, selected)
            form.cutoff_date.data = selected_sentra.local_date() if selected_sentra else None
    if selected:
        require_sentra_access(current_user, selected)
        if db.session.get(Sentra, selected) is None:  # an admin passes the check for any id (was a 500)
            abort(404)
    runs = list(db.session.scalars(
        sa.select(PayoutRun).where(PayoutRun.sentra_id.in_([s.id for s in sentras]))
        .order_by(PayoutRun.created_at.desc()).limit(50)))
    balances = []
    if selected:
        found = ledger.all_maker_balances(sentra_id=selected)
        makers = {m.id: m for m in db.session.scalars(sa.select(Maker).where(Maker.id.in_(found)))}
        balances = sorted(((makers[i], b) for i, b in found.items()), key=lambda mb: mb[0].name)
    this_month = db.session.get_one(Sentra, selected).local_date().strftime("%Y-%m") if selected else ""
    return render_template("payouts/run_list.html", form=form, runs=runs, balances=balances, sentras=sentras,
                           selected=selected, this_month=this_month), status


def _attach_errors(form, error: DomainError) -> None:
    errors = error.errors if isinstance(error, ValidationFailed) else {"": error.detail}
    for name, message in errors.items():
        field = getattr(form, name, None)
        if field is not None and hasattr(field, "errors") and name != "":
            field.errors = [*list(field.errors), message]
        else:
            flash(message, "error")


@bp.get("/runs/<int:run_id>")
@manager_required
def run_detail(run_id: int):
    run = get_run_or_404(run_id)
    return render_template("payouts/run_detail.html", run=run, action=ActionForm(), cancel_form=CancelForm(),
                           pay_form=PayLineForm(), upload_form=SlipUploadForm(), LineStatus=LineStatus,
                           RunStatus=RunStatus, methods=list(PayoutMethod))


def _run_action(run_id: int, action) -> BaseResponse:
    run = get_run_or_404(run_id)
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    with refusals_flashed(per_field=True):
        message = action(run)
        flash(message, "success")
    return redirect(url_for("payouts.run_detail", run_id=run_id))


@bp.post("/runs/<int:run_id>/setujui")
@manager_required
def run_approve(run_id: int):
    def act(run):
        services.approve_run(current_user, run)
        return _("Pencairan disetujui.")

    return _run_action(run_id, act)


@bp.post("/runs/<int:run_id>/bayar-tunai")
@manager_required
def run_pay_cash(run_id: int):
    def act(run):
        count = 0
        for line in list(run.lines):
            if line.status == LineStatus.PENDING and str(line.method) in ("cash", "savings"):
                services.mark_line_paid(current_user, line)
                count += 1
        return _("%(n)s pembayaran tunai/tabungan dicatat.", n=count)

    return _run_action(run_id, act)


@bp.post("/runs/<int:run_id>/referensi")
@manager_required
def run_references(run_id: int):
    """Record the bank's references back for transfer lines (fields `ref-<line id>`)."""
    def act(run):
        count = 0
        for line in list(run.lines):
            reference = (request.form.get(f"ref-{line.id}") or "").strip()
            if reference and line.status == LineStatus.PENDING:
                services.mark_line_paid(current_user, line, reference=reference)
                count += 1
        return _("%(n)s referensi transfer dicatat.", n=count)

    return _run_action(run_id, act)


@bp.post("/runs/<int:run_id>/batal")
@manager_required
def run_cancel(run_id: int):
    run = get_run_or_404(run_id)
    form = CancelForm()
    if form.validate_on_submit():
        with refusals_flashed():
            services.cancel_run(current_user, run, reason=form.reason.data)
            flash(_("Pencairan dibatalkan."), "success")
    else:
        flash(_("Alasan pembatalan wajib diisi."), "error")
    return redirect(url_for("payouts.run_detail", run_id=run_id))


@bp.get("/runs/<int:run_id>/transfer.csv")
@manager_required
def run_transfer_csv(run_id: int):
    run = get_run_or_404(run_id)
    return Response(services.transfer_csv(run), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename=pencairan-{run.sentra.code}-{run.id}.csv"})


@bp.post("/lines/<int:line_id>/cara")
@manager_required
def line_method(line_id: int):
    line = get_line_or_404(line_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    with refusals_flashed(per_field=True):
        services.set_line_method(current_user, line, request.form.get("method", ""))
        flash(_("Cara pembayaran untuk %(name)s diubah.", name=line.maker.name), "success")
    return redirect(url_for("payouts.run_detail", run_id=line.run_id))


@bp.get("/lines/<int:line_id>/bukti.pdf")
@manager_required
def line_slip_pdf(line_id: int):
    return _slip_response(get_line_or_404(line_id))


@bp.post("/lines/<int:line_id>/scan")
@manager_required
def line_slip_upload(line_id: int):
    line = get_line_or_404(line_id)
    form = SlipUploadForm()
    if not form.validate_on_submit():
        abort(400)
    upload = form.slip.data
    data = upload.read() if upload else b""
    with refusals_flashed(per_field=True):
        services.attach_slip(current_user, line, data, upload.filename if upload else None)
        flash(_("Foto bukti tersimpan."), "success")
    return redirect(url_for("payouts.run_detail", run_id=line.run_id))


@bp.get("/lines/<int:line_id>/scan")
@manager_required
def line_slip_scan(line_id: int):
    return _scan_response(get_line_or_404(line_id))


def _scan_response(line: PayoutLine) -> Response:
    """The signed scan, from the database: only ever a download, sandboxed and never cached
    (core.files.file_response), whatever a PDF may hide."""
    if line.slip_file is None:
        abort(404)
    return file_response(line.slip_file, download_name=services.slip_download_name(line))


def _slip_response(line: PayoutLine) -> Response:
    if line.status == LineStatus.SKIPPED:
        abort(404)
    run = line.run
    pdf = render_pdf("payout_slip.html", line=line, run=run, maker=line.maker, sentra=run.sentra,
                     words=terbilang(line.amount), covered=services.covered_rows(line),
                     officer=line.paid_by or current_user, printed_at=utcnow())
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": f"inline; filename=bukti-pembayaran-{line.id}.pdf"})


# --- maker portal -----------------------------------------------------------------------------

def _maker() -> Maker:
    maker = db.session.get(Maker, current_user.maker_id)
    if maker is None:
        abort(404)
    return maker


@bp.get("/saya")
@writes
@maker_required
def portal_home():
    maker = _maker()
    balance = ledger.maker_balance(maker.id)
    since = services.record_visit(maker.id)
    new_rows = [row for row in services.maker_sales(maker.id, since=since) if row.is_new] if since else []
    return render_template("payouts/portal_home.html", maker=maker, balance=balance, new_rows=new_rows,
                           new_pieces=sum(row.quantity for row in new_rows),
                           since=since)


@bp.get("/saya/penjualan")
@maker_required
def portal_sales():
    maker = _maker()
    month = _month_arg(request.args.get("bulan"))
    rows = services.maker_sales(maker.id, month=month, since=services.new_since(maker.id))
    return render_template("payouts/portal_sales.html", maker=maker, rows=rows, month=month,
                           total=sum(r.share for r in rows))


@bp.get("/saya/penjualan.csv")
@maker_required
def portal_sales_csv():
    maker = _maker()
    month = _month_arg(request.args.get("bulan"))
    rows: list[list[object]] = [["tanggal", "sentra", "barang", "jumlah", "harga", "total_baris", "bagian_saya",
                                 "jenis"]]
    rows.extend([row.business_date.isoformat(), row.sentra_name, row.product_name, row.quantity, row.unit_price,
                 row.line_total, row.share, "pengembalian" if row.is_refund else "penjualan"]
                for row in services.maker_sales(maker.id, month=month))
    return Response(csv_text(rows), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=penjualan-saya.csv"})


@bp.get("/saya/stok")
@maker_required
def portal_stock():
    maker = _maker()
    return render_template("payouts/portal_stock.html", maker=maker, rows=services.maker_stock(maker.id))


@bp.get("/saya/pencairan")
@maker_required
def portal_payouts():
    maker = _maker()
    today = maker.sentra.local_date()
    months = []
    year, month = today.year, today.month
    for _i in range(6):
        months.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return render_template("payouts/portal_payouts.html", maker=maker, lines=services.maker_payout_lines(maker.id),
                           months=months)


@bp.get("/saya/pencairan/<int:line_id>/bukti.pdf")
@maker_required
def portal_slip_pdf(line_id: int):
    return _slip_response(_own_line_or_404(line_id))


@bp.get("/saya/pencairan/<int:line_id>/scan")
@maker_required
def portal_slip_scan(line_id: int):
    return _scan_response(_own_line_or_404(line_id))


@bp.get("/saya/laporan/<month>.pdf")
@maker_required
def portal_statement_pdf(month: str):
    maker = _maker()
    first = _month_arg(month)
    if first is None:
        abort(404)
    return _statement_response(maker, first)


@bp.get("/pembuat/<int:maker_id>/laporan/<month>.pdf")
@manager_required
def maker_statement_pdf(maker_id: int, month: str):
    maker = db.session.get(Maker, maker_id)
    if maker is None:
        abort(404)
    require_sentra_access(current_user, maker.sentra_id)
    first = _month_arg(month)
    if first is None:
        abort(404)
    return _statement_response(maker, first)


def _statement_response(maker: Maker, first: date) -> Response:
    statement = services.monthly_statement(maker, first)
    pdf = render_pdf("maker_statement.html", statement=statement, maker=maker, sentra=maker.sentra,
                     printed_at=utcnow())
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": f"inline; filename=laporan-{first:%Y-%m}.pdf"})
