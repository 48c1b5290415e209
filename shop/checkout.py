"""From cart to paid order: create the order, hold its stock on "Bayar", book it as sales when paid.

Holding is a flag on the order moved by conditional updates (`stock_held` false→true reserves,
true→false releases), so a double press, a webhook and the buyer's return can never reserve,
release or fulfil twice. Fulfilment moves the order from `pending` to `paid` with one conditional
update before anything else; whoever loses that race returns without touching anything.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm.attributes import set_committed_value

from core.alerts import raise_alert
from core.audit import record_audit
from core.db import utcnow
from core.errors import Conflict, DomainError, NotFound, OutOfStock, ValidationFailed
from core.extensions import db
from core.i18n import current_locale
from core.money import format_rupiah
from core.unit_of_work import commit_now
from inventory.models import MovementKind, Product
from inventory.stock import move_stock
from shop.cart import CartGroup, available_quantity, cart_groups, clear, tickets_taken
from shop.models import (
    Cart,
    DeliveryMethod,
    Fulfilment,
    FulfilmentStatus,
    Order,
    OrderLine,
    OrderStatus,
    PaymentAttempt,
)
from shop.stripe_gateway import IntentResult, to_minor

#: attempts in these states may still turn into money: no second PaymentIntent meanwhile
IN_FLIGHT = {"created", "processing"}
#: an attempt still "created" after this long lost its request (crash, timeout)
STALE_ATTEMPT = timedelta(minutes=2)
#: an order nobody paid for this long is cancelled by `expire_reservations`
ABANDON_AFTER = timedelta(hours=48)


@dataclass(frozen=True)
class BuyerDetails:
    name: str
    phone: str
    email: str
    delivery: DeliveryMethod
    address: str = ""


# -- reading -------------------------------------------------------------------------------------


def get_order_by_token(token: str) -> Order:
    order = db.session.scalar(sa.select(Order).where(Order.token == token)) if token else None
    if order is None:
        raise NotFound("Pesanan tidak ditemukan. Periksa tautan dari e-mail Anda.")
    return order


def lock_order(order_id: int) -> Order:
    """The order, row-locked on PostgreSQL (SQLite's BEGIN IMMEDIATE already serialises writers)."""
    order = db.session.scalar(
        sa.select(Order).where(Order.id == order_id).with_for_update().execution_options(populate_existing=True)
    )
    if order is None:
        raise NotFound("Pesanan tidak ditemukan.")
    return order


# -- creating the order --------------------------------------------------------------------------


def validate_buyer(details: BuyerDetails) -> BuyerDetails:
    errors = {}
    if not details.name.strip():
        errors["name"] = "Nama wajib diisi."
    if not details.phone.strip():
        errors["phone"] = "Nomor HP wajib diisi."
    if "@" not in details.email:
        errors["email"] = "Alamat e-mail tidak valid."
    if details.delivery == DeliveryMethod.DELIVERY and len(details.address.strip()) < 10:
        errors["address"] = "Tulis alamat pengiriman lengkap (jalan, kota, kode pos)."
    if errors:
        raise ValidationFailed(errors)
    return details


def create_order(actor, cart: Cart, details: BuyerDetails) -> Order:
    """An unpaid order from the cart, one fulfilment per Sentra; totals from the server's prices."""
    validate_buyer(details)
    groups: list[CartGroup] = cart_groups(cart)
    if not groups:
        raise ValidationFailed({"cart": "Keranjang masih kosong."})
    for group in groups:
        for line in group.lines:
            if line.problem:
                raise Conflict(f"{line.product.name}: {line.problem}")
    order = Order(
        number="", token=secrets.token_urlsafe(32), status=OrderStatus.PENDING,
        user_id=getattr(actor, "id", None), buyer_name=details.name.strip()[:120],
        buyer_phone=details.phone.strip()[:20], buyer_email=details.email.strip()[:254],
        buyer_locale=current_locale(), delivery=details.delivery,
        address=details.address.strip() if details.delivery == DeliveryMethod.DELIVERY else "",
        subtotal=0, shipping_total=0, total=0,
    )
    order.number = f"WEB-{uuid.uuid4().hex[:12].upper()}"  # replaced below, once the id is known
    db.session.add(order)
    db.session.flush()
    for group in groups:
        shipping = group.sentra.shipping_fee if details.delivery == DeliveryMethod.DELIVERY else 0
        fulfilment = Fulfilment(order_id=order.id, sentra_id=group.sentra.id, subtotal=group.subtotal,
                                shipping_fee=shipping, total=group.subtotal + shipping)
        fulfilment.lines = [
            OrderLine(product_id=line.product.id, product_name=line.product.name, sku=line.product.sku,
                      is_stock_tracked=line.product.is_stock_tracked, unit_price=line.unit_price,
                      quantity=line.item.quantity, line_total=line.line_total, service_date=line.item.service_date)
            for line in group.lines
        ]
        order.fulfilments.append(fulfilment)
        order.subtotal += group.subtotal
        order.shipping_total += shipping
    order.total = order.subtotal + order.shipping_total
    order.number = f"WEB-{utcnow():%Y%m%d}-{order.id:05d}"
    clear(cart)
    db.session.flush()
    record_audit(actor, "order.created", order, after={"number": order.number, "total": order.total})
    return order


# -- holding stock -------------------------------------------------------------------------------


def _set_held(order: Order, held: bool) -> bool:
    """Flip `stock_held` with a conditional update; True if this call did the flip."""
    result = db.session.execute(
        sa.update(Order).where(Order.id == order.id, Order.stock_held.is_(not held),
                               Order.status == OrderStatus.PENDING)
        .values(stock_held=held).execution_options(synchronize_session=False)
    )
    if result.rowcount == 1:  # type: ignore[attr-defined]
        set_committed_value(order, "stock_held", held)
        return True
    return False


def reserve(order: Order, minutes: int | None = None) -> None:
    """Hold the order's goods and tickets; raises OutOfStock (all or nothing) if any ran out."""
    minutes = minutes if minutes is not None else current_app.config["RESERVATION_MINUTES"]
    order.hold_until = utcnow() + timedelta(minutes=minutes)
    if not _set_held(order, True):
        db.session.flush()
        return  # already held (a second "Bayar"): just extended
    lines = sorted(((f, ln) for f in order.fulfilments for ln in f.lines), key=lambda p: p[1].product_id)
    for fulfilment, line in lines:
        product = db.session.get_one(Product, line.product_id)
        if line.is_stock_tracked:
            move_stock(None, product, fulfilment.sentra_id, MovementKind.RESERVATION, line.quantity,
                       reference=fulfilment.reservation_reference, reason=f"Pesanan online {order.number}")
        elif product.daily_capacity is not None and line.service_date is not None:
            # Lock the product row so two buyers cannot both take the last tickets (PostgreSQL).
            db.session.execute(sa.select(Product.id).where(Product.id == product.id).with_for_update())
            taken = tickets_taken(product.id, line.service_date)  # includes this order's own lines now
            if taken > product.daily_capacity:
                left = product.daily_capacity - (taken - line.quantity)
                raise OutOfStock(f"Kuota {product.name} tanggal {line.service_date:%d-%m-%Y} tersisa "
                                 f"{max(left, 0)}.", product_id=product.id, available=max(left, 0))
    db.session.flush()


def release(order: Order, reason: str) -> bool:
    """Give the held goods back (RELEASE movements); a no-op if nothing is held."""
    if not _set_held(order, False):
        return False
    for fulfilment in order.fulfilments:
        for line in sorted(fulfilment.lines, key=lambda ln: ln.product_id):
            if line.is_stock_tracked:
                product = db.session.get_one(Product, line.product_id)
                move_stock(None, product, fulfilment.sentra_id, MovementKind.RELEASE, line.quantity,
                           reference=fulfilment.reservation_reference, reason=reason[:200])
    db.session.flush()
    return True


def expire_if_due(order: Order, now: datetime | None = None) -> bool:
    """Lazily release an unpaid order's hold once its time is up (called whenever it is shown)."""
    now = now or utcnow()
    if order.status == OrderStatus.PENDING and order.stock_held and order.hold_until and order.hold_until < now:
        return release(order, f"Waktu pembayaran {order.number} habis")
    return False


def expire_reservations(now: datetime | None = None, gateway=None) -> int:
    """Release every hold whose time is up, and cancel orders left unpaid for ABANDON_AFTER
    (the `flask shop expire-reservations` command, meant for cron every few minutes)."""
    now = now or utcnow()
    cancel_abandoned(now, gateway)
    ids = db.session.scalars(
        sa.select(Order.id).where(Order.status == OrderStatus.PENDING, Order.stock_held.is_(True),
                                  Order.hold_until < now).order_by(Order.id)
    ).all()
    released = 0
    for order_id in ids:
        order = lock_order(order_id)
        if expire_if_due(order, now):
            released += 1
    return released


def payment_in_flight(order: Order, now: datetime | None = None) -> bool:
    """Whether a payment of this order may be turning into money right now: a "Bayar" whose request
    still waits for Stripe ("created", with no intent id to cancel yet — unless that request died,
    STALE_ATTEMPT ago) or an intent Stripe is still processing. Read from the database, so a press
    committed by another request counts."""
    now = now or utcnow()
    return bool(db.session.scalar(sa.select(sa.exists().where(
        PaymentAttempt.order_id == order.id,
        sa.or_(PaymentAttempt.status.in_(IN_FLIGHT - {"created"}),
               sa.and_(PaymentAttempt.status == "created", PaymentAttempt.updated_at >= now - STALE_ATTEMPT))))))


def open_intents(order: Order) -> list[str]:
    """PaymentIntents of this order that Stripe may still turn into money (cancel them first)."""
    seen: list[str] = []
    for attempt in order.attempts:
        if attempt.payment_intent_id and attempt.status not in ("canceled", "succeeded") \
                and attempt.payment_intent_id not in seen:
            seen.append(attempt.payment_intent_id)
    return seen


def cancel_intents(order: Order, gateway, only: list[str] | None = None) -> IntentResult | None:
    """Cancel the order's open intents at Stripe; the intent's result if one already succeeded.

    Raises DomainError (after raising a staff alert, flushed) when Stripe could not cancel one:
    the order must then stay as it is.
    """
    for intent_id in open_intents(order) if only is None else only:
        try:
            result = gateway.cancel(intent_id)
        except DomainError as error:
            sentras = {f.sentra_id for f in order.fulfilments}
            raise_alert("payment.cancel_failed",
                        f"Pembayaran {intent_id} untuk pesanan {order.number} tidak bisa dibatalkan di Stripe: "
                        f"{error.detail} Pesanan belum dibatalkan.",
                        key=f"cancel-failed-{intent_id}", entity=order,
                        sentra_id=sentras.pop() if len(sentras) == 1 else None)
            raise
        if result.succeeded:
            return result
        for attempt in order.attempts:
            if attempt.payment_intent_id == intent_id and attempt.status not in ("declined",):
                attempt.status = "canceled"
    db.session.flush()
    return None


def cancel_abandoned(now: datetime | None = None, gateway=None) -> int:
    """Unpaid orders older than ABANDON_AFTER with nothing held and no payment in flight are cancelled,
    their open PaymentIntents first (one found paid books the order instead).

    A job, not a request: each order is committed on its own (`commit_now`) once Stripe has
    answered for it, so what Stripe already did for one order (an intent cancelled) is never rolled
    back because another order failed. An order that fails stays as it was (staff alerted when
    Stripe refused) and is tried again on the next run.
    """
    now = now or utcnow()
    cutoff = now - ABANDON_AFTER
    in_flight = sa.select(PaymentAttempt.id).where(PaymentAttempt.order_id == Order.id,
                                                   PaymentAttempt.status.in_([*IN_FLIGHT, "requires_action"]))
    ids = db.session.scalars(
        sa.select(Order.id).where(Order.status == OrderStatus.PENDING, Order.stock_held.is_(False),
                                  Order.created_at < cutoff, ~sa.exists(in_flight)).order_by(Order.id)
    ).all()
    cancelled = 0
    for order_id in ids:
        try:
            cancelled += _cancel_abandoned_order(order_id, now, gateway)
        except DomainError:
            pass  # Stripe would not cancel an intent: staff alerted (kept by the commit below)
        except Exception:
            current_app.logger.exception("cancelling abandoned order %s failed", order_id)
            # Only this order's changes go: the ones before it are committed already. (Not
            # `rollback_now`, which would also drop the after-commit work of those orders.)
            db.session.rollback()
        commit_now()
    return cancelled


def _cancel_abandoned_order(order_id: int, now: datetime, gateway) -> int:
    """1 if this abandoned order was cancelled now, 0 if not (found paid, or changed meanwhile)."""
    order = lock_order(order_id)
    if open_intents(order):
        if gateway is None:
            from shop.stripe_gateway import gateway as app_gateway

            gateway = app_gateway()
        paid = cancel_intents(order, gateway)
        if paid is not None:
            try:
                with db.session.begin_nested():
                    fulfil_order(order, paid)
            except DomainError:
                pass  # paid but cannot be booked: its webhook cancels the order and refunds it
            return 0
    result = db.session.execute(
        sa.update(Order).where(Order.id == order_id, Order.status == OrderStatus.PENDING,
                               Order.stock_held.is_(False))
        .values(status=OrderStatus.CANCELLED, cancelled_at=now,
                cancel_reason="Tidak dibayar dalam batas waktu; pesanan dibatalkan otomatis.")
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return 0
    db.session.execute(sa.update(Fulfilment).where(Fulfilment.order_id == order_id)
                       .values(status=FulfilmentStatus.CANCELLED).execution_options(synchronize_session=False))
    record_audit(None, "order.abandoned", entity_type="Order", entity_id=order_id)
    return 1


# -- paying ---------------------------------------------------------------------------------------


def start_attempt(order: Order, attempt_key: str | None, payment_method: str) -> tuple[PaymentAttempt, bool]:
    """Hold the stock and open a payment attempt for this press of "Bayar".

    Returns (attempt, is_new). The same `attempt_key` (a second press of the same form) returns
    the first attempt, so Stripe is called at most once per key.
    """
    try:
        attempt_key = str(uuid.UUID(attempt_key))
    except (ValueError, TypeError):
        raise DomainError("Formulir pembayaran tidak lengkap. Muat ulang halaman lalu coba lagi.") from None
    existing = db.session.scalar(sa.select(PaymentAttempt).where(PaymentAttempt.idempotency_key == attempt_key))
    if existing is not None:
        if existing.order_id != order.id:
            raise DomainError("Formulir pembayaran tidak cocok dengan pesanan ini.")
        return existing, False
    order = lock_order(order.id)  # staff cancelling at the same time wait, then see this attempt
    if order.status == OrderStatus.PAID:
        raise Conflict("Pesanan ini sudah dibayar.")
    if order.status != OrderStatus.PENDING:
        raise Conflict("Pesanan ini sudah dibatalkan dan tidak bisa dibayar.")
    if not payment_method:
        raise ValidationFailed({"payment_method": "Pilih cara pembayaran."})
    now = utcnow()
    for stale in (a for a in order.attempts if a.status == "created" and a.updated_at < now - STALE_ATTEMPT):
        # The request that opened it died before Stripe answered; a webhook still fulfils if it paid.
        stale.status, stale.message = "error", "Tidak ada jawaban dari layanan pembayaran."
    busy = [a for a in order.attempts if a.status in IN_FLIGHT]
    if busy:
        raise Conflict("Pembayaran sebelumnya masih diproses. Tunggu sebentar lalu muat ulang halaman.")
    waiting = next((a for a in reversed(order.attempts) if a.status == "requires_action"
                    and a.payment_intent_id and a.amount == order.total), None)
    if waiting is not None:
        return waiting, False  # the open intent waits for 3-D Secure: finish that one, not a second
    _check_still_sold(order)
    expire_if_due(order)
    reserve(order)
    attempt = PaymentAttempt(order_id=order.id, idempotency_key=attempt_key, amount=order.total,
                             payment_method=payment_method[:80], status="created",
                             stripe_idempotency_key=intent_key(order, payment_method[:80]))
    db.session.add(attempt)
    db.session.flush()
    return attempt, True


def intent_key(order: Order, payment_method: str) -> str:
    """Stripe's idempotency key for the next PaymentIntent of this order: order + amount + try +
    payment method.

    Only a try Stripe answered (declined, cancelled, ...) moves to the next number; a try whose
    answer was lost ("error") is sent again with the same key, so Stripe gives back that intent
    instead of charging a second time. The payment method is part of the key because Stripe refuses
    a key sent again with other parameters (IdempotencyError): a retry with another card is a new
    intent (should the lost try have charged too, its webhook refunds that second payment).
    """
    answered = sum(1 for a in order.attempts if a.status not in ("created", "error"))
    method = hashlib.sha256(payment_method.encode()).hexdigest()[:10]
    return f"order-{order.id}-rp{order.total}-try{answered + 1}-{method}"


def _check_still_sold(order: Order) -> None:
    """Before charging: every product is still sold, at the price the order shows."""
    for fulfilment in order.fulfilments:
        for line in fulfilment.lines:
            product = line.product
            if not product.is_active or not product.is_published:
                raise Conflict(f"{line.product_name} sudah tidak dijual, jadi pesanan ini tidak bisa dibayar. "
                               "Silakan pesan ulang dari katalog.")
            if product.price != line.unit_price:
                raise Conflict(f"Harga {line.product_name} berubah menjadi {format_rupiah(product.price)}. "
                               "Pesanan ini tidak bisa dibayar; silakan pesan ulang dari katalog.")


def apply_result(attempt: PaymentAttempt, result: IntentResult) -> str:
    """Record what Stripe answered for an attempt; fulfils on success, releases on a decline."""
    order = lock_order(attempt.order_id)
    attempt.payment_intent_id = result.intent_id or attempt.payment_intent_id
    attempt.status = "declined" if result.status == "declined" else result.status
    attempt.message = result.message[:300]
    if result.succeeded:
        return fulfil_order(order, result)
    if result.declined and order.status == OrderStatus.PENDING:
        latest = order.attempts[-1] if order.attempts else None
        if latest is None or latest.id == attempt.id:
            release(order, f"Pembayaran {order.number} ditolak")
    db.session.flush()
    return attempt.status


def mark_attempt_error(attempt: PaymentAttempt, message: str) -> None:
    attempt.status = "error"
    attempt.message = message[:300]
    db.session.flush()


def fulfil_order(order: Order, result: IntentResult) -> str:
    """Book a paid order exactly once: one `Sale` per fulfilment, reserved stock converted.

    Safe to call from the webhook and the buyer's return, twice or concurrently. Returns an
    outcome word for the webhook log.
    """
    from sales.models import Channel, PaymentMethod
    from sales.services import LineRequest, PaymentRequest, record_sale

    if order.status == OrderStatus.PAID:
        return "already_paid"
    if order.status == OrderStatus.CANCELLED:
        return "order_cancelled"
    if result.currency != "idr" or result.amount is None or to_minor(result.amount) != to_minor(order.total):
        current_app.logger.warning("amount mismatch for order %s: %s %s", order.number, result.amount,
                                   result.currency)
        return "amount_mismatch"
    now = utcnow()
    claimed = db.session.execute(
        sa.update(Order).where(Order.id == order.id, Order.status == OrderStatus.PENDING)
        .values(status=OrderStatus.PAID, paid_intent_id=result.intent_id, paid_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return "already_paid"
    db.session.refresh(order)
    if not order.stock_held:
        # The hold had expired or a decline released it before this payment succeeded: take the
        # goods again. If they are gone, the whole booking rolls back and the webhook says so.
        _hold_again(order)
    for fulfilment in order.fulfilments:
        sale = record_sale(
            None, fulfilment.sentra, channel=Channel.ONLINE,
            lines=[LineRequest(product_id=ln.product_id, quantity=ln.quantity, service_date=ln.service_date)
                   for ln in fulfilment.lines],
            payments=[PaymentRequest(method=PaymentMethod.STRIPE, amount=fulfilment.subtotal,
                                     reference=result.intent_id or "")],
            client_key=f"shop-order-{order.id}-{fulfilment.id}",
            reserved_reference=fulfilment.reservation_reference,
        )
        fulfilment.sale_id = sale.id
        fulfilment.status = FulfilmentStatus.PAID
    order.stock_held = False  # the reservations became sales
    for attempt in order.attempts:
        if attempt.payment_intent_id == result.intent_id:
            attempt.status = "succeeded"
    record_audit(None, "order.paid", order, after={"number": order.number, "total": order.total,
                                                     "payment_intent": result.intent_id})
    db.session.flush()
    return "fulfilled"


def _hold_again(order: Order) -> None:
    lines = sorted(((f, ln) for f in order.fulfilments for ln in f.lines), key=lambda p: p[1].product_id)
    for fulfilment, line in lines:
        if line.is_stock_tracked:
            product = db.session.get_one(Product, line.product_id)
            move_stock(None, product, fulfilment.sentra_id, MovementKind.RESERVATION, line.quantity,
                       reference=fulfilment.reservation_reference,
                       reason=f"Pesanan online {order.number} dibayar setelah waktu habis")


def order_available_now(order: Order) -> list[str]:
    """Problems that would stop "Bayar" right now (shown on the pay page before pressing)."""
    problems: list[str] = []
    if order.stock_held:
        return problems
    for fulfilment in order.fulfilments:
        for line in fulfilment.lines:
            left = available_quantity(line.product, line.service_date)
            if left is not None and left < line.quantity:
                problems.append(f"{line.product_name}: tersisa {left}, dipesan {line.quantity}.")
    return problems
