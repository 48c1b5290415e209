"""Database backups: SQLite through its online backup API, PostgreSQL through pg_dump/pg_restore."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import make_url


def default_backup_path(directory: Path, dialect: str) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    suffix = "sqlite3" if dialect == "sqlite" else "dump"
    return directory / f"sentra-{stamp}.{suffix}"


def _pg_env_and_args(url: str) -> tuple[dict, list[str]]:
    parsed = make_url(url)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = parsed.password
    args = ["-h", parsed.host or "127.0.0.1", "-p", str(parsed.port or 5432), "-U", parsed.username or "postgres",
            "-d", parsed.database or "postgres"]
    return env, args


def _pg_tool(name: str) -> str:
    for candidate in (shutil.which(name), f"/usr/lib/postgresql/15/bin/{name}"):
        if candidate and Path(candidate).exists():
            return candidate
    raise RuntimeError(f"{name} not found; install Debian's postgresql-client")


def backup_database(url: str, target: Path) -> Path:
    """Write a consistent copy of the database at `url` to `target` (safe while the app runs)."""
    parsed = make_url(url)
    target.parent.mkdir(parents=True, exist_ok=True)
    if parsed.get_backend_name() == "sqlite":
        assert parsed.database is not None, "a SQLite URL names its file"
        source = sqlite3.connect(parsed.database)
        destination = sqlite3.connect(target)
        try:
            source.backup(destination)
        finally:
            destination.close()
            source.close()
        return target
    env, args = _pg_env_and_args(url)
    subprocess.run([_pg_tool("pg_dump"), "-Fc", "--no-owner", "-f", str(target), *args], check=True, env=env)
    return target


def restore_database(url: str, source: Path) -> None:
    """Replace the database at `url` with the backup in `source` (stop the app first)."""
    parsed = make_url(url)
    if not source.exists():
        raise FileNotFoundError(source)
    if parsed.get_backend_name() == "sqlite":
        assert parsed.database is not None, "a SQLite URL names its file"
        backup = sqlite3.connect(source)
        destination = sqlite3.connect(parsed.database)
        try:
            backup.backup(destination)
        finally:
            destination.close()
            backup.close()
        return
    env, args = _pg_env_and_args(url)
    subprocess.run([_pg_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--single-transaction",
                    *args, str(source)], check=True, env=env)
