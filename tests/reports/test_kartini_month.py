"""A Kartini-Temanggung-sized month replayed through record_sale / refund_sale / a payout run,
with every report figure checked against expectations computed here, independently."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
import time_machine

from core.extensions import db
from inventory.models import SplitMode
from makers.models import Cluster, PayoutMethod, Program
from payouts import ledger, services
from payouts.models import LineStatus
from pos.models import VisitorTally
from reports.services import GROUP_BUCKET, build_report
from sales.models import Channel
from tests.factories import MakerFactory
from tests.factories.payouts import group, product, refund, sell, shop

WIB = timedelta(hours=7)
MONTH_START, MONTH_END = date(2026, 10, 1), date(2026, 10, 31)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A local (WIB) time in October 2026, as aware UTC."""
    return datetime(2026, 10, day, hour, minute, tzinfo=UTC) - WIB


def split(price, qty, discount, mode, bps, maker_price, material):
    """The documented rule, written out again: material first, then percent or fixed price."""
    total = price * qty - discount
    mat = min(material * qty, total)
    rest = total - mat
    maker = (rest * bps + 5_000) // 10_000 if mode == SplitMode.PERCENT else min(maker_price * qty, rest)
    return total, mat, maker, rest - maker


def members_split(amount, weights):
    parts = [amount * w // sum(weights) for w in weights]
    remainders = [amount * w % sum(weights) for w in weights]
    for i in sorted(range(len(weights)), key=lambda i: (-remainders[i], i))[: amount - sum(parts)]:
        parts[i] += 1
    return parts


def test_kartini_temanggung_month():
    with time_machine.travel(at(1, 7), tick=False):
        s = shop(code="TMG", hold_days=7, name="SKA Kartini Temanggung")
        makers = {
            "sri": MakerFactory(sentra=s.sentra, name="Sri", cluster=Cluster.DISABILITAS, program=Program.ATENSI),
            "budi": MakerFactory(sentra=s.sentra, name="Budi", cluster=Cluster.DISABILITAS, program=Program.ATENSI,
                                 payout_method=PayoutMethod.BANK, bank_name="BRI", account_number="123"),
            "adi": MakerFactory(sentra=s.sentra, name="Adi", cluster=Cluster.ANAK, program=Program.PKH,
                                is_minor=True, guardian_name="Bu Rahayu"),
            "rina": MakerFactory(sentra=s.sentra, name="Rina", cluster=Cluster.NAPZA, program=Program.PROKUS),
        }
        weights = [2, 1, 1]
        kube, members = group(s.sentra, weights, makers=[
            MakerFactory(sentra=s.sentra, name=f"Anggota {n}", cluster=Cluster.LANSIA, program=Program.KUBE)
            for n in ("E", "F", "G")])
        members = sorted(members, key=lambda m: m.id)
        spec = [  # key, owner, price, mode, bps, maker_price, material, category, pick weight
            ("kain", "sri", 430_000, SplitMode.PERCENT, 7_500, 0, 60_000, "Batik", 35),
            ("selendang", "budi", 250_000, SplitMode.PERCENT, 8_000, 0, 40_000, "Batik", 20),
            ("taplak", "adi", 300_000, SplitMode.FIXED, 0, 200_000, 30_000, "Batik", 20),
            ("masker", "rina", 45_000, SplitMode.PERCENT, 7_000, 0, 5_000, "Aksesori", 5),
            ("kube", None, 480_000, SplitMode.PERCENT, 7_000, 0, 70_000, "Batik", 20),
        ]
        products = {}
        for k, owner, price, mode, bps, maker_price, material, category, _w in spec:
            products[k] = product(s.sentra, maker=makers[owner] if owner else None, group=None if owner else kube,
                                  price=price, mode=mode, bps=bps, maker_price=maker_price, material=material,
                                  category=category, name=f"Batik Ciprat {k}", stock=200)
        db.session.add_all([VisitorTally(sentra_id=s.sentra.id, business_date=date(2026, 10, d),
                                         count=56 + (d % 3)) for d in range(1, 31)])
        db.session.commit()
    visitors = sum(56 + (d % 3) for d in range(1, 31))
    assert visitors == 1_710

    rng = random.Random(2026)
    expected = defaultdict(int)
    by_channel = defaultdict(int)
    by_category = defaultdict(int)
    by_cluster = defaultdict(int)
    income = defaultdict(int)  # maker id → net share
    payable_at_run = defaultdict(int)
    run_time = at(31, 16)
    sales = []
    pieces = 0
    day = 1
    while pieces < 190:
        picked = rng.choices(spec, weights=[x[-1] for x in spec])[0]
        k, _o, price, mode, bps, maker_price, material, category, _w = picked
        qty = min(rng.choice([1, 1, 1, 2]), 190 - pieces)
        discount = rng.choice([0, 0, 0, 10_000])
        channel = Channel.ONLINE if rng.random() < 0.1 else Channel.POS
        when = at(day, 9 + len(sales) % 7, len(sales) % 60)
        with time_machine.travel(when, tick=False):
            sale = sell(s, [(products[k], qty, discount)], channel=channel)
        sales.append((sale, k, when, channel))
        pieces += qty
        day = day % 30 + 1 if len(sales) % 5 == 0 else day
        total, mat, maker, sentra_share = split(price, qty, discount, mode, bps, maker_price, material)
        owner = dict((x[0], x[1]) for x in spec)[k]
        shares = ({makers[owner].id: maker} if owner else
                  dict(zip([m.id for m in members], members_split(maker, weights), strict=True)))
        refunded = len(sales) % 23 == 0  # a handful of whole lines come back the next day
        sign_sets = [(1, when)] + ([(-1, when + timedelta(days=1))] if refunded else [])
        if channel == Channel.ONLINE:
            with time_machine.travel(when + timedelta(hours=30), tick=False):
                ledger.release_online_hold(sale)
                db.session.commit()
            available = when + timedelta(hours=30)
        else:
            available = when + timedelta(days=7)
        for sign, _t in sign_sets:
            expected["gross_sales" if sign > 0 else "refunds"] += total
            expected["material"] += sign * mat
            expected["maker_share"] += sign * maker
            expected["gross_profit"] += sign * sentra_share
            expected["items"] += sign * qty
            by_channel[str(channel)] += sign * total
            by_category[category] += sign * total
            by_cluster[(makers[owner].cluster.label if owner else GROUP_BUCKET)] += sign * total
            for maker_id, share in shares.items():
                income[maker_id] += sign * share
                if available <= run_time and not refunded:
                    payable_at_run[maker_id] += share
        if refunded:
            with time_machine.travel(when + timedelta(days=1), tick=False):
                refund(s, sale, [(sale.lines[0].id, qty)])
    assert pieces == 190
    refunds_made = sum(1 for i in range(1, len(sales) + 1) if i % 23 == 0)
    assert refunds_made >= 3

    with time_machine.travel(run_time, tick=False):
        run = services.create_run(s.manager, s.sentra, cutoff_date=MONTH_END, client_key="kartini-oktober")
        services.approve_run(s.manager2, run)
        services.mark_run_paid(s.manager2, run, references={ln.id: f"BRI-{ln.id}" for ln in run.lines})
        db.session.commit()
    paid = {ln.maker_id: ln.amount for ln in run.lines if ln.status == LineStatus.PAID}
    assert paid == {m: v for m, v in payable_at_run.items() if v > 0}

    with time_machine.travel(at(31, 18), tick=False):
        month = build_report(start=MONTH_START, end=MONTH_END, dimension="month", sentra_ids=[s.sentra.id])
        t = month.total
        assert (t.gross_sales, t.refunds, t.material, t.maker_share, t.gross_profit, t.items) == (
            expected["gross_sales"], expected["refunds"], expected["material"], expected["maker_share"],
            expected["gross_profit"], expected["items"])
        assert t.omset == expected["gross_sales"] - expected["refunds"]
        assert t.omset == t.material + t.maker_share + t.gross_profit
        print(f"omset {t.omset:,} gross profit {t.gross_profit:,} items {t.items}")
        assert 60_000_000 <= t.omset <= 75_000_000, t.omset  # "omset Rp 67 juta"
        assert t.sales_count == len(sales) and t.average_basket == expected["gross_sales"] // len(sales)
        assert month.visitors == visitors and month.payouts_made == sum(paid.values())
        assert [r.label for r in month.rows] == ["10/2026"]
        # what is still owed: everything earned (net) minus what was paid
        assert month.outstanding + month.clawback == sum(income.values()) - sum(paid.values())

        channel = build_report(start=MONTH_START, end=MONTH_END, dimension="channel", sentra_ids=[s.sentra.id])
        assert {r.key: r.omset for r in channel.rows} == {k: v for k, v in by_channel.items() if v or k == "pos"}
        category = build_report(start=MONTH_START, end=MONTH_END, dimension="category", sentra_ids=None)
        assert {r.key: r.omset for r in category.rows} == dict(by_category)
        cluster = build_report(start=MONTH_START, end=MONTH_END, dimension="cluster", sentra_ids=[s.sentra.id])
        assert {r.label: r.omset for r in cluster.rows} == dict(by_cluster)
        by_maker = build_report(start=MONTH_START, end=MONTH_END, dimension="maker", sentra_ids=[s.sentra.id])
        assert f"{kube.name} (kelompok)" in [r.label for r in by_maker.rows]
        assert sum(r.gross_profit for r in by_maker.rows) == expected["gross_profit"]
        assert {i.maker_id: i.income for i in month.incomes} == {m: v for m, v in income.items()}
        daily = build_report(start=MONTH_START, end=MONTH_END, dimension="day", sentra_ids=[s.sentra.id])
        weekly = build_report(start=MONTH_START, end=MONTH_END, dimension="week", sentra_ids=[s.sentra.id])
        for report in (daily, weekly):
            assert sum(r.omset for r in report.rows) == t.omset
            assert sum(r.visitors or 0 for r in report.rows) == visitors
        assert len([r for r in daily.rows if r.gross_sales]) == 30
        assert daily.rows[-1].label == "31-10-2026" and daily.rows[-1].payouts == sum(paid.values())

        # the ledger still balances and every maker's balance is earnings − refunds − payouts
        assert ledger.ledger_total() == 0
        for maker_id, net in income.items():
            balance = ledger.maker_balance(maker_id)
            assert balance.earned - balance.refunded == net
            assert balance.total == net - paid.get(maker_id, 0)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(VisitorTally)) == 30
