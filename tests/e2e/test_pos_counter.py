"""The counter on a busy weekend: fast scans on a slow link, a payment panel that guides, tiles
on a tablet, the offline receipt of the right customer (issue 16, the counter screen).

The slow link is DevTools' own network throttling (CDP `Network.emulateNetworkConditions`),
800 ms added to every request of the page.
"""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from accounts.models import Role
from core.extensions import db
from inventory.models import ProductKind
from sales.models import Sale
from tests.factories import TEST_PASSWORD, ProductFactory, SentraFactory, UserFactory
from tests.factories.sales import ShiftFactory, stock_in

pytestmark = pytest.mark.e2e

LAPTOP = {"width": 1366, "height": 768}
TABLET = {"width": 800, "height": 1280}
MANAGER_PIN = "246810"


def _setup(goods: int = 10, *, price: int = 150_050):
    """A Sentra with `goods` stocked products (barcodes), kuliner and tickets, a kasir on an open
    shift and a manager with an approval PIN. Returns ids and the goods' barcodes in order."""
    sentra = SentraFactory(code="TMG")
    kasir = UserFactory(role=Role.KASIR, email="kasir.counter@sentra.test", name="Kasir Ani", sentras=[sentra])
    manager = UserFactory(role=Role.MANAGER, name="Manajer Budi", sentras=[sentra])
    manager.set_pin(MANAGER_PIN)
    products = [ProductFactory(sentra=sentra, name=f"Batik Ciprat {n:02d}", price=price) for n in range(goods)]
    for product in products:
        stock_in(product, 5)
    maker = products[0].maker if products else None
    services = [("Nasi Liwet Komplit", "Kuliner", 25_000), ("Es Kopi Susu Gula Aren", "Kuliner", 18_000),
                ("Tiket Kolam Pemancingan (2 jam)", "Tiket", 30_000), ("Tiket Agrowisata Kebun Sayur", "Tiket", 15_000)]
    for name, category, amount in services:
        ProductFactory(sentra=sentra, name=name, category=category, kind=ProductKind.SERVICE, price=amount,
                       **({"maker": maker} if maker else {}))
    shift = ShiftFactory(sentra=sentra, cashier=kasir, opening_float=100_000)
    db.session.commit()
    ids = {"sentra": sentra.id, "shift": shift.id, "manager": manager.id, "barcodes": [p.barcode for p in products]}
    db.session.close()
    return ids


#: window.print records what the receipt area holds at that moment (no print dialog in a test)
RECORD_PRINTS = """window.__printed = [];
window.print = () => window.__printed.push(document.getElementById('receipt-print').textContent);"""


def _counter(browser, live_server, shift_id, viewport=LAPTOP):
    context = browser.new_context(viewport=viewport, service_workers="block")
    context.add_init_script(RECORD_PRINTS)
    page = context.new_page()
    page.goto(f"{live_server}/accounts/masuk")
    page.locator("#email").fill("kasir.counter@sentra.test")
    page.locator("#password").fill(TEST_PASSWORD)
    page.locator("#password").press("Enter")
    page.wait_for_url(f"{live_server}/staf")
    page.goto(f"{live_server}/pos/sesi/{shift_id}/jual")
    page.locator('#pos[data-offline-ready="1"]').wait_for(state="attached")  # the catalogue is on the device
    return context, page


def _throttle(page, latency_ms: int = 800) -> None:
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions",
             {"offline": False, "latency": latency_ms, "downloadThroughput": -1, "uploadThroughput": -1})
    took = page.evaluate("""async () => { const t = performance.now();
        await fetch('/pos/api/session', {credentials: 'same-origin'}); return performance.now() - t; }""")
    assert took >= latency_ms  # the link really is slow


def _scan(page, code: str) -> None:
    """A USB scanner: the code as fast keystrokes, then Enter."""
    page.keyboard.type(code)
    page.keyboard.press("Enter")


def _scan_burst(page, codes, gap_ms: int = 200) -> None:
    page.locator("#scan").focus()
    for i, code in enumerate(codes):
        if i:
            page.wait_for_timeout(gap_ms)  # the scanner's pace, not a wait for the app
        _scan(page, code)


def _line_names(page) -> list[str]:
    return [n.strip().rstrip("◀").strip() for n in page.locator("#cart-lines td.name").all_inner_texts()]


