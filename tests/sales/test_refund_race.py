"""Two refunds of the last piece at the same moment: exactly one goes through."""

from __future__ import annotations

import contextlib
import threading
import uuid

import pytest
import sqlalchemy as sa

from core.errors import ValidationFailed
from core.extensions import db
from sales.models import Channel, PaymentMethod, Refund, Sale
from sales.services import LineRequest, PaymentRequest, record_sale, refund_sale
from tests.factories.sales import counter_setup

pytestmark = pytest.mark.committed  # threads share the data

RACERS = 4


def test_concurrent_refunds_never_refund_twice(app, monkeypatch):
    sentra, kasir, manager, product, _ticket, shift = counter_setup()
    sale = record_sale(kasir, sentra, channel=Channel.POS, lines=[LineRequest(product.id, 1)],
                       payments=[PaymentRequest(PaymentMethod.CASH, 150_000)], client_key=str(uuid.uuid4()),
                       shift=shift)
    db.session.commit()
    ids = (sale.id, sale.lines[0].id, kasir.id, manager.id)
    db.session.close()
    barrier = threading.Barrier(RACERS)
    outcomes: list[str] = []

    # Widen the race: every refund waits, after reading what was already refunded, until all
    # have read (or, when the sale row lock makes them queue, until the wait times out).
    import sales.services as services

    original, read_barrier, seen = services.refunded_quantities, threading.Barrier(RACERS), threading.local()

    def refunded_then_wait(the_sale):
        result = original(the_sale)
        if not getattr(seen, "done", False):
            seen.done = True
            with contextlib.suppress(threading.BrokenBarrierError):
                read_barrier.wait(timeout=3)
        return result

    monkeypatch.setattr(services, "refunded_quantities", refunded_then_wait)

    def refund() -> None:
        with app.app_context():
            from accounts.models import User

            sale_id, line_id, kasir_id, manager_id = ids
            the_sale = db.session.get(Sale, sale_id)
            actor, approver = db.session.get(User, kasir_id), db.session.get(User, manager_id)
            _ = (the_sale.lines, the_sale.refunds, actor.sentras, approver.sentras)
            db.session.commit()  # release what the reads took; the race starts together
            barrier.wait()
            try:
                refund_sale(actor, the_sale, lines=[(line_id, 1)], method=PaymentMethod.CASH, reason="balap",
                            client_key=str(uuid.uuid4()), approver=approver)
                db.session.commit()
                outcomes.append("ok")
            except ValidationFailed as error:
                db.session.rollback()
                # Refused by the sale's own check (not by a later safeguard downstream).
                outcomes.append("refused" if "paling banyak 0 lagi" in error.detail else error.detail)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=refund) for _ in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["ok"] + ["refused"] * (RACERS - 1)
    assert db.session.scalar(sa.select(sa.func.count(Refund.id))) == 1
