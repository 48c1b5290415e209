"""Stripe webhook events, processed once by event id and never moving an order backwards.

Every verified event is stored (unique `event_id`) in the same transaction as its effect: a
redelivery finds the row and stops; two concurrent deliveries of one event collide on the unique
index and the loser answers "duplicate". The order is deduped too (`fulfil_order` claims it with
a conditional update), so a different event for an already paid order changes nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from core.alerts import raise_alert
from core.audit import record_audit
from core.db import utcnow
from core.extensions import db
from core.money import format_rupiah
from shop.checkout import fulfil_order, lock_order, release
from shop.models import Order, OrderStatus, PaymentAttempt, PaymentRefund, WebhookEvent
from shop.stripe_gateway import IntentResult, StripeGateway

#: outcomes of a succeeded intent whose money must go back in full
REFUND_OUTCOMES = {"order_cancelled": "order_cancelled", "amount_mismatch": "amount_mismatch",
                   "duplicate_payment_refund": "duplicate_payment"}
#: a refund claimed this long ago by a delivery that never finished (crash) may be sent again
STALE_REFUND = timedelta(minutes=2)
#: a refund still not sent this long after it was recorded is "stuck": staff are alerted again
REFUND_STUCK_AFTER = timedelta(hours=1)


def _order_for(intent_id: str | None, metadata: dict[str, Any]) -> Order | None:
    """The order an intent belongs to: by our attempt record, else by metadata (checked against it)."""
    order_id = None
    if intent_id:
        order_id = db.session.scalar(
            sa.select(PaymentAttempt.order_id).where(PaymentAttempt.payment_intent_id == intent_id).limit(1)
        )
    if order_id is None:
        raw = str(metadata.get("order_id") or "")
        order_id = int(raw) if raw.isdigit() else None
        if order_id is not None:
            order = db.session.get(Order, order_id)
            if order is None or (metadata.get("order_number") and metadata["order_number"] != order.number):
                return None
    return lock_order(order_id) if order_id is not None else None


def record_event(event: dict[str, Any]) -> WebhookEvent | None:
    """Store the event once; None if it was already processed (a redelivery)."""
    obj = (event.get("data") or {}).get("object") or {}
    row = WebhookEvent(event_id=str(event["id"])[:80], event_type=str(event["type"])[:80],
                       payment_intent_id=str(obj.get("id") or "")[:80] if obj.get("object") == "payment_intent"
                       else "", received_at=utcnow())
    try:
        with db.session.begin_nested():
            db.session.add(row)
            db.session.flush()
    except IntegrityError:
        return None
    return row


def process_event(event: dict[str, Any]) -> str:
    """Apply one verified event; returns what happened (also stored on the event row)."""
    row = record_event(event)
    if row is None:
        return "duplicate"
    outcome = _dispatch(event, row)
    row.outcome = outcome
    if outcome in REFUND_OUTCOMES and row.order_id is not None:
        plan_auto_refund(db.session.get_one(Order, row.order_id), StripeGateway.intent_from_event(event),
                         REFUND_OUTCOMES[outcome])
    db.session.flush()
    return outcome


def _dispatch(event: dict[str, Any], row: WebhookEvent) -> str:
    kind = event["type"]
    if kind not in ("payment_intent.succeeded", "payment_intent.payment_failed", "payment_intent.canceled"):
        return "ignored"
    intent = StripeGateway.intent_from_event(event)
    order = _order_for(intent.intent_id, intent.metadata)
    if order is None:
        return "unknown_order"
    row.order_id = order.id
    attempt = next((a for a in order.attempts if a.payment_intent_id == intent.intent_id), None)
    if kind == "payment_intent.succeeded":
        if attempt is None:
            # Our own call's answer was lost (e.g. timeout) but Stripe charged: remember the intent.
            attempt = PaymentAttempt(order_id=order.id, idempotency_key=f"webhook-{row.event_id}"[:80],
                                     payment_intent_id=intent.intent_id, amount=order.total,
                                     status="succeeded", message="dari webhook")
            db.session.add(attempt)
            db.session.flush()
            db.session.refresh(order)
        outcome = fulfil_order(order, intent)
        if outcome == "already_paid" and order.paid_intent_id and order.paid_intent_id != intent.intent_id:
            # A second, separate charge for an order already paid (e.g. a retry after a lost answer).
            return "duplicate_payment_refund"
        return outcome
    # payment_failed / canceled: never undoes a payment, and only the latest attempt may release.
    if order.status != OrderStatus.PENDING:
        return "ignored_not_pending"
    if attempt is not None and attempt.status not in ("succeeded",):
        attempt.status = "declined" if kind.endswith("payment_failed") else "canceled"
        attempt.message = intent.message[:300]
    latest = order.attempts[-1] if order.attempts else None
    if latest is not None and attempt is not None and latest.id == attempt.id and release(
            order, f"Pembayaran {order.number} gagal"):
        return "released"
    return "recorded"


def cancel_after_failed_fulfilment(event: dict[str, Any], reason: str) -> Order | None:
    """Paid, but the order cannot be booked (goods gone after the hold lapsed, a product withdrawn,
    a price changed meanwhile): cancel it, give any held stock back; the caller refunds in full."""
    intent = StripeGateway.intent_from_event(event)
    order = _order_for(intent.intent_id, intent.metadata)
    row = record_event(event)
    if row is None or order is None or order.status != OrderStatus.PENDING:
        return None
    row.order_id = order.id
    row.outcome = "unfulfillable_refund"
    release(order, f"Pesanan {order.number} tidak dapat diproses")
    order.status = OrderStatus.CANCELLED
    order.cancelled_at = utcnow()
    order.cancel_reason = f"{reason[:120]} Dana dikembalikan penuh."
    for fulfilment in order.fulfilments:
        from shop.models import FulfilmentStatus

        fulfilment.status = FulfilmentStatus.CANCELLED
    record_audit(None, "order.cancelled_unfulfillable", order,
                 after={"number": order.number, "payment_intent": intent.intent_id, "refund": order.total,
                        "reason": reason})
    plan_auto_refund(order, intent, "unfulfillable", detail=reason)
    db.session.flush()
    return order


# -- giving money back -----------------------------------------------------------------------------


def auto_refund_key(intent_id: str) -> str:
    """One automatic refund per PaymentIntent, whatever the reason and however often it is asked."""
    return f"auto-refund-{intent_id}"[:80]


def plan_auto_refund(order: Order, intent: IntentResult, kind: str, detail: str = "") -> PaymentRefund:
    """Record that this intent's money goes back in full (pending) and tell staff; once per intent.

    Runs in the webhook's transaction: the row exists exactly when the event is recorded, so a
    redelivery after a crash finds it and finishes it (`refunds_to_send`).
    """
    key = auto_refund_key(intent.intent_id or "")
    existing = db.session.scalar(sa.select(PaymentRefund).where(PaymentRefund.idempotency_key == key))
    if existing is not None:
        return existing
    refund = PaymentRefund(order_id=order.id, payment_intent_id=(intent.intent_id or "")[:80],
                           idempotency_key=key, kind=kind, amount=intent.amount if intent.currency == "idr" else None,
                           currency=(intent.currency or "")[:3], status="pending", message=detail[:300])
    db.session.add(refund)
    db.session.flush()
    charged = format_rupiah(refund.amount) if refund.amount is not None else f"{intent.currency} (jumlah lain)"
    raise_alert(
        f"payment.refund_{kind}",
        f"Pembayaran {charged} ({intent.intent_id}) untuk pesanan {order.number} dikembalikan otomatis: "
        f"{refund.kind_label}.",
        key=key, entity=order, sentra_id=_sentra_of(order),
        details={"payment_intent": intent.intent_id, "amount": refund.amount, "currency": intent.currency,
                 "kind": kind},
    )
    record_audit(None, "payment.refund_planned", refund,
                 after={"order": order.number, "payment_intent": intent.intent_id, "amount": refund.amount,
                        "currency": intent.currency, "kind": kind})
    return refund


def _sentra_of(order: Order) -> int | None:
    """The Sentra whose staff see an order's alert (NULL for an order split over several: admins)."""
    sentras = {f.sentra_id for f in order.fulfilments}
    return sentras.pop() if len(sentras) == 1 else None


