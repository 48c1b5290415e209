"""The stock ledger: the cached level always equals the sum of movements and never goes negative."""

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.errors import OutOfStock
from core.extensions import db
from inventory.models import MovementKind, StockMovement
from inventory.stock import INBOUND, OUTBOUND, move_stock, movements_sum, stock_level
from tests.factories import ProductFactory, SentraFactory
from tests.factories.inventory import manager_of

KINDS = sorted(INBOUND | OUTBOUND | {MovementKind.ADJUSTMENT})
operations = st.lists(
    st.tuples(st.sampled_from(KINDS), st.integers(min_value=-30, max_value=30).filter(lambda n: n != 0)),
    min_size=1, max_size=25,
)


def _movement_count(product_id: int) -> int:
    return db.session.scalar(sa.select(sa.func.count(StockMovement.id)).where(StockMovement.product_id == product_id))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=operations)
def test_level_equals_sum_of_movements_and_never_negative(ops):
    sentra = SentraFactory()
    product = ProductFactory(sentra=sentra)
    actor = manager_of(sentra)
    expected = 0
    for kind, raw_qty in ops:
        qty = raw_qty if kind == MovementKind.ADJUSTMENT else abs(raw_qty)
        delta = qty if kind in INBOUND or kind == MovementKind.ADJUSTMENT else -qty
        before_count = _movement_count(product.id)
        if expected + delta < 0:
            with pytest.raises(OutOfStock) as caught, db.session.begin_nested():
                move_stock(actor, product, sentra.id, kind, qty)
            assert caught.value.extra["available"] == expected
            assert _movement_count(product.id) == before_count
        else:
            with db.session.begin_nested():
                move_stock(actor, product, sentra.id, kind, qty)
            expected += delta
            assert _movement_count(product.id) == before_count + 1
        assert stock_level(product.id, sentra.id) == expected
        assert movements_sum(product.id, sentra.id) == expected
        assert expected >= 0
    db.session.commit()
    assert stock_level(product.id, sentra.id) == movements_sum(product.id, sentra.id) == expected


def test_over_draw_is_refused_with_what_is_left(db_session):
    sentra = SentraFactory()
    product = ProductFactory(sentra=sentra)
    actor = manager_of(sentra)
    move_stock(actor, product, sentra.id, MovementKind.INTAKE, 3)
    db.session.commit()
    with pytest.raises(OutOfStock, match="tersisa 3"):
        move_stock(actor, product, sentra.id, MovementKind.SALE, 4)
    db.session.rollback()
    assert stock_level(product.id, sentra.id) == 3
    assert movements_sum(product.id, sentra.id) == 3
