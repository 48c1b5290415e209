"""Random sales, partial refunds, releases and payout runs; the ledger's invariants after every step."""

from __future__ import annotations

import uuid
from collections import defaultdict

import sqlalchemy as sa
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from core.errors import DomainError, ValidationFailed
from core.extensions import db
from inventory.models import SplitMode
from payouts import ledger, services
from payouts.models import (
    Component,
    LedgerEntry,
    LedgerTransaction,
    LineStatus,
    PayoutItem,
    PayoutLine,
    TransactionKind,
)
from sales.models import Channel, RefundLine, SaleLine
from sales.services import refundable_quantities
from tests.conftest import truncate_all_tables
from tests.factories import MakerFactory
from tests.factories.payouts import group, product, refund, sell, shop

terms = st.tuples(st.integers(1_000, 900_000), st.sampled_from([SplitMode.PERCENT, SplitMode.FIXED]),
                  st.integers(0, 10_000), st.integers(0, 100), st.integers(0, 60))


def expected_split(line: SaleLine, weights: dict[int, int]) -> dict[int, int]:
    """Independent re-statement of the documented rule, per maker."""
    mat = min(line.material_cost * line.quantity, line.line_total)
    rest = line.line_total - mat
    if line.split_mode == SplitMode.PERCENT:
        maker = (rest * line.maker_share_bps + 5_000) // 10_000
    else:
        maker = min(line.maker_price * line.quantity, rest)
    if line.maker_id is not None:
        return {line.maker_id: maker}
    ids = sorted(weights)
    total_w = sum(weights.values())
    parts = {m: maker * weights[m] // total_w for m in ids}
    rems = sorted(ids, key=lambda m: (-(maker * weights[m] % total_w), m))
    for m in rems[: maker - sum(parts.values())]:
        parts[m] += 1
    return parts


class LedgerMachine(RuleBasedStateMachine):
    @initialize(product_terms=st.lists(terms, min_size=2, max_size=4),
                weights=st.lists(st.integers(1, 5), min_size=1, max_size=3))
    def setup(self, product_terms, weights):
        db.session.remove()
        truncate_all_tables()
        self.shop = shop(hold_days=0)
        self.kube, members = group(self.shop.sentra, weights)
        self.weights = {m.id: w for m, w in zip(members, weights, strict=True)}
        self.solo = [MakerFactory(sentra=self.shop.sentra) for _ in range(2)]
        self.products = []
        for index, (price, mode, bps, maker_pct, material_pct) in enumerate(product_terms):
            owner = {"group": self.kube} if index % 3 == 2 else {"maker": self.solo[index % 2]}
            self.products.append(product(self.shop.sentra, price=price, mode=mode, bps=bps,
                                         maker_price=price * maker_pct // 100,
                                         material=price * material_pct // 100, **owner))
        self.sales = []
        self.online = []

    @rule(data=st.data(), online=st.booleans())
    def sell(self, data, online):
        items = data.draw(st.lists(st.tuples(st.sampled_from(self.products), st.integers(1, 4),
                                             st.integers(0, 50)), min_size=1, max_size=3, unique_by=lambda t: t[0].id))
        lines = [(p, q, p.price * q * pct // 100) for p, q, pct in items]
        sale = sell(self.shop, lines, channel=Channel.ONLINE if online else Channel.POS)
        self.sales.append(sale.id)
        if online:
            self.online.append(sale.id)

    @precondition(lambda self: self.sales)
    @rule(data=st.data())
    def refund_some(self, data):
        from sales.models import Sale

        sale = db.session.get(Sale, data.draw(st.sampled_from(self.sales)))
        open_lines = {k: v for k, v in refundable_quantities(sale).items() if v > 0}
        if not open_lines:
            return
        line_id = data.draw(st.sampled_from(sorted(open_lines)))
        qty = data.draw(st.integers(1, open_lines[line_id]))
        try:
            refund(self.shop, sale, [(line_id, qty)])
        except DomainError:  # e.g. a refund worth Rp 0 of a free line
            db.session.rollback()

    @precondition(lambda self: self.online)
    @rule(data=st.data())
    def deliver(self, data):
        from sales.models import Sale

        ledger.release_online_hold(db.session.get(Sale, data.draw(st.sampled_from(self.online))))
        db.session.commit()

    @rule(pay=st.booleans())
    def payout_run(self, pay):
        s = self.shop
        try:
            run = services.create_run(s.manager, s.sentra, cutoff_date=s.sentra.local_date(),
                                      client_key=str(uuid.uuid4()))
        except ValidationFailed as error:  # nothing payable: refused, nothing written
            assert "Tidak ada saldo" in error.errors["cutoff_date"]
            db.session.rollback()
            return
        if pay:
            services.approve_run(s.manager2, run)
            services.mark_run_paid(s.manager2, run, references={ln.id: "REF" for ln in run.lines})
            services.mark_run_paid(s.manager2, run)  # twice pays once
        else:
            services.cancel_run(s.manager, run, reason="uji")
        db.session.commit()

    @invariant()
    def ledger_balances(self):
        if not hasattr(self, "shop"):
            return
        assert ledger.ledger_total() == 0
        unbalanced = db.session.execute(
            sa.select(LedgerEntry.transaction_id).group_by(LedgerEntry.transaction_id)
            .having(sa.func.sum(LedgerEntry.amount) != 0)).all()
        assert unbalanced == []

    @invariant()
    def lines_split_exactly_to_their_owners(self):
        if not hasattr(self, "shop"):
            return
        lines = db.session.scalars(sa.select(SaleLine)).all()
        refunded = dict(db.session.execute(
            sa.select(RefundLine.sale_line_id, sa.func.sum(RefundLine.amount)).group_by(RefundLine.sale_line_id)).all())
        by_line = defaultdict(list)
        for row in db.session.execute(
                sa.select(LedgerEntry.sale_line_id, LedgerEntry.component, LedgerEntry.maker_id, LedgerEntry.amount,
                          LedgerTransaction.kind).join(LedgerTransaction)
                .where(LedgerEntry.sale_line_id.is_not(None))):
            by_line[row[0]].append(row[1:])
        earned = defaultdict(int)
        for line in lines:
            entries = by_line[line.id]
            sale_entries = [e for e in entries if e[3] == TransactionKind.SALE]
            assert -sum(e[2] for e in sale_entries) == line.line_total
            assert sum(e[2] for e in entries if e[3] == TransactionKind.REFUND) == refunded.get(line.id, 0)
            owners = {line.maker_id} if line.maker_id else set(self.weights)
            assert {e[1] for e in entries if e[0] == Component.MAKER} <= owners
            split = expected_split(line, self.weights)
            got = defaultdict(int)
            for component, maker_id, amount, _kind in sale_entries:
                if component == Component.MAKER:
                    got[maker_id] -= amount
            assert {k: v for k, v in got.items() if v} == {k: v for k, v in split.items() if v}
            for maker_id, amount in split.items():
                earned[maker_id] += amount
            # no part is ever reversed beyond what it received
            net = defaultdict(int)
            for component, maker_id, amount, _kind in entries:
                net[(component, maker_id)] -= amount
            assert all(v >= 0 for v in net.values())
            if refunded.get(line.id, 0) == line.line_total:
                assert all(v == 0 for v in net.values())
        paid = dict(db.session.execute(
            sa.select(PayoutLine.maker_id, sa.func.sum(PayoutLine.amount))
            .where(PayoutLine.status == LineStatus.PAID).group_by(PayoutLine.maker_id)).all())
        for maker_id in {*earned, *paid}:
            balance = ledger.maker_balance(maker_id)
            assert balance.earned == earned.get(maker_id, 0)
            assert balance.paid == paid.get(maker_id, 0)
            assert balance.total == balance.earned - balance.refunded - balance.paid
        # each maker entry paid at most once, and paid lines equal the entries they link
        dupes = db.session.execute(
            sa.select(PayoutItem.entry_id).where(PayoutItem.live_marker.is_not(None))
            .group_by(PayoutItem.entry_id).having(sa.func.count() > 1)).all()
        assert dupes == []
        for line in db.session.scalars(sa.select(PayoutLine).where(PayoutLine.status == LineStatus.PAID)):
            assert line.amount == -sum(item.entry.amount for item in line.items if item.live_marker)

    def teardown(self):
        db.session.rollback()


LedgerMachine.TestCase.settings = settings(max_examples=25, stateful_step_count=10, deadline=None,
                                           suppress_health_check=[HealthCheck.too_slow])
TestLedgerMachine = LedgerMachine.TestCase