def _new_product_on_the_server(sentra_id: int, name: str) -> str:
    """A product taken in after the device saved its catalogue: only the server knows it."""
    from sentras.models import Sentra

    product = ProductFactory(sentra=db.session.get(Sentra, sentra_id), name=name, price=40_000)
    stock_in(product, 2)
    barcode = product.barcode
    db.session.close()
    return barcode


def _sales() -> list[Sale]:
    rows = db.session.scalars(sa.select(Sale).order_by(Sale.id)).all()
    for sale in rows:
        _ = sale.payments
    db.session.close()
    return rows


def test_ten_scans_200_ms_apart_at_800_ms_latency_give_ten_lines(browser, live_server):
    ids = _setup(goods=9)
    context, page = _counter(browser, live_server, ids["shift"])
    late = _new_product_on_the_server(ids["sentra"], "Tas Anyaman Pandan")
    codes = [*ids["barcodes"][:4], late, *ids["barcodes"][4:]]
    lookups: list[str] = []
    page.on("request", lambda r: lookups.append(r.url) if "/pos/api/products" in r.url else None)
    _throttle(page)
    _scan_burst(page, codes)
    assert page.locator("#scan").input_value() == ""  # emptied at once on every Enter: nothing glued
    expect(page.locator("#cart-lines tr")).to_have_count(10)
    expect(page.locator("#pos")).to_have_attribute("data-scan-queue", "0")
    names = [f"Batik Ciprat {n:02d}" for n in range(4)] + ["Tas Anyaman Pandan"] + \
        [f"Batik Ciprat {n:02d}" for n in range(4, 9)]
    assert _line_names(page) == names  # in the order scanned, the slow server answer included
    assert page.locator("#scan-problems li").count() == 0
    expect(page.locator("#total")).to_have_text("Rp 1.390.450")
    # Only the code the device's catalogue did not know went to the server.
    assert len(lookups) == 1 and lookups[0].endswith("q=" + late)
    context.close()


def test_an_unknown_code_in_a_burst_is_listed_and_the_rest_land(browser, live_server):
    ids = _setup(goods=9)
    context, page = _counter(browser, live_server, ids["shift"])
    unknown = "2999999999993"
    _throttle(page)
    _scan_burst(page, [*ids["barcodes"][:4], unknown, *ids["barcodes"][4:]])
    expect(page.locator("#scan-problems li")).to_have_count(1)
    expect(page.locator("#cart-lines tr")).to_have_count(9)
    expect(page.locator("#pos")).to_have_attribute("data-scan-queue", "0")
    assert _line_names(page) == [f"Batik Ciprat {n:02d}" for n in range(9)]
    problem = page.locator("#scan-problems li")
    expect(problem).to_be_visible()
    expect(problem).to_contain_text(f"“{unknown}” tidak ditemukan")
    assert problem.evaluate("li => li.closest('[role=alert]') !== null")  # announced, and it stays
    page.get_by_role("button", name=f"Tutup pesan kode {unknown}").click()
    expect(page.locator("#scan-problems")).to_be_hidden()
    # One piece more than the shelf holds (5): the server's stock is asked, and the refusal is listed too.
    page.locator("#scan").focus()
    for _ in range(5):
        _scan(page, ids["barcodes"][0])
    expect(page.locator("#scan-problems li")).to_have_text(re.compile("Stok Batik Ciprat 00 tidak cukup: tersisa 5"))
    expect(page.locator("#cart-lines tr").first.locator(".qty-n")).to_have_text("5")
    context.close()


