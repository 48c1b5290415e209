"""Files in the database (core.files): one row per content, never changed, served with the right headers."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask

from core import files
from core.extensions import db
from core.files import StoredFile, file_response, sha256_hex, store_file


def _count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(StoredFile))


def test_the_same_bytes_are_stored_once_under_their_hash():
    first = store_file(b"isi berkas", "application/pdf")
    again = store_file(b"isi berkas", "application/pdf")
    other = store_file(b"isi lain", "application/pdf")
    assert first.id == again.id != other.id
    assert first.sha256 == sha256_hex(b"isi berkas") and first.size == len(b"isi berkas")
    assert _count() == 2


def test_a_concurrent_upload_of_the_same_bytes_gets_the_winners_row(monkeypatch):
    """Two requests both see no row and both insert: the loser's SAVEPOINT hits the unique hash and
    it gets the winner's row; the rest of its transaction stands."""
    winner = store_file(b"sama persis", "image/webp")
    seen = {"calls": 0}
    real_get_file = files.get_file

    def not_there_yet(sha256):
        seen["calls"] += 1
        return None if seen["calls"] == 1 else real_get_file(sha256)

    monkeypatch.setattr(files, "get_file", not_there_yet)
    loser = store_file(b"sama persis", "image/webp")
    assert loser.id == winner.id and seen["calls"] == 2
    assert _count() == 1
    store_file(b"berikutnya", "image/webp")  # the transaction goes on
    assert _count() == 2


def test_stored_files_are_never_changed_or_deleted():
    store_file(b"bukti asli", "application/pdf")
    db.session.commit()
    for change in (lambda f: setattr(f, "content_type", "text/html"), db.session.delete):
        change(db.session.scalar(sa.select(StoredFile)))
        with pytest.raises(RuntimeError, match="never changed"):
            db.session.flush()
        db.session.rollback()
    stored = db.session.scalar(sa.select(StoredFile))
    assert stored.content_type == "application/pdf" and stored.data == b"bukti asli"


@pytest.mark.postgresql_only
@pytest.mark.committed  # the trigger is checked on a connection of its own
def test_postgresql_refuses_rewriting_a_stored_file():
    store_file(b"bukti asli", "application/pdf")
    db.session.commit()
    for statement in ("UPDATE stored_files SET content_type = 'text/html'", "DELETE FROM stored_files"):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), db.engine.begin() as conn:
            conn.exec_driver_sql(statement)


def test_listing_files_does_not_load_their_bytes():
    store_file(b"x" * 10_000, "image/webp")
    db.session.expire_all()
    stored = db.session.scalar(sa.select(StoredFile))
    assert "data" not in stored.__dict__
    assert stored.data == b"x" * 10_000  # loaded on first use only


def test_a_public_file_is_cached_for_a_year_and_answers_304_to_its_etag(app: Flask):
    stored = store_file(b"foto produk", "image/webp")
    with app.test_request_context():
        response = file_response(stored, public=True)
    assert response.status_code == 200 and response.get_data() == b"foto produk"
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response.headers["ETag"] == f'"{stored.sha256}"'
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "Content-Disposition" not in response.headers
    with app.test_request_context(headers={"If-None-Match": f'"{stored.sha256}"'}):
        db.session.expire(stored, ["data"])
        not_modified = file_response(stored, public=True)
        assert "data" not in stored.__dict__  # a 304 never reads the bytes
    assert not_modified.status_code == 304 and not_modified.get_data() == b""
    assert not_modified.headers["ETag"] == f'"{stored.sha256}"'
    with app.test_request_context(headers={"If-None-Match": '"something-else"'}):
        assert file_response(stored, public=True).status_code == 200


def test_a_private_download_is_a_sandboxed_attachment_never_stored(app: Flask):
    stored = store_file(b"%PDF-1.4 bukti", "application/pdf")
    with app.test_request_context(headers={"If-None-Match": f'"{stored.sha256}"'}):
        response = file_response(stored, download_name='bukti-1".pdf')
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == 'attachment; filename="bukti-1_.pdf"'
    assert response.headers["Content-Security-Policy"] == "sandbox"
    assert response.headers["Cache-Control"] == "no-store"
    assert "ETag" not in response.headers
