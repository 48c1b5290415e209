"""JSON API behind the sale screen (`/pos/api/...`). Errors are problem+json (core.errors)."""

from __future__ import annotations

import contextlib
import functools
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from flask import jsonify, request, url_for
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from accounts.access import require_sentra_access, staff_required
from core.errors import Conflict, IdempotencyConflict, NotFound, ShiftClosed, ValidationFailed
from core.extensions import db
from core.idempotency import validate_key
from core.unit_of_work import commit_before_refusal
from inventory.models import Product, StockLevel
from pos import bp
from pos.models import Shift, ShiftStatus
from pos.offline import catalogue, record_offline_sale, register_device
from pos.services import (
    WrongPin,
    approve_with_pin,
    count_visitor,
    lock_open_shift,
    record_pin_failure,
    visitor_count,
)
from sales.models import Channel, PaymentMethod, Sale
from sales.services import LineRequest, PaymentRequest, find_sale_by_key, record_sale, refund_sale, replay_sale
from sentras.models import Sentra

SEARCH_LIMIT = 12


def checked_approver(sentra_id: int, approver_id: object, pin: object):
    """The approving manager; a wrong PIN is counted (committed) before the 403 goes out.

    Called before the request writes anything else, so the commit on a wrong PIN keeps only the
    throttle's count (and a block alert) — rolling back first would hand the claimed check back.
    """
    try:
        return approve_with_pin(sentra_id, approver_id, str(pin or ""))
    except WrongPin as error:
        record_pin_failure(error, request.remote_addr)
        commit_before_refusal()
        raise


def get_sentra_or_404(sentra_id: Any) -> Sentra:
    try:
        sentra = db.session.get(Sentra, int(sentra_id))
    except (TypeError, ValueError):
        sentra = None
    require_sentra_access(current_user, sentra.id if sentra else None)
    assert sentra is not None  # require_sentra_access answered 404 otherwise
    return sentra


def product_json(product: Product, stock: int | None) -> dict:
    return {
        "id": product.id, "sku": product.sku, "barcode": product.barcode, "name": product.name,
        "category": product.category, "price": product.price, "kind": str(product.kind),
        "stock": stock if product.is_stock_tracked else None,
    }


@bp.get("/api/products")
@staff_required
def api_products():
    """Instant search: an exact barcode/SKU match first (`exact`), else names containing `q`."""
    sentra = get_sentra_or_404(request.args.get("sentra_id"))
    q = (request.args.get("q") or "").strip()[:80]
    if not q:
        return jsonify(exact=None, results=[])
    base = (
        sa.select(Product, StockLevel.qty)
        .outerjoin(StockLevel, (StockLevel.product_id == Product.id) & (StockLevel.sentra_id == sentra.id))
        .where(Product.sentra_id == sentra.id, Product.is_active.is_(True))
    )
    exact = db.session.execute(
        base.where(sa.or_(Product.barcode == q, sa.func.upper(Product.sku) == q.upper())).limit(1)
    ).first()
    if exact is not None:
        item = product_json(exact[0], exact[1] or 0)
        return jsonify(exact=item, results=[item])
    pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_").lower() + "%"
    rows = db.session.execute(
        base.where(sa.or_(sa.func.lower(Product.name).like(pattern, escape="\\"),
                          sa.func.lower(Product.sku).like(pattern, escape="\\")))
        .order_by(Product.name).limit(SEARCH_LIMIT)
    ).all()
    return jsonify(exact=None, results=[product_json(p, qty or 0) for p, qty in rows])


def sale_json(sale: Sale) -> dict:
    """The answer to a recorded sale; a replay of the same key builds exactly the same body."""
    change = sum(p.change for p in sale.payments)
    return {
        "id": sale.id,
        "number": sale.number,
        "status": str(sale.status),
        "subtotal": sale.subtotal,
        "discount_total": sale.discount_total,
        "total": sale.total,
        "rounding": sale.rounding,
        "amount_due": sale.amount_due,
        "paid": sum(p.amount for p in sale.payments),
        "tendered": sum((p.tendered if p.tendered is not None else p.amount) for p in sale.payments),
        "change": change,
        "created_at": sale.created_at.isoformat(),
        "offline_number": sale.offline_number,
        "lines": [{"id": ln.id, "product_id": ln.product_id, "name": ln.product_name, "quantity": ln.quantity,
                   "unit_price": ln.unit_price, "discount": ln.discount, "line_total": ln.line_total}
                  for ln in sale.lines],
        "payments": [{"method": str(p.method), "amount": p.amount, "tendered": p.tendered, "change": p.change,
                      "reference": p.reference} for p in sale.payments],
        "receipt_pdf_url": url_for("pos.receipt_pdf", sale_id=sale.id),
        "receipt_url": url_for("pos.ereceipt", token=sale.receipt_token),
    }


def _int(value: object, field: str, *, default: int | None = None) -> int:
    if value is None and default is not None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, str) and value.strip().isdigit():
            return int(value)
        raise ValidationFailed({field: "Harus berupa angka rupiah/jumlah bulat."})
    return value


