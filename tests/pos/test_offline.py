"""Server side of the offline counter: devices, synced offline sales, price flags, stock conflicts."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from accounts.models import Role
from core.audit import AuditEntry
from core.db import utcnow
from core.errors import Forbidden
from core.extensions import db
from inventory.models import MovementKind, StockMovement
from inventory.stock import movements_sum, stock_level
from makers.models import ConsentPurpose
from ops.integrity import verify
from payouts.models import LedgerEntry
from pos.models import PosDevice, PriceDifference, ShiftStatus, StockConflict
from pos.offline import DEVICE_ALPHABET, register_device, resolve_conflict
from sales.models import Sale
from tests.factories import SentraFactory, UserFactory
from tests.factories.sales import ShiftFactory, counter_setup
from tests.factories.shop import consent_all


def register(client, csrf, sentra) -> str:
    response = client.post("/pos/api/devices", json={"sentra_id": sentra.id}, headers={"X-CSRFToken": csrf()})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["code"]


def offline_sale(client, csrf, shift, lines, payments, *, number, key=None, sold_at=None):
    body = {"shift_id": shift.id, "lines": lines, "payments": payments, "offline": True,
            "offline_number": number, "sold_at": (sold_at or utcnow()).isoformat()}
    return client.post("/pos/api/sales", json=body,
                       headers={"Idempotency-Key": key or str(uuid.uuid4()), "X-CSRFToken": csrf()})


def test_device_codes_are_unique_per_sentra_and_scoped(client, login_as, csrf):
    sentra, kasir, *_rest = counter_setup()
    login_as(kasir)
    codes = {register(client, csrf, sentra) for _ in range(12)}
    assert len(codes) == 12 and all(len(c) == 4 and set(c) <= set(DEVICE_ALPHABET) for c in codes)
    assert db.session.scalar(sa.select(sa.func.count(PosDevice.id))) == 12
    other = SentraFactory(code="BKS")
    refused = client.post("/pos/api/devices", json={"sentra_id": other.id}, headers={"X-CSRFToken": csrf()})
    assert refused.status_code == 404


def test_register_device_draws_again_on_a_clash(app, monkeypatch):
    sentra, kasir, *_rest = counter_setup()
    draws = iter("AAAA" "AAAA" "BBBB")
    monkeypatch.setattr("pos.offline.secrets.choice", lambda _alphabet: next(draws))
    first = register_device(kasir, sentra)
    second = register_device(kasir, sentra)
    db.session.commit()
    assert (first.code, second.code) == ("AAAA", "BBBB")


def test_offline_sale_is_recorded_once_with_its_provisional_number_and_time(client, login_as, csrf):
    sentra, kasir, _m, product, _t, shift = counter_setup(stock=6)
    shift.opened_at = utcnow() - timedelta(hours=1)
    db.session.commit()
    login_as(kasir)
    device = register(client, csrf, sentra)
    number = f"TMG-{device}-0001"
    sold_at = utcnow() - timedelta(minutes=3)
    key = str(uuid.uuid4())
    lines = [{"product_id": product.id, "quantity": 2, "unit_price": 150_000}]
    payments = [{"method": "cash", "amount": 300_000, "tendered": 300_000}]
    answers = [offline_sale(client, csrf, shift, lines, payments, number=number, key=key, sold_at=sold_at)
               for _ in range(3)]
    assert [a.status_code for a in answers] == [201, 201, 201]
    assert answers[0].get_json() == answers[2].get_json()
    assert answers[2].headers.get("Idempotent-Replayed") == "true"
    assert answers[0].get_json()["offline_number"] == number
    sale = db.session.scalar(sa.select(Sale))
    assert db.session.scalar(sa.select(sa.func.count(Sale.id))) == 1
    assert sale.offline_number == number and sale.shift_id == shift.id
    assert abs((sale.offline_sold_at - sold_at).total_seconds()) < 1
    assert stock_level(product.id, sentra.id) == 4 == movements_sum(product.id, sentra.id)
    assert db.session.scalar(sa.select(sa.func.count(LedgerEntry.id)).where(LedgerEntry.sale_id == sale.id)) > 0
    assert db.session.scalar(sa.select(sa.func.count(StockConflict.id))) == 0
    assert db.session.scalar(sa.select(sa.func.count(PriceDifference.id))) == 0
    # The same provisional number with another key is a clash the server refuses.
    clash = offline_sale(client, csrf, shift, lines, payments, number=number)
    assert clash.status_code == 409 and "sudah dipakai" in clash.get_json()["detail"]
    # A device clock far behind is kept within the shift (from its opening); one a little ahead
    # (within the allowed skew) is kept at "now". Far ahead: see test_offline_flag_is_trusted_only_...
    early = offline_sale(client, csrf, shift, lines, payments, number=f"TMG-{device}-0002",
                         sold_at=utcnow() - timedelta(days=3)).get_json()
    late = offline_sale(client, csrf, shift, lines, payments, number=f"TMG-{device}-0003",
                        sold_at=utcnow() + timedelta(seconds=90)).get_json()
    assert db.session.get(Sale, early["id"]).offline_sold_at == shift.opened_at
    assert db.session.get(Sale, late["id"]).offline_number == f"TMG-{device}-0003"
    assert db.session.get(Sale, late["id"]).offline_sold_at <= utcnow()


def test_receipt_pdf_shows_the_offline_number(client, login_as, csrf, pdf_text):
    sentra, kasir, _m, product, _t, shift = counter_setup()
    login_as(kasir)
    device = register(client, csrf, sentra)
    response = offline_sale(client, csrf, shift, [{"product_id": product.id, "quantity": 1}],
                            [{"method": "cash", "amount": 150_000}], number=f"TMG-{device}-0007")
    data = response.get_json()
    text = pdf_text(client.get(data["receipt_pdf_url"]).data)
    assert f"TMG-{device}-0007" in text and data["number"] in text


def test_offline_numbers_must_name_a_registered_device_of_this_sentra(client, login_as, csrf):
    sentra, kasir, _m, product, _t, shift = counter_setup()
    login_as(kasir)
    register(client, csrf, sentra)
    lines, payments = [{"product_id": product.id, "quantity": 1}], [{"method": "cash", "amount": 150_000}]
    for number in ("BKS-ABCD-0001", "TMG-ZZZZ-0001", "TMG-abcd-1", "", "TMG-ABCD-x"):
        response = offline_sale(client, csrf, shift, lines, payments, number=number)
        assert response.status_code == 422, number
    device = register(client, csrf, sentra)
    mismatch = client.post("/pos/api/sales", json={
        "shift_id": shift.id, "lines": lines, "payments": payments, "offline": True,
        "offline_number": f"TMG-{device}-0001", "device_code": "QQQQ" if device != "QQQQ" else "RRRR"},
        headers={"Idempotency-Key": str(uuid.uuid4()), "X-CSRFToken": csrf()})
    assert mismatch.status_code == 422 and "device_code" in str(mismatch.get_json())
    assert db.session.scalar(sa.select(sa.func.count(Sale.id))) == 0


def test_the_price_the_buyer_paid_stands_and_a_difference_is_flagged(client, login_as, csrf):
    sentra, kasir, _m, product, _t, shift = counter_setup(price=150_000)
    login_as(kasir)
    device = register(client, csrf, sentra)
    product.price = 175_000  # repriced on the server while the counter was offline
    db.session.commit()
    response = offline_sale(client, csrf, shift, [{"product_id": product.id, "quantity": 2, "unit_price": 150_000}],
                            [{"method": "cash", "amount": 300_000}], number=f"TMG-{device}-0001")
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["total"] == 300_000
    diff = db.session.scalar(sa.select(PriceDifference))
    assert (diff.paid_price, diff.server_price, diff.product_id) == (150_000, 175_000, product.id)
    # An online sale still charges the server's price whatever the client sends.
    online = client.post("/pos/api/sales", json={
        "shift_id": shift.id, "lines": [{"product_id": product.id, "quantity": 1, "unit_price": 1}],
        "payments": [{"method": "cash", "amount": 175_000}]},
        headers={"Idempotency-Key": str(uuid.uuid4()), "X-CSRFToken": csrf()})
    assert online.status_code == 201 and online.get_json()["total"] == 175_000


def test_offline_sale_after_the_shift_closed_is_booked_to_its_shift(client, login_as, csrf):
    sentra, kasir, _m, product, _t, shift = counter_setup()
    login_as(kasir)
    device = register(client, csrf, sentra)
    closed = client.post(f"/pos/sesi/{shift.id}/tutup", data={"csrf_token": csrf(), "d100000": "2"})
    assert closed.status_code == 302
    response = offline_sale(client, csrf, shift, [{"product_id": product.id, "quantity": 1}],
                            [{"method": "cash", "amount": 150_000}], number=f"TMG-{device}-0003")
    assert response.status_code == 201, response.get_json()
    sale = db.session.get(Sale, response.get_json()["id"])
    db.session.refresh(shift)
    assert sale.shift_id == shift.id and shift.status == ShiftStatus.CLOSED
    page = client.get(f"/pos/sesi/{shift.id}").get_data(as_text=True)
    assert "1 penjualan offline masuk setelah sesi ini ditutup" in page and f"TMG-{device}-0003" in page
    # Another kasir cannot sync into this kasir's shift.
    login_as(UserFactory(role=Role.KASIR, sentras=[sentra]))
    stranger = offline_sale(client, csrf, shift, [{"product_id": product.id, "quantity": 1}],
                            [{"method": "cash", "amount": 150_000}], number=f"TMG-{device}-0004")
    assert stranger.status_code == 404


def test_selling_more_than_the_server_has_records_a_conflict_a_manager_resolves(client, login_as, csrf):
    sentra, kasir, manager, product, _t, shift = counter_setup(stock=1)
    login_as(kasir)
    device = register(client, csrf, sentra)
    response = offline_sale(client, csrf, shift, [{"product_id": product.id, "quantity": 3}],
                            [{"method": "cash", "amount": 450_000}], number=f"TMG-{device}-0001")
    assert response.status_code == 201, response.get_json()
    sale_id = response.get_json()["id"]
    assert stock_level(product.id, sentra.id) == 0 == movements_sum(product.id, sentra.id)
    conflict = db.session.scalar(sa.select(StockConflict))
    assert (conflict.sale_id, conflict.product_id, conflict.missing_qty) == (sale_id, product.id, 2)
    assert conflict.resolved_at is None
    # A replay neither sells nor flags again.
    assert db.session.scalar(sa.select(sa.func.count(StockConflict.id))) == 1

    resolve_conflict(manager, conflict, "ditemukan 2 di gudang")
    db.session.commit()
    resolve_conflict(manager, conflict)  # a second press changes nothing
    db.session.commit()
    assert conflict.resolved_by_id == manager.id and conflict.resolved_at is not None
    assert stock_level(product.id, sentra.id) == 0 == movements_sum(product.id, sentra.id)
    moves = db.session.scalars(sa.select(StockMovement).where(StockMovement.product_id == product.id)
                               .order_by(StockMovement.id)).all()
    assert [(m.kind, m.qty_delta, m.is_discrepancy) for m in moves[-3:]] == [
        (MovementKind.SALE, -1, False), (MovementKind.ADJUSTMENT, 2, True), (MovementKind.SALE, -2, False)]
    assert sum(-m.qty_delta for m in moves if m.reference == f"sale:{sale_id}") == 3
    actions = db.session.scalars(sa.select(AuditEntry.action)).all()
    assert "pos.stock_conflict" in actions and actions.count("pos.stock_conflict_resolved") == 1
    assert verify() == []  # stock, postings and payments still reconcile


def test_conflict_page_lists_and_resolves_for_managers_only(client, login_as, csrf):
    sentra, kasir, manager, product, _t, shift = counter_setup(stock=0)
    login_as(kasir)
    device = register(client, csrf, sentra)
    offline_sale(client, csrf, shift, [{"product_id": product.id, "quantity": 2}],
                 [{"method": "cash", "amount": 300_000}], number=f"TMG-{device}-0001")
    conflict = db.session.scalar(sa.select(StockConflict))
    assert conflict.missing_qty == 2
    assert client.get("/pos/konflik-stok").status_code == 403
    login_as(UserFactory(role=Role.MANAGER, sentras=[SentraFactory(code="BKS")]))
    assert product.name not in client.get("/pos/konflik-stok").get_data(as_text=True)
    denied = client.post(f"/pos/konflik-stok/{conflict.id}/selesaikan", data={"csrf_token": csrf()})
    assert denied.status_code == 404
    login_as(manager)
    page = client.get("/pos/konflik-stok").get_data(as_text=True)
    assert product.name in page and f"TMG-{device}-0001" in page
    done = client.post(f"/pos/konflik-stok/{conflict.id}/selesaikan",
                       data={"csrf_token": csrf(), "note": "dihitung ulang"}, follow_redirects=True)
    assert done.status_code == 200 and "diselesaikan" in done.get_data(as_text=True)
    db.session.refresh(conflict)
    assert conflict.resolved_by_id == manager.id and conflict.note == "dihitung ulang"
    assert stock_level(product.id, sentra.id) == 0 == movements_sum(product.id, sentra.id)


def test_catalogue_holds_only_what_the_counter_needs(client, login_as, csrf):
    sentra, kasir, _m, product, ticket, _shift = counter_setup(stock=4)
    login_as(kasir)
    data = client.get(f"/pos/api/catalogue?sentra_id={sentra.id}").get_json()
    assert data["sentra"]["code"] == "TMG"
    by_id = {p["id"]: p for p in data["products"]}
    assert by_id[product.id]["stock"] == 4 and by_id[ticket.id]["stock"] is None
    assert by_id[product.id]["credit"] is None  # no consent to print the maker's name
    assert set(by_id[product.id]) == {"id", "sku", "barcode", "name", "category", "price", "kind", "stock", "credit"}
    consent_all(product.maker, (ConsentPurpose.RECEIPT_NAME,))
    data = client.get(f"/pos/api/catalogue?sentra_id={sentra.id}").get_json()
    assert {p["id"]: p for p in data["products"]}[product.id]["credit"] == product.maker.public_name
    assert client.get(f"/pos/api/catalogue?sentra_id={SentraFactory(code='BKS').id}").status_code == 404


def test_session_endpoint_gives_a_csrf_token_and_open_shifts(client, login_as):
    sentra, kasir, _m, _p, _t, shift = counter_setup()
    ShiftFactory(sentra=SentraFactory(code="BKS"), cashier=UserFactory(role=Role.KASIR))
    login_as(kasir)
    data = client.get("/pos/api/session").get_json()
    assert data["user_id"] == kasir.id and data["csrf_token"]
    assert data["open_shifts"] == [{"id": shift.id, "sentra_id": sentra.id}]
    client.post("/accounts/keluar", data={"csrf_token": data["csrf_token"]})
    anonymous = client.get("/pos/api/session", headers={"Accept": "application/json"})
    assert anonymous.status_code == 401


def test_manifest_and_service_worker_are_served_for_the_pos_scope(client):
    manifest = client.get("/pos/manifest.webmanifest")
    assert manifest.status_code == 200 and manifest.mimetype == "application/manifest+json"
    data = manifest.get_json(force=True)
    assert data["start_url"] == "/pos/" and data["scope"] == "/pos/"
    for icon in data["icons"]:
        image = client.get(icon["src"])
        assert image.status_code == 200 and image.data.startswith(b"\x89PNG")
    sw = client.get("/pos/sw.js")
    assert sw.status_code == 200 and sw.mimetype == "application/javascript"
    assert "no-store" in sw.headers["Cache-Control"]
    assert "default-src 'self'" in sw.headers["Content-Security-Policy"]
    body = sw.get_data(as_text=True)
    assert "__VERSION__" not in body and "/static/js/pos/offline-queue.js" in body
    for url in ("/static/js/pos/sale.js", "/static/js/pos/offline-queue.js", "/static/css/pos.css"):
        assert client.get(url).status_code == 200


def test_only_a_manager_of_the_sentra_resolves_a_conflict(client, login_as, csrf):
    sentra, kasir, _manager, product, _t, shift = counter_setup(stock=0)
    login_as(kasir)
    device = register(client, csrf, sentra)
    offline_sale(client, csrf, shift, [{"product_id": product.id, "quantity": 1}],
                 [{"method": "cash", "amount": 150_000}], number=f"TMG-{device}-0001")
    conflict = db.session.scalar(sa.select(StockConflict))
    outsider = UserFactory(role=Role.MANAGER, sentras=[SentraFactory(code="BKS")])
    for user in (kasir, outsider):
        with pytest.raises(Forbidden):
            resolve_conflict(user, conflict)
        db.session.rollback()
    assert db.session.get(StockConflict, conflict.id).resolved_at is None
    assert stock_level(product.id, sentra.id) == 0
