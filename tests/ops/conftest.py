"""A real stack for the load, fault and database-role tests: PostgreSQL + gunicorn on 127.0.0.1.

- `pg_stack` (per module): a throw-away PostgreSQL 15 (scripts/pg_server.py) with the schema built
  by SCHEMA_COMMAND as its owner, an application role `sentra_app` that has only the rights the
  app needs (SELECT/INSERT/UPDATE/DELETE, sequences; not the owner, not a superuser), and a Flask
  app bound to the owner's URL for seeding and for checking the results by query.
- `Gunicorn`: `gunicorn -c gunicorn.conf.py wsgi:app` as a subprocess connected as `sentra_app`,
  with several workers; waits for its workers by reading its log (no sleeps), stopped by its PID.
- `Counter`: one kasir at one counter, over real HTTP with `requests` (login form, open shift,
  `POST /pos/api/sales` with an Idempotency-Key and the CSRF header).
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import subprocess
import tempfile
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from scripts.pg_server import PostgresServer, _free_port

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / ".venv" / "bin"

# The schema as production gets it: the migrations, with their history guards.
SCHEMA_COMMAND = [str(BIN / "flask"), "db", "upgrade"]

APP_ROLE = "sentra_app"
#: what the application's own database role gets: row access, never ownership or TRUNCATE
APP_ROLE_GRANTS = f"""
CREATE ROLE {APP_ROLE} LOGIN;
GRANT USAGE ON SCHEMA public TO {APP_ROLE};
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {APP_ROLE};
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {APP_ROLE};
"""


@dataclass
class PgStack:
    server: PostgresServer
    owner_url: str
    app_url: str
    #: Flask app on the owner's URL: seed data and check results with it (in its app context)
    app: object
    workdir: Path


def _base_env(workdir: Path, database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"FLASK_DEBUG", "TEST_DATABASE_URL"}}
    env.update(DATABASE_URL=database_url, APP_CONFIG="local", FLASK_APP="wsgi.py",
               SECRET_KEY=secrets.token_urlsafe(48), INSTANCE_DIR=str(workdir / "instance"),
               UPLOAD_DIR=str(workdir / "uploads"), PYTHONPATH=str(ROOT))
    return env


@contextmanager
def running_stack() -> Iterator[PgStack]:
    """PostgreSQL with the schema and the app role, and a Flask app on the owner's URL."""
    from app import create_app
    from config import TestConfig

    server = PostgresServer().start()
    workdir = Path(tempfile.mkdtemp(prefix="sentra-ops-"))
    try:
        owner_url = server.url
        result = subprocess.run(SCHEMA_COMMAND, cwd=ROOT, env=_base_env(workdir, owner_url),
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr[-3000:]
        engine = sa.create_engine(owner_url)
        with engine.begin() as conn:
            conn.exec_driver_sql(APP_ROLE_GRANTS)
        engine.dispose()
        config = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
        app = create_app({**config, "SQLALCHEMY_DATABASE_URI": owner_url, "UPLOAD_DIR": str(workdir / "uploads")})
        yield PgStack(server, owner_url, owner_url.replace("postgres@", f"{APP_ROLE}@"), app, workdir)
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="module")
def pg_stack() -> Iterator[PgStack]:
    with running_stack() as stack:
        yield stack


