"""Real peers for the job tests: an SMTP server (aiosmtpd on loopback) with STARTTLS — a certificate
made for 127.0.0.1 — and a login, as a Balai's mail provider would ask; and `flask jobs worker`
processes on the test database."""

from __future__ import annotations

import email
import email.policy
import os
import signal
import socket
import ssl
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

USER, PASSWORD = "toko@sentra.test", "sandi-smtp-uji"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Inbox:
    """What the server received; `refuse` answers every message with a temporary failure."""

    messages: list[email.message.EmailMessage] = field(default_factory=list)
    received: threading.Event = field(default_factory=threading.Event)
    refuse: bool = False
    #: the first DATA command waits on this (the SIGKILL test kills the sender meanwhile)
    hold_first: threading.Event | None = None
    first_arrived: threading.Event = field(default_factory=threading.Event)
    logins: list[str] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope):
        import asyncio

        if self.hold_first is not None and not self.first_arrived.is_set():
            self.first_arrived.set()
            while not self.hold_first.is_set():
                await asyncio.sleep(0.05)
            return "451 4.3.0 sender gone"
        if self.refuse:
            return "451 4.3.0 Coba lagi nanti"
        self.messages.append(email.message_from_bytes(envelope.original_content, policy=email.policy.default))
        self.received.set()
        return "250 OK"

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == USER \
            and auth_data.password.decode() == PASSWORD
        if ok:
            self.logins.append(auth_data.login.decode())
        return AuthResult(success=ok, handled=False)


@dataclass
class SmtpServer:
    host: str
    port: int
    inbox: Inbox
    cafile: str

    def settings(self) -> dict:
        return {"MAIL_SERVER": self.host, "MAIL_PORT": self.port, "MAIL_USE_TLS": True, "MAIL_USE_SSL": False,
                "MAIL_USERNAME": USER, "MAIL_PASSWORD": PASSWORD, "MAIL_TIMEOUT": 10}


@pytest.fixture
def smtp_server(loopback_certificate, monkeypatch):
    """A running SMTP server requiring STARTTLS and a login; its certificate is trusted by this
    process only (SSL_CERT_FILE), so the client's verification is real."""
    cert, key = loopback_certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), tls_context=context,
                            require_starttls=True, auth_require_tls=True, authenticator=inbox.authenticate)
    controller.start()
    monkeypatch.setenv("SSL_CERT_FILE", cert)
    try:
        yield SmtpServer("127.0.0.1", controller.port, inbox, cert)
    finally:
        if inbox.hold_first is not None:
            inbox.hold_first.set()
        controller.stop()


@pytest.fixture
def mail_settings(app, monkeypatch):
    """Apply SMTP settings to the app and to its Flask-Mailman state for one test."""

    def apply(settings: dict) -> None:
        from core.mail import mailman

        for name, value in settings.items():
            monkeypatch.setitem(app.config, name, value)
        monkeypatch.setitem(app.extensions, "mailman", mailman.init_mail(app.config))

    return apply


ROOT = Path(__file__).resolve().parents[2]


class Worker:
    """`flask jobs worker` as its own process on the test database, ready once it logged so."""

    def __init__(self, env: dict[str, str], log_path: Path):
        self.log_path = log_path
        self.log = log_path.open("ab")
        self.process = subprocess.Popen([str(ROOT / ".venv" / "bin" / "flask"), "jobs", "worker", "--threads", "2"],
                                        cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        wait_for(lambda: b"job worker started" in log_path.read_bytes() or self.process.poll() is not None,
                 what="the worker to start")
        assert self.process.poll() is None, log_path.read_text()

    def kill(self) -> None:
        """SIGKILL: no clean-up, no goodbye — as when the host loses power."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.close()


def wait_for(condition, *, what: str, timeout: float = 30.0) -> None:
    """Poll `condition` (a real process or server is doing the work) until true, or fail the test."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.fixture
def worker_env(app, database_url, tmp_path, monkeypatch):
    """Environment for worker processes on the test database, and this test's app handing its jobs
    to the same queue (a SQLite file beside a SQLite database, huey's tables in PostgreSQL)."""
    from core.jobs.queue import job_queue, queue_url

    url = queue_url({"SQLALCHEMY_DATABASE_URI": database_url, "JOB_QUEUE_URL": ""})
    if url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'queue.db'}"
    monkeypatch.setitem(app.config, "JOB_QUEUE_URL", url)
    monkeypatch.setitem(app.extensions, "job_queue", None)
    job_queue().huey.flush()
    env = {k: v for k, v in os.environ.items() if k not in {"FLASK_DEBUG", "TEST_DATABASE_URL"}}
    env.update(DATABASE_URL=database_url, JOB_QUEUE_URL=url, APP_CONFIG="local", FLASK_APP="wsgi.py",
               INSTANCE_DIR=str(tmp_path / "instance"), MAIL_DIR=str(tmp_path / "mail"), PYTHONPATH=str(ROOT),
               REQUEST_LOG="0")
    yield env
    monkeypatch.setitem(app.extensions, "job_queue", None)


@pytest.fixture
def start_worker(worker_env, tmp_path):
    workers: list[Worker] = []

    def start(**settings: str) -> Worker:
        worker = Worker({**worker_env, **settings}, tmp_path / f"worker-{len(workers)}.log")
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()
