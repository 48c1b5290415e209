"""Regression: with the database gone, a logged-in kasir gets a clean 503, never a 500.

Found by the gunicorn fault test: the request log (after_request) and the error page's layout
loaded the user again, hit the dead database a second time and turned the 503 into a 500.
"""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy.exc import OperationalError

from core.extensions import login_manager
from tests.factories.sales import counter_setup


@pytest.fixture
def database_down(app, monkeypatch):
    """Request logs on (as in production) and every user lookup failing like a dead database."""
    monkeypatch.setitem(app.config, "REQUEST_LOG", True)

    def refuse(_user_id):
        raise OperationalError("SELECT users", {}, Exception("connection refused"))

    monkeypatch.setattr(login_manager, "_user_callback", refuse)


def test_api_answers_503_problem(client, login_as, csrf, database_down):
    _sentra, kasir, _m, product, _t, shift = counter_setup()
    login_as(kasir)
    token = csrf()
    response = client.post("/pos/api/sales", headers={"Idempotency-Key": str(uuid.uuid4()), "X-CSRFToken": token},
                           json={"shift_id": shift.id, "lines": [{"product_id": product.id, "quantity": 1}],
                                 "payments": [{"method": "cash", "amount": 150_000}]})
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    assert "Database sedang tidak dapat dihubungi" in response.get_json()["detail"]
    assert response.headers.get("X-Request-ID")


def test_page_answers_503_html(client, login_as, database_down):
    _sentra, kasir, *_rest = counter_setup()
    login_as(kasir)
    response = client.get("/pos/penjualan", headers={"Accept": "text/html"})
    assert response.status_code == 503
    assert response.mimetype == "text/html"
    assert "Database sedang tidak dapat dihubungi" in response.get_data(as_text=True)
