"""Idempotency keys at the counter API: a reused key with another body is refused (422), and a key
is never a way to reach another kasir's sale — one after the other or racing each other."""

from __future__ import annotations

import threading
import uuid

import pytest
import sqlalchemy as sa

from accounts.models import Role
from core.extensions import db
from inventory.stock import stock_level
from sales.models import Sale
from tests.factories import TEST_PASSWORD, UserFactory
from tests.factories.sales import ShiftFactory, counter_setup
from tests.ops.conftest import Counter


def post_sale(client, token, shift, quantity, key, amount=None):
    return client.post(
        "/pos/api/sales", headers={"Idempotency-Key": key, "X-CSRFToken": token},
        json={"shift_id": shift.id, "lines": [{"product_id": shift.product_id, "quantity": quantity}],
              "payments": [{"method": "cash", "amount": amount or quantity * 150_000}]},
    )


@pytest.fixture
def two_kasirs():
    sentra, kasir_a, _manager, product, _ticket, shift_a = counter_setup(stock=10)
    kasir_b = UserFactory(role=Role.KASIR, sentras=[sentra], name="Kasir Budi")
    shift_b = ShiftFactory(sentra=sentra, cashier=kasir_b)
    shift_a.product_id = shift_b.product_id = product.id
    return sentra, product, (kasir_a, shift_a), (kasir_b, shift_b)


def snapshot(sentra, product):
    sales = db.session.execute(sa.select(Sale.client_key, Sale.cashier_id, Sale.total).order_by(Sale.id)).all()
    return sales, stock_level(product.id, sentra.id)


def test_key_reused_with_another_body_is_refused_and_changes_nothing(app, two_kasirs, csrf, login_as, client):
    sentra, product, (kasir_a, shift_a), _b = two_kasirs
    login_as(kasir_a)
    token = csrf()
    key = str(uuid.uuid4())
    first = post_sale(client, token, shift_a, 2, key)
    assert first.status_code == 201
    before = snapshot(sentra, product)
    for quantity, amount in ((3, None), (2, 400_000)):
        again = post_sale(client, token, shift_a, quantity, key, amount)
        assert again.status_code == 422
        assert again.mimetype == "application/problem+json"
        assert "sudah dipakai" in again.get_json()["detail"]
        assert again.get_json()["title"] == "Kunci idempotensi dipakai ulang"
    db.session.expire_all()
    assert snapshot(sentra, product) == before
    replay = post_sale(client, token, shift_a, 2, key)
    assert replay.status_code == 201 and replay.get_json() == first.get_json()


def test_same_key_from_another_kasir_never_returns_the_first_sale(app, two_kasirs):
    sentra, product, (kasir_a, shift_a), (kasir_b, shift_b) = two_kasirs
    from tests.conftest import csrf_token, login

    client_a, client_b = app.test_client(), app.test_client()
    login(client_a, kasir_a)
    login(client_b, kasir_b)
    key = str(uuid.uuid4())
    first = post_sale(client_a, csrf_token(client_a), shift_a, 2, key)
    assert first.status_code == 201
    sale = first.get_json()
    before = snapshot(sentra, product)
    for quantity in (2, 1):  # the very same body, and another one
        other = post_sale(client_b, csrf_token(client_b), shift_b, quantity, key)
        assert other.status_code == 422, other.get_json()
        text = other.get_data(as_text=True)
        assert sale["number"] not in text and sale["receipt_url"] not in text
        assert "sudah dipakai" in other.get_json()["detail"]
    # Nor by naming kasir A's shift.
    stolen = post_sale(client_b, csrf_token(client_b), shift_a, 2, key)
    assert stolen.status_code in (404, 422) and sale["number"] not in stolen.get_data(as_text=True)
    db.session.expire_all()
    assert snapshot(sentra, product) == before


def test_two_kasirs_racing_with_one_key_get_one_sale_and_no_leak(app, live_server):
    sentra, _kasir, _manager, product, _ticket, _shift = counter_setup(stock=100)
    emails = [UserFactory(role=Role.KASIR, sentras=[sentra]).email for _ in range(2)]
    product_id, sentra_id = product.id, sentra.id
    db.session.remove()
    counters = [Counter(live_server, email, TEST_PASSWORD).login().open_shift(sentra_id) for email in emails]
    rounds = 12
    keys = [str(uuid.uuid4()) for _ in range(rounds)]
    answers: list[list] = [[None, None] for _ in range(rounds)]
    barrier = threading.Barrier(2)

    def run(index: int) -> None:
        quantity = index + 1  # the two kasirs send different carts under the same key
        for n, key in enumerate(keys):
            barrier.wait(timeout=30)
            answers[n][index] = counters[index].sell(
                key, [{"product_id": product_id, "quantity": quantity}],
                [{"method": "cash", "amount": quantity * 150_000}])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)

    for n, pair in enumerate(answers):
        assert sorted(a.status_code for a in pair) == [201, 422], [a.text[:200] for a in pair]
        won = next(a for a in pair if a.status_code == 201).json()
        lost = next(a for a in pair if a.status_code == 422)
        assert won["number"] not in lost.text, lost.text
        assert "sudah dipakai" in lost.json()["detail"]
        assert db.session.scalar(sa.select(sa.func.count(Sale.id)).where(Sale.client_key == keys[n])) == 1
    assert db.session.scalar(sa.select(sa.func.count(Sale.id))) == rounds
