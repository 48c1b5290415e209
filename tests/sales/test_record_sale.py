from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from core.audit import AuditEntry
from core.errors import (
    DomainError,
    Forbidden,
    IdempotencyConflict,
    NotFound,
    OutOfStock,
    PaymentMismatch,
    ShiftClosed,
    ValidationFailed,
)
from core.extensions import db
from inventory.models import StockMovement
from inventory.stock import movements_sum, stock_level
from pos.models import ShiftStatus
from sales.models import Channel, PaymentMethod, Sale, SaleStatus
from sales.services import LineRequest, PaymentRequest, record_sale, refund_sale
from sales.signals import sale_recorded, sale_refunded
from tests.factories.sales import counter_setup


def key() -> str:
    return str(uuid.uuid4())


def sell(kasir, sentra, shift, lines, payments, client_key=None, **kw):
    sale = record_sale(kasir, sentra, channel=Channel.POS, lines=lines, payments=payments,
                       client_key=client_key or key(), shift=shift, **kw)
    db.session.commit()
    return sale


def test_cash_sale_takes_stock_numbers_and_rounds():
    sentra, kasir, _manager, product, ticket, shift = counter_setup(price=150_050)
    received = []
    sale_recorded.connect(received.append, weak=False)
    try:
        sale = sell(kasir, sentra, shift, [LineRequest(product.id, 2), LineRequest(ticket.id, 1)],
                    [PaymentRequest(PaymentMethod.CASH, 325_100, tendered=400_000)])
    finally:
        sale_recorded.disconnect(received.append)
    assert received == [sale]
    assert sale.total == 2 * 150_050 + 25_000 == 325_100 - 0
    assert sale.rounding == 0
    assert sale.payments[0].change == 74_900
    assert sale.number.startswith("TMG-") and sale.number.endswith("-0001")
    assert stock_level(product.id, sentra.id) == 8 == movements_sum(product.id, sentra.id)
    assert [ln.maker_id for ln in sale.lines] == [product.maker_id, product.maker_id]
    assert sale.lines[0].maker_share_bps == product.maker_share_bps
    audit = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "sale.recorded"))
    assert audit.entity_id == str(sale.id)
    second = sell(kasir, sentra, shift, [LineRequest(ticket.id, 1, discount=20)],
                  [PaymentRequest(PaymentMethod.CASH, 25_000, tendered=50_000)])
    assert second.number.endswith("-0002")
    assert second.total == 24_980 and second.rounding == 20 and second.amount_due == 25_000


def test_rounding_only_on_cash_part_of_split_tender():
    sentra, kasir, _manager, product, _ticket, shift = counter_setup(price=150_050)
    sale = sell(kasir, sentra, shift, [LineRequest(product.id, 1)],
                [PaymentRequest(PaymentMethod.QRIS, 100_000, reference="QR123"),
                 PaymentRequest(PaymentMethod.CASH, 50_100, tendered=60_000)])
    assert sale.rounding == 50
    assert sum(p.amount for p in sale.payments) == sale.total + sale.rounding
    qris_only = sell(kasir, sentra, shift, [LineRequest(product.id, 1)],
                     [PaymentRequest(PaymentMethod.QRIS, 150_050, reference="QR124")])
    assert qris_only.rounding == 0


def test_replay_returns_first_sale_and_conflict_on_other_body():
    sentra, kasir, _manager, product, _ticket, shift = counter_setup()
    k = key()
    lines = [LineRequest(product.id, 1)]
    pay = [PaymentRequest(PaymentMethod.CASH, 150_000, tendered=200_000)]
    first = sell(kasir, sentra, shift, lines, pay, client_key=k)
    again = sell(kasir, sentra, shift, lines, pay, client_key=k)
    assert again.id == first.id
    assert db.session.scalar(sa.select(sa.func.count(Sale.id))) == 1
    assert stock_level(product.id, sentra.id) == 9
    with pytest.raises(IdempotencyConflict):
        record_sale(kasir, sentra, channel=Channel.POS, lines=[LineRequest(product.id, 2)],
                    payments=[PaymentRequest(PaymentMethod.CASH, 300_000)], client_key=k, shift=shift)