def test_after_a_qris_sale_enter_enter_pays_the_next_sale_in_cash(browser, live_server):
    ids = _setup(goods=2)
    context, page = _counter(browser, live_server, ids["shift"])
    page.locator("#scan").focus()
    _scan(page, ids["barcodes"][0])
    expect(page.locator("#cart-lines tr")).to_have_count(1)
    page.keyboard.press("Enter")
    tender = page.locator("#tender")
    expect(tender).to_be_visible()
    tender.get_by_text("QRIS", exact=True).click()
    expect(page.locator("#reference")).to_be_focused()
    page.locator("#reference").fill("QR-778812")
    page.keyboard.press("Enter")
    expect(page.locator("#done")).to_be_visible()
    first = page.locator("#done-number").inner_text()
    # The next customer: scan, Enter (pay), Enter (exact cash).
    _scan(page, ids["barcodes"][1])
    expect(page.locator("#cart-lines tr")).to_have_count(1)
    page.keyboard.press("Enter")
    expect(tender).to_be_visible()
    expect(tender.locator("input[value=cash]")).to_be_checked()
    expect(page.locator("#exact-cash")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#done-number")).not_to_have_text(first)
    sales = _sales()
    assert [[(str(p.method), p.reference) for p in s.payments] for s in sales] == \
        [[("qris", "QR-778812")], [("cash", "")]]
    assert sales[1].payments[0].amount == 150_100  # the cash total, rounded to Rp 100
    context.close()


def test_a_split_payment_can_start_with_cash(browser, live_server):
    ids = _setup(goods=1)
    context, page = _counter(browser, live_server, ids["shift"])
    page.locator("#scan").focus()
    _scan(page, ids["barcodes"][0])
    expect(page.locator("#cart-lines tr")).to_have_count(1)
    page.keyboard.press("Enter")
    tender = page.locator("#tender")
    expect(page.locator("#due")).to_have_text("Rp 150.100")
    # Quick cash from the total: exact, then the next Rp 5.000 / 10.000 / 50.000 / 100.000 up (no repeats).
    assert page.locator("#quick-cash button").all_inner_texts() == \
        ["Uang pas Rp 150.100", "Rp 155.000", "Rp 160.000", "Rp 200.000"]
    page.locator("#tendered").fill("100050")
    tender.get_by_role("button", name="Tambah pembayaran (split)").click()
    expect(page.locator("#tendered-error")).to_contain_text("kelipatan Rp 100")
    page.locator("#tendered").fill("100000")
    tender.get_by_role("button", name="Tambah pembayaran (split)").click()
    expect(page.locator("#payments")).to_contain_text("Tunai: Rp 100.000")
    expect(page.locator("#due")).to_have_text("Rp 50.100")  # the rest in cash would be rounded...
    tender.get_by_text("QRIS", exact=True).click()
    expect(page.locator("#due")).to_have_text("Rp 50.050")  # ...by QRIS it is exact
    page.locator("#reference").fill("QR-5501")
    page.keyboard.press("Enter")
    expect(page.locator("#done")).to_be_visible()
    expect(page.locator("#done-change")).to_have_text("Rp 0")
    (sale,) = _sales()
    assert [(str(p.method), p.amount, p.tendered) for p in sale.payments] == \
        [("cash", 100_000, 100_000), ("qris", 50_050, None)]
    assert sale.total == 150_050 and sale.rounding == 0
    context.close()


def _in_view_inside_the_panel(page, locator) -> None:
    expect(locator).to_be_visible()
    assert locator.evaluate("el => el.closest('dialog#tender[open]') !== null")
    box, panel = locator.bounding_box(), page.locator("#tender").bounding_box()
    assert box["y"] >= 0 and box["y"] + box["height"] <= LAPTOP["height"], box
    assert panel["y"] <= box["y"] and box["y"] + box["height"] <= panel["y"] + panel["height"]
    assert locator.evaluate("el => el.closest('[aria-live=assertive], [role=alert]') !== null")


def test_payment_errors_are_shown_and_announced_inside_the_open_panel(browser, live_server, axe_violations):
    ids = _setup(goods=1)
    context, page = _counter(browser, live_server, ids["shift"])
    page.locator("#scan").focus()
    _scan(page, ids["barcodes"][0])
    expect(page.locator("#cart-lines tr")).to_have_count(1)
    page.keyboard.type("/50000")  # a discount above the limit: the manager's PIN is needed
    page.keyboard.press("Enter")
    expect(page.locator("#total")).to_have_text("Rp 100.050")
    page.keyboard.press("Enter")
    # Too little cash: next to the field, which gets the focus back.
    page.locator("#tendered").fill("1000")
    page.keyboard.press("Enter")
    _in_view_inside_the_panel(page, page.locator("#tendered-error"))
    expect(page.locator("#tendered-error")).to_contain_text("Rp 1.000 kurang dari Rp 100.100")
    expect(page.locator("#tendered")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#tendered")).to_be_focused()
    # A missing QRIS reference.
    page.locator("#tender").get_by_text("QRIS", exact=True).click()
    page.keyboard.press("Enter")
    _in_view_inside_the_panel(page, page.locator("#reference-error"))
    expect(page.locator("#reference-error")).to_contain_text("Nomor referensi QRIS wajib diisi")
    # A wrong manager PIN: the server refuses, the panel says so next to the PIN.
    page.locator("#reference").fill("QR-1")
    page.locator("#approver").select_option(str(ids["manager"]))
    page.locator("#approver-pin").fill("000000")
    page.locator("#pay").click()
    _in_view_inside_the_panel(page, page.locator("#pin-error"))
    expect(page.locator("#pin-error")).to_contain_text("PIN manajer salah")
    expect(page.locator("#approver-pin")).to_be_focused()
    assert page.locator("#alert").inner_text() == ""  # nothing at the top of the page, out of sight
    assert axe_violations(page) == []  # the open panel with its errors
    page.locator("#approver-pin").fill(MANAGER_PIN)
    page.locator("#pay").click()
    expect(page.locator("#done")).to_be_visible()
    (sale,) = _sales()
    assert sale.discount_approved_by_id == ids["manager"] and str(sale.payments[0].method) == "qris"
    context.close()


def test_after_an_offline_sale_the_print_button_prints_that_sales_receipt(browser, live_server, pdf_text):
    ids = _setup(goods=2)
    context, page = _counter(browser, live_server, ids["shift"])
    page.locator("#scan").focus()
    _scan(page, ids["barcodes"][0])
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")
    expect(page.locator("#done")).to_be_visible()
    online_number = page.locator("#done-number").inner_text()
    context.set_offline(True)
    _scan(page, ids["barcodes"][1])
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")
    expect(page.locator("#done-number")).to_contain_text("(offline)")
    offline_number = page.locator("#done-number").inner_text().replace(" (offline)", "")
    done = page.locator("#done")
    # The previous customer's receipt is not on offer: its links are really hidden.
    expect(page.locator("#receipt-link")).to_be_hidden()
    expect(page.locator("#ereceipt-link")).to_be_hidden()
    expect(done.get_by_role("link", name=re.compile("struk", re.I))).to_have_count(0)  # (the printer settings stay)
    expect(page.locator("#done-note")).to_contain_text("Belum tersinkron")
    done.get_by_role("button", name="Cetak struk").click()
    printed = page.evaluate("window.__printed")
    assert len(printed) == 1 and offline_number in printed[0] and online_number not in printed[0]
    # Synced: the same buttons now open this sale's own receipt from the server.
    context.set_offline(False)
    expect(page.locator("#done-number")).to_contain_text("→", timeout=20_000)
    expect(page.locator("#receipt-link")).to_be_visible()
    synced = _sales()[1]
    assert synced.offline_number == offline_number
    assert page.locator("#receipt-link").get_attribute("href") == f"/pos/penjualan/{synced.id}/struk.pdf"
    assert page.locator("#ereceipt-link").get_attribute("href").endswith(synced.receipt_token)
    pdf = page.request.get(live_server + page.locator("#receipt-link").get_attribute("href"))
    assert offline_number in pdf_text(pdf.body())
    context.close()


def test_the_laptop_screen_shows_eight_cart_lines(browser, live_server, axe_violations):
    ids = _setup(goods=8)
    context, page = _counter(browser, live_server, ids["shift"])
    page.locator("#scan").focus()
    for code in ids["barcodes"]:
        _scan(page, code)
    expect(page.locator("#cart-lines tr")).to_have_count(8)
    expect(page.locator("#pos")).to_have_attribute("data-scan-queue", "0")
    scroller = page.locator("#cart-scroll").bounding_box()
    for row in page.locator("#cart-lines tr").all():
        box = row.bounding_box()
        assert box["height"] < 60  # one row high
        assert scroller["y"] <= box["y"] and box["y"] + box["height"] <= min(scroller["y"] + scroller["height"], 768)
    assert page.locator("#cart-scroll").evaluate("el => el.scrollTop") == 0  # all eight, without scrolling
    pay = page.locator("#open-tender").bounding_box()
    assert pay["y"] + pay["height"] <= 768
    assert page.evaluate("document.documentElement.scrollWidth") <= LAPTOP["width"]
    assert axe_violations(page) == []
    context.close()


def test_tablet_tiles_by_category_and_favourites(browser, live_server, axe_violations):
    ids = _setup(goods=2)
    context, page = _counter(browser, live_server, ids["shift"], viewport=TABLET)
    tiles = page.locator("#tile-grid .tile")
    # Favourites until the kasir picks: the services and tickets, which carry no barcode.
    expect(tiles).to_have_count(4)
    for tile in tiles.all():
        box = tile.bounding_box()
        assert box["width"] >= 44 and box["height"] >= 44
    tiles.filter(has_text="Es Kopi Susu Gula Aren").click()
    page.locator("#tile-filters").get_by_role("button", name="Tiket").click()
    expect(tiles).to_have_count(2)
    tiles.filter(has_text="Tiket Kolam Pemancingan").click()
    # The keyboard alone: a tile takes Enter, and a scan with the focus on a tile still lands.
    tiles.filter(has_text="Tiket Agrowisata").focus()
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")
    _scan(page, ids["barcodes"][0])
    expect(page.locator("#cart-lines tr")).to_have_count(4)
    assert _line_names(page) == ["Es Kopi Susu Gula Aren", "Tiket Kolam Pemancingan (2 jam)",
                                 "Tiket Agrowisata Kebun Sayur", "Batik Ciprat 00"]
    expect(page.locator("#cart-lines tr").nth(2).locator(".qty-n")).to_have_text("2")
    for row in page.locator("#cart-lines tr").all():
        assert row.bounding_box()["height"] < 60  # each line one row high at 800 px
    for button in page.locator("#cart-lines button").all():
        box = button.bounding_box()
        assert box["width"] >= 44 and box["height"] >= 44
    assert page.evaluate("document.documentElement.scrollWidth") <= TABLET["width"]
    # A favourite of this device: kept across a reload.
    page.get_by_role("button", name="Atur favorit").click()
    page.locator("#tile-filters").get_by_role("button", name="Batik").click()
    tiles.filter(has_text="Batik Ciprat 01").click()
    expect(tiles.filter(has_text="Batik Ciprat 01")).to_have_attribute("aria-pressed", "true")
    page.get_by_role("button", name="Atur favorit").click()
    page.reload()
    page.locator('#pos[data-offline-ready="1"]').wait_for(state="attached")
    favourites = page.locator("#tile-filters").get_by_role("button", name="Favorit")
    expect(favourites).to_have_attribute("aria-pressed", "true")
    expect(tiles).to_have_count(5)
    expect(tiles.last).to_contain_text("Batik Ciprat 01")
    assert axe_violations(page) == []
    context.close()


def test_scanner_prefix_tab_suffix_and_a_scan_into_the_cash_field(browser, live_server):
    ids = _setup(goods=2)
    context, page = _counter(browser, live_server, ids["shift"])
    page.get_by_text("Pengaturan pemindai").click()
    page.get_by_label("Awalan dari pemindai (dibuang)").fill("#")
    page.get_by_label("Tombol akhir kode").select_option("Tab")
    page.get_by_label("Jeda antartombol pemindai, paling lama (ms)").fill("100")
    page.get_by_role("button", name="Simpan pengaturan").click()
    expect(page.locator("#scanner-saved")).to_contain_text("disimpan di perangkat ini")
    page.reload()  # kept on this device
    page.locator('#pos[data-offline-ready="1"]').wait_for(state="attached")
    page.get_by_text("Pengaturan pemindai").click()
    expect(page.get_by_label("Awalan dari pemindai (dibuang)")).to_have_value("#")
    expect(page.get_by_label("Tombol akhir kode")).to_have_value("Tab")
    page.locator("#scan").focus()
    page.keyboard.type("#" + ids["barcodes"][0])
    page.keyboard.press("Tab")
    expect(page.locator("#cart-lines tr")).to_have_count(1)
    expect(page.locator("#scan")).to_be_focused()
    expect(page.locator("#scan")).to_have_value("")
    # A person typing (slower than the gap) and pressing Tab just moves on.
    page.keyboard.type("Tas", delay=150)
    page.keyboard.press("Tab")
    expect(page.locator("#scan")).not_to_be_focused()
    page.locator("#scan").fill("")
    # A scan while the payment panel is open and the cash field has the focus: into the cart.
    page.locator("#open-tender").click()
    page.locator("#tendered").focus()
    page.keyboard.type("#" + ids["barcodes"][1])
    page.keyboard.press("Tab")
    expect(page.locator("#cart-lines tr")).to_have_count(2)
    expect(page.locator("#tendered")).to_have_value("")
    expect(page.locator("#due")).to_have_text("Rp 300.100")
    context.close()


def test_the_sale_screens_messages_are_english_in_the_english_ui(browser, live_server):
    ids = _setup(goods=1)
    context, page = _counter(browser, live_server, ids["shift"])
    page.get_by_role("button", name="English").click()
    page.locator('#pos[data-offline-ready="1"]').wait_for(state="attached")
    page.locator("#scan").focus()
    _scan(page, ids["barcodes"][0])
    expect(page.locator("#status")).to_contain_text("Added: Batik Ciprat 00 (1). Total IDR 150,050.")
    _scan(page, "2999999999993")
    expect(page.locator("#scan-problems")).to_contain_text("“2999999999993” not found")
    page.keyboard.press("Enter")
    page.locator("#tendered").fill("1000")
    page.keyboard.press("Enter")
    expect(page.locator("#tendered-error")).to_contain_text("IDR 1,000 is less than IDR 150,100")
    expect(page.locator("#sync-status")).to_contain_text("all sales synced")
    context.close()


def test_phone_width_nothing_overflows(browser, live_server):
    ids = _setup(goods=3)
    context, page = _counter(browser, live_server, ids["shift"], viewport={"width": 360, "height": 740})
    page.locator("#scan").focus()
    for code in ids["barcodes"]:
        _scan(page, code)
    expect(page.locator("#cart-lines tr")).to_have_count(3)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")
    expect(page.locator("#done")).to_be_visible()
    page.goto(f"{live_server}/pos/penjualan?shift_id={ids['shift']}")
    expect(page.locator("table.sales-table")).to_contain_text("Tunai")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    context.close()


def test_a_price_changed_on_the_server_reaches_the_cart_before_the_sale(browser, live_server):
    ids = _setup(goods=1)
    context, page = _counter(browser, live_server, ids["shift"])
    page.locator("#scan").focus()
    _scan(page, ids["barcodes"][0])  # from the device's catalogue: the old price
    expect(page.locator("#total")).to_have_text("Rp 150.050")
    from inventory.models import Product

    product = db.session.scalar(sa.select(Product).where(Product.barcode == ids["barcodes"][0]))
    product.price = 175_000
    db.session.commit()
    db.session.close()
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")  # refused: the server's total differs; the cart takes the new price
    expect(page.locator("#tender-error")).to_contain_text("berubah di server: Rp 150.050 → Rp 175.000")
    expect(page.locator("#due")).to_have_text("Rp 175.000")
    expect(page.locator("#exact-cash")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#done")).to_be_visible()
    (sale,) = _sales()
    assert sale.total == 175_000
    context.close()


def test_a_name_typed_by_hand_is_searched_on_the_device_and_picked_with_the_arrows(browser, live_server):
    ids = _setup(goods=3)
    context, page = _counter(browser, live_server, ids["shift"])
    lookups: list[str] = []
    page.on("request", lambda r: lookups.append(r.url) if "/pos/api/products" in r.url else None)
    page.locator("#scan").focus()
    page.keyboard.type("ciprat 0", delay=60)  # a person typing: the list opens as they type
    expect(page.locator("#results li")).to_have_count(3)
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(page.locator("#cart-lines tr")).to_have_count(1)
    assert _line_names(page) == ["Batik Ciprat 01"]
    # Typed fast and Enter: several match, so the list is offered with the words kept in the field.
    page.keyboard.type("ciprat")
    page.keyboard.press("Enter")
    expect(page.locator("#results li")).to_have_count(3)
    expect(page.locator("#scan")).to_have_value("ciprat")
    page.keyboard.press("Enter")
    expect(page.locator("#cart-lines tr")).to_have_count(2)
    assert lookups == []  # all from the device's catalogue
    context.close()
