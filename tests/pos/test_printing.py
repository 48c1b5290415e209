"""What the counter prints, on 58 and 80 mm paper: receipt, refund slip, Z-report, as PDF and as
ESC/POS bytes (decoded back to text here), with the drawer kick only where cash changes hands."""

from __future__ import annotations

import dataclasses
import io
import json
import re
import subprocess
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from accounts.models import Role
from core.extensions import db
from sales.models import Channel, PaymentMethod, Refund
from sales.services import LineRequest, PaymentRequest, record_sale, refund_sale
from tests.factories import TEST_PIN, ProductFactory, SentraFactory, UserFactory
from tests.factories.sales import counter_setup, stock_in

MM = 72 / 25.4  # PDF points per millimetre
PRINTABLE_MM = {58: 48, 80: 72}
COLUMNS = {58: 32, 80: 48}


# --- a small ESC/POS decoder: the printed text, line by line, and the commands around it ------------

@dataclasses.dataclass
class Line:
    text: str
    bold: bool
    tall: bool


@dataclasses.dataclass
class Printout:
    lines: list[Line]
    commands: list[str]
    qr_codes: list[str]
    images: int

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)

    def line_with(self, needle: str) -> Line:
        return next(line for line in self.lines if needle in line.text)


def decode_escpos(data: bytes) -> Printout:
    """Strip ESC/GS commands and keep the text (PC437); refuse any byte it does not understand."""
    lines: list[Line] = []
    commands: list[str] = []
    qr_codes: list[str] = []
    images = 0
    text = bytearray()
    bold = tall = False
    style: tuple[bool, bool] | None = None  # the style of the current line's first character
    i = 0

    def end_line() -> None:
        nonlocal text, style
        first = style or (bold, tall)
        lines.append(Line(text.decode("cp437"), *first))
        text, style = bytearray(), None

    while i < len(data):
        byte = data[i]
        if byte == 0x1B:  # ESC
            cmd = chr(data[i + 1])
            if cmd == "@":
                bold = tall = False
                commands.append("ESC @")
                i += 2
            elif cmd == "p":
                commands.append("ESC p")
                i += 5
            elif cmd in "!tEaM-{d":
                n = data[i + 2]
                if cmd == "!":
                    bold, tall = bool(n & 0x08), bool(n & 0x10)
                elif cmd == "E":
                    bold = bool(n & 1)
                elif cmd == "t":
                    commands.append(f"ESC t {n}")
                elif cmd == "d":
                    for _ in range(n):
                        end_line()
                i += 3
            else:
                raise AssertionError(f"unknown command ESC {cmd!r} at {i}")
        elif byte == 0x1D:  # GS
            cmd = chr(data[i + 1])
            if cmd == "(" and data[i + 2] == ord("k"):
                size = data[i + 3] + 256 * data[i + 4]
                payload = data[i + 5:i + 5 + size]
                if payload[:2] == b"1P":  # store the QR data
                    qr_codes.append(payload[3:].decode())
                commands.append("GS ( k")
                i += 5 + size
            elif cmd == "v" and data[i + 2] == 0x30:  # raster image
                width, height = data[i + 4] + 256 * data[i + 5], data[i + 6] + 256 * data[i + 7]
                images += 1
                i += 8 + width * height
            elif cmd == "V":
                commands.append("GS V")
                i += 4 if data[i + 2] in (65, 66) else 3
            elif cmd in "!bB":
                if cmd == "!":
                    tall = bool(data[i + 2] & 0x0F)
                i += 3
            else:
                raise AssertionError(f"unknown command GS {cmd!r} at {i}")
        elif byte == 0x0A:
            end_line()
            i += 1
        elif byte < 0x20 or byte == 0x7F:
            raise AssertionError(f"stray control byte {byte:#04x} at {i}")
        else:
            if style is None:
                style = (bold, tall)
            text.append(byte)
            i += 1
    if text:
        end_line()
    return Printout(lines, commands, qr_codes, images)


# --- PDF helpers -------------------------------------------------------------------------------------

