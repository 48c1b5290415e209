"""When the `offline` flag is trusted: the device's prices and clock count only for a sale from a
device registered at this Sentra, numbered with that device's code, sold before the request (a
2-minute clock skew allowed). A well-formed request that fails the time test is an ordinary online
sale at server prices; a malformed one is refused (problem+json) and writes nothing."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from core.audit import AuditEntry
from core.db import utcnow
from core.extensions import db
from pos.models import PriceDifference, ShiftStatus, StockConflict
from pos.offline import CLOCK_SKEW
from sales.models import Sale
from tests.factories import SentraFactory
from tests.factories.inventory import kasir_of
from tests.factories.sales import counter_setup
from tests.pos.test_offline import register


def _post(client, csrf, shift, *, number, sold_at="now", price=100_000, paid=100_000, **extra):
    body = {"shift_id": shift.id, "offline": True, "offline_number": number,
            "lines": [{"product_id": extra.pop("product_id"), "quantity": 1, "unit_price": price}],
            "payments": [{"method": "cash", "amount": paid, "tendered": paid}], **extra}
    if sold_at == "now":
        body["sold_at"] = (utcnow() - timedelta(minutes=1)).isoformat()
    elif sold_at is not None:
        body["sold_at"] = sold_at
    return client.post("/pos/api/sales", json=body,
                       headers={"Idempotency-Key": str(uuid.uuid4()), "X-CSRFToken": csrf()})


def _counts() -> tuple[int, int, int]:
    return tuple(db.session.scalar(sa.select(sa.func.count(m.id))) for m in (Sale, PriceDifference, StockConflict))


@pytest.fixture
def counter(client, login_as, csrf):
    sentra, kasir, _m, product, _t, shift = counter_setup(stock=5, price=150_000)
    shift.opened_at = utcnow() - timedelta(hours=1)
    db.session.commit()
    login_as(kasir)
    return sentra, product, shift, register(client, csrf, sentra)


def test_a_registered_device_sale_made_before_the_request_keeps_its_price_and_time(client, csrf, counter):
    _sentra, product, shift, device = counter
    sold_at = utcnow() - timedelta(minutes=10)
    response = _post(client, csrf, shift, number=f"TMG-{device}-0001", sold_at=sold_at.isoformat(),
                     product_id=product.id)
    assert response.status_code == 201, response.get_json()
    sale = db.session.get(Sale, response.get_json()["id"])
    assert sale.offline_number == f"TMG-{device}-0001" and sale.total == 100_000
    assert abs((sale.offline_sold_at - sold_at).total_seconds()) < 1
    assert db.session.scalar(sa.select(sa.func.count(PriceDifference.id))) == 1


@pytest.mark.parametrize("sold_at", [None, "future"], ids=["no sale time", "sale time after the request"])
def test_an_offline_sale_not_made_before_the_request_is_an_online_sale_at_server_prices(client, csrf, counter,
                                                                                    sold_at):
    _sentra, product, shift, device = counter
    when = (utcnow() + CLOCK_SKEW + timedelta(minutes=1)).isoformat() if sold_at == "future" else None
    response = _post(client, csrf, shift, number=f"TMG-{device}-0002", sold_at=when, product_id=product.id,
                     price=100_000, paid=150_000)
    assert response.status_code == 201, response.get_json()
    data = response.get_json()
    assert data["offline_number"] is None and data["total"] == 150_000
    assert data["lines"][0]["unit_price"] == 150_000
    sale = db.session.get(Sale, data["id"])
    assert sale.offline_sold_at is None and abs((sale.created_at - utcnow()).total_seconds()) < 60
    assert db.session.scalar(sa.select(sa.func.count(PriceDifference.id))) == 0
    audit = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "pos.offline_not_trusted"))
    assert audit is not None and f"TMG-{device}-0002" in str(audit.after)


def test_an_untrusted_offline_sale_paid_at_the_device_price_is_refused_and_writes_nothing(client, csrf, counter):
    _sentra, product, shift, device = counter
    before = _counts()
    response = _post(client, csrf, shift, number=f"TMG-{device}-0003", sold_at=None, product_id=product.id,
                     price=1_000, paid=1_000)
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    assert _counts() == before


def test_an_untrusted_offline_sale_on_a_closed_shift_is_refused(client, csrf, counter):
    _sentra, product, shift, device = counter
    assert client.post(f"/pos/sesi/{shift.id}/tutup", data={"csrf_token": csrf(), "d100000": "2"}).status_code == 302
    db.session.refresh(shift)
    assert shift.status == ShiftStatus.CLOSED
    before = _counts()
    response = _post(client, csrf, shift, number=f"TMG-{device}-0004",
                     sold_at=(utcnow() + timedelta(hours=1)).isoformat(), product_id=product.id, paid=150_000)
    assert response.status_code == 409 and response.mimetype == "application/problem+json"
    assert _counts() == before


def test_malformed_offline_sales_are_refused_with_a_problem_and_write_nothing(client, csrf, login_as, counter):
    _sentra, product, shift, device = counter
    other = SentraFactory(code="BKS")
    login_as(kasir_of(other))
    foreign = register(client, csrf, other)
    login_as(shift.cashier)
    before = _counts()
    cases = {
        "number of another Sentra": dict(number=f"BKS-{foreign}-0001"),
        "code of another Sentra's device": dict(number=f"TMG-{foreign}-0001") if foreign != device else None,
        "not a provisional number": dict(number="12345"),
        "device code not the number's": dict(number=f"TMG-{device}-0001", device_code="QQQQ" if device != "QQQQ"
                                             else "RRRR"),
        "time without zone": dict(number=f"TMG-{device}-0001", sold_at="2026-01-01T10:00:00"),
        "time not a time": dict(number=f"TMG-{device}-0001", sold_at="kemarin"),
    }
    for name, case in cases.items():
        if case is None:
            continue
        response = _post(client, csrf, shift, product_id=product.id, **case)
        assert response.status_code == 422, (name, response.get_json())
        assert response.mimetype == "application/problem+json", name
        assert response.get_json()["detail"] or response.get_json().get("errors"), name
    assert _counts() == before
