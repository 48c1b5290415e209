"""A duplicate key that gets past the lookup (another worker's sale went in first) is caught when
the sale row goes in: the first sale comes back, its number is given back, nothing else is written."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from core.errors import IdempotencyConflict
from core.extensions import db
from inventory.models import StockMovement
from inventory.stock import stock_level
from payouts.models import LedgerTransaction
from sales.models import Channel, PaymentMethod, Sale, SaleNumberCounter
from sales.services import LineRequest, PaymentRequest, record_sale
from tests.factories.sales import counter_setup


def rows() -> tuple[int, ...]:
    return tuple(db.session.scalar(sa.select(sa.func.count()).select_from(m)) for m in
                 (Sale, StockMovement, LedgerTransaction))


def test_a_duplicate_key_past_the_lookup_returns_the_first_sale_and_gives_its_number_back():
    sentra, kasir, _m, product, _t, shift = counter_setup()
    key = str(uuid.uuid4())
    lines, payments = [LineRequest(product.id, 2)], [PaymentRequest(PaymentMethod.CASH, 300_000)]
    first = record_sale(kasir, sentra, channel=Channel.POS, lines=lines, payments=payments, client_key=key,
                        shift=shift)
    db.session.commit()
    before = rows()

    # As if the lookup had run before the first sale committed (a second worker, same key):
    again = record_sale(kasir, sentra, channel=Channel.POS, lines=lines, payments=payments, client_key=key,
                        shift=shift, key_is_new=True)
    db.session.commit()

    assert again.id == first.id and again.replayed
    assert rows() == before and stock_level(product.id, sentra.id) == 8
    assert db.session.scalar(sa.select(SaleNumberCounter.last_number)) == 1  # no gap
    nxt = record_sale(kasir, sentra, channel=Channel.POS, lines=[LineRequest(product.id, 1)],
                      payments=[PaymentRequest(PaymentMethod.CASH, 150_000)], client_key=str(uuid.uuid4()),
                      shift=shift)
    assert nxt.number.endswith("-0002")


def test_a_duplicate_key_with_another_body_is_refused_and_changes_nothing():
    sentra, kasir, _m, product, _t, shift = counter_setup()
    key = str(uuid.uuid4())
    record_sale(kasir, sentra, channel=Channel.POS, lines=[LineRequest(product.id, 1)],
                payments=[PaymentRequest(PaymentMethod.CASH, 150_000)], client_key=key, shift=shift)
    db.session.commit()
    before = rows()
    with pytest.raises(IdempotencyConflict):
        record_sale(kasir, sentra, channel=Channel.POS, lines=[LineRequest(product.id, 2)],
                    payments=[PaymentRequest(PaymentMethod.CASH, 300_000)], client_key=key, shift=shift,
                    key_is_new=True)
    db.session.rollback()
    assert rows() == before and stock_level(product.id, sentra.id) == 9