def page_mm(data: bytes) -> tuple[float, float]:
    box = PdfReader(io.BytesIO(data)).pages[0].mediabox
    return float(box.width) / MM, float(box.height) / MM


def pdftotext(data: bytes, *options: str) -> str:
    done = subprocess.run(["pdftotext", *options, "-", "-"], input=data, check=True, capture_output=True)
    return done.stdout.decode()


def pdf_rows(data: bytes) -> str:
    """The PDF's text as laid out, row by row (poppler keeps "TOTAL   Rp 315.000" on one row), with
    runs of spaces and line breaks collapsed: "TOTAL Rp 315.000"."""
    return " ".join(pdftotext(data, "-layout").split())


def words_mm(data: bytes) -> list[tuple[str, float, float, float, float]]:
    """Every word's box (xMin, yMin, xMax, yMax) in millimetres, by poppler's pdftotext -bbox."""
    found = re.findall(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>',
                       pdftotext(data, "-bbox"))
    return [(w, float(a) / MM, float(b) / MM, float(c) / MM, float(d) / MM) for a, b, c, d, w in found]


def flat(text: str) -> str:
    return " ".join(text.split())


# --- the sales printed -------------------------------------------------------------------------------

@pytest.fixture
def counter():
    sentra, kasir, manager, product, ticket, shift = counter_setup(price=150_000)
    product.name = "Batik Ciprat Biru"
    ticket.name = "Tiket Kolam"
    sentra.name, sentra.address = "SKA Kartini Temanggung", "Jl. Kartini 1, Temanggung"
    db.session.commit()
    return sentra, kasir, manager, product, ticket, shift


def cash_sale(counter, *, tendered: int | None = None, lines: int = 0):
    sentra, kasir, _manager, product, ticket, shift = counter
    wanted = [LineRequest(product.id, 2, discount=10_000), LineRequest(ticket.id, 1)]
    for n in range(lines):
        extra = ProductFactory(sentra=sentra, name=f"Anyaman Pandan {n + 1}", price=20_000)
        stock_in(extra, 1)
        wanted.append(LineRequest(extra.id, 1))
    total = 2 * 150_000 - 10_000 + 25_000 + 20_000 * lines
    sale = record_sale(kasir, sentra, channel=Channel.POS, lines=wanted,
                       payments=[PaymentRequest(PaymentMethod.CASH, total, tendered=tendered or total + 85_000)],
                       client_key=str(uuid.uuid4()), shift=shift)
    db.session.commit()
    return sale


def qris_sale(counter):
    sentra, kasir, _manager, _product, ticket, shift = counter
    sale = record_sale(kasir, sentra, channel=Channel.POS, lines=[LineRequest(ticket.id, 2)],
                       payments=[PaymentRequest(PaymentMethod.QRIS, 50_000, reference="QR-778899")],
                       client_key=str(uuid.uuid4()), shift=shift)
    db.session.commit()
    return sale


def refund_of(counter, sale, *, method=PaymentMethod.CASH, qty: int = 1):
    _sentra, kasir, manager, *_rest, shift = counter
    refund = refund_sale(kasir, sale, lines=[(sale.lines[0].id, qty)], method=method, reason="Warna luntur",
                         client_key=str(uuid.uuid4()), approver=manager, shift=shift)
    db.session.commit()
    return refund


# --- receipts as PDF ---------------------------------------------------------------------------------

