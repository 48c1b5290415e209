"""Staff alerts: things a person must look at (money kept by mistake and refunded, a failed
Stripe cancel, a maker PIN blocked after too many guesses).

An alert is raised in the same transaction as what caused it, so it exists exactly when the
change does; the same `key` raised twice (a webhook redelivered, a job retried) gives one alert.
Each alert is also logged at WARNING. Staff mark an alert as handled; alerts are never deleted.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from core.db import UTCDateTime, utcnow
from core.extensions import Model, db

log = logging.getLogger("sentra.alerts")


class StaffAlert(Model):
    __tablename__ = "staff_alerts"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    #: what happened, a stable word for filtering (e.g. "payment.refunded_cancelled_order")
    kind: Mapped[str] = mapped_column(sa.String(64), index=True)
    #: makes raising idempotent: the same key gives the same alert
    key: Mapped[str] = mapped_column(sa.String(160), unique=True)
    #: the Indonesian sentence shown to staff
    message: Mapped[str] = mapped_column(sa.String(500))
    #: NULL: for admins (no single Sentra)
    sentra_id: Mapped[int | None] = mapped_column(sa.ForeignKey("sentras.id"), index=True)
    entity_type: Mapped[str | None] = mapped_column(sa.String(64))
    entity_id: Mapped[str | None] = mapped_column(sa.String(64))
    details: Mapped[dict | None] = mapped_column(sa.JSON)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None


def raise_alert(
    kind: str,
    message: str,
    *,
    key: str,
    entity: Any | None = None,
    sentra_id: int | None = None,
    details: dict | None = None,
) -> StaffAlert:
    """Record an alert for staff (flushes, does not commit); the same `key` returns the first one."""
    existing = db.session.scalar(sa.select(StaffAlert).where(StaffAlert.key == key[:160]))
    if existing is not None:
        return existing
    alert = StaffAlert(
        kind=kind[:64], key=key[:160], message=message[:500], sentra_id=sentra_id,
        entity_type=type(entity).__name__ if entity is not None else None,
        entity_id=str(entity.id) if entity is not None and getattr(entity, "id", None) is not None else None,
        details=details,
    )
    try:
        with db.session.begin_nested():
            db.session.add(alert)
            db.session.flush()
    except IntegrityError:
        # Raised concurrently by another worker with the same key: theirs is the alert.
        theirs = db.session.scalar(sa.select(StaffAlert).where(StaffAlert.key == key[:160]))
        assert theirs is not None
        return theirs
    log.warning("staff alert %s: %s", kind, message)
    return alert


def open_alerts(sentra_ids: set[int] | None) -> list[StaffAlert]:
    """Unhandled alerts, newest first; `sentra_ids=None` means every alert (admin)."""
    query = sa.select(StaffAlert).where(StaffAlert.resolved_at.is_(None)).order_by(StaffAlert.id.desc())
    if sentra_ids is not None:
        query = query.where(StaffAlert.sentra_id.in_(sentra_ids))
    return list(db.session.scalars(query))


def resolve_alert(actor: Any, alert: StaffAlert) -> StaffAlert:
    """Mark an alert as handled (once; a second call changes nothing)."""
    if alert.resolved_at is None:
        alert.resolved_at = utcnow()
        alert.resolved_by_id = actor.id
        db.session.flush()
    return alert
