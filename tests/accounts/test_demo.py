"""Demo staff users: one per role, idempotent, and able to log in with the README's password."""

from __future__ import annotations

import sqlalchemy as sa

from accounts.demo import DEMO_PASSWORD, STAFF, load_staff
from accounts.models import User
from accounts.services import authenticate_staff, password_problems
from core.extensions import db
from sentras.demo import load_sentras


def test_demo_staff_load_is_idempotent_and_logs_in():
    load_sentras()
    assert load_staff() == len(STAFF)
    db.session.commit()
    assert load_staff() == 0
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == len(STAFF)

    assert password_problems(DEMO_PASSWORD) is None
    kasir = authenticate_staff("kasir.tmg@sentra.test", DEMO_PASSWORD, "127.0.0.1")
    assert [s.code for s in kasir.sentras] == ["TMG"]
    assert {u.role.value for u in db.session.scalars(sa.select(User))} == {"admin", "manager", "kasir"}
