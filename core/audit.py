"""Append-only audit log: who did what, when, to which entity, with before/after values.

Services call `record_audit` in the same transaction as the change they make, so the entry
exists exactly when the change does. Rows are never updated or deleted by the application
(the model refuses it, and triggers from the migrations refuse it in the database).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Mapped, mapped_column

from core.db import UTCDateTime, insert_new, utcnow
from core.extensions import Model, db


class AuditEntry(Model):
    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    #: the acting user; NULL for the system (CLI without a user, webhooks)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    #: a second person who approved the action (manager PIN at the counter, payout approval)
    approved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(sa.String(64), index=True)
    entity_type: Mapped[str] = mapped_column(sa.String(64))
    entity_id: Mapped[str | None] = mapped_column(sa.String(64))
    sentra_id: Mapped[int | None] = mapped_column(sa.ForeignKey("sentras.id"), index=True)
    before: Mapped[dict | None] = mapped_column(sa.JSON)
    after: Mapped[dict | None] = mapped_column(sa.JSON)

    __table_args__ = (sa.Index("ix_audit_entity", "entity_type", "entity_id"),)


@event.listens_for(AuditEntry, "before_update")
@event.listens_for(AuditEntry, "before_delete")
def _refuse_change(_mapper, _connection, _target):
    raise RuntimeError("audit entries are append-only")


def record_audit(
    actor: Any | None,
    action: str,
    entity: Any | None = None,
    *,
    entity_type: str | None = None,
    entity_id: Any | None = None,
    before: dict | None = None,
    after: dict | None = None,
    sentra_id: int | None = None,
    approved_by: Any | None = None,
) -> AuditEntry:
    """Add an audit entry for `action` on `entity` (flushes, does not commit)."""
    if entity is not None:
        entity_type = entity_type or type(entity).__name__
        entity_id = entity_id if entity_id is not None else getattr(entity, "id", None)
        if sentra_id is None:
            sentra_id = getattr(entity, "sentra_id", None)
    entry = AuditEntry(
        actor_id=getattr(actor, "id", None),
        approved_by_id=getattr(approved_by, "id", None),
        action=action,
        entity_type=entity_type or "-",
        entity_id=None if entity_id is None else str(entity_id),
        sentra_id=sentra_id,
        before=_jsonable(before),
        after=_jsonable(after),
    )
    insert_new(db.session, [entry])  # flushes what is pending, then one INSERT
    return entry


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


@dataclass(frozen=True)
class AuditFilter:
    """What an audit-log reader asks for; every part optional."""

    actor_id: int | None = None
    action: str = ""
    entity_type: str = ""
    entity_id: str = ""
    since: datetime | None = None
    until: datetime | None = None


def audit_query(sentra_ids: set[int] | None, wanted: AuditFilter) -> sa.Select:
    """Audit entries newest first, within the reader's Sentras (`None`: an admin, everything)."""
    stmt = sa.select(AuditEntry).order_by(AuditEntry.id.desc())
    if sentra_ids is not None:
        stmt = stmt.where(AuditEntry.sentra_id.in_(sentra_ids or {-1}))
    if wanted.actor_id is not None:
        stmt = stmt.where(AuditEntry.actor_id == wanted.actor_id)
    if wanted.action:
        stmt = stmt.where(AuditEntry.action.startswith(wanted.action[:64], autoescape=True))
    if wanted.entity_type:
        stmt = stmt.where(AuditEntry.entity_type == wanted.entity_type[:64])
    if wanted.entity_id:
        stmt = stmt.where(AuditEntry.entity_id == wanted.entity_id[:64])
    if wanted.since is not None:
        stmt = stmt.where(AuditEntry.created_at >= wanted.since)
    if wanted.until is not None:
        stmt = stmt.where(AuditEntry.created_at < wanted.until)
    return stmt
