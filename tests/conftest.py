"""Shared fixtures.

The suite runs on SQLite (default) or on a real PostgreSQL 15 (`pytest --db=postgresql`), which
this file starts itself on 127.0.0.1 unless TEST_DATABASE_URL points at one. The schema is built
once per session by the Alembic migrations, as in production; every test starts from empty tables.

Isolation, two ways:

- By default a test runs inside one transaction on one connection, rolled back at the end. The
  session joins it with SAVEPOINTs (`join_transaction_mode="create_savepoint"`), so the code under
  test may commit and roll back as in production (the request's unit of work commits once) — each
  `commit()` only releases a SAVEPOINT, and nothing ever reaches the database for good.
- `committed` tests really commit and the tables are emptied after them: tests whose data other
  connections must see — threads, live servers (`live_server`, `shop_server`, `stripe_local`), a
  second app or engine on the database (any test or fixture that takes `database_url` itself),
  and everything in tests/e2e and tests/ops. Those fixtures and folders are recognised here; mark
  the rest with `@pytest.mark.committed` (`pytestmark` for a module) or take `committed_db`.
"""

from __future__ import annotations

import inspect
import os
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from flask_sqlalchemy.session import Session as FlaskSQLAlchemySession
from itsdangerous import URLSafeTimedSerializer
from werkzeug.serving import make_server

from app import create_app
from config import TestConfig
from core.extensions import db


def pytest_addoption(parser):
    parser.addoption("--db", choices=("sqlite", "postgresql"), default=os.environ.get("TEST_DB", "sqlite"),
                     help="database backend for the suite")


def pytest_report_header(config):
    return f"database: {config.getoption('--db')}"


@pytest.fixture(scope="session")
def db_backend(request) -> str:
    return request.config.getoption("--db")


@pytest.fixture(scope="session")
def database_url(db_backend, tmp_path_factory):
    if db_backend == "postgresql":
        if os.environ.get("TEST_DATABASE_URL"):
            yield os.environ["TEST_DATABASE_URL"]
            return
        from scripts.pg_server import running_postgres

        with running_postgres() as server:
            yield server.url
        return
    # A file, not :memory:, so threads and live servers share it and locking is real.
    yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


@pytest.fixture(scope="session")
def app(database_url) -> Flask:
    upload_dir = tempfile.mkdtemp(prefix="sentra-uploads-")
    application = create_app({**_config_dict(TestConfig), "SQLALCHEMY_DATABASE_URI": database_url,
                              "UPLOAD_DIR": upload_dir, "MAIL_DIR": tempfile.mkdtemp(prefix="sentra-mail-")})
    with application.app_context():
        # The schema production gets: the Alembic migrations, with their history guards
        # (append-only triggers). tests/core/test_migrations.py proves they equal the models.
        from flask_migrate import upgrade

        upgrade()
    factory = db.session.session_factory
    factory.class_ = type("TestSession", (_ConnectionBoundSession, factory.class_), {})
    # Each test runs inside a pushed app context, and the test client's requests reuse it, so
    # `g` would carry Flask-Login's cached user, Babel's locale and the CSRF token from one
    # request (or client) to the next. Start every request with a clean `g`, as in production.
    application.before_request_funcs.setdefault(None, []).insert(0, _clear_request_globals)
    return application


def _clear_request_globals() -> None:
    from flask import g

    for name in list(vars(g)):
        delattr(g, name)


def _config_dict(cls) -> dict:
    return {k: getattr(cls, k) for k in dir(cls) if k.isupper()}


#: fixtures whose data must be committed for other connections (threads, servers, other apps)
COMMITTED_FIXTURES = frozenset({"committed_db", "live_server", "shop_server", "stripe_local", "uow_app",
                                "error_app"})

#: the connection of the running transactional test (None for `committed` tests)
_test_connection: sa.Connection | None = None


def commits_for_real(request) -> bool:
    """Whether this test must commit for real (see the module docstring)."""
    if request.node.get_closest_marker("committed") or COMMITTED_FIXTURES & set(request.fixturenames):
        return True
    # A test that takes the database URL itself builds its own app or engine on it.
    return request.function is not None and "database_url" in inspect.signature(request.function).parameters


@pytest.fixture(autouse=True)
def _app_context_and_isolation(request, app):
    """Every test runs in an app context and leaves empty tables behind."""
    with app.app_context():
        if commits_for_real(request):
            yield
            db.session.rollback()
            db.session.remove()
            truncate_all_tables()
        else:
            with rolled_back_transaction():
                yield


@contextmanager
def rolled_back_transaction() -> Iterator[sa.Connection]:
    """Bind `db.session` to one connection in a transaction that is rolled back at the end."""
    global _test_connection
    factory = db.session.session_factory
    db.session.remove()
    connection = db.engine.connect()
    outer = connection.begin()  # on SQLite: BEGIN IMMEDIATE (core/db.py), so SAVEPOINTs nest inside
    options = {"bind": connection, "join_transaction_mode": "create_savepoint"}
    factory.configure(**options)
    _test_connection = connection
    try:
        yield connection
    finally:
        _test_connection = None
        db.session.remove()
        for option in options:
            factory.kw.pop(option, None)
        if outer.is_active:
            outer.rollback()
        connection.close()