def parse_sale_body(body: object) -> tuple[int, list[LineRequest], list[PaymentRequest]]:
    if not isinstance(body, dict):
        raise ValidationFailed({"body": "Data penjualan harus berupa JSON."})
    lines_raw, payments_raw = body.get("lines"), body.get("payments")
    if not isinstance(lines_raw, list) or not isinstance(payments_raw, list):
        raise ValidationFailed({"body": "Data penjualan harus berisi daftar 'lines' dan 'payments'."})
    lines = []
    for i, ln in enumerate(lines_raw, start=1):
        if not isinstance(ln, dict):
            raise ValidationFailed({f"lines[{i}]": "Baris tidak valid."})
        service_date = None
        if ln.get("service_date"):
            try:
                service_date = date.fromisoformat(str(ln["service_date"]))
            except ValueError:
                raise ValidationFailed({f"lines[{i}].service_date": "Tanggal tidak valid."}) from None
        unit_price = ln.get("unit_price")
        lines.append(LineRequest(product_id=_int(ln.get("product_id"), f"lines[{i}].product_id"),
                                 quantity=_int(ln.get("quantity"), f"lines[{i}].quantity"),
                                 discount=_int(ln.get("discount"), f"lines[{i}].discount", default=0),
                                 service_date=service_date,
                                 unit_price=None if unit_price is None else _int(unit_price, f"lines[{i}].unit_price")))
    payments = []
    for i, p in enumerate(payments_raw, start=1):
        if not isinstance(p, dict):
            raise ValidationFailed({f"payments[{i}]": "Pembayaran tidak valid."})
        try:
            method = PaymentMethod(p.get("method", ""))
        except ValueError:
            raise ValidationFailed({f"payments[{i}].method": "Cara bayar tidak dikenal."}) from None
        if method == PaymentMethod.STRIPE:
            raise ValidationFailed({f"payments[{i}].method": "Stripe hanya untuk toko online."})
        tendered = p.get("tendered")
        payments.append(PaymentRequest(
            method=method, amount=_int(p.get("amount"), f"payments[{i}].amount"),
            tendered=None if tendered in (None, "") else _int(tendered, f"payments[{i}].tendered"),
            reference=str(p.get("reference") or "")[:80],
        ))
    shift_id = _int(body.get("shift_id"), "shift_id")
    return shift_id, lines, payments


@functools.cache
def _shift_by_id() -> sa.Select:
    return sa.select(Shift).where(Shift.id == sa.bindparam("id"))


@bp.post("/api/sales")
@staff_required
def api_sale_create():
    """Record a counter sale. Header `Idempotency-Key` (UUID): a retry returns the same answer.

    The key is looked up once, here; the answer is built from the sale as written, before the unit
    of work commits, so nothing is read back afterwards.
    """
    key = validate_key(request.headers.get("Idempotency-Key"))
    shift_id, lines, payments = parse_sale_body(request.get_json(silent=True))
    existing = find_sale_by_key(key)
    if existing is not None:
        if existing.cashier_id != current_user.id or existing.shift_id != shift_id:
            raise IdempotencyConflict("Kunci transaksi ini sudah dipakai untuk penjualan lain.")
        return _sale_answer(replay_sale(existing, existing.sentra, lines, payments))  # 422 if the body differs
    shift = db.session.scalar(_shift_by_id(), {"id": shift_id})
    if shift is None or shift.cashier_id != current_user.id:
        raise NotFound("Sesi kasir tidak ditemukan.", field="shift_id")
    require_sentra_access(current_user, shift.sentra_id)
    body = request.get_json(silent=True)
    assert isinstance(body, dict)  # parse_sale_body refused anything else
    if body.get("offline") is True:
        return _offline_sale_create(key, shift, body, lines, payments)
    approver = None
    if body.get("approver_id") not in (None, ""):
        approver = checked_approver(shift.sentra_id, body.get("approver_id"), body.get("approver_pin"))
    lock_open_shift(shift)
    try:
        sale = record_sale(current_user, shift.sentra, channel=Channel.POS, lines=lines, payments=payments,
                           client_key=key, shift=shift, discount_approver=approver, key_is_new=True)
    except IdempotencyConflict:
        # Lost a race for this key to another request: whoever won, that sale (its number and
        # contents) is not shown to this kasir (tests/ops/test_idempotency.py).
        raise IdempotencyConflict("Kunci transaksi ini sudah dipakai untuk penjualan lain.") from None
    replayed = sale.shift_id != shift.id or sale.cashier_id != current_user.id
    if replayed:
        raise IdempotencyConflict("Kunci transaksi ini sudah dipakai untuk penjualan lain.")
    return _sale_answer(sale)


def _sale_answer(sale: Sale):
    """201 with the sale; a replay (also one that lost a race for its key) says so in a header."""
    response = jsonify(sale_json(sale))
    response.status_code = 201
    response.headers["Location"] = url_for("pos.sale_detail", sale_id=sale.id)
    if sale.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