@pytest.mark.parametrize("lines,payments,error,text", [
    ("empty", [PaymentRequest(PaymentMethod.CASH, 1)], ValidationFailed, "Keranjang kosong"),
    ("unknown", [PaymentRequest(PaymentMethod.CASH, 150_000)], NotFound, "tidak dikenal"),
    ("zero", [PaymentRequest(PaymentMethod.CASH, 150_000)], ValidationFailed, "lebih dari 0"),
    ("huge", [PaymentRequest(PaymentMethod.CASH, 150_000)], ValidationFailed, "tidak wajar"),
    ("over", [PaymentRequest(PaymentMethod.CASH, 1_650_000)], OutOfStock, "tersisa 10"),
    ("one", [PaymentRequest(PaymentMethod.CASH, 100_000)], PaymentMismatch, "Rp 150.000"),
    ("one", [PaymentRequest(PaymentMethod.CASH, 150_000, tendered=100_000)], PaymentMismatch, "kurang"),
    ("one", [PaymentRequest(PaymentMethod.QRIS, 150_000)], ValidationFailed, "QRIS wajib"),
    ("one", [PaymentRequest(PaymentMethod.CARD, 150_000)], ValidationFailed, "EDC wajib"),
    ("one", [PaymentRequest(PaymentMethod.QRIS, 140_000, reference="x")], PaymentMismatch, "kurang Rp 10.000"),
    ("one", [], PaymentMismatch, "Belum ada pembayaran"),
    ("bigdisc", [PaymentRequest(PaymentMethod.CASH, 100)], ValidationFailed, "melebihi"),
])
def test_bad_input_changes_nothing(lines, payments, error, text):
    sentra, kasir, _manager, product, _ticket, shift = counter_setup()
    lines = {
        "unknown": [LineRequest(999_999, 1)],
        "zero": [LineRequest(product.id, 0)],
        "huge": [LineRequest(product.id, 10_000)],
        "over": [LineRequest(product.id, 11)],
        "one": [LineRequest(product.id, 1)],
        "bigdisc": [LineRequest(product.id, 1, discount=150_001)],
        "empty": [],
    }[lines]
    with pytest.raises(error) as info:
        record_sale(kasir, sentra, channel=Channel.POS, lines=lines, payments=payments, client_key=key(),
                    shift=shift)
    assert text in info.value.detail
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(Sale.id))) == 0
    assert stock_level(product.id, sentra.id) == 10


def test_closed_or_foreign_shift_refused():
    sentra, kasir, manager, _product, ticket, shift = counter_setup()
    with pytest.raises(ShiftClosed):
        record_sale(manager, sentra, channel=Channel.POS, lines=[LineRequest(ticket.id, 1)],
                    payments=[PaymentRequest(PaymentMethod.CASH, 25_000)], client_key=key(), shift=shift)
    with pytest.raises(ShiftClosed):
        record_sale(kasir, sentra, channel=Channel.POS, lines=[LineRequest(ticket.id, 1)],
                    payments=[PaymentRequest(PaymentMethod.CASH, 25_000)], client_key=key(), shift=None)
    shift.status, shift.open_marker = ShiftStatus.CLOSED, None
    db.session.commit()
    with pytest.raises(ShiftClosed):
        record_sale(kasir, sentra, channel=Channel.POS, lines=[LineRequest(ticket.id, 1)],
                    payments=[PaymentRequest(PaymentMethod.CASH, 25_000)], client_key=key(), shift=shift)


def test_large_discount_needs_manager_of_this_sentra():
    sentra, kasir, manager, product, _ticket, shift = counter_setup()
    lines = [LineRequest(product.id, 1, discount=30_000)]  # 20% > 10%
    pay = [PaymentRequest(PaymentMethod.CASH, 120_000)]
    with pytest.raises(Forbidden):
        record_sale(kasir, sentra, channel=Channel.POS, lines=lines, payments=pay, client_key=key(), shift=shift)
    with pytest.raises(Forbidden):
        record_sale(kasir, sentra, channel=Channel.POS, lines=lines, payments=pay, client_key=key(), shift=shift,
                    discount_approver=kasir)
    sale = sell(kasir, sentra, shift, lines, pay, discount_approver=manager)
    assert sale.discount_approved_by_id == manager.id
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "sale.recorded"))
    assert entry.approved_by_id == manager.id
    small = sell(kasir, sentra, shift, [LineRequest(product.id, 1, discount=15_000)],
                 [PaymentRequest(PaymentMethod.CASH, 135_000)])
    assert small.discount_approved_by_id is None


