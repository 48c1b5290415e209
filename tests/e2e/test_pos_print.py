"""One key to paper: the done screen prints without opening a tab — the PDF from a hidden frame, or
ESC/POS bytes straight to a USB/serial printer (Web Serial, faked here) — and an unplugged printer
leaves the sale done, says so, and prints on retry."""

from __future__ import annotations

import json
import time

import pytest
import sqlalchemy as sa

from accounts.models import Role
from core.extensions import db
from sales.models import Sale
from tests.factories import TEST_PASSWORD, ProductFactory, SentraFactory, UserFactory
from tests.factories.sales import ShiftFactory, stock_in
from tests.pos.test_printing import decode_escpos

pytestmark = pytest.mark.e2e

#: every page of the test: window.open recorded instead of opening anything, and the print frame's
#: print() recorded instead of run (headless chromium would sit in its print preview for good)
NO_WINDOW_OPEN = """
window.__opened = []; window.__printed = [];
window.open = function () { window.__opened.push([].slice.call(arguments)); return null; };
(() => {
  const real = Object.getOwnPropertyDescriptor(HTMLIFrameElement.prototype, "contentWindow").get;
  Object.defineProperty(HTMLIFrameElement.prototype, "contentWindow", { configurable: true, get() {
    const win = real.call(this), frame = this;
    if (!win || frame.id !== "print-frame") { return win; }
    return { focus() { win.focus(); },
             print() { window.__printed.push(frame.getAttribute("data-document")); } };
  } });
})();
"""

#: a USB-serial thermal printer that can be unplugged (`window.__printer.connected = false`)
FAKE_SERIAL = """
(() => {
  const printer = { connected: true, jobs: [], opens: 0 };
  window.__printer = printer;
  const port = {
    getInfo() { return { usbVendorId: 0x0416, usbProductId: 0x5011 }; },
    open(options) {
      if (!printer.connected) { return Promise.reject(new DOMException("The device has been lost.", "NetworkError")); }
      printer.opens += 1; printer.baud = options.baudRate;
      const job = []; printer.jobs.push(job);
      this.writable = new WritableStream({ write(chunk) { job.push(...chunk); } });
      return Promise.resolve();
    },
    close() { return Promise.resolve(); },
  };
  Object.defineProperty(navigator, "serial", { configurable: true, value: {
    getPorts: () => Promise.resolve(printer.connected ? [port] : []),
    requestPort: () => Promise.resolve(port),
  } });
})();
"""


def _setup():
    sentra = SentraFactory(code="TMG", name="SKA Kartini Temanggung")
    kasir = UserFactory(role=Role.KASIR, email="kasir.cetak@sentra.test", name="Kasir Ani", sentras=[sentra])
    product = ProductFactory(sentra=sentra, price=150_000, name="Batik Ciprat Biru", barcode="2000000000015")
    stock_in(product, 5)
    shift = ShiftFactory(sentra=sentra, cashier=kasir, opening_float=100_000)
    shift_id = shift.id
    db.session.close()
    return shift_id


def _wait_for(page, expression: str, seconds: float = 10) -> None:
    """Poll `expression` through the DevTools protocol (wait_for_function would eval in the page,
    which its CSP refuses)."""
    deadline = time.monotonic() + seconds
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"still false after {seconds} s: {expression}"
        page.wait_for_timeout(50)


def _login(page, live_server) -> None:
    page.goto(f"{live_server}/accounts/masuk")
    page.get_by_label("E-mail").fill("kasir.cetak@sentra.test")
    page.keyboard.press("Tab")
    page.keyboard.type(TEST_PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server}/staf")


def _open_sale_screen(page, live_server, shift_id, printer_settings: dict) -> None:
    page.add_init_script(NO_WINDOW_OPEN)
    _login(page, live_server)
    page.goto(f"{live_server}/pos/sesi/{shift_id}/jual")
    page.evaluate("s => window.localStorage.setItem('pos-printer', JSON.stringify(s))", printer_settings)
    page.reload()
    page.locator("#scan").focus()


def _sell_with_exact_cash(page) -> str:
    """Scan, Enter (pay), Enter (exact cash): the done screen."""
    page.keyboard.type("2000000000015")
    page.keyboard.press("Enter")
    page.locator("#cart-lines").get_by_text("Batik Ciprat Biru").wait_for()
    page.keyboard.press("Enter")
    page.locator("#tender").wait_for(state="visible")
    page.keyboard.press("Enter")
    page.locator("#done").wait_for(state="visible")
    return page.locator("#done-number").inner_text()


