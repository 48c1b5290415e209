"""A queue server that is down (Redis here, `JOB_QUEUE_URL=redis://…`) never costs a change: it commits,
its job waits in the database, and runs once the queue is back and a worker starts."""

from __future__ import annotations

import shutil
import subprocess

import pytest
import redis
import sqlalchemy as sa

from core.extensions import db
from core.jobs.models import Job, JobState
from core.mail import send_mail
from core.unit_of_work import transactional
from tests.jobs.conftest import free_port, wait_for

pytestmark = [pytest.mark.committed,
              pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs Debian's redis-server")]


def test_a_change_commits_while_redis_is_down_and_its_job_runs_when_it_is_back(app, worker_env, start_worker,
                                                                              monkeypatch, tmp_path, caplog):
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"
    monkeypatch.setitem(app.config, "JOB_QUEUE_URL", url)
    monkeypatch.setitem(app.extensions, "job_queue", None)

    @transactional
    def order_paid() -> int:
        return send_mail("sari@contoh.co.id", "Pembayaran pesanan diterima", "isi").id

    job_id = order_paid()
    assert "not handed to the queue" in caplog.text
    assert db.session.get_one(Job, job_id).state == JobState.PENDING
    db.session.rollback()

    server = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                               "--appendonly", "no", "--dir", str(tmp_path)], stdout=subprocess.DEVNULL)
    try:
        wait_for(lambda: _pong(url), what="redis to start")
        start_worker(JOB_QUEUE_URL=url)

        def done() -> bool:
            state = db.session.scalar(sa.select(Job.state).where(Job.id == job_id))
            db.session.rollback()
            return state == JobState.DONE

        wait_for(done, what="the waiting job to run")
        assert len(list((tmp_path / "mail").glob("*.eml"))) == 1
    finally:
        server.terminate()
        server.wait(timeout=10)


def _pong(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_timeout=1).ping())
    except redis.ConnectionError:
        return False