def test_online_sale_converts_reservation():
    from inventory.models import MovementKind
    from inventory.stock import move_stock

    sentra, _kasir, _manager, product, _ticket, _shift = counter_setup()
    move_stock(None, product, sentra.id, MovementKind.RESERVATION, 2, reference="order:1", client_key="res-1")
    db.session.commit()
    assert stock_level(product.id, sentra.id) == 8
    sale = record_sale(None, sentra, channel=Channel.ONLINE, lines=[LineRequest(product.id, 2)],
                       payments=[PaymentRequest(PaymentMethod.STRIPE, 300_000, reference="pi_1")],
                       client_key="order-1", reserved_reference="order:1")
    db.session.commit()
    assert sale.shift_id is None and sale.rounding == 0
    assert stock_level(product.id, sentra.id) == 8 == movements_sum(product.id, sentra.id)
    kinds = db.session.scalars(sa.select(StockMovement.kind).order_by(StockMovement.id)).all()
    assert [str(k) for k in kinds][-2:] == ["release", "sale"]


def test_partial_then_full_refund_exact_amounts_and_stock():
    sentra, kasir, manager, product, ticket, shift = counter_setup()
    sale = sell(kasir, sentra, shift, [LineRequest(product.id, 3, discount=10_000), LineRequest(ticket.id, 2)],
                [PaymentRequest(PaymentMethod.CASH, 490_000)])
    goods, tickets = sale.lines
    events = []
    sale_refunded.connect(events.append, weak=False)
    try:
        with pytest.raises(Forbidden):
            refund_sale(kasir, sale, lines=[(goods.id, 1)], method=PaymentMethod.CASH, reason="rusak",
                        client_key=key(), approver=kasir)
        k = key()
        first = refund_sale(kasir, sale, lines=[(goods.id, 1)], method=PaymentMethod.QRIS, reason="warna",
                            client_key=k, approver=manager, reference="QR-BACK")
        db.session.commit()
        assert first.amount == 440_000 // 3
        assert sale.status == SaleStatus.PARTIALLY_REFUNDED
        assert stock_level(product.id, sentra.id) == 8
        again = refund_sale(kasir, sale, lines=[(goods.id, 1)], method=PaymentMethod.QRIS, reason="warna",
                            client_key=k, approver=manager)
        assert again.id == first.id
        with pytest.raises(ValidationFailed, match="paling banyak 2"):
            refund_sale(kasir, sale, lines=[(goods.id, 3)], method=PaymentMethod.CASH, reason="x",
                        client_key=key(), approver=manager)
        rest = refund_sale(kasir, sale, lines=[(goods.id, 2), (tickets.id, 2)], method=PaymentMethod.CASH,
                           reason="batal", client_key=key(), approver=manager, restock=False)
        db.session.commit()
    finally:
        sale_refunded.disconnect(events.append)
    assert first.amount + rest.amount == sale.total
    assert sale.status == SaleStatus.REFUNDED
    assert stock_level(product.id, sentra.id) == 8 == movements_sum(product.id, sentra.id)
    assert events == [first, rest]
    audits = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "sale.refunded")).all()
    assert [a.approved_by_id for a in audits] == [manager.id, manager.id]


def test_refund_validation():
    sentra, kasir, manager, _product, ticket, shift = counter_setup()
    sale = sell(kasir, sentra, shift, [LineRequest(ticket.id, 1)], [PaymentRequest(PaymentMethod.CASH, 25_000)])
    with pytest.raises(ValidationFailed, match="Alasan"):
        refund_sale(kasir, sale, lines=[(sale.lines[0].id, 1)], method=PaymentMethod.CASH, reason=" ",
                    client_key=key(), approver=manager)
    with pytest.raises(NotFound):
        refund_sale(kasir, sale, lines=[(999_999, 1)], method=PaymentMethod.CASH, reason="x",
                    client_key=key(), approver=manager)
    with pytest.raises(DomainError):
        refund_sale(kasir, sale, lines=[], method=PaymentMethod.CASH, reason="x", client_key=key(),
                    approver=manager)