class _ConnectionBoundSession(FlaskSQLAlchemySession):
    """Flask-SQLAlchemy's session picks the engine per table and would ignore `bind=connection`;
    a session bound to a connection (a transactional test) uses that connection."""

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        if bind is None and isinstance(self.bind, sa.Connection):
            return self.bind
        return super().get_bind(mapper=mapper, clause=clause, bind=bind, **kwargs)


@pytest.fixture
def committed_db():
    """Take this fixture in a test whose data must be committed for other connections."""
    return db.session


def truncate_all_tables() -> None:
    """Empty every table: for real after a `committed` test, or within a transactional test's
    transaction (e.g. between hypothesis examples), where it is rolled back with the rest."""
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    if _test_connection is not None:
        db.session.remove()
        _empty(_test_connection, tables)
        return
    with db.engine.begin() as conn:
        _empty(conn, tables)


def _empty(conn: sa.Connection, tables: list[str]) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
    else:
        # TRUNCATE (PostgreSQL) bypasses row triggers; DELETE on SQLite needs the migration's
        # append-only triggers lifted and put back exactly as they were.
        triggers = conn.execute(sa.text(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_entries'")).all()
        for name, _sql in triggers:
            conn.exec_driver_sql(f'DROP TRIGGER "{name}"')
        for table in tables:
            conn.execute(sa.text(f'DELETE FROM "{table}"'))
        for _name, sql in triggers:
            conn.exec_driver_sql(sql)


@contextmanager
def serving(wsgi_app) -> Iterator[str]:
    """Serve `wsgi_app` from a thread on a free loopback port; yields its base URL."""
    server = make_server("127.0.0.1", 0, wsgi_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


@pytest.fixture(scope="session")
def live_server(app) -> Iterator[str]:
    """The app served on 127.0.0.1 for browsers and concurrent clients (real HTTP, real threads)."""
    with serving(app) as url:
        yield url


@pytest.fixture
def client(app) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def csrf_token(client: FlaskClient) -> str:
    """A valid CSRF token for this client's session (as Flask-WTF would render it)."""
    raw = "test-csrf-raw-token"
    with client.session_transaction() as sess:
        sess["csrf_token"] = raw
    return URLSafeTimedSerializer(client.application.config["SECRET_KEY"], salt="wtf-csrf-token").dumps(raw)


@pytest.fixture
def csrf(client):
    """`csrf()` → a token valid for `client`'s session."""
    return lambda: csrf_token(client)


def login(client: FlaskClient, user) -> None:
    """Log `user` in on `client` without going through the form (fast; the form has its own tests)."""
    from flask_login.utils import _create_identifier

    with client.application.test_request_context(environ_base=client.environ_base):
        identifier = _create_identifier()
    with client.session_transaction() as sess:
        sess["_user_id"] = user.get_id()
        sess["_fresh"] = True
        sess["_id"] = identifier


@pytest.fixture
def login_as(client):
    """`login_as(user)` logs `user` in on the shared `client`."""
    return lambda user: login(client, user)


@pytest.fixture
def pdf_text():
    """Extract the text of PDF bytes with pypdf."""
    import io

    from pypdf import PdfReader

    def extract(data: bytes) -> str:
        reader = PdfReader(io.BytesIO(data))
        return "\n".join(page.extract_text() or "" for page in reader.pages)

    return extract


def make_loopback_certificate(folder: Path) -> tuple[str, str]:
    """A self-signed TLS certificate and key for 127.0.0.1 (the SMTP and nginx tests), by openssl."""
    import subprocess

    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    return str(cert), str(key)


@pytest.fixture(scope="session")
def loopback_certificate(tmp_path_factory) -> tuple[str, str]:
    return make_loopback_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def run_jobs():
    """Run the due background jobs here, as a worker would (core/jobs); returns {job id: outcome}."""
    from core.jobs.runner import run_due_jobs

    return run_due_jobs


@pytest.fixture
def db_session():
    return db.session


#: test folders that always commit: browsers against a live server; gunicorn, backups and a second
#: PostgreSQL (tests/ops)
COMMITTED_FOLDERS = frozenset({"e2e", "ops"})


def pytest_collection_modifyitems(config, items):
    for item in items:
        if COMMITTED_FOLDERS & set(Path(str(item.fspath)).relative_to(Path(__file__).parent).parts[:-1]):
            item.add_marker(pytest.mark.committed)
    # Tests of PostgreSQL-only features (e.g. its triggers) run in the PostgreSQL pass only.
    if config.getoption("--db") != "postgresql":
        deselected = [item for item in items if item.get_closest_marker("postgresql_only")]
        if deselected:
            config.hook.pytest_deselected(items=deselected)
            items[:] = [item for item in items if not item.get_closest_marker("postgresql_only")]
    # Browser tests last: they are the slowest.
    items.sort(key=lambda item: "e2e" in Path(str(item.fspath)).parts)
