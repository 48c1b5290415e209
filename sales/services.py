"""Recording sales and refunds: the one path by which the counter and the shop sell.

Both functions flush and never commit; the caller (view, API, webhook) commits once, so the sale,
its stock movements, the audit entry and the payouts allocation (signal receivers) are atomic.
"""

from __future__ import annotations

import functools
import secrets
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol, cast

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from accounts.models import Role, User
from core.audit import record_audit
from core.db import attach_loaded, column_values, insert_new, insert_on_conflict, utcnow
from core.errors import (
    DomainError,
    Forbidden,
    IdempotencyConflict,
    NotFound,
    OutOfStock,
    PaymentMismatch,
    ShiftClosed,
    ValidationFailed,
)
from core.extensions import db
from core.money import apply_bps, format_rupiah, round_cash
from inventory.models import MovementKind, Product
from inventory.stock import move_stock, move_stock_many, stock_level
from sales.models import (
    Channel,
    Payment,
    PaymentMethod,
    Refund,
    RefundLine,
    Sale,
    SaleLine,
    SaleStatus,
)
from sales.numbering import give_back, issue_number
from sales.signals import sale_recorded, sale_refunded
from sentras.models import Sentra


class CounterShift(Protocol):
    """What a sale needs to know of the counter's shift (pos's `Shift` is one); sales never imports pos."""

    @property
    def id(self) -> int: ...
    @property
    def sentra_id(self) -> int: ...
    @property
    def cashier_id(self) -> int: ...
    @property
    def is_open(self) -> bool: ...

#: more pieces than this on one line is a typo (e.g. a barcode scanned into the quantity field)
MAX_LINE_QUANTITY = 9_999
MAX_LINES = 200
REFERENCE_REQUIRED = {PaymentMethod.QRIS, PaymentMethod.CARD, PaymentMethod.TRANSFER, PaymentMethod.STRIPE}
REFERENCE_LABELS = {
    PaymentMethod.QRIS: "Nomor referensi QRIS",
    PaymentMethod.CARD: "Kode persetujuan EDC",
    PaymentMethod.TRANSFER: "Referensi transfer bank",
    PaymentMethod.STRIPE: "ID pembayaran Stripe",
}


@dataclass(frozen=True)
class LineRequest:
    product_id: int
    quantity: int
    discount: int = 0  # rupiah, whole line
    service_date: date | None = None
    #: the unit price the buyer paid; honoured only for offline sales (see OfflineSale)
    unit_price: int | None = None


@dataclass(frozen=True)
class PaymentRequest:
    method: PaymentMethod
    amount: int  # amount applied to the sale
    tendered: int | None = None  # cash handed over (cash only); change = tendered - amount
    reference: str = ""


@dataclass(frozen=True)
class OfflineSale:
    """A counter sale made on a device without a connection and synced later.

    The goods already left the shop and the buyer already paid, so `record_sale` then takes the
    unit prices the device charged (differences are flagged by the caller, not refused), books the
    sale to its shift even if that shift was closed meanwhile, and takes only the stock that exists
    (the caller records the shortfall as a stock conflict).
    """

    number: str  # provisional receipt number printed on the device
    sold_at: datetime  # the device's clock, already clamped by the caller


def is_manager_of(user: User | None, sentra_id: int) -> bool:
    """A manager of this Sentra, or an admin (who may act for every Sentra)."""
    if user is None or not user.is_active:
        return False
    return user.role == Role.ADMIN or (user.role == Role.MANAGER and sentra_id in user.sentra_ids)


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# ---------------------------------------------------------------------------------------------
# record_sale


def _request_signature(lines: list[LineRequest], payments: list[PaymentRequest]) -> tuple:
    return (
        tuple((ln.product_id, ln.quantity, ln.discount, ln.service_date) for ln in lines),
        tuple(
            (PaymentMethod(p.method), p.amount,
             (p.tendered if p.tendered is not None else p.amount) if PaymentMethod(p.method) == PaymentMethod.CASH
             else None,
             (p.reference or "").strip())
            for p in payments
        ),
    )


def _sale_signature(sale: Sale) -> tuple:
    return (
        tuple((ln.product_id, ln.quantity, ln.discount, ln.service_date) for ln in sale.lines),
        tuple((p.method, p.amount, p.tendered, p.reference) for p in sale.payments),
    )