def refunds_to_send(intent_id: str | None, now: datetime | None = None) -> list[int]:
    """Pending automatic refunds of this intent that no delivery is sending right now."""
    if not intent_id:
        return []
    now = now or utcnow()
    return list(db.session.scalars(
        sa.select(PaymentRefund.id).where(
            PaymentRefund.payment_intent_id == intent_id, PaymentRefund.status == "pending",
            sa.or_(PaymentRefund.attempted_at.is_(None), PaymentRefund.attempted_at < now - STALE_REFUND))
        .order_by(PaymentRefund.id)))


def claim_refund(refund_id: int, now: datetime | None = None) -> PaymentRefund | None:
    """Mark a pending refund as being sent (conditional update): two deliveries never send it at once."""
    now = now or utcnow()
    claimed = db.session.execute(
        sa.update(PaymentRefund).where(
            PaymentRefund.id == refund_id, PaymentRefund.status == "pending",
            sa.or_(PaymentRefund.attempted_at.is_(None), PaymentRefund.attempted_at < now - STALE_REFUND))
        .values(attempted_at=now).execution_options(synchronize_session=False))
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return None
    return db.session.get(PaymentRefund, refund_id, populate_existing=True)


def refund_sent(refund: PaymentRefund, stripe_refund_id: str) -> PaymentRefund:
    refund.status = "succeeded"
    refund.stripe_refund_id = stripe_refund_id
    refund.refunded_at = utcnow()
    refund.attempted_at = None
    record_audit(None, "payment.refunded", refund,
                 after={"order_id": refund.order_id, "payment_intent": refund.payment_intent_id,
                        "stripe_refund": stripe_refund_id, "amount": refund.amount})
    db.session.flush()
    return refund


