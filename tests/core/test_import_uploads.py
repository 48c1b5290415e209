"""`flask files import-uploads`: the one-time move of old uploads from UPLOAD_DIR into the database."""

from __future__ import annotations

import io
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from PIL import Image

from core.extensions import db
from core.files import StoredFile, sha256_hex
from inventory.models import ProductPhoto
from makers.models import Maker
from payouts import services as payouts
from payouts.models import PayoutLine
from tests.factories.payouts import key, product, sell, shop


def _webp(colour, size=(1000, 800)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "WEBP")
    return out.getvalue()


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (20, 10), "white").save(out, "PNG")
    return out.getvalue()


PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def _name(ext: str = "webp") -> str:
    return f"{uuid.uuid4().hex}.{ext}"


@pytest.fixture
def old_uploads(app, tmp_path, monkeypatch):
    """Rows as the previous release left them: file names under UPLOAD_DIR, the files on disk."""
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path))
    (tmp_path / "payout-slips").mkdir()
    s = shop()
    item = product(s.sentra, price=10_000)
    sell(s, [(item, 1), (product(s.sentra, price=20_000), 1)])
    run = payouts.create_run(s.manager, s.sentra, cutoff_date=s.sentra.local_date(), client_key=key())
    payouts.approve_run(s.manager2, run)
    payouts.mark_run_paid(s.manager2, run, references={ln.id: "TRF-1" for ln in run.lines})
    disk: dict[str, bytes] = {}

    def put(relative: str, data: bytes) -> str:
        (tmp_path / relative).write_bytes(data)
        disk[relative] = data
        return relative.rsplit("/", 1)[-1]

    with_thumb, no_thumb, gone, poisoned = _name(), _name(), _name(), _name()
    put(with_thumb, _webp("red"))
    put(with_thumb.replace(".webp", "-400.webp"), _webp("red", (400, 320)))
    put(no_thumb, _webp("blue"))
    put(poisoned, b"<html><script>alert(1)</script></html>")
    for position, name in enumerate((with_thumb, no_thumb, gone, poisoned)):
        db.session.add(ProductPhoto(product_id=item.id, legacy_path=name, position=position))
    portrait = put(_name(), _webp("green"))
    item.maker.legacy_photo_path = portrait
    put(portrait.replace(".webp", "-400.webp"), _webp("green", (400, 320)))
    pdf_line, png_line = run.lines
    pdf_line.legacy_slip_path = put(f"payout-slips/{_name('pdf')}", PDF)
    png_line.legacy_slip_path = put(f"payout-slips/{_name('png')}", _png())
    db.session.commit()
    return {"dir": tmp_path, "disk": disk, "item": item, "maker": item.maker, "pdf_line": pdf_line,
            "png_line": png_line, "names": (with_thumb, no_thumb, gone, poisoned)}


def _photos(item) -> list[ProductPhoto]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(ProductPhoto).where(ProductPhoto.product_id == item.id)
                                   .order_by(ProductPhoto.position)))


def test_import_uploads_moves_old_files_into_the_database_once_and_leaves_them_on_disk(runner, client, old_uploads):
    w = old_uploads
    result = runner.invoke(args=["files", "import-uploads"])
    assert result.exit_code == 0, result.output
    assert "Foto produk: 2 dipindahkan ke database, 0 sudah di database, 2 berkasnya tidak ditemukan atau rusak." \
        in result.output
    assert "Foto pembuat: 1 dipindahkan ke database, 0 sudah di database, 0 berkasnya" in result.output
    assert "Bukti pencairan bertanda tangan: 2 dipindahkan ke database, 0 sudah di database, 0 berkasnya" \
        in result.output
    assert "tidak dihapus" in result.output

    with_thumb, no_thumb, gone, poisoned = w["names"]
    first, second, missing, refused = _photos(w["item"])
    assert first.file_sha256 == sha256_hex(w["disk"][with_thumb])
    assert first.thumb_sha256 == sha256_hex(w["disk"][with_thumb.replace(".webp", "-400.webp")])
    assert second.file_sha256 == sha256_hex(w["disk"][no_thumb]) and second.thumb_sha256 is not None  # made anew
    assert missing.file_sha256 is None and refused.file_sha256 is None  # left as they were, for a later run
    assert [p.legacy_path for p in (first, second, missing, refused)] == [with_thumb, no_thumb, gone, poisoned]
    maker = db.session.get(Maker, w["maker"].id)
    assert maker.photo_sha256 == sha256_hex(w["disk"][maker.legacy_photo_path])
    pdf_line, png_line = db.session.get(PayoutLine, w["pdf_line"].id), db.session.get(PayoutLine, w["png_line"].id)
    assert (pdf_line.slip_file.content_type, pdf_line.slip_file.data) == ("application/pdf", PDF)
    assert png_line.slip_file.content_type == "image/png"

    # Served from the database now, byte for byte; the old files are still on disk.
    served = client.get(f"/inventory/berkas/{first.file_sha256}.webp")
    assert served.status_code == 200 and served.data == w["disk"][with_thumb]
    for relative, data in w["disk"].items():
        assert (w["dir"] / relative).read_bytes() == data

    files_before = db.session.scalar(sa.select(sa.func.count()).select_from(StoredFile))
    again = runner.invoke(args=["files", "import-uploads"])
    assert again.exit_code == 0, again.output
    assert "Foto produk: 0 dipindahkan ke database, 2 sudah di database, 2 berkasnya" in again.output
    assert "Foto pembuat: 0 dipindahkan ke database, 1 sudah di database" in again.output
    assert "Bukti pencairan bertanda tangan: 0 dipindahkan ke database, 2 sudah di database" in again.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(StoredFile)) == files_before


def test_a_photo_whose_file_comes_back_is_moved_by_the_next_run(runner, old_uploads):
    w = old_uploads
    runner.invoke(args=["files", "import-uploads"])
    _with_thumb, _no_thumb, gone, _poisoned = w["names"]
    Path(w["dir"], gone).write_bytes(_webp("yellow"))
    result = runner.invoke(args=["files", "import-uploads"])
    assert "Foto produk: 1 dipindahkan ke database, 2 sudah di database, 1 berkasnya" in result.output
    assert _photos(w["item"])[2].file_sha256 is not None


def test_a_slip_uploaded_again_since_is_not_replaced_by_the_old_file(runner, old_uploads):
    w = old_uploads
    line = db.session.get(PayoutLine, w["pdf_line"].id)
    payouts.attach_slip(None, line, _png())
    db.session.commit()
    newer = line.slip_sha256
    result = runner.invoke(args=["files", "import-uploads"])
    assert "Bukti pencairan bertanda tangan: 1 dipindahkan ke database, 1 sudah di database" in result.output
    db.session.expire_all()
    assert db.session.get(PayoutLine, line.id).slip_sha256 == newer
