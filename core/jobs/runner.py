"""Enqueue, claim, run and retry jobs; hand due rows to the queue; turn schedules into jobs."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app, g
from sqlalchemy.exc import IntegrityError

from core.alerts import raise_alert
from core.db import utcnow
from core.extensions import db
from core.jobs.models import Job, JobState
from core.jobs.registry import JOB_TYPES, SCHEDULES, JobType
from core.unit_of_work import after_commit, transactional

log = logging.getLogger("sentra.jobs")


def enqueue(name: str, *, key: str | None = None, delay: timedelta | None = None, **payload: Any) -> Job:
    """Record the job `name` in the current transaction (flushes, does not commit).

    The same `key` gives the same job (a retried request or webhook enqueues nothing new). Once the
    transaction commits, the job is handed to the queue; a rollback takes the row with it.
    """
    job_type = _job_type(name)
    key = (key or f"{name}:{uuid.uuid4().hex}")[:200]
    existing = db.session.scalar(sa.select(Job).where(Job.key == key))
    if existing is not None:
        return existing
    row = Job(name=name, key=key, payload=payload, state=JobState.PENDING, attempts=0,
              max_attempts=job_type.max_attempts, created_at=utcnow(), run_after=utcnow() + (delay or timedelta()))
    try:
        with db.session.begin_nested():
            db.session.add(row)
            db.session.flush()
    except IntegrityError:  # the same key enqueued concurrently: theirs is the job
        theirs = db.session.scalar(sa.select(Job).where(Job.key == key))
        assert theirs is not None
        return theirs
    job_id, eta = row.id, row.run_after
    after_commit(lambda: hand_over(job_id, eta))
    return row


def hand_over(job_id: int, eta: datetime | None = None) -> bool:
    """Give the committed job to the queue; False (logged) when the queue is unreachable — the
    relay hands it over later."""
    from core.jobs.queue import job_queue

    try:
        job_queue().submit(job_id, eta)
    except Exception as error:  # a queue outage must never fail the change that enqueued the job
        log.warning("job %s not handed to the queue (%s); the relay will retry", job_id, error.__class__.__name__)
        return False
    return True


def _job_type(name: str) -> JobType:
    try:
        return JOB_TYPES[name]
    except KeyError:
        raise LookupError(f"unknown job {name!r}") from None


def _lease(job_type: JobType) -> timedelta:
    override = current_app.config.get("JOB_LEASE_SECONDS")
    return timedelta(seconds=int(override) if override else job_type.lease_seconds)


def claim(job_id: int, now: datetime | None = None) -> Job | None:
    """Take the job for this worker (committed at once), or None if it is done, running elsewhere or
    not due. One conditional UPDATE: of two workers handed the same id, one wins."""
    now = now or utcnow()
    name = db.session.scalar(sa.select(Job.name).where(Job.id == job_id))
    if name is None or name not in JOB_TYPES:
        db.session.rollback()
        return None
    claimable = sa.or_(sa.and_(Job.state == JobState.PENDING, Job.run_after <= now),
                       sa.and_(Job.state == JobState.RUNNING, Job.lease_until < now))
    result = db.session.execute(
        sa.update(Job).where(Job.id == job_id, claimable)
        .values(state=JobState.RUNNING, attempts=Job.attempts + 1, started_at=now,
                lease_until=now + _lease(JOB_TYPES[name]))
        .execution_options(synchronize_session=False))
    db.session.commit()
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return None
    return db.session.get(Job, job_id, populate_existing=True)


def execute(job_id: int, now: datetime | None = None) -> str:
    """Claim and run one job: "done", "retry", "failed", or "skipped" (not claimable)."""
    job = claim(job_id, now)
    if job is None:
        return "skipped"
    g.job_id = job.id  # logged with every line the job writes (core/logging.py)
    try:
        _run(job.id)
    except Exception as error:
        db.session.rollback()
        return _record_failure(job_id, error)
    finally:
        g.pop("job_id", None)
    log.info("job %s %s done", job_id, job.name)
    return "done"


@transactional
def _run(job_id: int) -> None:
    """The handler and the row's `done` in one unit of work (after-commit callbacks run after it)."""
    job = db.session.get_one(Job, job_id)
    JOB_TYPES[job.name].handler(**(job.payload or {}))
    job = db.session.get_one(Job, job_id)  # a handler may have committed part-way (commit_now)
    job.state, job.finished_at, job.lease_until = JobState.DONE, utcnow(), None