def replay_sale(sale: Sale, sentra: Sentra, lines: list[LineRequest], payments: list[PaymentRequest]) -> Sale:
    """The first sale for this key, if the request is the same; otherwise a 422."""
    try:
        same = sale.sentra_id == sentra.id and _sale_signature(sale) == _request_signature(lines, payments)
    except (ValueError, TypeError):
        same = False
    if not same:
        raise IdempotencyConflict(
            f"Kunci transaksi ini sudah dipakai untuk penjualan {sale.number} dengan isi berbeda. "
            "Mulai keranjang baru."
        )
    sale.replayed = True
    return sale


_sales = cast(sa.Table, Sale.__table__)
_SALE_ID_BY_KEY = sa.select(_sales.c.id).where(_sales.c.client_key == sa.bindparam("key"))


def find_sale_by_key(client_key: str) -> Sale | None:
    # The id first (a plain lookup: nearly always there is none), the sale only when there is one.
    db.session.flush()
    sale_id = db.session.connection().execute(_SALE_ID_BY_KEY, {"key": client_key}).scalar()
    return None if sale_id is None else db.session.get(Sale, sale_id)


def record_sale(
    actor: User | None,
    sentra: Sentra,
    *,
    channel: Channel,
    lines: list[LineRequest],
    payments: list[PaymentRequest],
    client_key: str,
    shift: CounterShift | None = None,
    discount_approver: User | None = None,
    reserved_reference: str | None = None,
    offline: OfflineSale | None = None,
    key_is_new: bool = False,
) -> Sale:
    """Validate and record one sale; a replay of `client_key` returns the first sale unchanged.

    `key_is_new`: the caller has just looked `client_key` up in this transaction and found no
    sale (the counter API does, to check a replay's kasir and shift), so it is not looked up twice;
    a concurrent duplicate is still caught when the sale row goes in.

    The writes: the sale-number counter, the sale, its lines and payments (one INSERT each, no ORM
    flush), one conditional stock UPDATE per product and one INSERT of the movements, the audit
    entry, and the ledger posting (`sale_recorded` receivers). The returned sale, its lines and
    payments are loaded in the session as written, so building the answer reads nothing back.
    """
    client_key = (client_key or "").strip()
    if not client_key or len(client_key) > 80:
        raise DomainError("Kunci transaksi (Idempotency-Key) wajib diisi.", field="client_key")
    if not key_is_new:
        existing = find_sale_by_key(client_key)
        if existing is not None:
            return replay_sale(existing, sentra, lines, payments)

    channel = Channel(channel)
    if channel == Channel.POS:
        _check_shift(actor, sentra, shift, allow_closed=offline is not None)
    elif offline is not None:
        raise ValidationFailed({"offline": "Penjualan offline hanya dari kasir."})

    sale_lines, approval_needed = _build_lines(sentra, lines, offline=offline is not None)
    if approval_needed:
        if discount_approver is None:
            raise Forbidden(
                "Diskon di atas batas perlu persetujuan manajer (PIN manajer).", field="discount_approver"
            )
        if not is_manager_of(discount_approver, sentra.id):
            raise Forbidden("Yang menyetujui diskon harus manajer Sentra ini.", field="discount_approver")

    subtotal = sum(ln.quantity * ln.unit_price for ln in sale_lines)
    discount_total = sum(ln.discount for ln in sale_lines)
    total = subtotal - discount_total
    payment_rows, rounding = _build_payments(total, payments)

    now = utcnow()
    business_date = sentra.local_date(offline.sold_at if offline else now)
    sale = Sale(
        sentra_id=sentra.id, channel=channel, status=SaleStatus.COMPLETED,
        cashier_id=getattr(actor, "id", None), shift_id=getattr(shift, "id", None),
        business_date=business_date, client_key=client_key, subtotal=subtotal,
        discount_total=discount_total, total=total, rounding=rounding,
        receipt_token=secrets.token_urlsafe(32),
        discount_approved_by_id=discount_approver.id if approval_needed and discount_approver else None,
        created_at=now,
        offline_number=offline.number if offline else None,
        offline_sold_at=offline.sold_at if offline else None,
    )
    sale.number = issue_number(sentra, business_date)
    if not _insert_sale(sale):
        # A concurrent duplicate (same key, another worker) went in first: give the number back and
        # return the sale that won instead of a 500.
        give_back(sentra.id, business_date)
        winner = find_sale_by_key(client_key)
        if winner is None:  # pragma: no cover - the key's row conflicted, so it is there
            raise IdempotencyConflict("Kunci transaksi ini sedang dipakai; coba lagi.")
        return replay_sale(winner, sentra, lines, payments)
    for line in sale_lines:
        line.sale_id = sale.id
    for payment in payment_rows:
        payment.sale_id = sale.id
    insert_new(db.session, sale_lines)
    insert_new(db.session, payment_rows)
    set_committed_value(sale, "sentra", sentra)
    set_committed_value(sale, "lines", sale_lines)
    set_committed_value(sale, "payments", payment_rows)
    set_committed_value(sale, "refunds", [])
    for row in (*sale_lines, *payment_rows):
        set_committed_value(row, "sale", sale)

    _take_stock(actor, sale, sentra, reserved_reference, tolerate_shortfall=offline is not None)

    record_audit(
        actor, "sale.recorded", sale,
        after={
            "number": sale.number, "channel": str(channel), "total": total, "rounding": rounding,
            **({"offline_number": offline.number, "offline_sold_at": offline.sold_at.isoformat()}
               if offline else {}),
            "discount_total": discount_total,
            "lines": [{"sku": ln.sku, "qty": ln.quantity, "unit_price": ln.unit_price, "discount": ln.discount}
                      for ln in sale_lines],
            "payments": [{"method": str(p.method), "amount": p.amount, "reference": p.reference}
                         for p in payment_rows],
        },
        approved_by=discount_approver if approval_needed else None,
    )
    sale_recorded.send(sale)
    db.session.flush()
    return sale