def test_the_done_screen_prints_the_pdf_from_a_hidden_frame_not_a_new_tab(page, live_server):
    shift_id = _setup()
    new_pages = []
    page.context.on("page", lambda p: new_pages.append(p))
    _open_sale_screen(page, live_server, shift_id, {"paper": "58", "via": "pdf", "auto": True})

    with page.expect_response(lambda r: "/struk.pdf" in r.url) as printed:
        number = _sell_with_exact_cash(page)
    response = printed.value
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    assert response.url.endswith("/struk.pdf?kertas=58")
    status = page.locator("#print-status")
    status.get_by_text("Dokumen dikirim ke dialog cetak.").wait_for()
    frame = page.locator("#print-frame")
    assert frame.get_attribute("src").startswith("blob:")  # the fetched PDF, rendered once
    assert frame.get_attribute("data-document").endswith("/struk.pdf?kertas=58")
    assert frame.bounding_box()["width"] <= 1
    assert page.evaluate("document.getElementById('print-frame').contentDocument.contentType") == "application/pdf"
    _wait_for(page, "window.__printed.length === 1")
    assert page.evaluate("window.__printed")[0].endswith("/struk.pdf?kertas=58")  # the frame's print(), not the page's
    assert page.evaluate("window.__opened") == [] and new_pages == [] and len(page.context.pages) == 1
    assert number in page.locator("#status").inner_text()
    # F8 prints it again, still without a tab; the kasir's scan field keeps the focus.
    with page.expect_response(lambda r: "/struk.pdf" in r.url) as again:
        page.keyboard.press("F8")
    assert again.value.status == 200
    _wait_for(page, "window.__printed.length === 2")
    assert page.evaluate("window.__opened") == [] and new_pages == []
    assert page.locator("#scan").evaluate("el => el === document.activeElement")


def test_a_direct_printer_gets_escpos_and_an_unplugged_one_keeps_the_sale(page, live_server):
    shift_id = _setup()
    new_pages = []
    page.context.on("page", lambda p: new_pages.append(p))
    page.add_init_script(FAKE_SERIAL)
    device = {"kind": "serial", "usbVendorId": 0x0416, "usbProductId": 0x5011}
    _open_sale_screen(page, live_server, shift_id,
                      {"paper": "58", "via": "serial", "device": device, "baud": 19200, "auto": True})

    with page.expect_response(lambda r: "/struk.escpos" in r.url) as fetched:
        first = _sell_with_exact_cash(page)
    assert fetched.value.url.endswith("/struk.escpos?kertas=58&qr=native")
    page.locator("#print-status").get_by_text("Struk tercetak.").wait_for()
    jobs = page.evaluate("window.__printer.jobs")
    assert len(jobs) == 1 and page.evaluate("window.__printer.baud") == 19200
    printout = decode_escpos(bytes(jobs[0]))
    assert "ESC p" in printout.commands  # a cash sale: the drawer opens
    assert first in printout.text and "Batik Ciprat Biru" in printout.text
    assert printout.line_with("Kembalian").text.endswith("Rp 0") and len(printout.lines[3].text) <= 32

    # The printer is unplugged: the next sale is still done, the message says so, retry is offered.
    page.evaluate("window.__printer.connected = false")
    second = _sell_with_exact_cash(page)
    status = page.locator("#print-status")
    status.get_by_text("Printer tidak terhubung", exact=False).wait_for()
    assert "Penjualan sudah tersimpan" in status.inner_text()
    retry = page.locator("#print-retry")
    assert retry.is_visible()
    assert db.session.scalar(sa.select(sa.func.count(Sale.id))) == 2
    db.session.close()  # (SQLite) let the server write again
    assert second in page.locator("#done-number").inner_text()
    # Plugged back in: F8 (or the button) prints that sale's receipt.
    page.evaluate("window.__printer.connected = true")
    page.keyboard.press("F8")
    status.get_by_text("Struk tercetak.").wait_for()
    assert not retry.is_visible()
    jobs = page.evaluate("window.__printer.jobs")
    assert len(jobs) == 2 and second in decode_escpos(bytes(jobs[1])).text
    assert page.evaluate("window.__opened") == [] and new_pages == []


def test_the_printer_settings_page_remembers_the_device_choice(page, live_server):
    _setup()
    page.add_init_script(FAKE_SERIAL)
    page.add_init_script(NO_WINDOW_OPEN)
    _login(page, live_server)
    page.goto(f"{live_server}/pos/printer")
    page.get_by_label("58 mm", exact=False).check()
    page.get_by_label("Langsung ke printer USB/serial", exact=False).check()
    page.get_by_role("button", name="Pilih printer").click()
    page.locator("#printer-device").get_by_text("USB 0416:5011").wait_for()
    page.get_by_label("Buka laci uang", exact=False).uncheck()
    saved = json.loads(page.evaluate("window.localStorage.getItem('pos-printer')"))
    assert saved["paper"] == "58" and saved["via"] == "serial" and saved["drawer"] is False
    assert saved["device"] == {"kind": "serial", "usbVendorId": 0x0416, "usbProductId": 0x5011}
    with page.expect_response(lambda r: "/tes.escpos" in r.url) as fetched:
        page.get_by_role("button", name="Cetak halaman tes").click()
    assert fetched.value.url.endswith("/printer/tes.escpos?kertas=58&qr=native&laci=0")
    page.locator("#print-status").get_by_text("Struk tercetak.").wait_for()
    printout = decode_escpos(bytes(page.evaluate("window.__printer.jobs")[0]))
    assert "TES PRINTER" in printout.text and "ESC p" not in printout.commands
    page.reload()
    assert page.get_by_label("58 mm", exact=False).is_checked()
    assert page.locator("#printer-device").inner_text() == "USB 0416:5011"