def _record_failure(job_id: int, error: Exception) -> str:
    job = db.session.get_one(Job, job_id, populate_existing=True)
    job_type = JOB_TYPES[job.name]
    job.last_error = f"{error.__class__.__name__}: {error}"[:500]
    job.lease_until = None
    if job.attempts >= job.max_attempts:
        job.state, job.finished_at = JobState.FAILED, utcnow()
        raise_alert("job.failed", f"Tugas latar “{job_type.label}” gagal {job.attempts} kali dan dihentikan. "
                                  f"Galat terakhir: {error.__class__.__name__}.",
                    key=f"job-failed:{job.id}", entity=job)
        outcome = "failed"
    else:
        job.state, job.run_after = JobState.PENDING, utcnow() + job_type.retry_delay(job.attempts)
        outcome = "retry"
    db.session.commit()
    log.warning("job %s %s %s after attempt %s: %s", job.id, job.name, outcome, job.attempts,
                error.__class__.__name__, exc_info=outcome == "failed")
    if outcome == "retry":
        hand_over(job.id, job.run_after)
    return outcome


def due_job_ids(now: datetime | None = None, limit: int = 500) -> list[int]:
    """Pending jobs that are due, and running jobs whose worker's lease has ended."""
    now = now or utcnow()
    return list(db.session.scalars(
        sa.select(Job.id).where(sa.or_(sa.and_(Job.state == JobState.PENDING, Job.run_after <= now),
                                       sa.and_(Job.state == JobState.RUNNING, Job.lease_until < now)))
        .order_by(Job.id).limit(limit)))


def relay(now: datetime | None = None) -> int:
    """Hand every due job to the queue (again): covers a queue that was down and a dead worker."""
    ids = due_job_ids(now)
    db.session.rollback()
    return sum(hand_over(job_id) for job_id in ids)


@transactional
def enqueue_due_schedules(now: datetime | None = None) -> list[Job]:
    """One job per schedule and slot; a slot already taken (another host, an earlier tick) adds nothing."""
    now = now or utcnow()
    zone = ZoneInfo(current_app.config.get("DEFAULT_TIMEZONE", "Asia/Jakarta"))
    jobs = []
    for name, planned in SCHEDULES.items():
        slot = planned.slot(now, zone)
        if slot is not None:
            jobs.append(enqueue(planned.job_name, key=f"schedule:{name}:{slot}"))
    return jobs


def tick(now: datetime | None = None) -> None:
    """What every worker does each minute: schedules become jobs, due jobs go to the queue."""
    enqueue_due_schedules(now)
    relay(now)


def run_due_jobs(now: datetime | None = None, limit: int = 100) -> dict[int, str]:
    """Run every due job here, in this process, in id order (the CLI `flask jobs run-due`, and tests)."""
    outcomes: dict[int, str] = {}
    for _ in range(limit):
        ids = [i for i in due_job_ids(now) if i not in outcomes]
        db.session.rollback()
        if not ids:
            break
        outcomes[ids[0]] = execute(ids[0], now)
    return outcomes


def queue_summary() -> dict[str, int]:
    """Job counts by state, and how many pending jobs are more than five minutes overdue."""
    counts = dict.fromkeys((s.value for s in JobState), 0)
    for state, count in db.session.execute(sa.select(Job.state, sa.func.count()).group_by(Job.state)):
        counts[str(state)] = count
    counts["overdue"] = db.session.scalar(
        sa.select(sa.func.count()).select_from(Job)
        .where(Job.state == JobState.PENDING, Job.run_after < utcnow() - timedelta(minutes=5))) or 0
    return counts
