"""Outgoing e-mail, always sent by a background job after the change that caused it commits.

`send_mail` records a `mail.deliver` job in the current transaction (core/jobs): a rolled-back
change sends nothing, a committed one sends at least once (the job keeps one Message-ID, so a
message delivered twice after a crash is recognisably the same). Delivery:

- With `MAIL_SERVER` set: SMTP through Flask-Mailman (`MAIL_PORT`, `MAIL_USE_TLS` for STARTTLS,
  `MAIL_USE_SSL` for implicit TLS, `MAIL_USERNAME`/`MAIL_PASSWORD`, `MAIL_TIMEOUT`). A server that is
  down or refuses makes the job fail: it is retried with backoff, then shown to staff as failed;
  once a day failed messages of the last two days get another round (`mail.retry_failed`).
- Without it, locally (`MAIL_DIR`, default `instance/mail/`): one `.eml` file per message there.
- In production (`MAIL_DIR` empty) without a server: dropped with a warning.

Bodies never reach the log (they hold the buyer's secret order link): the log names only the
masked recipient and the subject.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import UTC, datetime, time, timedelta
from email.utils import format_datetime, make_msgid
from pathlib import Path

import sqlalchemy as sa
from flask import Flask, current_app
from flask_mailman import EmailMultiAlternatives, Mail

from core.db import utcnow
from core.extensions import db
from core.jobs import enqueue, job, schedule
from core.jobs.models import Job, JobState

log = logging.getLogger("sentra.mail")
mailman = Mail()
DELIVER = "mail.deliver"


def init_app(app: Flask) -> None:
    app.config.setdefault("MAIL_BACKEND", "smtp")
    mailman.init_app(app)
    schedule("mail.retry_failed", daily_at=time(6, 0))


def masked_address(address: str) -> str:
    """`sari@contoh.co.id` → `s***@contoh.co.id`: enough to tell messages apart, not to harvest."""
    local, _at, domain = (address or "").partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


def send_mail(to: str, subject: str, body: str, *, html: str | None = None, key: str | None = None) -> Job:
    """Queue one message (plain text, and an HTML alternative if given), sent after the current
    transaction commits.

    `key` makes it idempotent: the same key (an order's "paid" notice, say) queues one message.
    """
    sender = current_app.config.get("MAIL_DEFAULT_SENDER") or "toko@sentrakreasi.local"
    message_id = make_msgid(domain=sender.rpartition("@")[2] or "sentrakreasi.local")
    return enqueue(DELIVER, key=f"mail:{key}" if key else None, to=to, subject=subject, body=body, html=html,
                   message_id=message_id, date=format_datetime(datetime.now(UTC)))


@job(DELIVER, "Kirim e-mail", max_attempts=6, backoff=(60, 300, 900, 3600, 3 * 3600), lease_seconds=120)
def deliver_mail(to: str, subject: str, body: str, message_id: str, date: str, html: str | None = None) -> None:
    config = current_app.config
    message = EmailMultiAlternatives(subject=subject, body=body, from_email=config.get("MAIL_DEFAULT_SENDER"),
                                     to=[to], headers={"Message-ID": message_id, "Date": date})
    if html:
        message.attach_alternative(html, "text/html")
    who = masked_address(to)
    if config.get("MAIL_SERVER"):
        message.send(fail_silently=False)  # raises on a refusal or an outage: the job retries
        log.info("mail to %s subject %r sent", who, subject)
    elif config.get("MAIL_DIR"):
        folder = Path(config["MAIL_DIR"])
        folder.mkdir(parents=True, exist_ok=True)
        # Named by the Message-ID: a job run twice writes the same file, not a second message.
        path = folder / f"{hashlib.sha256(message_id.encode()).hexdigest()[:24]}.eml"
        path.write_bytes(message.message().as_bytes())
        log.info("mail to %s subject %r saved to file %s", who, subject, path)
    else:
        log.warning("mail to %s subject %r not sent: MAIL_SERVER is not set", who, subject)


@job("mail.retry_failed", "Kirim ulang e-mail yang gagal", max_attempts=3)
def retry_failed_mail(now: datetime | None = None) -> int:
    """Give messages that failed in the last two days three more tries (a mail server down overnight)."""
    now = now or utcnow()
    failed = list(db.session.scalars(sa.select(Job).where(
        Job.name == DELIVER, Job.state == JobState.FAILED, Job.finished_at >= now - timedelta(days=2))))
    for row in failed:
        row.state, row.run_after, row.max_attempts, row.finished_at = JobState.PENDING, now, row.attempts + 3, None
    db.session.flush()
    return len(failed)