@pytest.mark.parametrize("paper", [58, 80])
def test_receipt_pdf_is_as_wide_as_the_paper_and_as_long_as_its_content(client, login_as, counter, paper):
    short_sale, long_sale = cash_sale(counter), cash_sale(counter, lines=12)
    login_as(counter[1])
    short = client.get(f"/pos/penjualan/{short_sale.id}/struk.pdf?kertas={paper}")
    long = client.get(f"/pos/penjualan/{long_sale.id}/struk.pdf?kertas={paper}")
    assert short.status_code == 200 and short.mimetype == "application/pdf"

    width, short_height = page_mm(short.data)
    assert width == pytest.approx(paper, abs=0.1)
    _, long_height = page_mm(long.data)
    assert 60 < short_height < long_height < 400
    assert len(PdfReader(io.BytesIO(long.data)).pages) == 1  # one strip, never split
    # As long as the content: the last words sit at the bottom, no blank paper after them.
    for data, height in ((short.data, short_height), (long.data, long_height)):
        assert 3 < height - max(w[4] for w in words_mm(data)) < 8

    text = pdf_rows(short.data)
    for expected in ("SKA Kartini Temanggung", f"No. {short_sale.number}", "Kasir Kasir Ani", "Batik Ciprat Biru",
                     "2 × Rp 150.000 Rp 300.000", "Diskon -Rp 10.000", "Tiket Kolam", "1 × Rp 25.000 Rp 25.000",
                     "TOTAL Rp 315.000", "Tunai Rp 400.000", "Kembalian Rp 85.000", "Pindai untuk struk elektronik"):
        assert expected in text, (paper, expected)
    assert "Anyaman Pandan 12" in pdf_rows(long.data)


def big_sale(counter):
    """Long names and amounts in the millions: what must still fit 48 mm."""
    sentra, kasir, _manager, _product, _ticket, shift = counter
    sentra.receipt_header = "Produk penerima manfaat Balai Besar Disabilitas Kartini Temanggung"
    sentra.receipt_footer = "Barang titipan penerima manfaat: penukaran dalam 7 hari dengan struk ini."
    item = ProductFactory(sentra=sentra, name="Kain Batik Ciprat Tulis Motif Parang Kusumo Warna Alam", price=4_250_000)
    stock_in(item, 5)
    sale = record_sale(kasir, sentra, channel=Channel.POS, lines=[LineRequest(item.id, 3, discount=1_250_000)],
                       payments=[PaymentRequest(PaymentMethod.CARD, 6_000_000, reference="EDC-00451239"),
                                 PaymentRequest(PaymentMethod.CASH, 5_500_000, tendered=7_000_000)],
                       client_key=str(uuid.uuid4()), shift=shift)
    db.session.commit()
    return sale


@pytest.mark.parametrize("paper", [58, 80])
def test_every_printed_word_stays_inside_the_printable_width(client, login_as, counter, paper):
    sale = big_sale(counter)
    refund = refund_of(counter, sale)
    login_as(counter[1])
    margin = (paper - PRINTABLE_MM[paper]) / 2
    for url in (f"/pos/penjualan/{sale.id}/struk.pdf", f"/pos/retur/{refund.id}/slip.pdf",
                f"/pos/sesi/{counter[5].id}/laporan-z.pdf", "/pos/printer/tes.pdf"):
        words = words_mm(client.get(f"{url}?kertas={paper}").data)
        assert len(words) > 10, url
        for word, x_min, _y_min, x_max, _y_max in words:
            assert margin - 0.5 <= x_min and x_max <= paper - margin + 0.5, (paper, url, word, x_min, x_max)
    text = pdf_rows(client.get(f"/pos/penjualan/{sale.id}/struk.pdf?kertas={paper}").data)
    assert "TOTAL Rp 11.500.000" in text and "Kembalian Rp 1.500.000" in text


def test_receipt_without_a_paper_choice_is_80mm_and_a_bad_choice_is_refused(client, login_as, counter):
    sale = cash_sale(counter)
    login_as(counter[1])
    assert page_mm(client.get(f"/pos/penjualan/{sale.id}/struk.pdf").data)[0] == pytest.approx(80, abs=0.1)
    for query in ("kertas=57", "kertas=a4", "kertas=58&qr=warna"):
        assert client.get(f"/pos/penjualan/{sale.id}/struk.escpos?{query}").status_code == 400, query
    assert client.get(f"/pos/penjualan/{sale.id}/struk.pdf?kertas=100").status_code == 400


# --- receipts as ESC/POS -----------------------------------------------------------------------------

