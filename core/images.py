"""Photo uploads (products, maker portraits): checked by content (Pillow), size-capped, re-encoded, resized.

The uploader's file name and bytes are never stored: we decode the image and re-encode it as WebP
(full size at most 1200 px, and a 400 px thumbnail), and store both in the database
(core.files), addressed by the hash of the bytes we wrote.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import NamedTuple

from flask import current_app
from PIL import Image, ImageOps

from core.errors import ValidationFailed
from core.files import StoredFile, read_legacy_file, store_file
from core.uploads import open_image

MAX_SIDE = 1200
THUMB_SIDE = 400
ALLOWED_FORMATS = {"JPEG", "PNG", "WEBP", "GIF"}
CONTENT_TYPE = "image/webp"


class SavedImage(NamedTuple):
    full: StoredFile
    thumb: StoredFile


def save_image(data: bytes, field: str = "photo", filename: str | None = None) -> SavedImage:
    """Validate (core.uploads: markup, format vs. name, pixels before decoding) and store an uploaded
    image as a full-size WebP and a thumbnail. Flushes, never commits."""
    limit = current_app.config["UPLOAD_IMAGE_MAX_BYTES"]
    if not data:
        raise ValidationFailed({field: "Pilih berkas foto."})
    if len(data) > limit:
        raise ValidationFailed({field: f"Foto terlalu besar (maksimal {limit // (1024 * 1024)} MB)."})
    image = open_image(data, field, allowed=ALLOWED_FORMATS, filename=filename)
    image = ImageOps.exif_transpose(image).convert("RGB")
    full = _webp(image, MAX_SIDE, quality=82)
    return SavedImage(store_file(full, CONTENT_TYPE), store_file(_webp(image, THUMB_SIDE, quality=80), CONTENT_TYPE))


def import_legacy_image(folder: Path, name: str | None) -> SavedImage | None:
    """An old upload (`<hex>.webp` and its `<hex>-400.webp` thumbnail under `folder`) stored in the
    database as it was written, or None if it is gone or not a clean WebP any more.

    The full-size file is checked again like an upload (a real WebP, no markup) before it is
    served from the database; a missing or broken thumbnail is made again from it.
    """
    full = read_legacy_file(folder, name)
    if full is None or name is None or not name.endswith(".webp") or name.endswith("-400.webp"):
        return None
    try:
        image = open_image(full, "photo", allowed={"WEBP"})
    except ValidationFailed:
        return None
    thumb = read_legacy_file(folder, name.removesuffix(".webp") + "-400.webp")
    if thumb is not None:
        try:
            open_image(thumb, "photo", allowed={"WEBP"})
        except ValidationFailed:
            thumb = None
    if thumb is None:
        thumb = _webp(image.convert("RGB"), THUMB_SIDE, quality=80)
    return SavedImage(store_file(full, CONTENT_TYPE), store_file(thumb, CONTENT_TYPE))


def _webp(image: Image.Image, side: int, *, quality: int) -> bytes:
    copy = image.copy()
    copy.thumbnail((side, side))
    out = io.BytesIO()
    copy.save(out, "WEBP", quality=quality)
    return out.getvalue()