def _insert_sale(sale: Sale) -> bool:
    """INSERT the sale row unless its client key is taken already; whether it went in.

    `ON CONFLICT (client_key) DO NOTHING` instead of a savepoint: on PostgreSQL a duplicate waits for
    the first transaction and then inserts nothing (no error, so no aborted transaction to recover).
    """
    db.session.flush()
    new_id = db.session.connection().execute(_NEW_SALE, column_values(sale)).scalar()
    if new_id is None:
        return False
    sale.id = new_id
    attach_loaded(db.session, [sale])
    return True


_NEW_SALE = insert_on_conflict(cast(sa.Table, Sale.__table__), "(client_key) DO NOTHING", returning="id")


def _check_shift(actor: User | None, sentra: Sentra, shift: CounterShift | None, *, allow_closed: bool = False) -> None:
    if shift is None:
        raise ShiftClosed("Belum ada sesi kasir yang dibuka. Buka sesi kasir dulu.")
    if not shift.is_open and not allow_closed:
        raise ShiftClosed("Sesi kasir ini sudah ditutup. Buka sesi baru untuk menjual.")
    if shift.sentra_id != sentra.id or actor is None or shift.cashier_id != actor.id:
        raise ShiftClosed("Sesi kasir ini bukan milik Anda di Sentra ini.")


@functools.cache
def _products_by_id() -> sa.Select:
    return sa.select(Product).where(Product.id.in_(sa.bindparam("ids", expanding=True)))


