"""The nightly backup (core/jobs): the database — which holds the files too — to `BACKUP_DIR`."""

from __future__ import annotations

import logging
from datetime import time
from pathlib import Path

from flask import current_app

from core.backup import backup_database, default_backup_path
from core.extensions import db
from core.jobs import job, schedule

log = logging.getLogger("sentra.backup")


@job("ops.backup_database", "Cadangan basis data malam hari", max_attempts=3, backoff=(300, 1800), lease_seconds=3600)
def nightly_backup() -> None:
    directory = Path(current_app.config["BACKUP_DIR"])
    url = db.engine.url.render_as_string(hide_password=False)
    target = backup_database(url, default_backup_path(directory, db.engine.dialect.name))
    log.info("backup written: %s (%s bytes)", target, target.stat().st_size)
    prune_backups(directory, int(current_app.config["BACKUP_KEEP"]))


def prune_backups(directory: Path, keep: int) -> list[Path]:
    """Keep the `keep` newest backups (their names sort by time); returns the removed files."""
    backups = sorted(directory.glob("sentra-*.sqlite3")) + sorted(directory.glob("sentra-*.dump"))
    backups.sort(key=lambda path: path.name)
    removed = backups[:-keep] if keep > 0 else []
    for path in removed:
        path.unlink()
    return removed


def register_schedules() -> None:
    schedule("ops.backup_database", daily_at=time(2, 0))
