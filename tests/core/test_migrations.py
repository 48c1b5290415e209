"""The migrations build exactly the models' schema: no pending autogenerate diff.

The rest of the suite builds its schema with `create_all`; this test runs the real Alembic
revisions on a fresh, empty database (a new SQLite file, or a new database on the test
PostgreSQL server) and compares the result with the models' metadata.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import flask_migrate
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import make_url

import config as app_config
from app import create_app
from config import TestConfig
from core.extensions import db
from core.jobs.queue import not_a_queue_table
from inventory.search import not_a_search_table


@contextmanager
def fresh_database(database_url: str, tmp_path) -> Iterator[str]:
    """URL of a new, empty database next to the test database; dropped afterwards."""
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        yield f"sqlite:///{tmp_path / 'migrated.db'}"
        return
    name = f"migration_check_{uuid.uuid4().hex[:12]}"
    server = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with server.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        server.dispose()


def test_migrations_build_exactly_the_models_schema(database_url, tmp_path):
    with fresh_database(database_url, tmp_path) as url:
        settings = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
        migrated_app = create_app({**settings, "SQLALCHEMY_DATABASE_URI": url})
        with migrated_app.app_context():
            try:
                flask_migrate.upgrade(directory=str(app_config.BASE_DIR / "migrations"))
                with db.engine.connect() as conn:
                    context = MigrationContext.configure(conn, opts={"compare_type": True,
                                                                    "include_name": model_table})
                    diff = compare_metadata(context, db.metadata)
                    tables = set(sa.inspect(conn).get_table_names())
            finally:
                db.session.remove()
                db.engine.dispose()

    assert "users" in tables and "audit_entries" in tables
    assert diff == [], "models and migrations differ; regenerate the migration:\n" + "\n".join(
        describe(d) for d in diff
    )


def model_table(name, type_, parent_names) -> bool:
    """Compare what the models describe: not huey's tables, not the product search index."""
    return not_a_queue_table(name, type_, parent_names) and not_a_search_table(name, type_, parent_names)


def describe(difference) -> str:
    """One short line per autogenerate difference, e.g. "add_table sales", "modify_type users.name"."""
    if isinstance(difference, list):  # modify_* come wrapped in a list
        return "; ".join(describe(d) for d in difference)
    op, *args = difference
    names = []
    for arg in args:
        name = getattr(arg, "name", None)
        table = getattr(getattr(arg, "table", None), "name", None)
        if name is not None:
            names.append(f"{table}.{name}" if table and table != name else str(name))
        elif isinstance(arg, str):
            names.append(arg)
    return f"{op} {' '.join(names)}"

