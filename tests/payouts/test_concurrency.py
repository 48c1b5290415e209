"""Two managers create a payout run for the same Sentra at the same moment: one wins, one is refused."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from core.errors import Conflict
from core.extensions import db
from payouts import services
from payouts.models import PayoutItem, PayoutRun
from tests.factories.payouts import key, product, sell, shop

pytestmark = pytest.mark.committed  # threads share the data


def test_concurrent_runs_for_one_sentra(app):
    s = shop()
    sell(s, [(product(s.sentra, price=100_000), 1)])
    sentra_id, manager_ids = s.sentra.id, (s.manager.id, s.manager2.id)
    db.session.remove()  # hold no transaction (on SQLite: no write lock) while the threads race
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def create(user_id: int) -> None:
        from accounts.models import User
        from sentras.models import Sentra

        with app.app_context():
            try:
                barrier.wait(timeout=10)
                user, sentra = db.session.get(User, user_id), db.session.get(Sentra, sentra_id)
                services.create_run(user, sentra, cutoff_date=sentra.local_date(), client_key=key())
                db.session.commit()
                outcomes.append("created")
            except Conflict as error:
                db.session.rollback()
                outcomes.append("refused: " + error.detail)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=create, args=(uid,)) for uid in manager_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(o.split(":")[0] for o in outcomes) == ["created", "refused"], outcomes
    assert db.session.scalar(sa.select(sa.func.count(PayoutRun.id))) == 1
    assert db.session.scalar(sa.select(sa.func.count(PayoutItem.id))) == 1
