"""Private answers are never stored by a browser or proxy cache: `Cache-Control: no-store` on every
response to a logged-in user or behind a secret link (PDF, CSV, XLSX, JSON, scans, HTML); static
files and public product photos stay cacheable."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from accounts.models import Role
from core.extensions import db
from payouts import services as payouts
from tests.accounts.test_access_sweep import dummy_url
from tests.conftest import login
from tests.factories import MakerUserFactory, UserFactory
from tests.factories.payouts import key, product, sell, shop
from tests.factories.shop import ShopProductFactory
from tests.shop.helpers import place_order


def _no_store(response) -> bool:
    return "no-store" in response.headers.get("Cache-Control", "")


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def world():
    s = shop()
    item = product(s.sentra, price=100_000, bps=5_000)
    sale = sell(s, [(item, 1)])
    run = payouts.create_run(s.manager, s.sentra, cutoff_date=s.sentra.local_date(), client_key=key())
    payouts.approve_run(s.manager2, run)
    payouts.mark_run_paid(s.manager2, run, references={ln.id: "TRF-1" for ln in run.lines})
    line = run.lines[0]
    payouts.attach_slip(s.manager, line, _png())
    db.session.commit()
    maker_user = MakerUserFactory(maker=item.maker)
    month = s.sentra.local_date().strftime("%Y-%m")
    return s, sale, run, line, maker_user, month


def test_every_download_for_each_role_is_marked_no_store(client, login_as, world):
    s, sale, run, line, maker_user, month = world
    downloads = {
        s.kasir: [f"/pos/penjualan/{sale.id}/struk.pdf", f"/pos/sesi/{s.shift.id}/laporan-z.pdf",
                  f"/pos/penjualan/{sale.id}/struk.escpos", f"/pos/sesi/{s.shift.id}/laporan-z.escpos",
                  f"/pos/api/catalogue?sentra_id={s.sentra.id}", "/pos/api/session",
                  f"/pos/api/products?sentra_id={s.sentra.id}&q=Batik"],
        s.manager: [f"/payouts/runs/{run.id}/transfer.csv", f"/payouts/lines/{line.id}/bukti.pdf",
                    f"/payouts/lines/{line.id}/scan", f"/payouts/pembuat/{line.maker_id}/laporan/{month}.pdf",
                    "/reports/ekspor.csv", "/reports/ekspor.xlsx", "/reports/ringkasan.pdf",
                    f"/inventory/api/produk?kode={sale.lines[0].product.sku}"],
        UserFactory(role=Role.ADMIN): ["/reports/ekspor.csv", "/reports/ekspor.xlsx"],
        maker_user: ["/payouts/saya/penjualan.csv", f"/payouts/saya/pencairan/{line.id}/bukti.pdf",
                     f"/payouts/saya/pencairan/{line.id}/scan", f"/payouts/saya/laporan/{month}.pdf"],
    }
    for user, paths in downloads.items():
        login_as(user)
        for path in paths:
            response = client.get(path)
            assert response.status_code == 200, (user.role, path, response.status_code)
            assert _no_store(response), (user.role, path, response.headers.get("Cache-Control"))


def test_secret_link_pages_and_pdfs_are_marked_no_store(client, csrf, world):
    _s, sale, *_rest = world
    receipt = client.get(f"/pos/struk/{sale.receipt_token}")
    assert receipt.status_code == 200 and _no_store(receipt)
    order = place_order(client, csrf, [(ShopProductFactory(stock=1, price=45_000), 1)])
    with client.session_transaction() as sess:
        sess.clear()  # an anonymous buyer holding only the link
    for path in (f"/pesanan/{order.token}", f"/pesanan/{order.token}/faktur.pdf"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert _no_store(response), (path, response.headers.get("Cache-Control"))


def test_any_answer_to_a_logged_in_user_is_no_store_but_static_files_stay_cacheable(app, world):
    s, _sale, _run, _line, maker_user, _month = world
    rules = [r for r in app.url_map.iter_rules() if "GET" in (r.methods or ()) and r.endpoint != "static"]
    for user in (UserFactory(role=Role.ADMIN), s.manager, s.kasir, maker_user):
        client = app.test_client()
        login(client, user)
        for rule in rules:
            response = client.get(dummy_url(rule))
            assert _no_store(response), (user.role, rule.rule, response.status_code)
        css = client.get("/static/css/app.css")
        assert css.status_code == 200 and not _no_store(css)
