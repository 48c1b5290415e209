"""A backup taken while data exists restores that data after it was changed."""

import sqlalchemy as sa

from core.extensions import db
from sentras.models import Sentra
from tests.factories import SentraFactory


def test_backup_then_restore_brings_back_the_data(runner, tmp_path):
    SentraFactory(code="BKP", name="Sentra Cadangan")
    target = tmp_path / "backup.bin"

    result = runner.invoke(args=["db-backup", "--output", str(target)])
    assert result.exit_code == 0, result.output
    assert target.stat().st_size > 0

    db.session.execute(sa.update(Sentra).where(Sentra.code == "BKP").values(name="Diubah setelah cadangan"))
    db.session.commit()
    db.session.remove()

    result = runner.invoke(args=["db-restore", "--yes", str(target)])
    assert result.exit_code == 0, result.output
    assert db.session.scalar(sa.select(Sentra.name).where(Sentra.code == "BKP")) == "Sentra Cadangan"


def test_health_answers_503_when_database_is_unreachable(app, monkeypatch):
    from sqlalchemy.exc import OperationalError

    def refuse(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(db.session, "execute", refuse)
    response = app.test_client().get("/health")
    assert response.status_code == 503
    assert response.json["status"] == "unavailable"
