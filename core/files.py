"""Files kept in the database: product photos, maker portraits, signed payout-slip scans.

Every host sees them and every backup (`flask db-backup`) includes them: there is nothing on a
host's disk to copy or to lose. A file is stored once per content (`sha256`, unique), so the same
bytes uploaded twice are one row; rows are never updated or deleted — a replaced photo or slip
keeps its old row, and the row that points at it (a product photo, a maker, a payout line) says
which one is current. Who may see a file is decided by what points at it, never by the file.

`file_response` answers with the bytes: a public file (a product photo) at its hash, cached for a
year (the URL changes when the content does), with a strong ETag; a private one (a slip scan)
never cached, as a download that a browser will not render in the app's origin (`sandbox`).

The `data` column is deferred: listing rows that point at files, or finding a file by its hash,
never loads the bytes.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from flask import Response, current_app, request
from sqlalchemy import event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from core.db import UTCDateTime, utcnow
from core.extensions import Model, db

#: a file's address: the SHA-256 of its bytes, lower-case hex
SHA256_PATTERN = re.compile(r"^[0-9a-f]{64}$")
#: a year: public files are addressed by content, so they never change at their URL
PUBLIC_MAX_AGE = 31_536_000


class StoredFile(Model):
    __tablename__ = "stored_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: SHA-256 of `data`, lower-case hex: the file's identity and (for public files) its URL
    sha256: Mapped[str] = mapped_column(sa.String(64), unique=True)
    #: set by our code from the checked content (never the uploader's claim), e.g. "image/webp"
    content_type: Mapped[str] = mapped_column(sa.String(100))
    size: Mapped[int] = mapped_column(sa.Integer)
    data: Mapped[bytes] = mapped_column(sa.LargeBinary, deferred=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        sa.CheckConstraint("size >= 0", name="size_non_negative"),
        sa.CheckConstraint("length(sha256) = 64", name="sha256_length"),
    )


@event.listens_for(StoredFile, "before_update")
@event.listens_for(StoredFile, "before_delete")
def _refuse_change(_mapper, _connection, _target):
    # On PostgreSQL a trigger from the migration refuses it too (stored_files_no_change).
    raise RuntimeError("stored files are never changed or deleted; store the new bytes as a new file")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def get_file(sha256: str) -> StoredFile | None:
    """The file with this hash (its bytes not loaded), or None."""
    if not SHA256_PATTERN.match(sha256 or ""):
        return None
    return db.session.scalar(sa.select(StoredFile).where(StoredFile.sha256 == sha256))


def store_file(data: bytes, content_type: str) -> StoredFile:
    """The stored file holding exactly `data`: the existing row for these bytes, or a new one.

    Flushes, never commits. Two uploads of the same bytes at once collide on the unique hash; the
    loser's SAVEPOINT is rolled back and it gets the winner's row (the rest of its transaction stands).
    """
    digest = sha256_hex(data)
    existing = get_file(digest)
    if existing is not None:
        return existing
    stored = StoredFile(sha256=digest, content_type=content_type, size=len(data), data=data)
    try:
        with db.session.begin_nested():
            db.session.add(stored)
            db.session.flush()
    except IntegrityError:
        winner = get_file(digest)
        if winner is None:  # not a duplicate hash: some other constraint failed
            raise
        return winner
    # The bytes are in the database now; do not keep a copy in the session for the rest of the
    # transaction (a bulk import stores thousands).
    db.session.expire(stored, ["data"])
    return stored


def file_response(stored: StoredFile, *, public: bool = False, download_name: str | None = None) -> Response:
    """The file's bytes as an HTTP answer.

    - `public`: cacheable by anyone for a year, `immutable`, strong ETag = the hash; a matching
      If-None-Match gets 304 without reading the bytes. Only for files addressed by their hash.
    - otherwise `no-store`: a browser or proxy never keeps it.
    - `download_name`: an attachment (`Content-Disposition: attachment`), with
      `Content-Security-Policy: sandbox` so that even a hostile PDF or HTML opened from it runs
      with no scripts and no access to the app's origin.

    Always `X-Content-Type-Options: nosniff`: the browser takes the content type we checked.
    """
    headers = {"X-Content-Type-Options": "nosniff"}
    if public:
        headers["Cache-Control"] = f"public, max-age={PUBLIC_MAX_AGE}, immutable"
        headers["ETag"] = f'"{stored.sha256}"'
        if request.if_none_match.contains_weak(stored.sha256):
            return Response(status=304, headers=headers, mimetype=stored.content_type)
    else:
        headers["Cache-Control"] = "no-store"
    if download_name is not None:
        headers["Content-Disposition"] = _attachment(download_name)
        headers["Content-Security-Policy"] = "sandbox"
    return Response(stored.data, mimetype=stored.content_type, headers=headers)


def _attachment(name: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", name) or "berkas"
    return f'attachment; filename="{safe}"'


# --- the one-time move from disk (`flask files import-uploads`) --------------------------------

#: names the old disk uploads had: 32 hex digits, an optional "-400" (thumbnail), an extension
LEGACY_NAME = re.compile(r"^[0-9a-f]{32}(-400)?\.(webp|jpg|png|pdf)$")


@dataclass
class ImportCounts:
    """What `flask files import-uploads` did for one kind of file."""

    #: rows now pointing at a file in the database
    moved: int = 0
    #: rows that already did (an earlier run)
    already: int = 0
    #: rows whose file is not on this host's disk (or is not what it should be): left as they were
    missing: int = 0


def legacy_upload_dir() -> Path:
    """Where uploads used to be written (UPLOAD_DIR); read only by the one-time move."""
    return Path(current_app.config["UPLOAD_DIR"])


def read_legacy_file(folder: Path, name: str | None) -> bytes | None:
    """The bytes of an old upload, or None when the name is not one we generated or the file is gone."""
    if not name or not LEGACY_NAME.match(name):
        return None
    try:
        return (folder / name).read_bytes()
    except OSError:
        return None
