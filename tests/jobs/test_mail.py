"""E-mail goes out by a job, after the commit, over real SMTP (STARTTLS and a login); a mail
server that is down never fails the request, and staff see the message that could not be sent."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from core.alerts import StaffAlert
from core.db import utcnow
from core.extensions import db
from core.jobs.models import Job, JobState
from core.mail import send_mail
from tests.factories.shop import ShopProductFactory
from tests.jobs.conftest import USER, free_port
from tests.shop.helpers import place_order


def test_an_order_confirmation_is_delivered_over_starttls_with_a_login(client, csrf, smtp_server, mail_settings,
                                                                       run_jobs):
    mail_settings(smtp_server.settings())
    order = place_order(client, csrf, [(ShopProductFactory(stock=2, price=45_000, name="Batik Ciprat"), 1)])
    assert smtp_server.inbox.messages == []  # nothing is sent inside the request
    assert "done" in run_jobs().values()
    [message] = smtp_server.inbox.messages
    assert message["To"] == "sari@contoh.co.id" and message["Subject"] == f"Pesanan {order.number} diterima"
    assert f"/pesanan/{order.token}" in message.get_body(("plain",)).get_content() and message["Message-ID"]
    assert order.number in message.get_body(("html",)).get_content()
    assert smtp_server.inbox.logins == [USER]


def test_a_message_queued_by_a_change_that_rolls_back_is_never_sent(smtp_server, mail_settings, run_jobs):
    from core.unit_of_work import transactional

    mail_settings(smtp_server.settings())

    @transactional
    def refused_change() -> None:
        send_mail("budi@contoh.co.id", "Tidak jadi", "isi")
        raise RuntimeError("refused")

    with pytest.raises(RuntimeError):
        refused_change()
    assert run_jobs() == {} and smtp_server.inbox.messages == []


def test_a_mail_server_that_is_down_is_retried_then_shown_to_staff(client, csrf, app, mail_settings, run_jobs):
    mail_settings({"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": free_port(), "MAIL_USE_TLS": False, "MAIL_TIMEOUT": 2})
    response_order = place_order(client, csrf, [(ShopProductFactory(stock=2, price=45_000), 1)])
    assert response_order.number  # the buyer's order went through
    job = db.session.scalar(sa.select(Job).where(Job.name == "mail.deliver"))
    assert job is not None
    now = utcnow()
    outcomes = [run_jobs(now + timedelta(hours=hours)).get(job.id) for hours in (0, 1, 2, 3, 5, 9)]
    assert outcomes == ["retry"] * 5 + ["failed"]
    db.session.refresh(job)
    assert job.state == JobState.FAILED and job.last_error.startswith("ConnectionRefusedError")
    alert = db.session.scalar(sa.select(StaffAlert).where(StaffAlert.kind == "job.failed"))
    assert alert is not None and "Kirim e-mail" in alert.message and "6 kali" in alert.message
    assert response_order.token not in (job.last_error or "")


def test_failed_messages_get_another_round_the_next_morning(smtp_server, mail_settings, run_jobs):
    from core.mail import retry_failed_mail

    mail_settings(smtp_server.settings())
    send_mail("budi@contoh.co.id", "Dana dikembalikan", "isi")
    job = db.session.scalar(sa.select(Job).where(Job.name == "mail.deliver"))
    job.state, job.attempts, job.finished_at = JobState.FAILED, 6, utcnow()
    db.session.commit()
    assert retry_failed_mail() == 1
    db.session.commit()
    assert run_jobs() == {job.id: "done"}
    assert [m["Subject"] for m in smtp_server.inbox.messages] == ["Dana dikembalikan"]


def test_a_wrong_smtp_password_fails_the_job_not_the_request(smtp_server, mail_settings, run_jobs):
    mail_settings({**smtp_server.settings(), "MAIL_PASSWORD": "salah"})
    send_mail("budi@contoh.co.id", "Uji", "isi")
    db.session.commit()
    assert list(run_jobs().values()) == ["retry"] and smtp_server.inbox.messages == []

