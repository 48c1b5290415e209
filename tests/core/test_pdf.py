"""The one PDF helper: WeasyPrint, fonts shipped with the app, A4 or an 80 mm roll."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from core.pdf import _url_fetcher, render_pdf

MM = 72 / 25.4  # PDF points per millimetre
A4_WIDTH, A4_HEIGHT = 210 * MM, 297 * MM


def sample(app, n_lines: int = 3, **kwargs) -> bytes:
    lines = [(f"Batik ciprat motif {i + 1}", 150_000) for i in range(n_lines)]
    with app.test_request_context():
        return render_pdf("sample.html", lines=lines, total=150_000 * n_lines, **kwargs)


def page_size(data: bytes) -> tuple[float, float]:
    box = PdfReader(io.BytesIO(data)).pages[0].mediabox
    return float(box.width), float(box.height)


def test_a4_document_reads_back_with_its_text(app, pdf_text):
    data = sample(app)
    assert data.startswith(b"%PDF")
    text = pdf_text(data)
    assert "Contoh dokumen" in text
    assert "Batik ciprat motif 3" in text and "Rp 450.000" in text
    width, height = page_size(data)
    assert width == pytest.approx(A4_WIDTH, abs=0.5) and height == pytest.approx(A4_HEIGHT, abs=0.5)


def test_roll_document_is_80mm_wide_and_as_tall_as_its_content(app, pdf_text):
    short = sample(app, n_lines=2, roll_width_mm=80)
    long = sample(app, n_lines=30, roll_width_mm=80)

    width, short_height = page_size(short)
    assert width == pytest.approx(226.77, abs=0.1)
    _, long_height = page_size(long)
    assert 20 * MM < short_height < long_height < A4_HEIGHT
    assert len(PdfReader(io.BytesIO(long)).pages) == 1  # one continuous strip, never split
    assert "Batik ciprat motif 30" in pdf_text(long)


def test_pdf_embeds_the_font_shipped_with_the_app(app):
    reader = PdfReader(io.BytesIO(sample(app)))
    fonts = reader.pages[0]["/Resources"]["/Font"]
    names = {str(font.get_object()["/BaseFont"]) for font in fonts.values()}
    # Only the app's own fonts (static/fonts, family "App Sans"), never a system fallback.
    assert names and all(name.split("+")[-1].startswith("App-") for name in names), names


def test_pdf_follows_the_language(app, pdf_text):
    with app.test_request_context():
        from flask import session

        session["lang"] = "en"
        data = render_pdf("sample.html", lines=[("Batik", 67_000)], total=67_000)
    assert "IDR 67,000" in pdf_text(data)


@pytest.mark.parametrize("url", [
    "https://example.com/logo.png",
    "http://127.0.0.1:5000/static/css/app.css",
    "file:///etc/passwd",
    "file:///work/main/static/../config.py",
])
def test_no_resource_outside_static_is_fetched(app, url):
    with app.app_context(), pytest.raises(ValueError, match="not allowed"):
        _url_fetcher(url)


def test_static_files_are_fetched_from_disk(app):
    from pathlib import Path

    font = Path(app.static_folder, "fonts", "DejaVuSans.ttf").resolve()
    with app.app_context():
        result = _url_fetcher(font.as_uri())
    assert result
