"""Outgoing e-mail. Bodies never go to the log: they hold secret links (an order's `/pesanan/<token>`).

- With `MAIL_SERVER` set, the message is sent by SMTP; the log says only who (masked) and the subject.
- Without it, locally (`MAIL_DIR`, default `instance/mail/`), each message is written to its own `.eml`
  file there, to open in a mail program or read; the log names the file.
- In production (`MAIL_DIR` empty) without a server the message is dropped with a warning, body unlogged.
"""

from __future__ import annotations

import logging
import smtplib
import uuid
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

from flask import current_app


def mail_log() -> logging.Logger:
    log = logging.getLogger("sentra.mail")
    if not log.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("[%(asctime)s] mail: %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
    return log


def masked_address(address: str) -> str:
    """`sari@contoh.co.id` → `s***@contoh.co.id`: enough to tell messages apart, not to harvest."""
    local, _at, domain = (address or "").partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


def send_mail(to: str, subject: str, body: str) -> Path | None:
    """Send (or, locally without a server, save) one plain-text message; returns the saved file, if any."""
    config = current_app.config
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = config.get("MAIL_FROM") or "toko@sentrakreasi.local"
    message["To"] = to
    message["Date"] = datetime.now(UTC).strftime("%a, %d %b %Y %H:%M:%S +0000")
    message.set_content(body)
    log, who = mail_log(), masked_address(to)
    server = config.get("MAIL_SERVER")
    if server:
        try:
            with smtplib.SMTP(server, int(config.get("MAIL_PORT") or 25), timeout=10) as smtp:
                smtp.send_message(message)
        except OSError as error:
            log.warning("mail to %s subject %r not sent: %s", who, subject, error.__class__.__name__)
            return None
        log.info("mail to %s subject %r sent", who, subject)
        return None
    if config.get("MAIL_DIR"):
        folder = Path(config["MAIL_DIR"])
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:12]}.eml"
        path.write_bytes(message.as_bytes())
        log.info("mail to %s subject %r saved to file %s", who, subject, path)
        return path
    log.warning("mail to %s subject %r not sent: MAIL_SERVER is not set", who, subject)
    return None
