"""Kasir racing for the last pieces, through a real threaded server, never oversell."""

from __future__ import annotations

import importlib.metadata
import json
import threading
import urllib.error
import urllib.request
import uuid

import sqlalchemy as sa

from accounts.models import Role
from core.db import utcnow
from core.extensions import db
from inventory.stock import movements_sum, stock_level
from sales.models import Sale
from tests.conftest import csrf_token, login
from tests.factories import ProductFactory, SentraFactory, UserFactory
from tests.factories.sales import ShiftFactory, stock_in

KASIR = 6
LAST_UNITS = 2


def _session_for(app, user) -> tuple[str, str]:
    """A session cookie and CSRF token for `user`, made with a test client."""
    client = app.test_client()
    login(client, user)
    token = csrf_token(client)
    cookie = client.get_cookie("session")
    return f"session={cookie.value}", token


def _post(url: str, cookie: str, token: str, key: str, body: dict) -> tuple[int, dict]:
    status, body, _headers = _post_with_headers(url, cookie, token, key, body)
    return status, body


def _post_with_headers(url: str, cookie: str, token: str, key: str, body: dict) -> tuple[int, dict, dict]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST", headers={
        # The same User-Agent as the test client that made the session (Flask-Login session protection).
        "User-Agent": "Werkzeug/" + importlib.metadata.version("werkzeug"),
        "Content-Type": "application/json", "Cookie": cookie, "X-CSRFToken": token, "Idempotency-Key": key})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read()), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}"), dict(error.headers)


def test_concurrent_sales_of_the_last_units_never_oversell(app, live_server):
    sentra = SentraFactory(code="TMG")
    product = ProductFactory(sentra=sentra, price=150_000)
    stock_in(product, LAST_UNITS)
    sellers = []
    for i in range(KASIR):
        kasir = UserFactory(role=Role.KASIR, sentras=[sentra], name=f"Kasir {i}")
        shift = ShiftFactory(sentra=sentra, cashier=kasir)
        cookie, token = _session_for(app, kasir)
        sellers.append((cookie, token, shift.id))
    product_id, sentra_id = product.id, sentra.id
    db.session.close()  # hold no transaction (nor SQLite's write lock) while the server works

    outcomes: list[tuple[int, dict]] = []
    lock = threading.Lock()

    def sell(cookie: str, token: str, shift_id: int, key: str) -> None:
        body = {"shift_id": shift_id, "lines": [{"product_id": product_id, "quantity": 1}],
                "payments": [{"method": "cash", "amount": 150_000}]}
        barrier.wait()
        result = _post(f"{live_server}/pos/api/sales", cookie, token, key, body)
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=sell, args=(*seller, str(uuid.uuid4()))) for seller in sellers]
    # One kasir also double-clicks: a second request with the same key at the same moment.
    double_key = str(uuid.uuid4())
    threads[0] = threading.Thread(target=sell, args=(*sellers[0], double_key))
    threads.append(threading.Thread(target=sell, args=(*sellers[0], double_key)))
    barrier = threading.Barrier(len(threads))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    statuses = sorted(status for status, _ in outcomes)
    assert len(outcomes) == KASIR + 1
    assert set(statuses) <= {201, 409}, outcomes
    numbers = {body["number"] for status, body in outcomes if status == 201}
    assert len(numbers) == LAST_UNITS
    for status, body in outcomes:
        if status == 409:
            assert "tersisa 0" in body["detail"]
    assert db.session.scalar(sa.select(sa.func.count(Sale.id))) == LAST_UNITS
    assert stock_level(product_id, sentra_id) == 0 == movements_sum(product_id, sentra_id)
    # Numbers are gap-free: 0001 .. 000N.
    assert sorted(n[-4:] for n in numbers) == [f"{i:04d}" for i in range(1, LAST_UNITS + 1)]


