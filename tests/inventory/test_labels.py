"""The label sheet: an A4 PDF whose barcodes, rendered to pixels and scanned, give back the product codes."""

import io
import subprocess

import zxingcpp
from PIL import Image
from pypdf import PdfReader

from inventory import services
from inventory.barcodes import ean13_from_number
from tests.factories import ProductFactory, SentraFactory
from tests.factories.inventory import kasir_of


def _decode_pdf(pdf: bytes, tmp_path) -> list[str]:
    path = tmp_path / "labels.pdf"
    path.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "300", "-gray", "-png", str(path), str(tmp_path / "page")], check=True)
    codes: list[str] = []
    for png in sorted(tmp_path.glob("page*.png")):
        with Image.open(png) as image:
            codes += [r.text for r in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.EAN13)]
    return codes


def test_label_sheet_barcodes_decode_to_the_products_codes(app, pdf_text, tmp_path):
    sentra = SentraFactory()
    products = [ProductFactory(sentra=sentra, price=150_000 + i * 1000, name=f"Batik Ciprat Motif {i}",
                               barcode=ean13_from_number(7_000_000 + i * 7919)) for i in range(5)]
    products.append(ProductFactory(sentra=sentra, barcode="4006381333931", name="Produk EAN Pabrik"))
    with app.test_request_context():
        pdf = services.render_labels(products, copies=2)
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    assert round(float(page.mediabox.width) * 25.4 / 72) == 210  # A4
    assert round(float(page.mediabox.height) * 25.4 / 72) == 297
    text = pdf_text(pdf)
    assert "Rp 150.000" in text and "Batik Ciprat Motif 0" in text and "4006381333931" in text
    decoded = _decode_pdf(pdf, tmp_path)
    assert sorted(decoded) == sorted([p.barcode for p in products] * 2)


def test_label_route_for_kasir(client, login_as, tmp_path):
    sentra = SentraFactory()
    products = [ProductFactory(sentra=sentra) for _ in range(3)]
    login_as(kasir_of(sentra))
    query = "&".join(f"product_id={p.id}" for p in products)
    response = client.get(f"/inventory/label.pdf?{query}&copies=1")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert sorted(_decode_pdf(response.data, tmp_path)) == sorted(p.barcode for p in products)
