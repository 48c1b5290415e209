"""The counter keeps selling offline: queued sales survive a reload, sync exactly once, never clash."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from accounts.models import Role
from core.extensions import db
from inventory.models import MovementKind, StockMovement
from inventory.stock import move_stock, movements_sum, stock_level
from payouts.models import LedgerEntry
from pos.models import StockConflict
from sales.models import Sale, SaleLine
from tests.factories import TEST_PASSWORD, ProductFactory, SentraFactory, UserFactory
from tests.factories.sales import ShiftFactory, stock_in

pytestmark = pytest.mark.e2e

BARCODE = "2000000000015"
SYNCED = "semua penjualan tersinkron"


def _setup(stock: int = 5, kasirs: int = 1):
    sentra = SentraFactory(code="TMG")
    users = [UserFactory(role=Role.KASIR, email=f"kasir{i}.off@sentra.test", name=f"Kasir {i}", sentras=[sentra])
             for i in range(kasirs)]
    product = ProductFactory(sentra=sentra, price=150_000, name="Batik Ciprat Biru", barcode=BARCODE)
    stock_in(product, stock)
    shifts = [ShiftFactory(sentra=sentra, cashier=u, opening_float=100_000) for u in users]
    ids = (sentra.id, product.id, [s.id for s in shifts], [u.email for u in users])
    db.session.close()
    return ids


def _login(page, live_server, email):
    page.goto(f"{live_server}/accounts/masuk")
    page.locator("#email").fill(email)
    page.locator("#password").fill(TEST_PASSWORD)
    page.locator("#password").press("Enter")
    page.wait_for_url(f"{live_server}/staf")


def _open_counter(page, live_server, shift_id, *, service_worker=True):
    page.goto(f"{live_server}/pos/sesi/{shift_id}/jual")
    page.locator('#pos[data-offline-ready="1"]').wait_for(state="attached")
    if service_worker:
        page.locator('#pos[data-page-cached="1"]').wait_for(state="attached")
        page.wait_for_function("navigator.serviceWorker.controller !== null")


def _sell_offline(page) -> str:
    before = page.locator("#done-number").inner_text()
    page.locator("#scan").focus()
    page.keyboard.type(BARCODE)
    page.keyboard.press("Enter")
    page.locator("#cart-lines").get_by_text("Batik Ciprat Biru").wait_for()
    page.keyboard.press("Enter")
    page.locator("#tender").wait_for(state="visible")
    page.keyboard.press("Enter")  # exact cash
    expect(page.locator("#done-number")).to_contain_text("(offline)")
    expect(page.locator("#done-number")).not_to_have_text(before)
    number = page.locator("#done-number").inner_text().replace(" (offline)", "")
    expect(page.locator("#receipt-print")).to_contain_text(number)
    page.locator("#new-sale").click()
    return number


def _sales():
    rows = db.session.scalars(sa.select(Sale).order_by(Sale.id)).all()
    db.session.close()
    return rows


def test_offline_sales_survive_a_reload_and_sync_exactly_once(page, context, live_server, pdf_text):
    sentra_id, product_id, (shift_id,), (email,) = _setup(stock=5)
    _login(page, live_server, email)
    _open_counter(page, live_server, shift_id)
    context.set_offline(True)
    numbers = [_sell_offline(page) for _ in range(3)]
    assert len(set(numbers)) == 3 and all(re.fullmatch(r"TMG-[A-Z2-7]{4}-000[123]", n) for n in numbers)
    expect(page.locator("#sync-status")).to_contain_text("Offline · 3 penjualan menunggu sinkron")
    # Logging out now is refused with an explanation; nothing is lost.
    page.get_by_role("button", name="Keluar").click()
    expect(page.locator("#alert")).to_contain_text("Tidak bisa keluar: 3 penjualan offline")
    page.reload()  # still offline: the service worker serves the sale screen
    expect(page.locator("#sync-status")).to_contain_text("3 penjualan menunggu sinkron")
    page.goto(f"{live_server}/pos/")  # the installed app's start URL opens the last sale screen
    expect(page.locator("#sync-status")).to_contain_text("3 penjualan menunggu sinkron")
    assert _sales() == []
    context.set_offline(False)
    expect(page.locator("#sync-status")).to_contain_text(SYNCED, timeout=20_000)
    sales = _sales()
    assert sorted(s.offline_number for s in sales) == sorted(numbers)
    assert all(s.shift_id == shift_id and s.total == 150_000 for s in sales)
    assert stock_level(product_id, sentra_id) == 2 == movements_sum(product_id, sentra_id)
    line_ids = db.session.scalars(sa.select(SaleLine.id)).all()
    posted = set(db.session.scalars(sa.select(LedgerEntry.sale_line_id).where(LedgerEntry.sale_line_id.is_not(None))))
    assert set(line_ids) <= posted
    db.session.close()
    # The server's PDF carries the provisional number too.
    pdf = page.request.get(f"{live_server}/pos/penjualan/{sales[0].id}/struk.pdf")
    assert pdf.status == 200 and pdf.body().startswith(b"%PDF")
    text = pdf_text(pdf.body())
    assert sales[0].offline_number in text and sales[0].number in text


def test_responses_lost_in_the_middle_of_a_sync_still_give_each_sale_once(browser, live_server):
    sentra_id, product_id, (shift_id,), (email,) = _setup(stock=5)
    context = browser.new_context(service_workers="block")
    page = context.new_page()
    _login(page, live_server, email)
    _open_counter(page, live_server, shift_id, service_worker=False)
    context.set_offline(True)
    numbers = [_sell_offline(page) for _ in range(3)]
    calls: list[str] = []

    def lose_the_second_answer(route):
        calls.append(route.request.headers["idempotency-key"])
        if len(calls) == 2:
            route.fetch()  # the server records the sale...
            route.abort("connectionreset")  # ...and the answer is lost on the way back
        else:
            route.continue_()

    page.route("**/pos/api/sales", lose_the_second_answer)
    context.set_offline(False)
    expect(page.locator("#sync-status")).to_contain_text(SYNCED, timeout=20_000)
    assert len(calls) == 4 and calls[1] == calls[2] and len(set(calls)) == 3
    sales = _sales()
    assert sorted(s.offline_number for s in sales) == sorted(numbers)
    assert stock_level(product_id, sentra_id) == 2
    db.session.close()
    context.close()


def test_two_devices_selling_offline_never_share_a_receipt_number(browser, live_server):
    sentra_id, product_id, shift_ids, emails = _setup(stock=10, kasirs=2)
    devices = []
    for shift_id, email in zip(shift_ids, emails, strict=True):
        context = browser.new_context(service_workers="block")
        page = context.new_page()
        _login(page, live_server, email)
        _open_counter(page, live_server, shift_id, service_worker=False)
        devices.append((context, page))
    numbers = []
    for context, page in devices:
        context.set_offline(True)
    for _round in range(2):
        for _context, page in devices:
            numbers.append(_sell_offline(page))
    assert len(set(numbers)) == 4
    assert len({n.split("-")[1] for n in numbers}) == 2  # one device code each
    for context, page in devices:
        context.set_offline(False)
        expect(page.locator("#sync-status")).to_contain_text(SYNCED, timeout=20_000)
    sales = _sales()
    assert len(sales) == 4 and sorted(s.offline_number for s in sales) == sorted(numbers)
    assert stock_level(product_id, sentra_id) == 6
    db.session.close()
    for context, _page in devices:
        context.close()


def test_close_waits_for_the_queue_and_a_stock_conflict_is_resolved_by_a_manager(browser, live_server,
                                                                                  axe_violations):
    sentra_id, product_id, (shift_id,), (email,) = _setup(stock=2)
    manager_email = "manajer.off@sentra.test"
    UserFactory(role=Role.MANAGER, email=manager_email, name="Manajer Budi",
                sentras=[db.session.get(SentraFactory._meta.model, sentra_id)])
    db.session.close()
    context = browser.new_context(service_workers="block")
    page = context.new_page()
    _login(page, live_server, email)
    _open_counter(page, live_server, shift_id, service_worker=False)
    context.set_offline(True)
    # Meanwhile the server's last two pieces go elsewhere (a stock-take found them missing).
    from inventory.models import Product

    move_stock(None, db.session.get(Product, product_id), sentra_id, MovementKind.ADJUSTMENT, -2,
               reference="test", reason="hilang", client_key="test-adjust")
    db.session.commit()
    db.session.close()
    number = _sell_offline(page)
    _sell_offline(page)
    assert axe_violations(page) == []  # the sale screen offline, with the queue indicator

    # Back online but every sync post fails: the close page holds the Tutup button.
    page.route("**/pos/api/sales", lambda route: route.abort("connectionreset"))
    context.set_offline(False)
    page.goto(f"{live_server}/pos/sesi/{shift_id}/tutup")
    expect(page.locator("#close-guard")).to_contain_text("2 penjualan offline")
    expect(page.locator("#close-submit")).to_be_disabled()
    page.get_by_role("button", name="Keluar").click()
    expect(page.locator("#close-guard")).to_contain_text("Tidak bisa keluar")
    page.unroute("**/pos/api/sales")
    expect(page.locator("#close-submit")).to_be_enabled(timeout=20_000)
    expect(page.locator("#close-guard")).to_be_hidden()
    page.locator("#d100000").fill("3")
    page.locator("#close-submit").click()
    page.wait_for_url(f"{live_server}/pos/sesi/{shift_id}")
    sales = _sales()
    assert len(sales) == 2 and number in {s.offline_number for s in sales}
    assert stock_level(product_id, sentra_id) == 0 == movements_sum(product_id, sentra_id)
    conflicts = db.session.scalars(sa.select(StockConflict).order_by(StockConflict.id)).all()
    assert [c.missing_qty for c in conflicts] == [1, 1]
    db.session.close()
    context.close()

    manager_context = browser.new_context(service_workers="block")
    manager = manager_context.new_page()
    _login(manager, live_server, manager_email)
    manager.goto(f"{live_server}/pos/konflik-stok")
    table = manager.locator("#open-conflicts")
    expect(table).to_contain_text(number)
    assert axe_violations(manager) == []
    manager.get_by_label("Catatan").first.fill("ditemukan di etalase")
    table.get_by_role("button", name=re.compile("Sesuaikan stok")).first.click()
    expect(manager.locator(".flash-success")).to_contain_text("diselesaikan")
    table.get_by_role("button", name=re.compile("Sesuaikan stok")).first.click()
    expect(table).to_contain_text("Tidak ada konflik stok terbuka")
    conflicts = db.session.scalars(sa.select(StockConflict)).all()
    assert all(c.resolved_at is not None for c in conflicts)
    assert stock_level(product_id, sentra_id) == 0 == movements_sum(product_id, sentra_id)
    found = db.session.scalars(sa.select(StockMovement).where(StockMovement.is_discrepancy.is_(True))).all()
    assert sorted(m.qty_delta for m in found) == [1, 1]
    db.session.close()
    manager_context.close()


@pytest.mark.parametrize("lock", ["web-locks", "indexeddb-lease"])
def test_two_tabs_coming_back_online_post_each_queued_sale_once(browser, live_server, lock):
    sentra_id, product_id, (shift_id,), (email,) = _setup(stock=5)
    context = browser.new_context(service_workers="block")
    if lock == "indexeddb-lease":  # a browser without the Web Locks API
        context.add_init_script("Object.defineProperty(Navigator.prototype, 'locks', {get: () => undefined})")
    first, second = context.new_page(), None
    _login(first, live_server, email)
    _open_counter(first, live_server, shift_id, service_worker=False)
    second = context.new_page()
    _open_counter(second, live_server, shift_id, service_worker=False)
    assert second.evaluate("navigator.locks === undefined") == (lock == "indexeddb-lease")
    context.set_offline(True)
    numbers = [_sell_offline(first) for _ in range(3)]
    posts: list[str] = []

    def count_posts(route):
        posts.append(route.request.headers["idempotency-key"])
        route.continue_()

    context.route("**/pos/api/sales", count_posts)
    context.set_offline(False)  # both tabs hear "online" and try to sync at once
    for page in (first, second):
        expect(page.locator("#sync-status")).to_contain_text(SYNCED, timeout=20_000)
    assert len(posts) == 3 and len(set(posts)) == 3  # one loop at a time: no key posted twice
    sales = _sales()
    assert sorted(s.offline_number for s in sales) == sorted(numbers)
    assert stock_level(product_id, sentra_id) == 2
    db.session.close()
    context.close()


def test_server_out_of_reach_while_the_browser_says_online_keeps_selling_once(browser, live_server):
    """The Wi-Fi is up but the server is not: the answer to a payment is lost, the kasir presses
    Bayar again and the sale is kept on the device with the same key; later it is acknowledged."""
    sentra_id, product_id, (shift_id,), (email,) = _setup(stock=5)
    context = browser.new_context(service_workers="block")
    page = context.new_page()
    _login(page, live_server, email)
    _open_counter(page, live_server, shift_id, service_worker=False)
    state = {"down": True, "posts": []}

    def sales(route):
        state["posts"].append(route.request.headers["idempotency-key"])
        if len(state["posts"]) == 1:
            route.fetch()  # recorded by the server...
            route.abort("connectionreset")  # ...the answer is lost
        elif state["down"]:
            route.abort("connectionrefused")
        else:
            route.continue_()

    def unreachable_while_down(route):
        if state["down"]:
            route.abort("connectionrefused")
        else:
            route.continue_()

    context.route("**/pos/api/sales", sales)
    context.route("**/pos/api/session", unreachable_while_down)
    page.locator("#scan").focus()
    page.keyboard.type(BARCODE)
    page.keyboard.press("Enter")
    page.locator("#cart-lines").get_by_text("Batik Ciprat Biru").wait_for()
    page.keyboard.press("Enter")
    page.locator("#tender").wait_for(state="visible")
    page.keyboard.press("Enter")
    expect(page.locator("#tender-error")).to_contain_text("Koneksi terputus")
    page.locator("#pay").click()  # again: now kept offline with the same key
    expect(page.locator("#done-number")).to_contain_text("(offline)")
    page.locator("#new-sale").click()
    second = _sell_offline(page)  # the server counts as down now: the search runs on the device's catalogue
    expect(page.locator("#sync-status")).to_contain_text("Server tidak terjangkau · 2 penjualan menunggu sinkron")
    state["down"] = False
    expect(page.locator("#sync-status")).to_contain_text(SYNCED, timeout=20_000)
    sales_ = _sales()
    assert len(sales_) == 2 and state["posts"][0] in {s.client_key for s in sales_}
    assert [s.offline_number for s in sales_] == [None, second]  # the first was acknowledged, not redone
    assert stock_level(product_id, sentra_id) == 3
    db.session.close()
    context.close()


def test_a_sale_the_server_refuses_stays_queued_and_visible_until_it_goes_through(browser, live_server):
    sentra_id, product_id, (shift_id,), (email,) = _setup(stock=5)
    context = browser.new_context(service_workers="block")
    page = context.new_page()
    _login(page, live_server, email)
    _open_counter(page, live_server, shift_id, service_worker=False)
    context.set_offline(True)
    number = _sell_offline(page)
    context.route("**/pos/api/sales", lambda route: route.fulfill(
        status=422, content_type="application/problem+json",
        body='{"status": 422, "title": "Tidak valid", "detail": "Barang baris 1 tidak dikenal di Sentra ini."}'))
    context.set_offline(False)
    expect(page.locator("#sync-status")).to_contain_text("1 penjualan menunggu sinkron · 1 ditolak server",
                                                         timeout=20_000)
    expect(page.locator("#alert")).to_contain_text(f"{number} ditolak server")
    assert _sales() == []
    # Every counter page refuses to log out while the sale waits on this device.
    page.goto(f"{live_server}/pos/penjualan?shift_id={shift_id}")
    page.get_by_role("button", name="Keluar").click()
    expect(page.locator("#logout-guard")).to_contain_text("Tidak bisa keluar: 1 penjualan offline")
    assert page.url.endswith(f"/pos/penjualan?shift_id={shift_id}")
    page.goto(f"{live_server}/pos/sesi/{shift_id}/jual")
    context.unroute("**/pos/api/sales")
    page.locator("#sync-now").click()
    expect(page.locator("#sync-status")).to_contain_text(SYNCED, timeout=20_000)
    assert [s.offline_number for s in _sales()] == [number]
    assert stock_level(product_id, sentra_id) == 4
    db.session.close()
    context.close()
