"""IDOR probes: someone else's object answers 404 (or is simply not shown), and nothing changes.

Two Sentras (TMG, BKS) with their own staff, makers, sales, refunds, shifts, consignment intakes,
online orders and a paid payout run. The manager and kasir of TMG probe every BKS object by id;
maker A probes maker B's payout slips, statements and sales; buyers probe orders by token.
"""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from PIL import Image

from accounts.models import Role
from core.extensions import db
from inventory import services as inventory_services
from inventory.models import Product
from makers import services as maker_services
from makers.models import PayoutMethod
from payouts import services as payout_services
from payouts.models import PayoutLine, PayoutRun, RunStatus
from pos.models import Shift, ShiftStatus
from sales.models import Refund, Sale, SaleLine
from shop.models import Fulfilment, Order
from tests.conftest import csrf_token, login
from tests.factories import MakerFactory, MakerUserFactory, UserFactory
from tests.factories.payouts import key, product, refund, sell, shop
from tests.factories.shop import ShopProductFactory, consent_all
from tests.shop.helpers import place_order


@dataclass
class World:
    tmg: object
    bks: object
    maker_a: object
    maker_b: object
    maker_user_a: object
    maker_user_b: object
    product_a: Product
    product_b: Product
    sale_b: Sale
    run_b: PayoutRun
    line_b: PayoutLine
    intake_b: object
    fulfilment_b: Fulfilment
    order_b: Order
    month: str


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def world(app) -> World:
    tmg, bks = shop("TMG"), shop("BKS")
    maker_a = MakerFactory(sentra=tmg.sentra, name="Ani Alfa", payout_method=PayoutMethod.CASH)
    maker_b = MakerFactory(sentra=bks.sentra, name="Bambang Beta", payout_method=PayoutMethod.CASH)
    user_a, user_b = MakerUserFactory(maker=maker_a), MakerUserFactory(maker=maker_b)
    product_a = product(tmg.sentra, maker=maker_a, name="Batik Alfa Rahasia", price=100_000)
    product_b = product(bks.sentra, maker=maker_b, name="Anyaman Beta Rahasia", price=120_000)
    sell(tmg, [(product_a, 1)])
    sale_b = sell(bks, [(product_b, 2)])
    refund(bks, sale_b, [(sale_b.lines[0].id, 1)])
    run_b = payout_services.create_run(bks.manager, bks.sentra, cutoff_date=bks.sentra.local_date(),
                                       client_key=key())
    payout_services.approve_run(bks.manager2, run_b)
    payout_services.mark_run_paid(bks.manager2, run_b, references={ln.id: "TRF-B" for ln in run_b.lines})
    intake_b = inventory_services.receive_consignment(bks.manager, bks.sentra, maker_b, [(product_b, 3)],
                                                      client_key=key())
    maker_services.set_maker_photo(bks.manager, maker_b, _png())
    db.session.commit()
    guest = app.test_client()
    order_b = place_order(guest, lambda: csrf_token(guest),
                          [(ShopProductFactory(sentra=bks.sentra, stock=2, name="Tenun Beta Online"), 1)])
    month = bks.sentra.local_date().strftime("%Y-%m")
    return World(tmg, bks, maker_a, maker_b, user_a, user_b, product_a, product_b, sale_b, run_b,
                 run_b.lines[0], intake_b, order_b.fulfilments[0], order_b, month)


def client_for(app, user):
    client = app.test_client()
    if user is not None:
        login(client, user)
    return client, csrf_token(client)


def bks_get_urls(w: World) -> list[str]:
    s, shift = w.bks.sentra, w.bks.shift
    return [
        f"/pos/penjualan/{w.sale_b.id}", f"/pos/penjualan/{w.sale_b.id}/struk.pdf",
        f"/pos/penjualan/{w.sale_b.id}/struk.escpos", f"/pos/retur/{w.sale_b.refunds[0].id}/slip.pdf",
        f"/pos/retur/{w.sale_b.refunds[0].id}/slip.escpos", f"/pos/sesi/{shift.id}/laporan-z.escpos",
        f"/pos/sesi/{shift.id}", f"/pos/sesi/{shift.id}/jual", f"/pos/sesi/{shift.id}/tutup",
        f"/pos/sesi/{shift.id}/laporan-z.pdf",
        f"/inventory/titipan/{w.intake_b.id}", f"/inventory/titipan/{w.intake_b.id}/tanda-terima.pdf",
        f"/inventory/produk/{w.product_b.id}", f"/inventory/produk/{w.product_b.id}/ubah",
        f"/inventory/pembuat/{w.maker_b.id}", f"/inventory/pembuat/{w.maker_b.id}/ubah",
        f"/payouts/runs/{w.run_b.id}", f"/payouts/runs/{w.run_b.id}/transfer.csv",
        f"/payouts/lines/{w.line_b.id}/bukti.pdf", f"/payouts/lines/{w.line_b.id}/scan",
        f"/payouts/pembuat/{w.maker_b.id}/laporan/{w.month}.pdf", f"/payouts/runs?sentra_id={s.id}",
        f"/staf/pesanan/{w.fulfilment_b.id}", f"/staf/pesanan/{w.fulfilment_b.id}/daftar-ambil.pdf",
        f"/staf/daftar-ambil/{s.id}.pdf",
    ]