def _build_lines(sentra: Sentra, lines: list[LineRequest], *, offline: bool = False) -> tuple[list[SaleLine], bool]:
    if not lines:
        raise ValidationFailed({"lines": "Keranjang kosong: tambahkan minimal satu barang."})
    if len(lines) > MAX_LINES:
        raise ValidationFailed({"lines": f"Paling banyak {MAX_LINES} baris dalam satu penjualan."})
    ids = set()
    for ln in lines:
        if not _is_int(ln.product_id):
            raise ValidationFailed({"lines": "Barang tidak dikenal."})
        ids.add(ln.product_id)
    products = {p.id: p for p in db.session.scalars(_products_by_id(), {"ids": list(ids)})}
    threshold = current_app.config.get("MANAGER_APPROVAL_DISCOUNT_BPS", 1000)
    result: list[SaleLine] = []
    approval_needed = False
    for index, ln in enumerate(lines, start=1):
        product = products.get(ln.product_id)
        if product is None or product.sentra_id != sentra.id:
            raise NotFound(f"Barang baris {index} tidak dikenal di Sentra ini.", field=f"lines[{index}]")
        if not product.is_active and not offline:
            raise DomainError(f"{product.name} sudah tidak dijual (nonaktif).", field=f"lines[{index}]")
        if not _is_int(ln.quantity) or ln.quantity <= 0:
            raise ValidationFailed({f"lines[{index}].quantity": f"Jumlah {product.name} harus lebih dari 0."})
        if ln.quantity > MAX_LINE_QUANTITY:
            raise ValidationFailed({
                f"lines[{index}].quantity": f"Jumlah {product.name} ({ln.quantity}) tidak wajar; periksa lagi."
            })
        price = product.price
        if offline and ln.unit_price is not None:
            if not _is_int(ln.unit_price) or ln.unit_price < 0:
                raise ValidationFailed({f"lines[{index}].unit_price": "Harga harus rupiah bulat, tidak negatif."})
            price = ln.unit_price
        gross = ln.quantity * price
        if not _is_int(ln.discount) or ln.discount < 0:
            raise ValidationFailed({f"lines[{index}].discount": "Diskon tidak boleh negatif."})
        if ln.discount > gross:
            raise ValidationFailed({
                f"lines[{index}].discount":
                    f"Diskon {product.name} ({format_rupiah(ln.discount)}) melebihi harga baris "
                    f"({format_rupiah(gross)})."
            })
        if ln.discount > apply_bps(gross, threshold):
            approval_needed = True
        result.append(SaleLine(
            product_id=product.id, product_name=product.name, sku=product.sku, category=product.category,
            is_stock_tracked=product.is_stock_tracked, quantity=ln.quantity, unit_price=price,
            discount=ln.discount, line_total=gross - ln.discount, maker_id=product.maker_id,
            group_id=product.group_id, split_mode=product.split_mode, maker_share_bps=product.maker_share_bps,
            maker_price=product.maker_price, material_cost=product.material_cost, service_date=ln.service_date,
            product=product,
        ))
    return result, approval_needed


def _build_payments(total: int, payments: list[PaymentRequest]) -> tuple[list[Payment], int]:
    if not payments:
        raise PaymentMismatch(f"Belum ada pembayaran. Total {format_rupiah(total)}.")
    rows: list[Payment] = []
    cash_amount = 0
    other_amount = 0
    has_cash = False
    for index, p in enumerate(payments, start=1):
        try:
            method = PaymentMethod(p.method)
        except ValueError:
            raise ValidationFailed({f"payments[{index}].method": "Cara bayar tidak dikenal."}) from None
        if not _is_int(p.amount) or p.amount <= 0:
            raise PaymentMismatch("Jumlah pembayaran harus lebih dari 0.", field=f"payments[{index}].amount")
        reference = (p.reference or "").strip()
        if len(reference) > 80:
            raise ValidationFailed({f"payments[{index}].reference": "Referensi terlalu panjang (maks. 80)."})
        if method == PaymentMethod.CASH:
            has_cash = True
            cash_amount += p.amount
            tendered = p.amount if p.tendered is None else p.tendered
            if not _is_int(tendered) or tendered < p.amount:
                raise PaymentMismatch(
                    f"Uang diterima ({format_rupiah(tendered if _is_int(tendered) else 0)}) kurang dari "
                    f"{format_rupiah(p.amount)}.", field=f"payments[{index}].tendered",
                )
            rows.append(Payment(method=method, amount=p.amount, tendered=tendered, change=tendered - p.amount,
                                reference=reference))
        else:
            if p.tendered is not None and p.tendered != p.amount:
                raise PaymentMismatch("Uang diterima dan kembalian hanya untuk tunai.",
                                      field=f"payments[{index}].tendered")
            if method in REFERENCE_REQUIRED and not reference:
                raise ValidationFailed({f"payments[{index}].reference": f"{REFERENCE_LABELS[method]} wajib diisi."})
            other_amount += p.amount
            rows.append(Payment(method=method, amount=p.amount, tendered=None, change=0, reference=reference))

    rounding = 0
    if has_cash:
        # Only the part paid in cash is rounded (small coins are rare); cards and QRIS pay exactly.
        cash_due = total - other_amount
        if cash_due <= 0:
            raise PaymentMismatch(
                f"Pembayaran non-tunai ({format_rupiah(other_amount)}) sudah menutup total "
                f"{format_rupiah(total)}; hapus pembayaran tunai."
            )
        unit = current_app.config.get("CASH_ROUNDING_UNIT", 1)
        rounded = round_cash(cash_due, unit)
        rounding = rounded - cash_due
        if cash_amount != rounded:
            raise PaymentMismatch(
                f"Pembayaran tidak sesuai: tunai yang harus dibayar {format_rupiah(rounded)}"
                + (f" (setelah pembulatan {format_rupiah(rounding)})" if rounding else "")
                + f", tercatat {format_rupiah(cash_amount)}.",
                due=rounded, paid=cash_amount,
            )
    elif other_amount != total:
        short = total - other_amount
        raise PaymentMismatch(
            f"Pembayaran {'kurang' if short > 0 else 'lebih'} {format_rupiah(abs(short))}: total "
            f"{format_rupiah(total)}, dibayar {format_rupiah(other_amount)}.",
            due=total, paid=other_amount,
        )
    return rows, rounding


