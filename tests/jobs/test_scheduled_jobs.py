"""What the schedules run: the nightly backup kept to its last N files, spent login throttles
forgotten (makers paid for goods shipped long ago: tests/shop/test_unconfirmed_deliveries.py)."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from accounts.models import LoginThrottle
from core.db import utcnow
from core.extensions import db


def test_the_nightly_backup_writes_a_copy_and_keeps_the_newest(app, tmp_path, monkeypatch, run_jobs):
    from core.jobs import enqueue

    folder = tmp_path / "backups"
    folder.mkdir()
    for day in range(1, 5):
        (folder / f"sentra-2026110{day}T020000Z.sqlite3").write_bytes(b"old")
    monkeypatch.setitem(app.config, "BACKUP_DIR", str(folder))
    monkeypatch.setitem(app.config, "BACKUP_KEEP", 3)
    if db.engine.dialect.name == "sqlite":
        enqueue("ops.backup_database", key="backup-test")
        db.session.commit()
        assert list(run_jobs().values()) == ["done"]
        names = sorted(p.name for p in folder.iterdir())
        assert len(names) == 3 and names[:2] == ["sentra-20261103T020000Z.sqlite3", "sentra-20261104T020000Z.sqlite3"]
        assert (folder / names[2]).stat().st_size > 10_000  # a real database file
    else:
        from ops.jobs import prune_backups

        removed = prune_backups(folder, 3)
        assert [p.name for p in removed] == ["sentra-20261101T020000Z.sqlite3"]


def test_spent_login_throttles_are_forgotten_and_blocks_are_kept():
    from accounts.throttle import prune_login_throttles

    now = utcnow()
    old = now - timedelta(days=3)
    db.session.add_all([
        LoginThrottle(key="acct:staff:lama@sentra.test", failures=2, window_started_at=old, next_allowed_at=old),
        LoginThrottle(key="acct:staff:baru@sentra.test", failures=2, window_started_at=now, next_allowed_at=now),
        LoginThrottle(key="cap:maker:12", failures=10, window_started_at=old, next_allowed_at=old, blocked_at=old),
    ])
    db.session.flush()
    assert prune_login_throttles(now) == 1
    assert set(db.session.scalars(sa.select(LoginThrottle.key))) == {"acct:staff:baru@sentra.test", "cap:maker:12"}
