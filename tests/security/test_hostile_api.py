"""Hostile input to the JSON APIs and path traversal in file routes.

Malformed JSON, wrong types (strings for ints, floats, nulls, nested objects, huge arrays),
bodies over MAX_CONTENT_LENGTH, missing or odd Idempotency-Keys: always a clear 4xx
application/problem+json, never a 500, and no sale, refund or stock movement written.
"""

from __future__ import annotations

import json
import uuid

import pytest
import sqlalchemy as sa

from core.extensions import db
from inventory.models import StockMovement
from sales.models import Refund, Sale
from tests.conftest import csrf_token, login
from tests.factories import MakerUserFactory
from tests.factories.payouts import product, sell, shop

WRONG = ["2x", 1.5, None, {"a": {"b": [1]}}, [[1]], -1, 99999999999999999999999, True, "' OR 1=1 --",
         "<script>alert(1)</script>", "\u202e\u200d😀", "x" * 10_000]


@pytest.fixture
def counter(app):
    s = shop("TMG")
    item = product(s.sentra, name="Batik Uji", price=100_000, stock=5)
    sale = sell(s, [(item, 1)])
    client = app.test_client()
    login(client, s.kasir)
    return s, item, sale, client, csrf_token(client)


def counts() -> tuple[int, ...]:
    db.session.expire_all()
    return tuple(db.session.scalar(sa.select(sa.func.count(m.id))) for m in (Sale, Refund, StockMovement))


def post(client, token, url, body=None, *, raw: bytes | None = None, key: str | None = "new",
         content_type="application/json"):
    headers = {"X-CSRFToken": token, "Accept": "application/json"}
    if key == "new":
        headers["Idempotency-Key"] = str(uuid.uuid4())
    elif key is not None:
        headers["Idempotency-Key"] = key
    data = raw if raw is not None else json.dumps(body).encode()
    return client.post(url, data=data, headers=headers, content_type=content_type)


def assert_problem(response, what):
    assert 400 <= response.status_code < 500, f"{what} → {response.status_code} {response.get_data()[:200]!r}"
    assert response.mimetype == "application/problem+json", f"{what} → {response.mimetype}"
    body = response.get_json()
    assert body["status"] == response.status_code and body.get("title"), what


def valid_sale(s, item) -> dict:
    return {"shift_id": s.shift.id, "lines": [{"product_id": item.id, "quantity": 1}],
            "payments": [{"method": "cash", "amount": 100_000}]}


def test_malformed_and_mistyped_json_is_a_clear_problem(counter):
    s, item, sale, client, token = counter
    before = counts()
    urls = ["/pos/api/sales", f"/pos/api/sales/{sale.id}/refunds", "/pos/api/devices", "/pos/api/visitors"]
    for url in urls:
        for raw in (b"{", b"[1,", b"null", b'"text"', b"123", b"[]", b"{}", b"\xff\xfe", b'{"a": NaN}',
                    b'{"shift_id": 1e400}', b"[" * 5000 + b"]" * 5000):
            assert_problem(post(client, token, url, raw=raw), f"POST {url} {raw[:20]!r}")
        assert_problem(post(client, token, url, raw=b"shift_id=1", content_type="application/x-www-form-urlencoded"),
                       f"POST {url} as a form")
    body = valid_sale(s, item)
    for field in ("shift_id", "lines", "payments"):
        for value in WRONG:
            response = post(client, token, "/pos/api/sales", {**body, field: value})
            assert_problem(response, f"sale with {field}={str(value)[:30]!r}")
    for field in ("product_id", "quantity", "discount"):
        for value in WRONG:
            if field == "discount" and value is None:
                continue  # optional: no discount
            response = post(client, token, "/pos/api/sales", {**body, "lines": [{**body["lines"][0], field: value}]})
            assert_problem(response, f"sale line with {field}={str(value)[:30]!r}")
    accepted: list = []
    for field in ("method", "amount", "tendered", "reference"):
        for value in WRONG[:-1]:
            response = post(client, token, "/pos/api/sales",
                            {**body, "payments": [{**body["payments"][0], field: value}]})
            assert response.status_code < 500, f"payment {field}={str(value)[:30]!r} → {response.status_code}"
            if response.status_code >= 400:
                assert_problem(response, f"payment {field}={value!r}")
            else:
                accepted.append((field, value))
                assert field in ("tendered", "reference"), (field, value)  # ignored for an exact cash payment
    huge = {**body, "lines": [{"product_id": item.id, "quantity": 1}] * 20_000}
    assert_problem(post(client, token, "/pos/api/sales", huge), "20,000 lines")
    line_id = sale.lines[0].id
    refund_body = {"lines": [{"sale_line_id": line_id, "quantity": 1}], "method": "cash", "reason": "Rusak"}
    for field in ("lines", "method", "reason", "approver_id", "approver_pin"):
        for value in WRONG:
            response = post(client, token, f"/pos/api/sales/{sale.id}/refunds", {**refund_body, field: value})
            assert_problem(response, f"refund with {field}={str(value)[:30]!r}")
    for value in WRONG:
        response = post(client, token, "/pos/api/visitors", {"shift_id": s.shift.id, "count": value})
        assert response.status_code < 500, f"visitors count={str(value)[:30]!r} → {response.status_code}"
    assert counts() == (before[0] + len(accepted), before[1], before[2] + len(accepted))  # nothing else written


