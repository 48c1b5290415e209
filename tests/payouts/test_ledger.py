"""Sales and refunds post balanced, exact splits; holds; payout runs and their rules."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from core.db import utcnow
from core.errors import Conflict, Forbidden, ValidationFailed
from core.extensions import db
from inventory.models import SplitMode
from makers.models import PayoutMethod
from payouts import ledger, services
from payouts.models import Component, LedgerEntry, LedgerTransaction, LineStatus, PayoutItem, RunStatus
from sales.models import Channel
from tests.factories import MakerFactory
from tests.factories.payouts import group, key, product, refund, sell, shop


def postings_balance() -> bool:
    rows = db.session.execute(
        sa.select(LedgerEntry.transaction_id, sa.func.sum(LedgerEntry.amount)).group_by(LedgerEntry.transaction_id)
    ).all()
    return all(total == 0 for _t, total in rows)


def ledger_snapshot():
    return (db.session.scalar(sa.select(sa.func.count(LedgerEntry.id))), ledger.ledger_total())


def test_sale_posts_exact_split_for_maker_and_group():
    s = shop()
    maker = MakerFactory(sentra=s.sentra)
    batik = product(s.sentra, maker=maker, price=150_000, bps=8_000, material=20_000)
    kube, members = group(s.sentra, [1, 1, 1])
    tas = product(s.sentra, group=kube, price=10_000, bps=10_000)
    sale = sell(s, [(batik, 2, 10_000), (tas, 1)])
    assert postings_balance() and ledger.ledger_total() == 0
    txn = db.session.scalar(sa.select(LedgerTransaction).where(LedgerTransaction.sale_id == sale.id))
    by_component = {}
    for entry in txn.entries:
        by_component.setdefault((str(entry.component), entry.maker_id), 0)
        by_component[(str(entry.component), entry.maker_id)] += entry.amount
    assert by_component[("maker", maker.id)] == -(290_000 - 40_000) * 8 // 10
    shares = sorted(-by_component[("maker", m.id)] for m in members)
    assert shares == [3_333, 3_333, 3_334]
    assert -by_component[("maker", members[0].id)] == 3_334 if members[0].id < members[1].id else True
    assert by_component[("tender", None)] == sale.total
    assert ledger.maker_balance(maker.id).total == 200_000


def test_refund_reverses_exactly_and_payable_follows_hold():
    s = shop(hold_days=7)
    kube, members = group(s.sentra, [1, 2])
    item = product(s.sentra, group=kube, price=33_333, bps=7_000, material=1_111)
    sale = sell(s, [(item, 3)])
    line = sale.lines[0]
    before = {m.id: ledger.maker_balance(m.id) for m in members}
    assert all(b.payable == 0 and b.held > 0 for b in before.values())
    later = utcnow() + timedelta(days=8)
    assert all(ledger.maker_balance(m.id, now=later).payable == before[m.id].held for m in members)
    refund(s, sale, [(line.id, 1)])
    refund(s, sale, [(line.id, 2)])
    assert postings_balance()
    for m in members:
        b = ledger.maker_balance(m.id, now=later)
        assert (b.total, b.earned, b.refunded) == (0, before[m.id].held, before[m.id].held)
    # every component of the line nets to zero after the full refund
    rows = db.session.execute(
        sa.select(LedgerEntry.component, LedgerEntry.maker_id, sa.func.sum(LedgerEntry.amount))
        .where(LedgerEntry.sale_line_id == line.id).group_by(LedgerEntry.component, LedgerEntry.maker_id)
    ).all()
    assert all(total == 0 for _c, _m, total in rows)


def test_online_sale_is_held_until_released():
    s = shop(hold_days=0)
    item = product(s.sentra, price=100_000, bps=8_000)
    sale = sell(s, [(item, 1)], channel=Channel.ONLINE)
    maker_id = item.maker_id
    assert ledger.maker_balance(maker_id).held == 80_000
    assert ledger.maker_balance(maker_id).payable == 0
    assert ledger.release_online_hold(sale) == 1
    assert ledger.release_online_hold(sale) == 0
    db.session.commit()
    assert ledger.maker_balance(maker_id).payable == 80_000


def test_ledger_rows_are_immutable():
    s = shop()
    sell(s, [(product(s.sentra), 1)])
    entry = db.session.scalars(sa.select(LedgerEntry)).first()
    entry.amount = 1
    with pytest.raises(RuntimeError):
        db.session.flush()


def _run(s, **kw):
    return services.create_run(s.manager, s.sentra, cutoff_date=s.sentra.local_date(), client_key=key(), **kw)


def test_payout_run_pays_exact_entries_once_and_clawback_nets():
    s = shop()
    maker = MakerFactory(sentra=s.sentra, payout_method=PayoutMethod.CASH)
    item = product(s.sentra, maker=maker, price=100_000, bps=8_000)
    first = sell(s, [(item, 2)])
    run = _run(s)
    db.session.commit()
    [line] = run.lines
    assert line.amount == 160_000 and line.status == LineStatus.PENDING
    assert len(line.items) == 1 and line.items[0].entry.sale_line_id == first.lines[0].id
    with pytest.raises(Forbidden):
        services.approve_run(s.manager, run)
    with pytest.raises(Conflict):
        services.mark_line_paid(s.manager2, line)
    services.approve_run(s.manager2, run)
    services.mark_line_paid(s.manager2, line)
    db.session.commit()
    snapshot = ledger_snapshot()
    services.mark_line_paid(s.manager2, line)  # twice pays once
    db.session.commit()
    assert ledger_snapshot() == snapshot
    assert run.status == RunStatus.PAID
    b = ledger.maker_balance(maker.id)
    assert (b.payable, b.paid) == (0, 160_000)
    # refund after payout: negative balance visible, skipped in the next run, netted after a new sale
    refund(s, first, [(first.lines[0].id, 1)])
    assert ledger.maker_balance(maker.id).payable == -80_000
    with pytest.raises(ValidationFailed) as nothing:
        _run(s)
    assert "Saldo minus Rp 80.000" in nothing.value.errors["cutoff_date"]
    db.session.rollback()
    # another maker with earnings: the clawback maker's line is skipped and says why
    other = product(s.sentra, price=10_000, bps=10_000)
    sell(s, [(other, 1)])
    mixed = _run(s)
    skipped = next(ln for ln in mixed.lines if ln.maker_id == maker.id)
    assert skipped.status == LineStatus.SKIPPED and skipped.balance == -80_000 and "minus" in skipped.skip_reason
    services.cancel_run(s.manager, mixed, reason="uji")
    db.session.commit()
    sell(s, [(item, 3)])
    netted = _run(s)
    assert next(ln for ln in netted.lines if ln.maker_id == maker.id).amount == 240_000 - 80_000
    assert postings_balance()
    # every maker entry is linked to at most one live payout item
    dupes = db.session.execute(
        sa.select(PayoutItem.entry_id).where(PayoutItem.live_marker.is_not(None))
        .group_by(PayoutItem.entry_id).having(sa.func.count() > 1)).all()
    assert dupes == []


def test_bad_runs_are_refused_and_ledger_unchanged():
    s = shop()
    item = product(s.sentra, price=100_000)
    sell(s, [(item, 1)])
    snapshot = ledger_snapshot()
    with pytest.raises(ValidationFailed) as error:
        services.create_run(s.manager, s.sentra, cutoff_date=s.sentra.local_date() + timedelta(days=1),
                            client_key=key())
    assert "masa depan" in error.value.errors["cutoff_date"]
    db.session.rollback()
    run = _run(s)
    db.session.commit()
    with pytest.raises(Conflict) as conflict:
        _run(s)
    assert "belum selesai" in conflict.value.detail
    db.session.rollback()
    # a refund after the run was made: the line is now larger than what is payable
    sale = db.session.scalars(sa.select(LedgerTransaction).where(LedgerTransaction.sale_id.is_not(None))).first()
    from sales.models import Sale
    refund(s, db.session.get(Sale, sale.sale_id), [(db.session.get(Sale, sale.sale_id).lines[0].id, 1)])
    snapshot = ledger_snapshot()
    with pytest.raises(ValidationFailed) as too_much:
        services.approve_run(s.manager2, run)
    assert "lebih besar dari saldo" in too_much.value.errors["amount"]
    db.session.rollback()
    assert ledger_snapshot() == snapshot
    assert db.session.get(type(run), run.id).status == RunStatus.DRAFT


def test_bad_split_terms_refuse_the_whole_sale():
    s = shop()
    kube, _members = group(s.sentra, [1])
    item = product(s.sentra, group=kube, price=50_000)
    db.session.execute(sa.delete(type(kube.members[0])).where(type(kube.members[0]).group_id == kube.id))
    db.session.commit()
    with pytest.raises(ValidationFailed) as error:
        sell(s, [(item, 1)], commit=False)
    assert "anggota" in error.value.errors["group"]
    db.session.rollback()
    assert ledger_snapshot() == (0, 0)
    from sales.models import Sale
    assert db.session.scalar(sa.select(sa.func.count(Sale.id))) == 0


def test_fixed_price_split():
    s = shop()
    item = product(s.sentra, price=100_000, mode=SplitMode.FIXED, maker_price=60_000, material=10_000)
    sell(s, [(item, 2, 50_000)])
    assert ledger.maker_balance(item.maker_id).total == 120_000
    sentra_share = db.session.scalar(sa.select(sa.func.sum(LedgerEntry.amount))
                                     .where(LedgerEntry.component == Component.SENTRA))
    assert sentra_share == -(150_000 - 20_000 - 120_000)
