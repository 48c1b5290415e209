from __future__ import annotations

import uuid

import sqlalchemy as sa

from accounts.models import Role, User
from core.extensions import db
from inventory.stock import stock_level
from pos.models import VisitorTally
from sales.models import Sale
from tests.factories import UserFactory
from tests.factories.sales import counter_setup


def post_sale(client, csrf, shift, lines, payments, key=None, **extra):
    return client.post("/pos/api/sales", json={"shift_id": shift.id, "lines": lines, "payments": payments, **extra},
                       headers={"Idempotency-Key": key or str(uuid.uuid4()), "X-CSRFToken": csrf()})


def test_replaying_the_same_request_three_times_gives_one_sale(client, login_as, csrf):
    sentra, kasir, _m, product, _t, shift = counter_setup()
    login_as(kasir)
    key = str(uuid.uuid4())
    body = ([{"product_id": product.id, "quantity": 2}], [{"method": "cash", "amount": 300_000, "tendered": 400_000}])
    answers = [post_sale(client, csrf, shift, *body, key=key) for _ in range(3)]
    assert [a.status_code for a in answers] == [201, 201, 201]
    assert answers[0].get_json() == answers[1].get_json() == answers[2].get_json()
    data = answers[0].get_json()
    assert data["number"].startswith("TMG-") and data["change"] == 100_000 and data["total"] == 300_000
    assert answers[2].headers.get("Idempotent-Replayed") == "true"
    assert db.session.scalar(sa.select(sa.func.count(Sale.id))) == 1
    assert stock_level(product.id, sentra.id) == 8
    other = post_sale(client, csrf, shift, [{"product_id": product.id, "quantity": 1}],
                      [{"method": "cash", "amount": 150_000}], key=key)
    assert other.status_code == 422
    assert other.mimetype == "application/problem+json"
    assert "sudah dipakai" in other.get_json()["detail"]
    assert stock_level(product.id, sentra.id) == 8