def _parse_time(value: object) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise ValidationFailed({"sold_at": "Waktu penjualan tidak valid (ISO 8601)."}) from None


def _offline_sale_create(key: str, shift: Shift, body: dict, lines: list[LineRequest],
                         payments: list[PaymentRequest]):
    """A sale made while the device was offline: see pos/offline.py for what is accepted."""
    if shift.status == ShiftStatus.OPEN:
        # Queue behind a close running right now; closed meanwhile, the sale still belongs to it.
        with contextlib.suppress(ShiftClosed):
            lock_open_shift(shift)
    sale = record_offline_sale(current_user, shift, lines=lines, payments=payments, client_key=key,
                               offline_number=str(body.get("offline_number") or "")[:40],
                               sold_at=_parse_time(body.get("sold_at")),
                               device_code=str(body.get("device_code") or "")[:8] or None)
    if sale.shift_id != shift.id or sale.cashier_id != current_user.id:
        raise IdempotencyConflict("Kunci transaksi ini sudah dipakai untuk penjualan lain.")
    return _sale_answer(sale)


@bp.get("/api/catalogue")
@staff_required
def api_catalogue():
    """The Sentra's products, prices and stock snapshot for the offline counter."""
    sentra = get_sentra_or_404(request.args.get("sentra_id"))
    response = jsonify(catalogue(sentra))
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/api/session")
@staff_required
def api_session():
    """Who is logged in, a fresh CSRF token and the open shifts: the sync loop starts here."""
    shifts = db.session.scalars(
        sa.select(Shift).where(Shift.cashier_id == current_user.id, Shift.status == ShiftStatus.OPEN)
    ).all()
    response = jsonify(user_id=current_user.id, csrf_token=generate_csrf(),
                       open_shifts=[{"id": s.id, "sentra_id": s.sentra_id} for s in shifts])
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/api/devices")
@staff_required
def api_device_register():
    """A new device code for this browser at a Sentra (unique there); the browser keeps it."""
    body = request.get_json(silent=True)
    body = body if isinstance(body, dict) else {}  # a JSON list/string/number is no body (was a 500)
    sentra = get_sentra_or_404(body.get("sentra_id"))
    device = register_device(current_user, sentra)
    return jsonify(sentra_id=sentra.id, sentra_code=sentra.code, code=device.code), 201


@bp.post("/api/sales/<int:sale_id>/refunds")
@staff_required
def api_refund_create(sale_id: int):
    """Refund lines of a sale with a manager's PIN; header `Idempotency-Key` (UUID)."""
    from pos.services import current_shift

    key = validate_key(request.headers.get("Idempotency-Key"))
    sale = db.session.get(Sale, sale_id)
    require_sentra_access(current_user, sale.sentra_id if sale else None)
    assert sale is not None  # require_sentra_access answered 404 otherwise
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("lines"), list):
        raise ValidationFailed({"lines": "Pilih baris yang dikembalikan."})
    lines = [(_int(ln.get("sale_line_id"), "sale_line_id"), _int(ln.get("quantity"), "quantity"))
             for ln in body["lines"] if isinstance(ln, dict)]
    try:
        method = PaymentMethod(body.get("method", ""))
    except ValueError:
        raise ValidationFailed({"method": "Cara pengembalian uang tidak dikenal."}) from None
    approver = checked_approver(sale.sentra_id, body.get("approver_id"), body.get("approver_pin"))
    shift = current_shift(current_user, sale.sentra_id)
    if method == PaymentMethod.CASH and shift is None:
        raise Conflict("Buka sesi kasir dulu: uang tunai dikembalikan dari laci sesi Anda.")
    refund = refund_sale(current_user, sale, lines=lines, method=method, reason=str(body.get("reason") or ""),
                         client_key=key, approver=approver, restock=bool(body.get("restock", True)),
                         reference=str(body.get("reference") or ""), shift=shift)
    response = jsonify(id=refund.id, amount=refund.amount, method=str(refund.method), sale_status=str(sale.status))
    response.status_code = 201
    if refund.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


@bp.post("/api/visitors")
@staff_required
def api_visitor_count():
    """+1 (or -1 with {"delta": -1}) visitor today at this Sentra."""
    body = request.get_json(silent=True)
    body = body if isinstance(body, dict) else {}  # a JSON list/string/number is no body (was a 500)
    sentra = get_sentra_or_404(body.get("sentra_id"))
    delta = -1 if body.get("delta") == -1 else 1
    day, count = count_visitor(sentra, delta)
    return jsonify(sentra_id=sentra.id, business_date=day.isoformat(), count=count)


@bp.get("/api/visitors")
@staff_required
def api_visitor_get():
    sentra = get_sentra_or_404(request.args.get("sentra_id"))
    return jsonify(sentra_id=sentra.id, count=visitor_count(sentra))