def _take_stock(actor: User | None, sale: Sale, sentra: Sentra, reserved_reference: str | None,
                *, tolerate_shortfall: bool = False) -> None:
    quantities: dict[int, int] = defaultdict(int)
    products: dict[int, Product] = {}
    for line in sale.lines:
        if line.is_stock_tracked:
            quantities[line.product_id] += line.quantity
            products[line.product_id] = line.product
    if not quantities:
        return
    # Stock rows are always locked in product-id order, so two sales never deadlock each other.
    goods = [(products[product_id], quantities[product_id]) for product_id in sorted(quantities)]
    if reserved_reference:
        move_stock_many(actor, sentra.id, MovementKind.RELEASE, goods, reference=reserved_reference,
                        reason=f"Pesanan {sale.number} dibayar", client_key=sale.client_key)
    if tolerate_shortfall:
        for product, qty in goods:
            _take_available(actor, product, sentra.id, qty, sale)
        return
    move_stock_many(actor, sentra.id, MovementKind.SALE, goods, reference=f"sale:{sale.id}", reason=sale.number,
                    client_key=sale.client_key)


def _take_available(actor: User | None, product: Product, sentra_id: int, qty: int, sale: Sale) -> int:
    """Take up to `qty` pieces (never below zero); returns the shortfall, 0 when all were there.

    The SALE movement (reference `sale:<id>`) records only what left the shelf on the books; the
    caller sees the rest as quantity sold minus quantity moved.
    """
    while True:
        take = min(qty, stock_level(product.id, sentra_id))
        if take <= 0:
            return qty
        try:
            move_stock(actor, product, sentra_id, MovementKind.SALE, take, reference=f"sale:{sale.id}",
                       reason=sale.number, client_key=sale.client_key)
        except OutOfStock:
            continue  # another sale took some meanwhile: look again
        return qty - take


# ---------------------------------------------------------------------------------------------
# refund_sale


def refunded_quantities(sale: Sale) -> dict[int, int]:
    """Pieces already refunded per sale line id."""
    done: dict[int, int] = defaultdict(int)
    for refund in sale.refunds:
        for rl in refund.lines:
            done[rl.sale_line_id] += rl.quantity
    return done


def refundable_quantities(sale: Sale) -> dict[int, int]:
    done = refunded_quantities(sale)
    return {line.id: line.quantity - done.get(line.id, 0) for line in sale.lines}


def _refund_replay(refund: Refund, sale: Sale, wanted: dict[int, int]) -> Refund:
    got = {rl.sale_line_id: rl.quantity for rl in refund.lines}
    if refund.sale_id != sale.id or got != wanted:
        raise IdempotencyConflict("Kunci transaksi ini sudah dipakai untuk pengembalian lain.")
    refund.replayed = True
    return refund