@pytest.mark.parametrize("who", ["manager", "kasir"])
def test_staff_of_one_sentra_get_404_for_every_object_of_another(app, world, who):
    client, _ = client_for(app, getattr(world.tmg, who))
    for url in bks_get_urls(world):
        response = client.get(url)
        if who == "kasir" and response.status_code == 403:
            continue  # a manager-only page: refused by role before the Sentra check
        assert response.status_code == 404, f"{who} of TMG: GET {url} → {response.status_code}"


def test_the_owning_sentra_reaches_the_same_urls(app, world):
    """The probe is meaningful: BKS's own manager gets the pages the TMG manager is refused."""
    client, _ = client_for(app, world.bks.manager)
    cashier, _ = client_for(app, world.bks.kasir)
    for url in bks_get_urls(world):
        if url.endswith("/scan"):
            continue  # no scan uploaded
        # the counter screens of a shift belong to its cashier
        response = (cashier if url.startswith("/pos/sesi") else client).get(url)
        assert response.status_code == 200, f"BKS manager: GET {url} → {response.status_code}"


def _state(w: World) -> tuple:
    db.session.expire_all()
    return (
        db.session.get(Sale, w.sale_b.id).status,
        db.session.scalar(sa.select(sa.func.count(Refund.id))),
        db.session.get(Shift, w.bks.shift.id).status,
        db.session.get(PayoutRun, w.run_b.id).status,
        db.session.get(PayoutLine, w.line_b.id).method,
        db.session.get(Fulfilment, w.fulfilment_b.id).status,
        db.session.get(Order, w.order_b.id).status,
        db.session.get(Product, w.product_b.id).is_active,
        db.session.get(Product, w.product_b.id).price,
        db.session.scalar(sa.select(sa.func.count(PayoutRun.id))),
    )


def test_staff_of_one_sentra_cannot_act_on_another(app, world):
    w = world
    before = _state(w)
    assert before[3] == RunStatus.PAID and before[1] == 1
    client, token = client_for(app, w.tmg.manager)
    line_id = w.sale_b.lines[0].id
    posts = {
        f"/pos/penjualan/{w.sale_b.id}/retur": {f"line_{line_id}": "1", "method": "cash", "reason": "x"},
        f"/pos/sesi/{w.bks.shift.id}/tutup": {"d100000": "2"},
        f"/payouts/runs/{w.run_b.id}/batal": {"reason": "x"},
        f"/payouts/runs/{w.run_b.id}/setujui": {},
        f"/payouts/runs/{w.run_b.id}/bayar-tunai": {},
        f"/payouts/runs/{w.run_b.id}/referensi": {},
        f"/payouts/lines/{w.line_b.id}/cara": {"method": "bank"},
        f"/staf/pesanan/{w.fulfilment_b.id}/siap": {},
        f"/staf/pesanan/{w.fulfilment_b.id}/kirim": {"tracking_number": "X1"},
        f"/staf/pesanan/{w.fulfilment_b.id}/selesai": {},
        f"/staf/pesanan/{w.fulfilment_b.id}/batal": {"reason": "x"},
        f"/staf/pesanan/{w.fulfilment_b.id}/kembalikan-dana": {"reason": "x"},
        f"/inventory/produk/{w.product_b.id}/hapus": {},
        f"/inventory/produk/{w.product_b.id}/ubah": {"name": "Diambil alih", "price": "1"},
        f"/inventory/pembuat/{w.maker_b.id}/izin": {"purpose": "shop_name", "given_by": "maker"},
    }
    for url, data in posts.items():
        response = client.post(url, data={"csrf_token": token, **data})
        assert response.status_code == 404, f"TMG manager: POST {url} → {response.status_code}"
    api = client.post(f"/pos/api/sales/{w.sale_b.id}/refunds",
                      json={"lines": [{"sale_line_id": line_id, "quantity": 1}], "method": "cash", "reason": "x"},
                      headers={"Idempotency-Key": str(uuid.uuid4()), "X-CSRFToken": token})
    assert api.status_code == 404 and api.mimetype == "application/problem+json"
    # a payout run for another Sentra cannot be created by choosing its id
    created = client.post("/payouts/runs", data={"csrf_token": token, "sentra_id": w.bks.sentra.id,
                                                 "cutoff_date": w.month + "-01", "client_key": key()})
    assert created.status_code in (404, 422)
    assert _state(w) == before


