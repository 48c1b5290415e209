from __future__ import annotations

import sqlalchemy as sa

from accounts.models import User
from core.demo import load_demo_data
from core.extensions import db
from inventory.models import Sentra
from pos.demo import DEMO_MANAGER_PIN
from pos.models import Shift, ShiftStatus
from sales.models import Sale
from tests.factories import ProductFactory
from tests.factories.sales import TicketFactory, stock_in


def test_demo_gives_manager_pins_and_a_closed_shift_idempotently():
    load_demo_data()
    db.session.commit()
    sentra = db.session.scalar(sa.select(Sentra).where(Sentra.code == "TMG"))
    product = ProductFactory(sentra=sentra, price=85_000)
    TicketFactory(sentra=sentra, maker=product.maker)
    stock_in(product, 5)
    first = load_demo_data()
    db.session.commit()
    assert first["closed demo shift"] == 4
    assert load_demo_data()["closed demo shift"] == 0
    manager = db.session.scalar(sa.select(User).where(User.email == "manajer.tmg@sentra.test"))
    assert manager.check_pin(DEMO_MANAGER_PIN)
    shift = db.session.scalar(sa.select(Shift))
    assert shift.status == ShiftStatus.CLOSED and shift.variance == 0
    assert db.session.scalar(sa.select(sa.func.count(Sale.id))) == 3