@pytest.mark.parametrize("paper", [58, 80])
def test_receipt_escpos_decodes_to_the_receipt_text(client, login_as, counter, paper):
    sale = cash_sale(counter)
    login_as(counter[1])
    response = client.get(f"/pos/penjualan/{sale.id}/struk.escpos?kertas={paper}")
    assert response.status_code == 200 and response.mimetype == "application/octet-stream"
    assert response.headers["Cache-Control"] == "private, no-store"
    printout = decode_escpos(response.data)

    # Reset, code page PC437, the drawer kick before the first line, the cut at the end.
    assert printout.commands[:3] == ["ESC @", "ESC t 0", "ESC p"] and printout.commands[-1] == "GS V"
    assert all(len(line.text) <= COLUMNS[paper] for line in printout.lines)
    assert printout.lines[2].text == "-" * COLUMNS[paper]
    text = printout.text
    for expected in ("SKA Kartini Temanggung", "Jl. Kartini 1, Temanggung", sale.number, "Kasir Ani",
                     "Batik Ciprat Biru", "Tiket Kolam", "Pindai untuk struk elektronik"):
        assert expected in text, (paper, expected)
    # Each figure flush right on its line, as on the PDF; the total and the change bold and tall.
    pdf = pdf_rows(client.get(f"/pos/penjualan/{sale.id}/struk.pdf?kertas={paper}").data)
    for label, amount in (("2 x Rp 150.000", "Rp 300.000"), ("Diskon", "-Rp 10.000"), ("1 x Rp 25.000", "Rp 25.000"),
                          ("TOTAL", "Rp 315.000"), ("Tunai", "Rp 400.000"), ("Kembalian", "Rp 85.000")):
        line = printout.line_with(label)
        assert line.text.startswith(label) and line.text.endswith(" " + amount), line
        assert len(line.text) == COLUMNS[paper]
        assert f"{label.replace(' x ', ' × ')} {amount}" in pdf
    for label in ("TOTAL", "Kembalian"):
        assert printout.line_with(label).bold and printout.line_with(label).tall
    assert not printout.line_with("Tunai").tall and printout.line_with("Batik Ciprat Biru").bold
    # The e-receipt link as the printer's own QR code (GS ( k).
    assert len(printout.qr_codes) == 1 and printout.qr_codes[0].endswith(f"/pos/struk/{sale.receipt_token}")


def test_the_drawer_opens_on_a_cash_sale_and_not_on_a_qris_sale(client, login_as, counter):
    cash, qris = cash_sale(counter), qris_sale(counter)
    login_as(counter[1])
    cash_printout = decode_escpos(client.get(f"/pos/penjualan/{cash.id}/struk.escpos").data)
    qris_printout = decode_escpos(client.get(f"/pos/penjualan/{qris.id}/struk.escpos").data)
    assert cash_printout.commands.count("ESC p") == 1
    assert "ESC p" not in qris_printout.commands
    assert qris_printout.line_with("QRIS (QR-778899)").text.endswith(" Rp 50.000")


def test_a_split_payment_with_cash_opens_the_drawer(client, login_as, counter):
    sale = big_sale(counter)
    login_as(counter[1])
    printout = decode_escpos(client.get(f"/pos/penjualan/{sale.id}/struk.escpos?kertas=58").data)
    assert printout.commands.count("ESC p") == 1
    assert printout.line_with("EDC-00451239").text.endswith(" Rp 6.000.000")  # the long label wrapped
    assert printout.line_with("Kembalian").text.endswith(" Rp 1.500.000")


def test_the_drawer_stays_shut_on_a_copy_and_when_the_device_says_so(client, login_as, counter):
    sale = cash_sale(counter)
    login_as(counter[1])
    url = f"/pos/penjualan/{sale.id}/struk.escpos"
    assert "ESC p" not in decode_escpos(client.get(url + "?laci=0").data).commands
    copy = decode_escpos(client.get(url + "?salinan=1").data)
    assert "ESC p" not in copy.commands and "SALINAN" in copy.text
    sale.created_at -= timedelta(minutes=20)  # printed again later: a copy
    db.session.commit()
    assert "ESC p" not in decode_escpos(client.get(url).data).commands
    # Another kasir reprinting it gets a copy too.
    login_as(UserFactory(role=Role.KASIR, sentras=[counter[0]]))
    assert "SALINAN" in decode_escpos(client.get(url).data).text