def test_lists_and_exports_never_show_another_sentras_rows(app, world):
    w = world
    client, _ = client_for(app, w.tmg.manager)
    sid = w.bks.sentra.id
    for url in (f"/pos/penjualan?sentra_id={sid}", f"/inventory/produk?sentra_id={sid}",
                f"/inventory/stok?sentra_id={sid}", f"/inventory/titipan?sentra_id={sid}",
                f"/inventory/pembuat?sentra_id={sid}", "/staf/pesanan?status=unpaid",
                f"/staf/pesanan?status=unpaid&sentra_id={sid}", f"/reports/?sentra_id={sid}",
                f"/reports/ekspor.csv?sentra_id={sid}", f"/inventory/api/produk?q=Anyaman&sentra_id={sid}",
                f"/pos/api/products?q=Anyaman&sentra_id={sid}"):
        response = client.get(url)
        assert response.status_code in (200, 404), f"GET {url} → {response.status_code}"
        text = response.get_data(as_text=True)
        for secret in ("Anyaman Beta Rahasia", "Bambang Beta", w.sale_b.number, w.order_b.number,
                       "Tenun Beta Online"):
            assert secret not in text, f"GET {url} shows {secret!r}"
    own = client.get("/inventory/produk").get_data(as_text=True)
    assert "Batik Alfa Rahasia" in own  # the filter is not simply empty


def test_a_maker_sees_only_their_own_sales_slips_and_statements(app, world, pdf_text):
    w = world
    client, _ = client_for(app, w.maker_user_a)
    assert client.get(f"/payouts/saya/pencairan/{w.line_b.id}/bukti.pdf").status_code == 404
    assert client.get(f"/payouts/saya/pencairan/{w.line_b.id}/scan").status_code == 404
    assert client.get(f"/payouts/pembuat/{w.maker_b.id}/laporan/{w.month}.pdf").status_code == 403
    assert client.get(f"/payouts/runs/{w.run_b.id}").status_code == 403
    for url in ("/payouts/saya", f"/payouts/saya/penjualan?maker_id={w.maker_b.id}",
                f"/payouts/saya/penjualan.csv?maker_id={w.maker_b.id}",
                f"/payouts/saya/pencairan?maker_id={w.maker_b.id}", f"/payouts/saya/stok?maker_id={w.maker_b.id}"):
        response = client.get(url)
        assert response.status_code == 200, url
        text = response.get_data(as_text=True)
        assert "Anyaman Beta Rahasia" not in text and "Bambang Beta" not in text, url
    assert "Batik Alfa Rahasia" in client.get("/payouts/saya/penjualan.csv").get_data(as_text=True)
    statement = client.get(f"/payouts/saya/laporan/{w.month}.pdf?maker_id={w.maker_b.id}")
    assert statement.status_code == 200
    text = pdf_text(statement.data)
    assert "Ani Alfa" in text and "Bambang Beta" not in text and "Anyaman" not in text
    # maker B does get their own slip: the 404 above is about ownership
    other, _ = client_for(app, w.maker_user_b)
    assert other.get(f"/payouts/saya/pencairan/{w.line_b.id}/bukti.pdf").status_code == 200


def test_maker_photo_is_public_only_with_consent(app, world):
    w = world
    maker = db.session.get(type(w.maker_b), w.maker_b.id)
    full, thumb = f"/inventory/berkas/{maker.photo_sha256}.webp", f"/inventory/berkas/{maker.photo_thumb_sha256}.webp"
    anonymous, _ = client_for(app, None)
    tmg_manager, _ = client_for(app, w.tmg.manager)
    bks_manager, _ = client_for(app, w.bks.manager)
    for url in (full, thumb):
        assert anonymous.get(url).status_code == 404
        assert tmg_manager.get(url).status_code == 404
        assert bks_manager.get(url).status_code == 200
    consent_all(w.maker_b)
    db.session.commit()
    assert anonymous.get(full).status_code == 200


