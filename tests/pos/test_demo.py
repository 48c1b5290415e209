from __future__ import annotations

import sqlalchemy as sa

from accounts.models import User
from app.demo import load_demo_data
from core.extensions import db
from inventory.stock import movements_sum, stock_level
from pos.demo import DEMO_MANAGER_PIN
from pos.models import Shift, ShiftStatus
from sales.models import Sale, SaleLine


def test_demo_gives_manager_pins_and_a_closed_shift_idempotently():
    first = load_demo_data()
    db.session.commit()
    assert first["closed demo shift"] == 4  # the shift and three sales of the inventory demo goods
    again = load_demo_data()
    db.session.commit()
    assert again["closed demo shift"] == 0 and again["manager PINs"] == 0
    manager = db.session.scalar(sa.select(User).where(User.email == "manajer.tmg@sentra.test"))
    assert manager.check_pin(DEMO_MANAGER_PIN)
    kasir = db.session.scalar(sa.select(User).where(User.email == "kasir.tmg@sentra.test"))
    shift = db.session.scalar(sa.select(Shift).where(Shift.cashier_id == kasir.id))
    assert shift.status == ShiftStatus.CLOSED and shift.variance == 0
    assert db.session.scalar(sa.select(sa.func.count(Sale.id)).where(Sale.shift_id == shift.id)) == 3
    for line in db.session.scalars(sa.select(SaleLine).where(SaleLine.is_stock_tracked.is_(True))):
        assert stock_level(line.product_id, shift.sentra_id) == movements_sum(line.product_id, shift.sentra_id)