def test_qr_code_as_printer_command_as_image_or_as_the_link(client, login_as, counter):
    sale = qris_sale(counter)
    login_as(counter[1])
    url = f"/pos/penjualan/{sale.id}/struk.escpos?kertas=58"
    native = decode_escpos(client.get(url).data)
    image = decode_escpos(client.get(url + "&qr=gambar").data)
    link = decode_escpos(client.get(url + "&qr=tidak").data)
    assert len(native.qr_codes) == 1 and native.images == 0
    assert image.qr_codes == [] and image.images == 1 and "GS ( k" not in image.commands
    assert link.qr_codes == [] and link.images == 0
    assert sale.receipt_token in link.text.replace("\n", "")


def test_names_typed_by_people_cannot_send_printer_commands(client, login_as, counter):
    sentra, kasir, _manager, _product, ticket, _shift = counter
    # (NUL itself cannot reach a PostgreSQL text column; \x01 is the same commands' other form)
    ticket.name = "Tiket\x1bp\x01\x19 Kolam × 2 — “café” ṭ"
    sentra.receipt_footer = "Salam\x1d\x56\x01 hangat"
    db.session.commit()
    sale = qris_sale(counter)
    login_as(kasir)
    printout = decode_escpos(client.get(f"/pos/penjualan/{sale.id}/struk.escpos").data)  # no stray byte
    assert "ESC p" not in printout.commands and printout.commands.count("GS V") == 1
    # ESC, GS and the other control bytes dropped, the rest folded into the code page (é is in PC437).
    assert 'Tiketp Kolam x 2 - "café" t' in printout.text and "SalamV hangat" in printout.text


# --- refunds: the slip, and the receipt and e-receipt after a refund ----------------------------------

@pytest.mark.parametrize("paper", [58, 80])
def test_refund_slip_lists_the_lines_the_money_and_the_approver(client, login_as, counter, paper):
    sale = cash_sale(counter)
    refund = refund_of(counter, sale)
    assert refund.amount == 145_000  # one of two discounted pieces: (300.000 - 10.000) / 2
    login_as(counter[1])
    pdf = client.get(f"/pos/retur/{refund.id}/slip.pdf?kertas={paper}")
    assert pdf.status_code == 200 and page_mm(pdf.data)[0] == pytest.approx(paper, abs=0.1)
    printout = decode_escpos(client.get(f"/pos/retur/{refund.id}/slip.escpos?kertas={paper}").data)
    for text in (pdf_rows(pdf.data), flat(printout.text)):
        for expected in ("SLIP RETUR", f"No. retur R-{refund.id}", f"Penjualan {sale.number}", "Kasir Kasir Ani",
                         "Disetujui Manajer Budi", "Batik Ciprat Biru", "Rp 150.000 -Rp 145.000",
                         "DIKEMBALIKAN Rp 145.000", "Lewat Tunai", "Barang kembali ke stok: Ya",
                         "Alasan: Warna luntur", "Tanda tangan pembeli", "Tanda tangan manajer"):
            assert expected in text, (paper, expected)
    assert printout.line_with("DIKEMBALIKAN").tall and printout.line_with("DIKEMBALIKAN").text.endswith(" Rp 145.000")
    assert printout.commands.count("ESC p") == 1  # the cash goes back out of the drawer
    assert all(len(line.text) <= COLUMNS[paper] for line in printout.lines)


def test_a_refund_by_transfer_does_not_open_the_drawer(client, login_as, counter):
    refund = refund_of(counter, cash_sale(counter), method=PaymentMethod.TRANSFER)
    login_as(counter[1])
    printout = decode_escpos(client.get(f"/pos/retur/{refund.id}/slip.escpos").data)
    assert "ESC p" not in printout.commands and "Lewat" in printout.line_with("Transfer bank").text


