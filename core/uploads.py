"""Checks every uploaded image (and slip PDF) passes before anything decodes or stores it.

- **Pixels are capped before decoding.** `Image.open` reads only the header; the size is checked
  there (`MAX_PIXELS`, 40 megapixels), before `load()` — a 77 KB PNG of 79 megapixels once took a
  worker from 146 MB to 804 MB. Pillow's own bomb warning is turned into a refusal as a second line.
- **Markup is refused**: SVG, and polyglots — bytes that are an image *and* HTML/script (`<script`,
  `<html`, `<svg`, …) anywhere in the file, e.g. in a GIF or JPEG comment.
- **The extension must agree with the content** (a PNG named `x.gif`, a photo named `x.php` or
  `x.svg` is refused); a name without an extension is judged by content alone.
- Images are then decoded and re-encoded by the caller, so what is stored is pixels we wrote.

Messages are Indonesian and name the field they belong to (`ValidationFailed`).
"""

from __future__ import annotations

import io
import re
import warnings

from PIL import Image, UnidentifiedImageError

from core.errors import ValidationFailed

MAX_PIXELS = 40_000_000
# Pillow's own guard (warns above this, raises above twice this) as a backstop for any other decoder.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS

#: Pillow format → file name extensions that may carry it
EXTENSIONS = {"JPEG": {"jpg", "jpeg", "jpe", "jfif"}, "PNG": {"png"}, "WEBP": {"webp"}, "GIF": {"gif"},
              "PDF": {"pdf"}}
_MARKUP = re.compile(rb"<\s*(script|html|svg|body|iframe|object|embed|\?xml|!doctype)|javascript:", re.IGNORECASE)
_SVG_START = re.compile(rb"^\s*(<\?xml|<svg|<!doctype)", re.IGNORECASE)


def _extension(filename: str | None) -> str:
    name = (filename or "").rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


def refuse_markup(data: bytes, field: str) -> None:
    """SVG or any file with HTML/script in it (a polyglot) is refused."""
    if _SVG_START.match(data[:512]):
        raise ValidationFailed({field: "Berkas SVG tidak diterima. Unggah foto JPEG, PNG atau WebP."})
    if _MARKUP.search(data):
        raise ValidationFailed({field: "Berkas ini berisi kode (HTML/skrip), bukan foto biasa. "
                                       "Foto ulang lalu unggah lagi."})


def check_extension(filename: str | None, fmt: str, field: str) -> None:
    ext = _extension(filename)
    if ext and ext not in EXTENSIONS.get(fmt, set()):
        raise ValidationFailed({field: f"Nama berkas (.{ext}) tidak cocok dengan isinya ({fmt}). "
                                       "Unggah foto JPEG, PNG atau WebP dengan nama aslinya."})


def open_image(data: bytes, field: str, *, allowed: set[str], filename: str | None = None) -> Image.Image:
    """A decoded image from `data`, after markup, format, extension and pixel-count checks.

    The pixel count is read from the header and checked before any pixel is decoded.
    """
    refuse_markup(data, field)
    not_an_image = ValidationFailed({field: "Berkas ini bukan gambar. Unggah foto JPEG, PNG atau WebP."})
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))  # lazy: header only
            fmt = image.format
            if fmt not in allowed:
                raise not_an_image
            check_extension(filename, fmt, field)
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise ValidationFailed({field: f"Gambar terlalu besar ({width} × {height} piksel). "
                                               f"Maksimal {MAX_PIXELS // 1_000_000} megapiksel: "
                                               "kecilkan fotonya lalu unggah lagi."})
            probe = Image.open(io.BytesIO(data))
            probe.verify()
            image.load()
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise ValidationFailed({field: f"Gambar terlalu besar. Maksimal {MAX_PIXELS // 1_000_000} megapiksel."}) \
            from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise not_an_image from None
    return image