class Gunicorn:
    """`gunicorn -c gunicorn.conf.py wsgi:app` on a free loopback port, as the app's own DB role."""

    def __init__(self, stack: PgStack, workers: int = 3, extra_env: dict[str, str] | None = None) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.workers = workers
        self.log_path = stack.workdir / f"gunicorn-{self.port}.log"
        env = _base_env(stack.workdir, stack.app_url)
        env.update(BIND=f"127.0.0.1:{self.port}", WEB_CONCURRENCY=str(workers), GUNICORN_THREADS="2",
                   **(extra_env or {}))
        self._booted = 0
        self._cond = threading.Condition()
        self.proc = subprocess.Popen([str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "wsgi:app"], cwd=ROOT,
                                     env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self._reader = threading.Thread(target=self._read_log, daemon=True)
        self._reader.start()
        self.wait_for_workers(workers)

    def _read_log(self) -> None:
        with open(self.log_path, "w") as log:
            for line in self.proc.stderr:
                log.write(line)
                log.flush()
                if "Booting worker with pid" in line:
                    with self._cond:
                        self._booted += 1
                        self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    def wait_for_workers(self, count: int, timeout: float = 120) -> None:
        """Block until `count` workers in total have booted since start (read from the log)."""
        with self._cond:
            ok = self._cond.wait_for(lambda: self._booted >= count or self.proc.poll() is not None, timeout)
        assert ok and self.proc.poll() is None, f"gunicorn did not start:\n{self.log_tail()}"

    @property
    def booted(self) -> int:
        with self._cond:
            return self._booted

    def worker_pids(self) -> list[int]:
        """The master's children, from /proc."""
        pids = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            # pid (comm) state ppid ...: comm may contain spaces, so split after the last ')'
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid == self.proc.pid:
                pids.append(int(entry.name))
        return sorted(pids)

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text()[-chars:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self._reader.join(timeout=10)


@pytest.fixture(scope="module")
def localstripe() -> Iterator[str]:
    """A real localstripe (tests/shop/stripe_local.py) standing in for Stripe for online checkouts."""
    from tests.shop.stripe_local import running_localstripe

    with running_localstripe() as url:
        yield url


@pytest.fixture(scope="module")
def gunicorn(pg_stack, localstripe) -> Iterator[Gunicorn]:
    server = Gunicorn(pg_stack, extra_env={"STRIPE_API_BASE": localstripe})
    try:
        yield server
    finally:
        server.stop()


_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class Counter:
    """One kasir at one counter, over HTTP: log in, open a shift, sell."""

    def __init__(self, base_url: str, email: str, password: str) -> None:
        self.base = base_url
        self.http = requests.Session()
        self.email, self.password = email, password
        self.shift_id: int | None = None
        self.csrf = ""

    def _token(self, path: str) -> str:
        page = self.http.get(self.base + path, timeout=30)
        assert page.status_code == 200, (path, page.status_code)
        match = _CSRF.search(page.text)
        assert match, f"no CSRF token on {path}"
        return match.group(1)

    def login(self) -> Counter:
        token = self._token("/accounts/masuk")
        answer = self.http.post(self.base + "/accounts/masuk", allow_redirects=False, timeout=30,
                                data={"csrf_token": token, "email": self.email, "password": self.password})
        assert answer.status_code == 302, (answer.status_code, answer.text[:500])
        return self

    def open_shift(self, sentra_id: int) -> Counter:
        self.csrf = self._token("/pos/")
        answer = self.http.post(self.base + "/pos/", allow_redirects=False, timeout=30,
                                data={"csrf_token": self.csrf, "sentra_id": str(sentra_id), "opening_float": "0"})
        assert answer.status_code == 302, (answer.status_code, answer.text[:500])
        self.shift_id = int(re.search(r"/sesi/(\d+)/jual", answer.headers["Location"]).group(1))
        # gunicorn closes a keep-alive connection idle for 2 s; a POST sent just as it does is
        # reset. The counter may now wait (for the others, at a barrier): start afresh.
        self.http.close()
        return self

    def sell(self, key: str, lines: list[dict], payments: list[dict], timeout: float = 30) -> requests.Response:
        return self.http.post(self.base + "/pos/api/sales", timeout=timeout,
                              json={"shift_id": self.shift_id, "lines": lines, "payments": payments},
                              headers={"Idempotency-Key": key, "X-CSRFToken": self.csrf})


class Buyer:
    """One online buyer, over HTTP: cart, checkout (reserves the goods), pay with a Stripe test card."""

    DETAILS = {"name": "Sari Pembeli", "phone": "081234567890", "email": "sari@contoh.co.id",
               "delivery": "pickup", "address": ""}

    def __init__(self, base_url: str) -> None:
        self.base = base_url
        self.http = requests.Session()

    def _token(self, path: str) -> str:
        page = self.http.get(self.base + path, timeout=30)
        assert page.status_code == 200, (path, page.status_code)
        match = _CSRF.search(page.text)
        assert match, f"no CSRF token on {path}"
        return match.group(1)

    def add(self, product_id: int, quantity: int = 1) -> requests.Response:
        token = self._token(f"/produk/{product_id}")
        return self.http.post(f"{self.base}/produk/{product_id}/keranjang", allow_redirects=False, timeout=30,
                              data={"csrf_token": token, "quantity": str(quantity)})

    def checkout(self) -> requests.Response:
        """302 to the order page when the goods are reserved; otherwise the form again with the reason."""
        token = self._token("/checkout")
        return self.http.post(self.base + "/checkout", allow_redirects=False, timeout=30,
                              data={"csrf_token": token, **self.DETAILS})

    def pay(self, order_path: str) -> requests.Response:
        token = self._token(order_path)
        return self.http.post(f"{self.base}{order_path}/bayar", allow_redirects=True, timeout=60,
                              data={"csrf_token": token, "attempt_key": str(uuid.uuid4()),
                                    "payment_method": "pm_card_visa"})