def test_orders_by_token_and_buyer_lists(app, world):
    w = world
    anonymous, token = client_for(app, None)
    good = w.order_b.token
    assert anonymous.get(f"/pesanan/{good}").status_code == 200
    for bad in (good[:-1], good + "x", good.upper() if good.upper() != good else good.lower(), str(uuid.uuid4()),
                "../" + good, "0", w.sale_b.receipt_token if hasattr(w.sale_b, "receipt_token") else "x"):
        for url in (f"/pesanan/{bad}", f"/pesanan/{bad}/faktur.pdf", f"/pesanan/{bad}/kembali",
                    f"/pesanan/{bad}/3ds"):
            response = anonymous.get(url)
            assert response.status_code == 404, f"GET {url} → {response.status_code}"
        assert anonymous.post(f"/pesanan/{bad}/bayar", data={"csrf_token": token}).status_code == 404
    # a logged-in buyer lists only their own orders
    buyer = UserFactory(role=Role.BUYER, email="pembeli-a@contoh.co.id")
    own, own_token = client_for(app, buyer)
    mine = place_order(own, lambda: own_token, [(ShopProductFactory(sentra=w.tmg.sentra, stock=1), 1)])
    assert mine.user_id == buyer.id
    stranger, _ = client_for(app, UserFactory(role=Role.BUYER, email="pembeli-b@contoh.co.id"))
    listing = stranger.get("/akun/pesanan").get_data(as_text=True)
    assert mine.number not in listing and w.order_b.number not in listing
    assert mine.number in own.get("/akun/pesanan").get_data(as_text=True)


def test_injected_fields_are_ignored(app, world):
    """Price, maker, share and Sentra come from the server's records, never from the request."""
    w = world
    kasir, token = client_for(app, w.tmg.kasir)
    response = kasir.post("/pos/api/sales", json={
        "shift_id": w.tmg.shift.id,
        "lines": [{"product_id": w.product_a.id, "quantity": 1, "unit_price": 1, "price": 1, "maker_id": w.maker_b.id,
                   "maker_share_bps": 10_000, "sentra_id": w.bks.sentra.id}],
        "payments": [{"method": "cash", "amount": 100_000}], "sentra_id": w.bks.sentra.id, "total": 1,
    }, headers={"Idempotency-Key": str(uuid.uuid4()), "X-CSRFToken": token})
    assert response.status_code == 201, response.get_json()
    sale = db.session.get(Sale, response.get_json()["id"])
    line = db.session.scalars(sa.select(SaleLine).where(SaleLine.sale_id == sale.id)).one()
    assert sale.sentra_id == w.tmg.sentra.id and sale.total == 100_000
    assert line.unit_price == 100_000 and line.maker_id == w.maker_a.id
    # a BKS product cannot be sold on a TMG shift, nor on BKS's shift by a TMG kasir
    for shift_id, product_id in ((w.tmg.shift.id, w.product_b.id), (w.bks.shift.id, w.product_b.id)):
        refused = kasir.post("/pos/api/sales", json={
            "shift_id": shift_id, "lines": [{"product_id": product_id, "quantity": 1}],
            "payments": [{"method": "cash", "amount": 120_000}]},
            headers={"Idempotency-Key": str(uuid.uuid4()), "X-CSRFToken": token})
        assert 400 <= refused.status_code < 500, (shift_id, refused.status_code)
    assert db.session.scalar(sa.select(sa.func.count(Sale.id)).where(Sale.sentra_id == w.bks.sentra.id)) == 1
    # a TMG manager cannot move a TMG product to BKS or give it to a BKS maker
    manager, mtoken = client_for(app, w.tmg.manager)
    page = manager.get(f"/inventory/produk/{w.product_a.id}/ubah")
    assert page.status_code == 200
    fields = _form_fields(page.get_data(as_text=True))
    control = manager.post(f"/inventory/produk/{w.product_a.id}/ubah",
                           data={**fields, "name": "Batik Alfa Baru", "csrf_token": mtoken})
    assert control.status_code == 302  # the untouched form is valid, so refusals below are about the injection
    for injected in ({"sentra_id": str(w.bks.sentra.id)}, {"owner": f"m:{w.maker_b.id}"},
                     {"maker_id": str(w.maker_b.id), "group_id": "", "maker_share_bps": "10000"}):
        manager.post(f"/inventory/produk/{w.product_a.id}/ubah", data={**fields, **injected, "csrf_token": mtoken})
        db.session.expire_all()
        stored = db.session.get(Product, w.product_a.id)
        assert stored.sentra_id == w.tmg.sentra.id and stored.maker_id == w.maker_a.id, injected
    assert db.session.get(Shift, w.tmg.shift.id).status == ShiftStatus.OPEN


def _form_fields(html: str) -> dict[str, str]:
    from tests.security.htmlforms import parse_forms

    form = max(parse_forms(html), key=lambda f: len(f.fields))  # the page's own form, not logout
    return dict(form.values())
