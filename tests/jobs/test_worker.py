"""Real `flask jobs worker` processes: a job queued by a web request runs there once, and a worker
killed (SIGKILL) in the middle of a job loses nothing — the next worker runs it again."""

from __future__ import annotations

import sqlalchemy as sa

from core.db import utcnow
from core.extensions import db
from core.jobs.models import Job, JobState
from core.mail import send_mail
from tests.factories.shop import ShopProductFactory
from tests.jobs.conftest import wait_for
from tests.shop.helpers import place_order

pytestmark = [__import__("pytest").mark.committed]


def _job_state(job_id: int) -> tuple[JobState, int]:
    row = db.session.get_one(Job, job_id, populate_existing=True)
    state = row.state, row.attempts
    db.session.rollback()  # never keep a transaction open while a worker needs to write
    return state


def test_the_worker_sends_the_mail_a_web_request_queued(client, csrf, smtp_server, start_worker):
    start_worker(**_smtp_env(smtp_server))
    order = place_order(client, csrf, [(ShopProductFactory(stock=2, price=45_000), 1)])
    db.session.rollback()  # end this test's read transaction: on SQLite it holds the write lock
    assert smtp_server.inbox.received.wait(30), "the worker sent nothing"
    [message] = smtp_server.inbox.messages
    assert message["Subject"] == f"Pesanan {order.number} diterima"
    job_id = db.session.scalar(sa.select(Job.id).where(Job.name == "mail.deliver"))
    wait_for(lambda: _job_state(job_id)[0] == JobState.DONE, what="the job to be marked done")


def test_a_worker_killed_mid_job_loses_nothing(smtp_server, start_worker):
    import threading

    smtp_server.inbox.hold_first = threading.Event()
    first = start_worker(JOB_LEASE_SECONDS="2", **_smtp_env(smtp_server))
    job_id = send_mail("budi@contoh.co.id", "Dana pesanan dikembalikan", "isi").id
    db.session.commit()
    assert smtp_server.inbox.first_arrived.wait(30), "the first worker never started sending"
    first.kill()
    assert _job_state(job_id) == (JobState.RUNNING, 1)  # claimed by a worker that is gone
    lease_until = db.session.get_one(Job, job_id).lease_until
    db.session.rollback()
    wait_for(lambda: utcnow() > lease_until, what="the dead worker's lease to end", timeout=10)
    start_worker(JOB_LEASE_SECONDS="30", **_smtp_env(smtp_server))
    assert smtp_server.inbox.received.wait(30), "the job was lost with the killed worker"
    wait_for(lambda: _job_state(job_id) == (JobState.DONE, 2), what="the second run to finish")
    assert [m["Subject"] for m in smtp_server.inbox.messages] == ["Dana pesanan dikembalikan"]


def _smtp_env(server) -> dict[str, str]:
    return {"MAIL_SERVER": server.host, "MAIL_PORT": str(server.port), "MAIL_USE_TLS": "1",
            "MAIL_USERNAME": server.settings()["MAIL_USERNAME"], "MAIL_PASSWORD": server.settings()["MAIL_PASSWORD"],
            "SSL_CERT_FILE": server.cafile}