def refund_sale(
    actor: User,
    sale: Sale,
    *,
    lines: list[tuple[int, int]],
    method: PaymentMethod,
    reason: str,
    client_key: str,
    approver: User,
    restock: bool = True,
    reference: str = "",
    shift: CounterShift | None = None,
) -> Refund:
    """Refund some or all pieces of a sale, with a manager's approval; idempotent by `client_key`.

    `shift` (optional) is the counter shift whose drawer the money leaves (cash refunds count
    against that shift's expected cash).
    """
    client_key = (client_key or "").strip()
    if not client_key or len(client_key) > 80:
        raise DomainError("Kunci transaksi (Idempotency-Key) wajib diisi.", field="client_key")
    wanted: dict[int, int] = defaultdict(int)
    for line_id, qty in lines:
        if not _is_int(line_id) or not _is_int(qty) or qty <= 0:
            raise ValidationFailed({"lines": "Jumlah yang dikembalikan harus lebih dari 0."})
        wanted[line_id] += qty
    wanted = dict(wanted)
    existing = db.session.scalar(sa.select(Refund).where(Refund.client_key == client_key))
    if existing is not None:
        return _refund_replay(existing, sale, wanted)

    if not wanted:
        raise ValidationFailed({"lines": "Pilih minimal satu barang yang dikembalikan."})
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed({"reason": "Alasan pengembalian wajib diisi."})
    if len(reason) > 200:
        raise ValidationFailed({"reason": "Alasan terlalu panjang (maks. 200 karakter)."})
    try:
        method = PaymentMethod(method)
    except ValueError:
        raise ValidationFailed({"method": "Cara pengembalian uang tidak dikenal."}) from None
    if not is_manager_of(approver, sale.sentra_id):
        raise Forbidden("Pengembalian perlu persetujuan manajer Sentra ini.", field="approver")
    if shift is not None and (not shift.is_open or shift.sentra_id != sale.sentra_id):
        raise ShiftClosed("Sesi kasir untuk pengembalian ini sudah ditutup.")

    # Lock the sale row, then re-read its refunds: two refunds of the last piece racing each
    # other (two counters, a double submit with new keys) queue here, and the second sees the first.
    db.session.execute(
        sa.update(Sale).where(Sale.id == sale.id).values(status=Sale.status)
        .execution_options(synchronize_session=False)
    )
    db.session.expire(sale, ["refunds", "status"])
    by_id = {line.id: line for line in sale.lines}
    done = refunded_quantities(sale)
    done_amount: dict[int, int] = defaultdict(int)
    for r in sale.refunds:
        for rl in r.lines:
            done_amount[rl.sale_line_id] += rl.amount
    refund_lines: list[RefundLine] = []
    for line_id, qty in sorted(wanted.items()):
        line = by_id.get(line_id)
        if line is None:
            raise NotFound("Baris penjualan tidak ditemukan pada struk ini.", field="lines")
        remaining = line.quantity - done.get(line_id, 0)
        if qty > remaining:
            raise ValidationFailed({
                "lines": f"{line.product_name}: paling banyak {remaining} lagi yang bisa dikembalikan."
            })
        if qty == remaining:
            # The last pieces take what is left, so a whole refund returns exactly the line total.
            amount = line.line_total - done_amount.get(line_id, 0)
        else:
            amount = line.line_total * qty // line.quantity
        refund_lines.append(RefundLine(sale_line_id=line_id, quantity=qty, amount=amount, sale_line=line))
    amount = sum(rl.amount for rl in refund_lines)
    if amount <= 0:
        raise DomainError("Nilai pengembalian Rp 0: tidak ada uang yang dikembalikan.")

    refund = Refund(
        sale_id=sale.id, client_key=client_key, reason=reason, amount=amount, method=method,
        reference=(reference or "").strip()[:80], restock=restock, created_by_id=getattr(actor, "id", None),
        approved_by_id=approver.id, shift_id=getattr(shift, "id", None),
    )
    refund.lines = refund_lines
    try:
        with db.session.begin_nested():
            db.session.add(refund)
            db.session.flush()
    except IntegrityError:
        winner = db.session.scalar(sa.select(Refund).where(Refund.client_key == client_key))
        if winner is None:
            raise
        return _refund_replay(winner, sale, wanted)

    if restock:
        back: dict[int, int] = defaultdict(int)
        for rl in refund_lines:
            if rl.sale_line.is_stock_tracked:
                back[rl.sale_line.product_id] += rl.quantity
        for product_id in sorted(back):
            product = db.session.get_one(Product, product_id)
            move_stock(actor, product, sale.sentra_id, MovementKind.RETURN, back[product_id],
                       reference=f"refund:{refund.id}", reason=f"Retur {sale.number}: {reason}"[:200],
                       client_key=client_key)

    before_status = sale.status
    db.session.expire(sale, ["refunds"])
    remaining_after = refundable_quantities(sale)
    sale.status = SaleStatus.REFUNDED if all(v <= 0 for v in remaining_after.values()) \
        else SaleStatus.PARTIALLY_REFUNDED
    record_audit(
        actor, "sale.refunded", refund, sentra_id=sale.sentra_id, approved_by=approver,
        before={"status": str(before_status)},
        after={"sale": sale.number, "status": str(sale.status), "amount": amount, "method": str(method),
               "restock": restock, "reason": reason,
               "lines": [{"sale_line_id": rl.sale_line_id, "qty": rl.quantity, "amount": rl.amount}
                         for rl in refund_lines]},
    )
    sale_refunded.send(refund)
    db.session.flush()
    return refund
