"""A backup taken while data exists restores that data after it was changed — photos and signed
slip scans included, since they live in the database (core.files)."""

import io

import sqlalchemy as sa
from PIL import Image

from core.extensions import db
from inventory import services as inventory_services
from ops.integrity import verify
from payouts import services as payouts
from sentras.models import Sentra
from tests.conftest import login, truncate_all_tables
from tests.factories import SentraFactory
from tests.factories.payouts import key, product, sell, shop


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


def test_restore_drill_brings_back_the_books_photos_and_slip_scans_byte_for_byte(app, runner, tmp_path):
    s = shop(hold_days=0)
    item = product(s.sentra, price=150_000)
    sell(s, [(item, 2)])
    run = payouts.create_run(s.manager, s.sentra, cutoff_date=s.sentra.local_date(), client_key=key())
    payouts.approve_run(s.manager2, run)
    payouts.mark_run_paid(s.manager2, run, references={ln.id: "TRF-1" for ln in run.lines})
    line = run.lines[0]
    upload = io.BytesIO()
    Image.new("RGB", (900, 700), (180, 60, 30)).save(upload, "PNG")
    photo = inventory_services.add_product_photo(s.manager, item, upload.getvalue())
    scan = (b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] "
            b"/Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
    payouts.attach_slip(s.manager, line, scan, "bukti.pdf")
    db.session.commit()
    line_id = line.id
    photo_url, scan_url = f"/inventory/berkas/{photo.file_sha256}.webp", f"/payouts/lines/{line_id}/scan"
    browser, staff = app.test_client(), app.test_client()
    login(staff, s.manager)
    photo_bytes = browser.get(photo_url).data
    assert photo_bytes.startswith(b"RIFF") and staff.get(scan_url).data == scan
    assert verify() == []

    target = tmp_path / "drill.bin"
    result = runner.invoke(args=["db-backup", "--output", str(target)])
    assert result.exit_code == 0, result.output

    db.session.remove()
    truncate_all_tables()  # the disaster: every table empty
    assert browser.get(photo_url).status_code == 404
    db.session.remove()

    result = runner.invoke(args=["db-restore", "--yes", str(target)])
    assert result.exit_code == 0, result.output
    assert verify() == []
    assert db.session.scalar(sa.text("SELECT COUNT(*) FROM stored_files")) == 3  # photo, thumbnail, scan
    served = browser.get(photo_url)
    assert served.status_code == 200 and served.data == photo_bytes
    served = staff.get(scan_url)  # the same staff session, its user restored with the rest
    assert served.status_code == 200 and served.data == scan
    assert served.headers["Content-Disposition"] == f'attachment; filename="bukti-{line_id}.pdf"'


def test_health_answers_503_when_database_is_unreachable(app, monkeypatch):
    from sqlalchemy.exc import OperationalError

    def refuse(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(db.session, "execute", refuse)
    response = app.test_client().get("/health")
    assert response.status_code == 503
    assert response.json["status"] == "unavailable"
