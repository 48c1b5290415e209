"""Jobs are rows recorded with the change they follow (core/jobs): run once, retried, then shown."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
import sqlalchemy as sa

from core.alerts import StaffAlert
from core.db import utcnow
from core.extensions import db
from core.jobs import enqueue, job
from core.jobs.models import Job, JobState
from core.jobs.registry import SCHEDULES, Schedule
from core.jobs.runner import claim, enqueue_due_schedules, execute, relay
from core.unit_of_work import transactional

CALLS: list[dict] = []


@job("test.record_call", "Uji: catat panggilan", max_attempts=3, backoff=(10, 60))
def record_call(**payload) -> None:
    CALLS.append(payload)
    if payload.get("fail"):
        raise ConnectionError("server tidak menjawab")


@pytest.fixture(autouse=True)
def _no_calls():
    CALLS.clear()
    yield
    CALLS.clear()


def _job(key: str) -> Job | None:
    return db.session.scalar(sa.select(Job).where(Job.key == key))


def test_a_committed_change_has_its_job_and_a_rolled_back_one_has_none(run_jobs):
    @transactional
    def change(fail: bool) -> None:
        enqueue("test.record_call", key=f"change-{fail}", n=1)
        if fail:
            raise ValueError("the change is refused")

    change(False)
    with pytest.raises(ValueError):
        change(True)
    assert _job("change-False") is not None and _job("change-True") is None
    assert list(run_jobs().values()) == ["done"] and CALLS == [{"n": 1}]


def test_the_same_key_enqueues_one_job():
    first = enqueue("test.record_call", key="order:7:paid")
    second = enqueue("test.record_call", key="order:7:paid", other=True)
    assert first.id == second.id and first.payload == {}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Job)) == 1


def test_unknown_jobs_are_refused():
    with pytest.raises(LookupError):
        enqueue("no.such.job")


def test_a_job_handed_over_twice_runs_once():
    row = enqueue("test.record_call", key="twice")
    db.session.commit()
    assert execute(row.id) == "done"
    assert execute(row.id) == "skipped"
    assert len(CALLS) == 1


def test_a_failing_job_is_retried_with_backoff_then_failed_with_a_staff_alert(run_jobs):
    row = enqueue("test.record_call", key="flaky", fail=True)
    db.session.commit()
    start = utcnow()
    assert run_jobs(start) == {row.id: "retry"}
    db.session.refresh(row)
    assert row.state == JobState.PENDING and row.attempts == 1 and row.last_error.startswith("ConnectionError")
    assert row.run_after >= start + timedelta(seconds=10)
    assert run_jobs(start) == {}  # not due yet
    assert run_jobs(start + timedelta(seconds=11)) == {row.id: "retry"}
    assert run_jobs(start + timedelta(minutes=5)) == {row.id: "failed"}
    db.session.refresh(row)
    assert row.state == JobState.FAILED and row.attempts == 3 and len(CALLS) == 3
    alert = db.session.scalar(sa.select(StaffAlert).where(StaffAlert.kind == "job.failed"))
    assert alert is not None and "Uji: catat panggilan" in alert.message and "3 kali" in alert.message


def test_a_running_job_is_left_alone_until_its_lease_ends_then_claimed_again():
    row = enqueue("test.record_call", key="lease")
    db.session.commit()
    start = utcnow()
    assert claim(row.id, start) is not None  # a worker took it … and died (no done)
    assert claim(row.id, start + timedelta(seconds=60)) is None
    again = claim(row.id, start + timedelta(seconds=301))
    assert again is not None and again.attempts == 2


def test_the_relay_hands_due_and_abandoned_jobs_to_the_queue(app):
    from core.jobs.queue import job_queue

    queue = job_queue()
    queue.huey.flush()
    due = enqueue("test.record_call", key="due")
    enqueue("test.record_call", key="later", delay=timedelta(hours=1))
    db.session.commit()
    queue.huey.flush()
    assert relay() == 1 and queue.pending() == 1
    assert queue.huey.dequeue().args == (due.id,)


def test_a_queue_that_is_down_never_fails_the_change(app, monkeypatch, caplog):
    from core.jobs.queue import JobQueue, make_huey

    monkeypatch.setitem(app.extensions, "job_queue", JobQueue(make_huey("redis://127.0.0.1:9/0"), None))

    @transactional
    def change() -> None:
        enqueue("test.record_call", key="queue-down")

    change()
    row = _job("queue-down")
    assert row is not None and row.state == JobState.PENDING
    assert "not handed to the queue" in caplog.text


def test_each_schedule_slot_becomes_one_job(monkeypatch):
    monkeypatch.setitem(SCHEDULES, "test.record_call", Schedule("test.record_call", every=timedelta(minutes=5)))
    now = utcnow()
    enqueue_due_schedules(now)
    enqueue_due_schedules(now)  # the same minute, on another host
    keys = db.session.scalars(sa.select(Job.key).where(Job.name == "test.record_call")).all()
    assert len(keys) == 1 and keys[0].startswith("schedule:test.record_call:")


def test_a_daily_schedule_waits_for_its_local_time(monkeypatch):
    from datetime import UTC, datetime

    monkeypatch.setitem(SCHEDULES, "test.record_call", Schedule("test.record_call", daily_at=time(2, 0)))
    # 18:30 UTC is 01:30 in Jakarta: not yet; 19:05 UTC is 02:05: due, once for that local date.
    enqueue_due_schedules(datetime(2026, 12, 4, 18, 30, tzinfo=UTC))
    assert _job("schedule:test.record_call:2026-12-05") is None
    enqueue_due_schedules(datetime(2026, 12, 4, 19, 5, tzinfo=UTC))
    enqueue_due_schedules(datetime(2026, 12, 4, 23, 0, tzinfo=UTC))
    assert _job("schedule:test.record_call:2026-12-05") is not None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Job).where(Job.name == "test.record_call")) == 1


def test_every_domain_schedule_is_registered():
    assert {"shop.expire_reservations", "shop.send_refunds", "shop.release_unconfirmed_deliveries",
            "ops.backup_database", "mail.retry_failed", "accounts.prune_login_throttles"} <= set(SCHEDULES)
