"""Photo uploads (products, maker portraits): checked by content (Pillow), size-capped, re-encoded, resized, renamed.

The uploader's file name and bytes are never stored: we decode the image, re-encode it as WebP
(full size at most 1200 px, and a 400 px thumbnail) under a random name in UPLOAD_DIR, and only
names of that exact shape are ever served.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path

from flask import current_app
from PIL import ImageOps

from core.errors import ValidationFailed
from core.uploads import open_image

MAX_SIDE = 1200
THUMB_SIDE = 400
ALLOWED_FORMATS = {"JPEG", "PNG", "WEBP", "GIF"}
#: the only file names the photo route serves
NAME_PATTERN = re.compile(r"^[0-9a-f]{32}(-400)?\.webp$")


def upload_dir() -> Path:
    path = Path(current_app.config["UPLOAD_DIR"])
    path.mkdir(parents=True, exist_ok=True)
    return path


def thumb_name(name: str) -> str:
    return name.replace(".webp", "-400.webp")


def save_image(data: bytes, field: str = "photo", filename: str | None = None) -> str:
    """Validate (core.uploads: markup, format vs. name, pixels before decoding) and store an uploaded
    image; returns the generated full-size file name."""
    limit = current_app.config["UPLOAD_IMAGE_MAX_BYTES"]
    if not data:
        raise ValidationFailed({field: "Pilih berkas foto."})
    if len(data) > limit:
        raise ValidationFailed({field: f"Foto terlalu besar (maksimal {limit // (1024 * 1024)} MB)."})
    image = open_image(data, field, allowed=ALLOWED_FORMATS, filename=filename)
    image = ImageOps.exif_transpose(image).convert("RGB")
    name = f"{uuid.uuid4().hex}.webp"
    directory = upload_dir()
    full = image.copy()
    full.thumbnail((MAX_SIDE, MAX_SIDE))
    full.save(directory / name, "WEBP", quality=82)
    thumb = image.copy()
    thumb.thumbnail((THUMB_SIDE, THUMB_SIDE))
    thumb.save(directory / thumb_name(name), "WEBP", quality=80)
    return name


def is_served_name(name: str) -> bool:
    return bool(NAME_PATTERN.match(name))