def test_problem_json_errors(client, login_as, csrf):
    sentra, kasir, _m, product, _t, shift = counter_setup(stock=1)
    login_as(kasir)
    cases = [
        ([{"product_id": 424242, "quantity": 1}], [{"method": "cash", "amount": 1}], 404, "tidak dikenal"),
        ([{"product_id": product.id, "quantity": 2}], [{"method": "cash", "amount": 300_000}], 409, "tersisa 1"),
        ([{"product_id": product.id, "quantity": 1}], [{"method": "cash", "amount": 100_000}], 422, "tidak sesuai"),
        ([{"product_id": product.id, "quantity": 1}], [{"method": "qris", "amount": 150_000}], 422, "QRIS wajib"),
        ([{"product_id": product.id, "quantity": "x"}], [{"method": "cash", "amount": 150_000}], 422, "angka"),
    ]
    for lines, payments, status, text in cases:
        response = post_sale(client, csrf, shift, lines, payments)
        assert response.status_code == status, response.get_json()
        assert response.mimetype == "application/problem+json"
        assert text in response.get_json()["detail"]
    no_key = client.post("/pos/api/sales", json={}, headers={"X-CSRFToken": csrf()})
    assert no_key.status_code == 422 and "Idempotency-Key" in no_key.get_json()["detail"]
    no_csrf = client.post("/pos/api/sales", json={}, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert no_csrf.status_code == 400
    assert db.session.scalar(sa.select(sa.func.count(Sale.id))) == 0
    assert stock_level(product.id, sentra.id) == 1


def test_closed_shift_refuses_sales(client, login_as, csrf):
    _s, kasir, _m, _product, ticket, shift = counter_setup()
    login_as(kasir)
    response = client.post(f"/pos/sesi/{shift.id}/tutup", data={"csrf_token": csrf(), "d100000": "2"})
    assert response.status_code == 302
    refused = post_sale(client, csrf, shift, [{"product_id": ticket.id, "quantity": 1}],
                        [{"method": "cash", "amount": 25_000}])
    assert refused.status_code == 409
    assert "ditutup" in refused.get_json()["detail"]


def test_other_kasir_cannot_use_my_shift_or_other_sentra(client, login_as, csrf):
    sentra, _k, _m, product, _t, shift = counter_setup()
    stranger = UserFactory(role="kasir", sentras=[sentra])
    login_as(stranger)
    response = post_sale(client, csrf, shift, [{"product_id": product.id, "quantity": 1}],
                         [{"method": "cash", "amount": 150_000}])
    assert response.status_code == 404
    outsider = UserFactory(role="kasir", sentras=[])
    login_as(outsider)
    assert client.get(f"/pos/api/products?sentra_id={sentra.id}&q=batik").status_code == 404


def test_product_lookup_by_barcode_sku_and_name(client, login_as):
    sentra, kasir, _m, product, ticket, _shift = counter_setup()
    login_as(kasir)
    by_barcode = client.get(f"/pos/api/products?sentra_id={sentra.id}&q={product.barcode}").get_json()
    assert by_barcode["exact"]["id"] == product.id and by_barcode["exact"]["stock"] == 10
    by_sku = client.get(f"/pos/api/products?sentra_id={sentra.id}&q={product.sku.lower()}").get_json()
    assert by_sku["exact"]["id"] == product.id
    by_name = client.get(f"/pos/api/products?sentra_id={sentra.id}&q=kolam").get_json()
    assert by_name["exact"] is None and [r["id"] for r in by_name["results"]] == [ticket.id]
    assert by_name["results"][0]["stock"] is None
    assert client.get(f"/pos/api/products?sentra_id={sentra.id}&q=%25").get_json()["results"] == []


def test_visitor_counter_increments_per_local_day(client, login_as, csrf):
    sentra, kasir, *_ = counter_setup()
    login_as(kasir)
    counts = [client.post("/pos/api/visitors", json={"sentra_id": sentra.id},
                          headers={"X-CSRFToken": csrf()}).get_json()["count"] for _ in range(3)]
    assert counts == [1, 2, 3]
    assert db.session.scalar(sa.select(VisitorTally.count)) == 3
    down = client.post("/pos/api/visitors", json={"sentra_id": sentra.id, "delta": -1}, headers={"X-CSRFToken": csrf()})
    assert down.get_json()["count"] == 2


def test_large_discount_needs_manager_pin(client, login_as, csrf):
    from tests.factories import TEST_PIN

    _s, kasir, manager, product, _t, shift = counter_setup()
    manager.set_pin(TEST_PIN)
    db.session.commit()
    login_as(kasir)
    lines = [{"product_id": product.id, "quantity": 1, "discount": 50_000}]
    pay = [{"method": "cash", "amount": 100_000}]
    assert post_sale(client, csrf, shift, lines, pay).status_code == 403
    wrong = post_sale(client, csrf, shift, lines, pay, approver_id=manager.id, approver_pin="000000")
    assert wrong.status_code == 403 and "PIN manajer salah" in wrong.get_json()["detail"]
    ok = post_sale(client, csrf, shift, lines, pay, approver_id=manager.id, approver_pin=TEST_PIN)
    assert ok.status_code == 201
    assert db.session.get(Sale, ok.get_json()["id"]).discount_approved_by_id == manager.id


def test_manager_pin_guessing_waits_then_is_blocked_until_an_admin_resets_it(client, login_as, csrf,
                                                                            time_machine):
    from datetime import timedelta

    from accounts.services import set_approval_pin
    from core.alerts import StaffAlert
    from core.db import utcnow
    from tests.factories import TEST_PIN

    time_machine.move_to(utcnow(), tick=False)
    _s, kasir, manager, product, _t, shift = counter_setup()
    manager.set_pin(TEST_PIN)
    db.session.commit()
    login_as(kasir)
    lines = [{"product_id": product.id, "quantity": 1, "discount": 50_000}]
    pay = [{"method": "cash", "amount": 100_000}]
    for guess in range(3):
        wrong = post_sale(client, csrf, shift, lines, pay, approver_id=manager.id, approver_pin=f"00000{guess}")
        assert wrong.status_code == 403 and "PIN manajer salah" in wrong.get_json()["detail"]
    waiting = post_sale(client, csrf, shift, lines, pay, approver_id=manager.id, approver_pin=TEST_PIN)
    assert waiting.status_code == 403 and "Tunggu 30 detik" in waiting.get_json()["detail"]

    for guess in range(3, 10):  # waiting out every delay: the cap still ends it at ten a day
        time_machine.shift(timedelta(minutes=16))
        login_as(kasir)  # (the kasir's session would idle out over these hours)
        wrong = post_sale(client, csrf, shift, lines, pay, approver_id=manager.id, approver_pin=f"00000{guess}")
        assert wrong.status_code == 403
    assert "diblokir" in wrong.get_json()["detail"]
    time_machine.shift(timedelta(minutes=50))
    login_as(kasir)
    blocked = post_sale(client, csrf, shift, lines, pay, approver_id=manager.id, approver_pin=TEST_PIN)
    assert blocked.status_code == 403 and "diblokir" in blocked.get_json()["detail"]
    assert db.session.scalar(sa.select(sa.func.count(Sale.id))) == 0
    [alert] = db.session.scalars(sa.select(StaffAlert)).all()
    assert alert.kind == "pos.approval_pin_blocked" and alert.entity_id == str(manager.id)

    admin = UserFactory(role=Role.ADMIN)
    set_approval_pin(admin, db.session.get(User, manager.id), "739182")
    db.session.commit()
    ok = post_sale(client, csrf, shift, lines, pay, approver_id=manager.id, approver_pin="739182")
    assert ok.status_code == 201


def test_refund_api_with_pin_is_idempotent(client, login_as, csrf):
    from sales.models import Refund
    from tests.factories import TEST_PIN

    sentra, kasir, manager, product, _t, shift = counter_setup()
    manager.set_pin(TEST_PIN)
    db.session.commit()
    login_as(kasir)
    sale = post_sale(client, csrf, shift, [{"product_id": product.id, "quantity": 2}],
                     [{"method": "cash", "amount": 300_000}]).get_json()
    key = str(uuid.uuid4())
    body = {"lines": [{"sale_line_id": sale["lines"][0]["id"], "quantity": 1}], "method": "transfer",
            "reason": "Salah ukuran", "reference": "TRF-9", "approver_id": manager.id, "approver_pin": TEST_PIN}
    url = f"/pos/api/sales/{sale['id']}/refunds"
    first = client.post(url, json=body, headers={"Idempotency-Key": key, "X-CSRFToken": csrf()})
    again = client.post(url, json=body, headers={"Idempotency-Key": key, "X-CSRFToken": csrf()})
    assert first.status_code == again.status_code == 201
    assert first.get_json() == again.get_json()
    assert first.get_json()["amount"] == 150_000 and first.get_json()["sale_status"] == "partially_refunded"
    assert db.session.scalar(sa.select(sa.func.count(Refund.id))) == 1
    assert stock_level(product.id, sentra.id) == 9
    too_many = client.post(url, json={**body, "lines": [{"sale_line_id": sale["lines"][0]["id"], "quantity": 2}]},
                           headers={"Idempotency-Key": str(uuid.uuid4()), "X-CSRFToken": csrf()})
    assert too_many.status_code == 422 and "paling banyak 1" in too_many.get_json()["detail"]
    client.post(f"/pos/sesi/{shift.id}/tutup", data={"csrf_token": csrf(), "d100000": "3"})
    no_drawer = client.post(url, json={**body, "method": "cash"},
                            headers={"Idempotency-Key": str(uuid.uuid4()), "X-CSRFToken": csrf()})
    assert no_drawer.status_code == 409 and "Buka sesi kasir" in no_drawer.get_json()["detail"]
