"""Concurrent stock-takes: each thread has its own app context and session and commits for real.

On PostgreSQL the level row is locked (SELECT … FOR UPDATE) before it is read, so the second count
sees the first one's result; on SQLite `BEGIN IMMEDIATE` serialises the writers. Either way no
update is lost: every intermediate level is one of the counted values and the final level equals
the sum of the movements.
"""

import threading
import uuid

import pytest
import sqlalchemy as sa

from core.extensions import db
from inventory import services
from inventory.models import MovementKind, Product, StockMovement
from inventory.stock import move_stock, movements_sum, stock_level
from tests.factories import ProductFactory, SentraFactory
from tests.factories.inventory import manager_of

pytestmark = [pytest.mark.slow, pytest.mark.committed]  # threads share the data


@pytest.mark.parametrize("round_", range(3))
def test_concurrent_adjustments_never_lose_an_update(app, round_):
    sentra = SentraFactory()
    product = ProductFactory(sentra=sentra)
    actor = manager_of(sentra)
    move_stock(actor, product, sentra.id, MovementKind.INTAKE, 10)
    db.session.commit()
    ids = {"product": product.id, "sentra": sentra.id, "actor": actor.id}
    db.session.close()  # the test thread holds no transaction while the workers run

    counted = [7, 4, 12, 9]
    barrier = threading.Barrier(len(counted))
    errors: list[BaseException] = []

    def worker(count: int) -> None:
        try:
            with app.app_context():
                from accounts.models import User

                barrier.wait(timeout=30)
                user = db.session.get(User, ids["actor"])
                item = db.session.get(Product, ids["product"])
                services.adjust_stock(user, item, ids["sentra"], count, f"opname {count}", str(uuid.uuid4()))
                db.session.commit()
                db.session.remove()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(c,)) for c in counted]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors

    deltas = list(db.session.scalars(sa.select(StockMovement.qty_delta).where(
        StockMovement.product_id == ids["product"], StockMovement.kind == MovementKind.ADJUSTMENT)
        .order_by(StockMovement.id)))
    assert len(deltas) == len(counted)
    level, seen = 10, []
    for delta in deltas:
        level += delta
        seen.append(level)
    # each adjustment started from the previous one's result: the running levels are exactly the counts
    assert sorted(seen) == sorted(counted)
    assert stock_level(ids["product"], ids["sentra"]) == movements_sum(ids["product"], ids["sentra"]) == seen[-1]