def test_reprint_and_e_receipt_show_the_refunds(app, client, login_as, counter):
    sale = cash_sale(counter)
    refund_of(counter, sale)
    login_as(counter[1])
    reprint = pdf_rows(client.get(f"/pos/penjualan/{sale.id}/struk.pdf?salinan=1&kertas=58").data)
    printout = flat(decode_escpos(client.get(f"/pos/penjualan/{sale.id}/struk.escpos?salinan=1").data).text)
    ereceipt = app.test_client().get(f"/pos/struk/{sale.receipt_token}")
    assert ereceipt.status_code == 200
    page = flat(re.sub(r"<[^>]+>", " ", ereceipt.get_data(as_text=True)))
    for text in (reprint, printout):
        assert "SALINAN" in text and "RETUR" in text
        assert "Batik Ciprat Biru" in text.split("RETUR", 1)[1]
        for expected in ("Rp 150.000 -Rp 145.000", "Total retur -Rp 145.000", "Total setelah retur Rp 170.000"):
            assert expected in text, expected
    for expected in ("Retur", "Batik Ciprat Biru 1 × Rp 150.000", "-Rp 145.000", "Total retur -Rp 145.000",
                     "Total setelah retur Rp 170.000"):  # 315.000 - 145.000
        assert expected in page, expected
    assert "Manajer Budi" not in page and "Kasir Ani" not in page  # staff names stay off the public link


def test_after_a_refund_the_detail_page_offers_its_slip_first(client, login_as, csrf, counter):
    sale = cash_sale(counter)
    _sentra, kasir, manager, *_rest = counter
    manager.set_pin(TEST_PIN)
    db.session.commit()
    login_as(kasir)
    response = client.post(f"/pos/penjualan/{sale.id}/retur", data={
        "csrf_token": csrf(), "client_key": str(uuid.uuid4()), f"qty_{sale.lines[1].id}": "1", "method": "cash",
        "reason": "Salah beli", "restock": "1", "approver_id": manager.id, "approver_pin": TEST_PIN})
    refund = db.session.scalar(sa.select(Refund).where(Refund.sale_id == sale.id))
    assert response.status_code == 302 and response.headers["Location"].endswith(f"?retur={refund.id}")
    page = client.get(response.headers["Location"])
    html = page.get_data(as_text=True)
    assert f'href="/pos/retur/{refund.id}/slip.pdf" data-print data-print-default data-print-auto="retur"' in html
    assert "frame-src blob:" in page.headers["Content-Security-Policy"]


# --- the Z-report -------------------------------------------------------------------------------------

@pytest.mark.parametrize("paper", [58, 80])
def test_z_report_prints_on_both_papers_with_the_same_figures(client, login_as, counter, paper):
    sale = cash_sale(counter)
    qris_sale(counter)
    refund_of(counter, sale)
    shift = counter[5]
    login_as(counter[1])
    pdf = client.get(f"/pos/sesi/{shift.id}/laporan-z.pdf?kertas={paper}")
    assert page_mm(pdf.data)[0] == pytest.approx(paper, abs=0.1)
    printout = decode_escpos(client.get(f"/pos/sesi/{shift.id}/laporan-z.escpos?kertas={paper}").data)
    assert "ESC p" not in printout.commands and printout.line_with("LAPORAN Z").tall
    assert all(len(line.text) <= COLUMNS[paper] for line in printout.lines)
    # Expected cash: 200.000 float + 400.000 tendered - 85.000 change - 145.000 cash refund.
    for text in (pdf_rows(pdf.data), flat(printout.text)):
        for expected in ("LAPORAN Z", "Transaksi 2", "Penjualan bersih Rp 365.000", "QRIS Rp 50.000",
                         "Tunai Rp 315.000", "Retur (1)", "Tunai -Rp 145.000", "Kas diharapkan Rp 370.000"):
            assert expected in text, (paper, expected)


# --- access, headers, the settings page ----------------------------------------------------------------

