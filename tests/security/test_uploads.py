"""Uploads that would exhaust a worker or smuggle code: decompression bombs (refused from the header,
before any pixel is decoded), SVG, image/HTML polyglots, names that disagree with the content; payout
slip scans re-encoded like photos (a PDF scan kept only when it is a real, script-free PDF); and the
PDF renderer's file fetcher kept inside `static/` whatever the percent-encoding."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import sqlalchemy as sa
from PIL import Image

from core.errors import ValidationFailed
from core.extensions import db
from core.files import StoredFile
from core.images import save_image
from core.pdf import _url_fetcher
from core.uploads import MAX_PIXELS
from inventory.models import ProductPhoto
from payouts import services as payouts
from payouts.models import PayoutLine
from tests.factories import MakerUserFactory, ProductFactory, SentraFactory
from tests.factories.inventory import manager_of
from tests.factories.payouts import key, product, sell, shop


def _bomb(width: int = 9_000, height: int = 8_800) -> bytes:
    """A 79-megapixel PNG of a few tens of KB: 1-bit, all white, compresses to almost nothing."""
    out = io.BytesIO()
    Image.new("1", (width, height), 1).save(out, "PNG", optimize=True)
    return out.getvalue()


def _image(fmt: str = "PNG", size=(64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (30, 120, 60)).save(out, fmt)
    return out.getvalue()


@pytest.fixture
def no_decoding(monkeypatch):
    """`no_decoding()`: from then on any attempt to decode pixels fails the test (a refusal must
    come from the header alone)."""
    def refuse(self, *args, **kwargs):
        raise AssertionError("pixels were decoded")

    def forbid() -> None:
        monkeypatch.setattr(Image.Image, "load", refuse)
        monkeypatch.setattr("PIL.ImageFile.ImageFile.load", refuse)

    return forbid


def _refusal(data: bytes, filename: str | None = None, field: str = "photo") -> str:
    with pytest.raises(ValidationFailed) as caught:
        save_image(data, field=field, filename=filename)
    return caught.value.errors[field]


def test_a_decompression_bomb_is_refused_before_any_pixel_is_decoded(app, no_decoding):
    data = _bomb()
    assert len(data) < 100_000 and MAX_PIXELS < 9_000 * 8_800
    no_decoding()
    message = _refusal(data, "bom.png")
    assert "terlalu besar" in message and "megapiksel" in message


def test_an_image_just_over_the_cap_is_refused_although_pillow_would_only_warn(app, no_decoding):
    data = _bomb(7_000, 6_000)  # 42 MP: Pillow only warns, and decodes
    no_decoding()
    assert "terlalu besar" in _refusal(data, "besar.png")


def test_a_bomb_payout_slip_is_refused_before_decoding_and_nothing_is_stored(app, no_decoding):
    line, data = _payout_line(), _bomb()
    no_decoding()
    with pytest.raises(ValidationFailed) as caught:
        payouts.attach_slip(None, line, data, "bukti.png")
    assert "terlalu besar" in caught.value.errors["slip"]
    db.session.rollback()
    assert db.session.get(PayoutLine, line.id).slip_sha256 is None
    assert db.session.scalar(sa.select(sa.func.count(StoredFile.id))) == 0


@pytest.mark.parametrize("data, filename, words", [
    (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
     "logo.svg", "SVG"),
    (b"<svg onload=alert(1)>", "foto.png", "SVG"),
    (_image("GIF") + b"<script>alert(document.cookie)</script>", "kucing.gif", "kode"),
    (_image("JPEG") + b"<html><body>hai</body></html>", "foto.jpg", "kode"),
    (b"GIF89a/*<html><script>alert(1)</script>*/", "x.gif", "kode"),
    (_image("PNG"), "foto.gif", "tidak cocok"),
    (_image("JPEG"), "foto.html", "tidak cocok"),
    (_image("PNG"), "foto.svg", "tidak cocok"),
], ids=["svg", "svg-as-png", "gif+script", "jpeg+html", "gif-comment-html", "png-as-gif", "jpeg-as-html",
        "png-as-svg"])
def test_svg_polyglots_and_names_that_lie_are_refused(app, data, filename, words):
    assert words in _refusal(data, filename)


def test_a_refused_photo_upload_leaves_nothing_behind(client, login_as, csrf, app):
    sentra = SentraFactory()
    item = ProductFactory(sentra=sentra)
    login_as(manager_of(sentra))
    response = client.post(f"/inventory/produk/{item.id}/foto", content_type="multipart/form-data", data={
        "csrf_token": csrf(), "photo": (io.BytesIO(_image("GIF") + b"<script>x</script>"), "x.gif")})
    assert response.status_code == 422 and "berisi kode" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(ProductPhoto.id))) == 0
    assert db.session.scalar(sa.select(sa.func.count(StoredFile.id))) == 0


def _payout_line() -> PayoutLine:
    s = shop()
    sell(s, [(product(s.sentra, price=10_000), 1)])
    run = payouts.create_run(s.manager, s.sentra, cutoff_date=s.sentra.local_date(), client_key=key())
    db.session.commit()
    return run.lines[0]


def _stored(line: PayoutLine) -> bytes:
    return line.slip_file.data


@pytest.mark.parametrize("fmt, content_type", [("JPEG", "image/jpeg"), ("PNG", "image/png"),
                                               ("WEBP", "image/webp")])
def test_slip_photos_are_re_encoded_not_stored_raw(app, fmt, content_type):
    line = _payout_line()
    upload = _image(fmt) + b"\x00trailing bytes a decoder ignores"
    payouts.attach_slip(None, line, upload, f"bukti.{fmt.lower()}")
    assert line.slip_file.content_type == content_type
    stored = _stored(line)
    assert stored != upload and b"trailing bytes" not in stored
    assert Image.open(io.BytesIO(stored)).format == fmt


def _pdf(extra: bytes = b"") -> bytes:
    return (b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n" + extra
            + b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")


def test_a_real_pdf_scan_is_kept_as_it_is(app):
    line = _payout_line()
    payouts.attach_slip(None, line, _pdf(), "bukti.pdf")
    assert line.slip_file.content_type == "application/pdf" and _stored(line) == _pdf()


def test_a_pdf_scan_that_hides_javascript_from_the_byte_check_is_only_served_as_a_sandboxed_download(
        client, login_as):
    """`/J#61vaScript` is `/JavaScript` to a PDF reader but not to a byte search (as is anything in a
    compressed stream): the upload check cannot see it, so the serving must make it harmless —
    a download, never rendered in the app's origin, with scripts sandboxed and no sniffing."""
    s = shop()
    maker_user = MakerUserFactory(maker__sentra=s.sentra)
    sell(s, [(product(s.sentra, maker=maker_user.maker, price=10_000), 1)])
    run = payouts.create_run(s.manager, s.sentra, cutoff_date=s.sentra.local_date(), client_key=key())
    payouts.approve_run(s.manager2, run)
    payouts.mark_run_paid(s.manager2, run, references={ln.id: "TRF-1" for ln in run.lines})
    line = run.lines[0]
    hidden = _pdf(b"3 0 obj << /S /J#61vaScript /J#53 (app.alert(document.cookie)) >> endobj\n")
    payouts.attach_slip(s.manager, line, hidden, "bukti.pdf")  # the byte check lets it through
    db.session.commit()
    for user, url in ((s.manager, f"/payouts/lines/{line.id}/scan"),
                      (maker_user, f"/payouts/saya/pencairan/{line.id}/scan")):
        login_as(user)
        served = client.get(url)
        assert served.status_code == 200 and served.data == hidden, url
        assert served.mimetype == "application/pdf"
        assert served.headers["Content-Disposition"] == f'attachment; filename="bukti-{line.id}.pdf"'
        assert served.headers["Content-Security-Policy"] == "sandbox"
        assert served.headers["X-Content-Type-Options"] == "nosniff"
        assert served.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("data, filename, words", [
    (_pdf(b"<html><script>alert(1)</script></html>\n"), "bukti.pdf", "kode"),
    (_pdf(b"3 0 obj << /S /JavaScript /JS (app.alert(1)) >> endobj\n"), "bukti.pdf", "skrip"),
    (b"%PDF-1.4 not really a pdf", "bukti.pdf", "rusak"),
    (_pdf(), "bukti.jpg", "tidak cocok"),
    (b"<html><body>bukti</body></html>", "bukti.pdf", "kode"),
    (b"\x00\x01 random", "bukti.bin", "harus foto"),
], ids=["pdf+html", "pdf-javascript", "no-eof", "pdf-as-jpg", "html-as-pdf", "not-a-scan"])
def test_fake_or_scripted_pdf_scans_are_refused(app, data, filename, words):
    line = _payout_line()
    with pytest.raises(ValidationFailed) as caught:
        payouts.attach_slip(None, line, data, filename)
    assert words in caught.value.errors["slip"]


@pytest.mark.parametrize("tail", [
    "%2e%2e/config.py", "..%2fconfig.py", "%2e%2e%2fconfig.py", "%2E%2E/%2E%2E/etc/passwd",
    "%252e%252e/config.py", "fonts/%2e%2e/%2e%2e/config.py", "css/app.css?x=1", "css/app.css#x",
])
def test_percent_encoded_dot_dot_cannot_leave_the_static_folder(app, tail):
    base = Path(app.static_folder).resolve().as_uri()
    with pytest.raises(ValueError, match="not allowed"):
        _url_fetcher(f"{base}/{tail}")


def test_percent_encoded_names_inside_static_are_still_served(app):
    font = Path(app.static_folder, "fonts", "DejaVuSans.ttf").resolve()
    encoded = font.as_uri().replace("DejaVuSans", "DejaVu%53ans")
    assert _url_fetcher(encoded)