def refund_not_sent(refund: PaymentRefund, why: str, now: datetime | None = None) -> PaymentRefund:
    """Stripe refused or could not be reached: stays pending (a redelivery or `retry_pending_refunds`
    tries again); staff know, and are told again once it has kept failing for REFUND_STUCK_AFTER."""
    now = now or utcnow()
    refund.attempted_at = None
    refund.message = why[:300]
    order = refund.order
    raise_alert("payment.refund_failed",
                f"Pengembalian dana otomatis untuk pesanan {order.number} ({refund.payment_intent_id}) belum "
                f"berhasil: {why} Kembalikan dana lewat Stripe bila masih gagal.",
                key=f"refund-failed-{refund.idempotency_key}", entity=order, sentra_id=_sentra_of(order))
    if refund.created_at < now - REFUND_STUCK_AFTER:
        amount = format_rupiah(refund.amount) if refund.amount is not None else refund.currency.upper()
        minutes = int(REFUND_STUCK_AFTER.total_seconds() // 60)
        raise_alert("payment.refund_stuck",
                    f"Pengembalian dana otomatis {amount} untuk pesanan {order.number} ({refund.payment_intent_id}) "
                    f"masih belum berhasil lebih dari {minutes} menit setelah dicatat: {why} "
                    "Sistem terus mencoba setiap beberapa menit; periksa akun Stripe (kunci API, saldo) atau hubungi "
                    "admin.",
                    key=f"refund-stuck-{refund.idempotency_key}", entity=order, sentra_id=_sentra_of(order))
    db.session.flush()
    return refund