def test_idempotency_key_is_required_and_checked(counter):
    s, item, sale, client, token = counter
    before = counts()
    for key in (None, "", "x", "../../etc/passwd", "a" * 1000, "<script>alert(1)</script>", "' OR 1=1 --"):
        response = post(client, token, "/pos/api/sales", valid_sale(s, item), key=key)
        assert_problem(response, f"Idempotency-Key {str(key)[:30]!r}")
        assert "Idempotency-Key" in response.get_json()["detail"]
        response = post(client, token, f"/pos/api/sales/{sale.id}/refunds",
                        {"lines": [{"sale_line_id": sale.lines[0].id, "quantity": 1}], "method": "cash",
                         "reason": "Rusak"}, key=key)
        assert_problem(response, f"refund Idempotency-Key {str(key)[:30]!r}")
    assert counts() == before
    # the control: the same body with a good key is a sale
    assert post(client, token, "/pos/api/sales", valid_sale(s, item)).status_code == 201


def test_oversized_body_is_413_problem(app, counter):
    s, item, _sale, client, token = counter
    before = counts()
    size = app.config["MAX_CONTENT_LENGTH"] + 1024
    filler = {"note": "x" * size}
    for url in ("/pos/api/sales", "/pos/api/visitors"):
        response = post(client, token, url, {**valid_sale(s, item), **filler})
        assert response.status_code == 413, f"{url} → {response.status_code}"
        assert response.mimetype == "application/problem+json"
    form = client.post("/inventory/opname", data={"csrf_token": token, "reason": "x" * size})
    assert form.status_code == 413
    assert counts() == before


def test_get_apis_survive_hostile_query_strings(counter):
    _s, _item, _sale, client, _token = counter
    for url in ("/pos/api/products", "/pos/api/catalogue", "/pos/api/session", "/pos/api/visitors",
                "/inventory/api/produk"):
        for value in ["' OR 1=1 --", "<script>alert(1)</script>", "../../etc/passwd", "-1",
                      "99999999999999999999999", "\u202e😀", "x" * 10_000]:
            for param in ("q", "code", "sentra_id", "shift_id", "page", "limit", "since"):
                response = client.get(url, query_string={param: value})
                assert response.status_code < 500, f"GET {url}?{param}={value[:30]!r} → {response.status_code}"
                assert "<script>alert(1)" not in response.get_data(as_text=True)


@pytest.mark.parametrize("path", [
    "/inventory/berkas/..%2f..%2fconfig.py", "/inventory/berkas/..%2fconfig.py", "/inventory/berkas/%2e%2e",
    "/inventory/berkas/....%2f%2fconfig.py", "/inventory/berkas/config.py", "/inventory/berkas/..%5c..%5cconfig.py",
    "/inventory/berkas/%2fetc%2fpasswd", "/inventory/berkas/" + "0" * 64 + ".webp%0a",
    "/inventory/berkas/" + "0" * 64 + ".webp%2f..%2f..%2fconfig.py", "/inventory/berkas/" + "0" * 64 + ".webp",
    "/inventory/berkas/..%2f" + "0" * 61 + ".webp",
    "/static/..%2fconfig.py", "/static/../config.py", "/static/%2e%2e/%2e%2e/config.py",
    "/pos/struk/..%2f..%2fconfig.py", "/pesanan/..%2f..%2fconfig.py/faktur.pdf", "/sentra/..%2f..%2fconfig.py",
])
def test_path_traversal_in_file_routes_is_404(app, path):
    response = app.test_client().get(path)
    assert response.status_code == 404, f"GET {path} → {response.status_code}"
    assert b"SECRET_KEY" not in response.data


def test_path_traversal_in_statement_months_is_404(app):
    s = shop("TMG")
    maker_user = MakerUserFactory(maker=product(s.sentra).maker)
    maker = app.test_client()
    login(maker, maker_user)
    manager = app.test_client()
    login(manager, s.manager)
    for month in ("..%2f..%2fconfig", "2024-13", "0000-00", "9999-99", "x" * 500, "%00", "-1-01"):
        assert maker.get(f"/payouts/saya/laporan/{month}.pdf").status_code in (400, 404), month
        url = f"/payouts/pembuat/{maker_user.maker_id}/laporan/{month}.pdf"
        assert manager.get(url).status_code in (400, 404), month
