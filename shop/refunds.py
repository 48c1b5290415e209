"""Giving back money that is not ours: sending the automatic refunds (`PaymentRefund`) to Stripe.

A refund is recorded as pending in the transaction that found the money must go back
(`shop.webhooks.plan_auto_refund`) and sent here once that is committed, with one Stripe key per
intent, so neither a redelivered event nor a retry ever refunds twice. Sending calls Stripe, so
these functions commit around each call (`commit_now`): the claim before it, Stripe's answer right
after it. They are for boundaries only, never for a service that must stay atomic:

- the webhook sends the refunds of its intent and answers 503 while one is still not sent, so
  Stripe delivers the event again and that delivery tries again;
- `retry_pending_refunds` sends every refund left pending (Stripe was down, a worker crashed):
  the job scheduler runs it every few minutes, and `flask shop send-refunds` by hand.
"""

from __future__ import annotations

import logging
from datetime import datetime

import sqlalchemy as sa

from core.db import utcnow
from core.errors import DomainError
from core.extensions import db
from core.unit_of_work import commit_now
from shop.messages import notify_buyer
from shop.models import PaymentRefund
from shop.stripe_gateway import gateway
from shop.webhooks import STALE_REFUND, claim_refund, refund_not_sent, refund_sent, refunds_to_send

log = logging.getLogger("sentra.shop.refunds")


def send_refund(refund_id: int, now: datetime | None = None) -> bool:
    """Claim one pending refund and send it to Stripe; True if this call sent it.

    False when someone else is sending it (or it is done), or when Stripe refused or could not be
    reached: then it stays pending, unclaimed, with Stripe's answer as its message, and staff are
    alerted (`refund_not_sent`).
    """
    refund = claim_refund(refund_id, now)
    # Read before the commit: no transaction (on SQLite, no write lock) is open while Stripe answers.
    if refund is not None:
        intent_id, key = refund.payment_intent_id, refund.idempotency_key
        metadata = {"order_id": str(refund.order_id), "reason": refund.kind}
    commit_now()  # claimed before Stripe is called: a concurrent delivery or run leaves it alone
    if refund is None:
        return False
    try:
        stripe_id = gateway().refund_intent(intent_id=intent_id, idempotency_key=key, metadata=metadata)
    except DomainError as error:
        refund_not_sent(db.session.get_one(PaymentRefund, refund_id), error.detail, now)
        commit_now()  # Stripe's answer is kept at once, before the next refund is sent
        return False
    refund = refund_sent(db.session.get_one(PaymentRefund, refund_id), stripe_id)
    try:
        with db.session.begin_nested():
            notify_buyer(refund.order, "refunded", refund=refund)
    except Exception:  # the money is back either way: an e-mail that fails must not undo the record
        log.exception("automatic refund %s sent; the buyer's e-mail failed", refund_id)
    commit_now()  # Stripe's answer is kept at once: a retry never refunds twice
    return True


def unsent_refunds(intent_id: str | None) -> int:
    """How many automatic refunds of this intent are still pending (failed, or being sent right now)."""
    if not intent_id:
        return 0
    return db.session.scalar(sa.select(sa.func.count(PaymentRefund.id)).where(
        PaymentRefund.payment_intent_id == intent_id, PaymentRefund.status == "pending")) or 0


def send_refunds(intent_id: str | None) -> int:
    """Send this intent's pending refunds (each once, by its key); returns how many are still unsent
    afterwards (a caller that can be asked again, like the webhook, answers "not done" then)."""
    for refund_id in refunds_to_send(intent_id):
        send_refund(refund_id)
    return unsent_refunds(intent_id)


def due_refunds(now: datetime | None = None) -> list[int]:
    """Pending refunds nobody has tried for STALE_REFUND: recorded that long ago and never claimed
    (the webhook that records one sends it at once: leave it that grace), claimed that long ago by
    a worker that never finished (a crash), or failed (a failure clears the claim)."""
    now = now or utcnow()
    cutoff = now - STALE_REFUND
    return list(db.session.scalars(sa.select(PaymentRefund.id).where(
        PaymentRefund.status == "pending",
        sa.or_(sa.and_(PaymentRefund.attempted_at.is_(None), PaymentRefund.created_at < cutoff),
               PaymentRefund.attempted_at < cutoff)).order_by(PaymentRefund.id)))


def retry_pending_refunds(now: datetime | None = None) -> int:
    """Send every automatic refund still pending after a short grace (`due_refunds`); returns how
    many were sent by this run.

    For the job scheduler (every few minutes) and `flask shop send-refunds`; run it inside a unit
    of work (`@transactional`) or none. Each refund is committed on its own, so one that fails does
    not hold back or undo the others: it stays pending for the next run, staff are alerted on its
    first failure and again once it has kept failing for REFUND_STUCK_AFTER. Safe to run often and
    concurrently with itself and with webhooks: a refund is claimed by a conditional update first,
    and Stripe sees one key per intent.
    """
    now = now or utcnow()
    sent = 0
    for refund_id in due_refunds(now):
        try:
            sent += send_refund(refund_id, now)
        except Exception:
            # Not Stripe's answer (that is a DomainError, handled above): a bug or the database.
            # Log it, keep the refund pending for the next run and go on with the others.
            log.exception("sending automatic refund %s failed", refund_id)
            db.session.rollback()
            _record_unexpected_failure(refund_id, now)
    return sent


def _record_unexpected_failure(refund_id: int, now: datetime) -> None:
    try:
        refund = db.session.get_one(PaymentRefund, refund_id, populate_existing=True)
        if refund.status == "pending":
            refund_not_sent(refund, "Terjadi kesalahan di server saat mengirim pengembalian dana.", now)
        commit_now()
    except Exception:
        log.exception("recording the failure of automatic refund %s failed", refund_id)
        db.session.rollback()
