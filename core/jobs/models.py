"""The outbox row of one background job (see core/jobs/__init__.py)."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from core.db import UTCDateTime, enum_column, utcnow
from core.extensions import Model


class JobState(enum.StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class Job(Model):
    __tablename__ = "jobs"
    __table_args__ = (sa.Index("ix_jobs_state_run_after", "state", "run_after"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the registered handler (core.jobs.registry)
    name: Mapped[str] = mapped_column(sa.String(80), index=True)
    #: enqueueing the same key twice gives one job
    key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    #: the handler's keyword arguments (plain JSON values)
    payload: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    state: Mapped[JobState] = mapped_column(enum_column(JobState, 16), default=JobState.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    max_attempts: Mapped[int] = mapped_column(default=5)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: not claimed before this time (a delay, or the backoff after a failure)
    run_after: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: a running job whose lease has ended belongs to a dead worker and may be claimed again
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: the last failure, class and message only (never a payload: it may hold a secret link)
    last_error: Mapped[str | None] = mapped_column(sa.String(500))