def test_other_sentras_staff_get_404_for_every_printed_document(client, login_as, counter):
    sale = cash_sale(counter)
    refund = refund_of(counter, sale)
    shift = counter[5]
    urls = [f"/pos/penjualan/{sale.id}/struk.pdf", f"/pos/penjualan/{sale.id}/struk.escpos",
            f"/pos/retur/{refund.id}/slip.pdf", f"/pos/retur/{refund.id}/slip.escpos",
            f"/pos/sesi/{shift.id}/laporan-z.pdf", f"/pos/sesi/{shift.id}/laporan-z.escpos"]
    for role in (Role.KASIR, Role.MANAGER):
        login_as(UserFactory(role=role, sentras=[SentraFactory()]))
        for url in [*urls, "/pos/retur/999999/slip.pdf", "/pos/retur/999999/slip.escpos"]:
            assert client.get(url).status_code == 404, (role, url)
    login_as(counter[1])
    for url in urls:
        assert client.get(url).status_code == 200, url


def test_counter_pages_may_frame_only_blob_copies_and_nothing_frames_a_document(client, login_as, counter):
    """print.js fetches the PDF and prints a blob: copy in a hidden frame: the pages allow exactly
    that (frame-src blob:), and the PDFs themselves keep frame-ancestors 'none'."""
    sale = cash_sale(counter)
    login_as(counter[1])
    pdf = client.get(f"/pos/penjualan/{sale.id}/struk.pdf")
    assert "frame-ancestors 'none'" in pdf.headers["Content-Security-Policy"]
    assert pdf.headers["X-Frame-Options"] == "DENY"
    for url in (f"/pos/sesi/{counter[5].id}/jual", f"/pos/penjualan/{sale.id}", f"/pos/sesi/{counter[5].id}",
                "/pos/printer"):
        page = client.get(url)
        csp = page.headers["Content-Security-Policy"]
        assert "frame-src blob:" in csp and "frame-ancestors 'none'" in csp, url
        assert "/static/js/pos/print.js" in page.get_data(as_text=True), url
    html = client.get(f"/pos/sesi/{counter[5].id}/jual").get_data(as_text=True)
    assert 'id="receipt-link"' in html and "data-print-default" in html
    messages = json.loads(html.split('id="print-messages">', 1)[1].split("</script>", 1)[0])
    assert "Penjualan sudah tersimpan" in messages["unplugged"]


@pytest.mark.parametrize("paper", [58, 80])
def test_printer_settings_page_and_its_test_page(client, login_as, counter, pdf_text, paper):
    login_as(counter[1])
    page = client.get("/pos/printer")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'name="paper" value="58"' in html and 'name="via" value="serial"' in html and "kiosk" in html
    pdf = client.get(f"/pos/printer/tes.pdf?kertas={paper}")
    assert page_mm(pdf.data)[0] == pytest.approx(paper, abs=0.1) and "TES PRINTER" in pdf_text(pdf.data)
    printout = decode_escpos(client.get(f"/pos/printer/tes.escpos?kertas={paper}").data)
    ruler = "".join(str(i % 10) for i in range(1, COLUMNS[paper] + 1))
    assert ruler in printout.text.split("\n") and "ESC p" not in printout.commands


def test_the_trimmed_escpos_capabilities_match_the_installed_library():
    from importlib import resources

    from core.escpos import CAPABILITIES_FILE, trimmed_capabilities

    full = json.loads((resources.files("escpos") / "capabilities.json").read_text(encoding="utf-8"))
    assert json.loads(CAPABILITIES_FILE.read_text(encoding="utf-8")) == trimmed_capabilities(full)


def test_loading_python_escpos_leaves_logging_and_the_temp_folder_alone(tmp_path):
    """Its import calls logging.basicConfig() and leaves a pickle in a new temp folder: neither stays."""
    import os
    import sys

    script = ("import logging; from core.escpos import Ticket; Ticket(58).line('x'); "
              "print(len(logging.getLogger().handlers))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                          env={**os.environ, "TMPDIR": str(tmp_path)})
    assert done.stdout.strip() == "0" and done.stderr == ""
    assert list(tmp_path.iterdir()) == []