def test_concurrent_offline_syncs_of_the_last_pieces_record_every_sale_and_one_shortfall_each(app, live_server):
    """Four devices sold the last 2 pieces offline (one each, one of them twice by a lost answer):
    every sale is recorded once, stock stops at 0, and the missing pieces are conflicts."""
    from pos.models import PosDevice, StockConflict

    sentra = SentraFactory(code="TMG")
    product = ProductFactory(sentra=sentra, price=150_000)
    stock_in(product, LAST_UNITS)
    sellers = []
    for i in range(4):
        kasir = UserFactory(role=Role.KASIR, sentras=[sentra], name=f"Kasir {i}")
        shift = ShiftFactory(sentra=sentra, cashier=kasir)
        db.session.add(PosDevice(sentra_id=sentra.id, code=f"DEV{'ABCD'[i]}", registered_by_id=kasir.id))
        db.session.commit()
        cookie, token = _session_for(app, kasir)
        sellers.append((cookie, token, shift.id, f"TMG-DEV{'ABCD'[i]}-0001", str(uuid.uuid4())))
    product_id, sentra_id = product.id, sentra.id
    db.session.close()

    outcomes: list[tuple[int, dict]] = []
    lock = threading.Lock()

    def sync(cookie: str, token: str, shift_id: int, number: str, key: str) -> None:
        body = {"shift_id": shift_id, "lines": [{"product_id": product_id, "quantity": 1, "unit_price": 150_000}],
                "payments": [{"method": "cash", "amount": 150_000}], "offline": True, "offline_number": number,
                "sold_at": utcnow().isoformat()}  # devices always send their sale time (pos/offline.py)
        barrier.wait()
        result = _post(f"{live_server}/pos/api/sales", cookie, token, key, body)
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=sync, args=seller) for seller in sellers]
    threads.append(threading.Thread(target=sync, args=sellers[0]))  # the same sale posted twice at once
    barrier = threading.Barrier(len(threads))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert sorted(status for status, _ in outcomes) == [201] * 5, outcomes
    assert len({body["number"] for _, body in outcomes}) == 4
    assert db.session.scalar(sa.select(sa.func.count(Sale.id))) == 4
    assert stock_level(product_id, sentra_id) == 0 == movements_sum(product_id, sentra_id)
    conflicts = db.session.scalars(sa.select(StockConflict)).all()
    assert sum(c.missing_qty for c in conflicts) == 4 - LAST_UNITS and len(conflicts) == 2


def _race(count: int, post) -> list[tuple[int, dict, dict]]:
    """`count` threads call `post()` at the same moment; their answers."""
    outcomes: list[tuple[int, dict, dict]] = []
    lock = threading.Lock()
    barrier = threading.Barrier(count)

    def run() -> None:
        barrier.wait()
        result = post()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


def test_every_concurrent_replay_of_a_sale_says_it_was_replayed(app, live_server):
    """20 copies of one sale at once: one sale, and the 19 that did not make it are marked replays."""
    from tests.factories.sales import counter_setup

    _sentra, kasir, _m, product, _t, shift = counter_setup()
    cookie, token = _session_for(app, kasir)
    key = str(uuid.uuid4())
    body = {"shift_id": shift.id, "lines": [{"product_id": product.id, "quantity": 1}],
            "payments": [{"method": "cash", "amount": 150_000}]}
    db.session.close()

    outcomes = _race(20, lambda: _post_with_headers(f"{live_server}/pos/api/sales", cookie, token, key, body))

    assert [status for status, _, _ in outcomes] == [201] * 20, outcomes
    assert len({answer["number"] for _, answer, _ in outcomes}) == 1
    replayed = [headers.get("Idempotent-Replayed") for _, _, headers in outcomes]
    assert replayed.count("true") == 19 and replayed.count(None) == 1
    assert db.session.scalar(sa.select(sa.func.count(Sale.id))) == 1


def test_every_concurrent_replay_of_a_refund_says_it_was_replayed(app, live_server):
    from sales.models import Refund
    from tests.factories import TEST_PIN
    from tests.factories.sales import counter_setup

    _sentra, kasir, manager, product, _t, shift = counter_setup()
    manager.set_pin(TEST_PIN)
    db.session.commit()
    cookie, token = _session_for(app, kasir)
    sale_body = {"shift_id": shift.id, "lines": [{"product_id": product.id, "quantity": 2}],
                 "payments": [{"method": "cash", "amount": 300_000}]}
    manager_id = manager.id
    db.session.close()
    status, sale, _ = _post_with_headers(f"{live_server}/pos/api/sales", cookie, token, str(uuid.uuid4()), sale_body)
    assert status == 201
    key = str(uuid.uuid4())
    body = {"lines": [{"sale_line_id": sale["lines"][0]["id"], "quantity": 1}], "method": "transfer",
            "reason": "Salah ukuran", "reference": "TRF-9", "approver_id": manager_id, "approver_pin": TEST_PIN}
    url = f"{live_server}/pos/api/sales/{sale['id']}/refunds"
    db.session.close()

    outcomes = _race(8, lambda: _post_with_headers(url, cookie, token, key, body))

    assert [status for status, _, _ in outcomes] == [201] * 8, outcomes
    assert len({answer["id"] for _, answer, _ in outcomes}) == 1
    replayed = [headers.get("Idempotent-Replayed") for _, _, headers in outcomes]
    assert replayed.count("true") == 7 and replayed.count(None) == 1
    assert db.session.scalar(sa.select(sa.func.count(Refund.id))) == 1
