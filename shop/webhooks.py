"""Stripe webhook events, processed once by event id and never moving an order backwards.

Every verified event is stored (unique `event_id`) in the same transaction as its effect: a
redelivery finds the row and stops; two concurrent deliveries of one event collide on the unique
index and the loser answers "duplicate". The order is deduped too (`fulfil_order` claims it with
a conditional update), so a different event for an already paid order changes nothing.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from core.audit import record_audit
from core.db import utcnow
from core.extensions import db
from shop.checkout import fulfil_order, lock_order, release
from shop.models import Order, OrderStatus, PaymentAttempt, WebhookEvent
from shop.stripe_gateway import StripeGateway


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
    db.session.flush()
    return order
