"""Maker balances and a month report over many sale lines: the service path vs hand-written SQL.

    .venv/bin/python bench/bench_payouts.py                 # 1,000,000 lines, SQLite and PostgreSQL
    .venv/bin/python bench/bench_payouts.py --lines 50000 --db sqlite

Data are generated with bulk inserts (sales, lines, ledger postings as `record_sale` would write
them: material, Sentra and maker entries per line, one tender entry per sale). Prints timings and
the ratio service / SQL; asserts nothing. PostgreSQL is a throw-away server from
scripts/pg_server.py.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa

from core.db import UTCDateTime

MONTH_START = date(2026, 10, 1)
LINES_PER_SALE = 3
CHUNK_SALES = 20_000


def generate(db, n_lines: int, n_makers: int, seed: int = 7) -> None:
    from inventory.models import Product
    from makers.models import Maker
    from payouts.models import LedgerAccount, LedgerEntry, LedgerTransaction
    from sales.models import Sale, SaleLine
    from sentras.models import Sentra

    rng = random.Random(seed)
    session = db.session
    sentras = [Sentra(code=f"B{i}", name=f"Sentra Bench {i}", balai="Balai", city="Kota", province="Prov",
                      timezone="Asia/Jakarta", hold_days=7) for i in range(3)]
    session.add_all(sentras)
    session.flush()
    makers = [Maker(sentra_id=sentras[i % 3].id, name=f"Pembuat {i}", public_name=f"P{i}", cluster="disabilitas",
                    program="atensi") for i in range(n_makers)]
    session.add_all(makers)
    session.flush()
    products = [Product(sentra_id=m.sentra_id, sku=f"B-{m.id}", barcode=f"{290000000000 + m.id:013d}",
                        name=f"Batik {m.id}", category=rng.choice(["Batik", "Kuliner", "Kriya"]),
                        price=rng.randrange(20_000, 500_000, 1_000), maker_id=m.id, split_mode="percent",
                        maker_share_bps=8_000, material_cost=5_000) for m in makers]
    session.add_all(products)
    session.flush()
    accounts: dict[str, int] = {}
    account_rows = []

    def account(key, kind, sentra_id=None, maker_id=None, tender=""):
        accounts[key] = len(account_rows) + 1
        account_rows.append(dict(id=accounts[key], key=key, kind=kind, sentra_id=sentra_id, maker_id=maker_id,
                                 tender=tender, created_at=datetime(2026, 9, 1, tzinfo=UTC)))

    for s in sentras:
        account(f"rev{s.id}", "sentra_revenue", s.id)
        account(f"mat{s.id}", "materials_recovered", s.id)
        account(f"cash{s.id}", "sentra_cash", s.id, tender="cash")
    for m in makers:
        account(f"mp{m.id}", "maker_payable", maker_id=m.id)
    session.execute(sa.insert(LedgerAccount.__table__), account_rows)
    session.commit()
    by_sentra = {s.id: [p for p in products if p.sentra_id == s.id] for s in sentras}
    product_rows = {p.id: (p.sentra_id, p.maker_id, p.price, p.name, p.sku, p.category) for p in products}

    n_sales = max(n_lines // LINES_PER_SALE, 1)
    sale_id = line_id = txn_id = entry_id = 0
    for start in range(0, n_sales, CHUNK_SALES):
        sales, lines, txns, entries = [], [], [], []
        for _ in range(min(CHUNK_SALES, n_sales - start)):
            sale_id += 1
            txn_id += 1
            sentra = sentras[sale_id % 3]
            day = MONTH_START + timedelta(days=rng.randrange(31))
            created = datetime(day.year, day.month, day.day, 3, 0, tzinfo=UTC) + timedelta(seconds=sale_id % 30_000)
            total = 0
            for _l in range(LINES_PER_SALE):
                line_id += 1
                pid = rng.choice(by_sentra[sentra.id]).id
                sentra_id, maker_id, price, name, sku, category = product_rows[pid]
                qty = rng.choice((1, 1, 2))
                line_total = price * qty
                material = min(5_000 * qty, line_total)
                maker = ((line_total - material) * 8_000 + 5_000) // 10_000
                total += line_total
                lines.append(dict(id=line_id, sale_id=sale_id, product_id=pid, product_name=name, sku=sku,
                                  category=category, is_stock_tracked=True, quantity=qty, unit_price=price,
                                  discount=0, line_total=line_total, maker_id=maker_id, split_mode="percent",
                                  maker_share_bps=8_000, maker_price=0, material_cost=5_000))
                for acc, amount, component, maker_ref, available in (
                        (accounts[f"mat{sentra_id}"], -material, "material", None, None),
                        (accounts[f"rev{sentra_id}"], -(line_total - material - maker), "sentra", None, None),
                        (accounts[f"mp{maker_id}"], -maker, "maker", maker_id, created + timedelta(days=7))):
                    if amount:
                        entry_id += 1
                        entries.append(dict(id=entry_id, transaction_id=txn_id, account_id=acc, amount=amount,
                                            component=component, sentra_id=sentra_id, maker_id=maker_ref,
                                            sale_id=sale_id, sale_line_id=line_id, available_at=available,
                                            created_at=created))
            entry_id += 1
            entries.append(dict(id=entry_id, transaction_id=txn_id, account_id=accounts[f"cash{sentra.id}"],
                                amount=total, component="tender", sentra_id=sentra.id, maker_id=None, sale_id=sale_id,
                                sale_line_id=None, available_at=None, created_at=created))
            sales.append(dict(id=sale_id, number=f"{sentra.code}-{sale_id:09d}", sentra_id=sentra.id, channel="pos",
                              status="completed", business_date=day, client_key=f"bench-{sale_id}", subtotal=total,
                              discount_total=0, total=total, rounding=0, receipt_token=f"t{sale_id:042d}",
                              created_at=created))
            txns.append(dict(id=txn_id, kind="sale", reference=f"sale:{sale_id}", client_key=f"sale:{sale_id}",
                             sentra_id=sentra.id, business_date=day, sale_id=sale_id, created_at=created))
        for table, rows in ((Sale.__table__, sales), (SaleLine.__table__, lines),
                            (LedgerTransaction.__table__, txns), (LedgerEntry.__table__, entries)):
            bulk_insert(session, table.name, rows)
        session.commit()
        print(f"  … {min(start + CHUNK_SALES, n_sales) * LINES_PER_SALE:,} lines", flush=True)
    if db.engine.dialect.name == "postgresql":
        for table in ("sales", "sale_lines", "ledger_transactions", "ledger_entries"):
            session.execute(sa.text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                    f"(SELECT max(id) FROM {table}))"))
        session.commit()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.exec_driver_sql("VACUUM ANALYZE")
    else:
        session.execute(sa.text("ANALYZE"))
        session.commit()


def bulk_insert(session, table: str, rows: list[dict]) -> None:
    """COPY on PostgreSQL, executemany on SQLite: the fastest plain way each database offers."""
    cols = list(rows[0])
    raw = session.connection().connection.driver_connection
    if session.get_bind().dialect.name == "postgresql":
        # Generated rows are consistent by construction: skip the per-row foreign-key triggers
        # (the throw-away server runs us as a superuser; the setting lasts for this transaction).
        session.execute(sa.text("SET LOCAL session_replication_role = replica"))
        with raw.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([row[c] for c in cols])
        return

    def sqlite_value(value):
        # The same text SQLAlchemy's SQLite DateTime/Date types store.
        if isinstance(value, datetime):
            return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        if isinstance(value, date):
            return value.isoformat()
        return value

    raw.executemany(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                    [tuple(sqlite_value(row[c]) for c in cols) for row in rows])


BALANCES_SQL = """
SELECT e.maker_id,
       SUM(CASE WHEN e.available_at IS NOT NULL AND e.available_at <= :now THEN -e.amount ELSE 0 END) AS payable,
       SUM(CASE WHEN e.available_at IS NOT NULL AND e.available_at <= :now THEN 0 ELSE -e.amount END) AS held,
       SUM(CASE WHEN e.component = 'payout' THEN e.amount ELSE 0 END) AS paid,
       SUM(CASE WHEN e.component = 'maker' AND e.amount < 0 THEN -e.amount ELSE 0 END) AS earned,
       SUM(CASE WHEN e.component = 'maker' AND e.amount > 0 THEN e.amount ELSE 0 END) AS refunded
FROM ledger_entries e
WHERE e.maker_id IS NOT NULL
GROUP BY e.maker_id
"""

REPORT_SQL = [
    """SELECT s.business_date, SUM(l.line_total), SUM(l.quantity)
       FROM sale_lines l JOIN sales s ON s.id = l.sale_id
       WHERE s.business_date BETWEEN :start AND :end GROUP BY s.business_date""",
    """SELECT t.business_date, e.component, SUM(e.amount)
       FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.transaction_id
       WHERE t.business_date BETWEEN :start AND :end AND e.sale_line_id IS NOT NULL
         AND e.component IN ('material', 'maker', 'sentra')
       GROUP BY t.business_date, e.component""",
    """SELECT s.business_date, s.channel, COUNT(*) FROM sales s WHERE s.business_date BETWEEN :start AND :end
       GROUP BY s.business_date, s.channel""",
    """SELECT t.business_date, SUM(r.quantity), SUM(r.amount)
       FROM refund_lines r JOIN ledger_transactions t ON t.refund_id = r.refund_id
       WHERE t.business_date BETWEEN :start AND :end GROUP BY t.business_date""",
    """SELECT business_date, SUM(count) FROM visitor_tallies WHERE business_date BETWEEN :start AND :end
       GROUP BY business_date""",
    """SELECT t.business_date, SUM(e.amount)
       FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.transaction_id
       WHERE t.business_date BETWEEN :start AND :end AND e.component = 'payout' AND e.maker_id IS NOT NULL
       GROUP BY t.business_date""",
    """SELECT e.maker_id, SUM(e.amount)
       FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.transaction_id
       WHERE t.business_date BETWEEN :start AND :end AND e.component = 'maker' AND t.kind IN ('sale', 'refund')
       GROUP BY e.maker_id""",
    """SELECT maker_id, SUM(amount) FROM ledger_entries WHERE maker_id IS NOT NULL GROUP BY maker_id""",
]


def timed(fn, repeat: int = 3) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def measure(db, label: str) -> None:
    from payouts import ledger
    from reports.services import build_report

    now = datetime(2026, 11, 5, tzinfo=UTC)
    end = MONTH_START + timedelta(days=30)
    balances_sql = sa.text(BALANCES_SQL).bindparams(sa.bindparam("now", type_=UTCDateTime()))

    def service_balances():
        db.session.rollback()
        return ledger.all_maker_balances(now=now)

    def sql_balances():
        db.session.rollback()
        return db.session.execute(balances_sql, {"now": now}).all()

    def service_report():
        db.session.rollback()
        return build_report(start=MONTH_START, end=end, dimension="day", sentra_ids=None)

    def sql_report():
        db.session.rollback()
        return [db.session.execute(sa.text(q), {"start": MONTH_START, "end": end}).all() for q in REPORT_SQL]

    t_sb, balances = timed(service_balances)
    t_qb, raw = timed(sql_balances)
    same = ({m: (b.payable, b.held, b.paid, b.earned, b.refunded) for m, b in balances.items()}
            == {r[0]: tuple(int(v) for v in r[1:]) for r in raw})
    print(f"{label}: maker balances ({len(balances)} makers): service {t_sb:.3f}s, SQL {t_qb:.3f}s, "
          f"ratio {t_sb / t_qb:.2f} (same result: {'yes' if same else 'NO'})")
    t_sr, report = timed(service_report, repeat=2)
    t_qr, raw_report = timed(sql_report, repeat=2)
    same_total = report.total.gross_sales == sum(int(r[1]) for r in raw_report[0])
    print(f"{label}: month report by day ({len(report.rows)} rows, omset Rp {report.total.omset:,}): "
          f"service {t_sr:.3f}s, SQL {t_qr:.3f}s, ratio {t_sr / t_qr:.2f} "
          f"(same omset: {'yes' if same_total else 'NO'})")


@contextmanager
def app_for(url: str):
    from app import create_app
    from core.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True, "REQUEST_LOG": False})
    with app.app_context():
        db.create_all()
        yield db
        db.session.remove()


def run(url: str, label: str, n_lines: int, n_makers: int) -> None:
    with app_for(url) as db:
        t0 = time.perf_counter()
        print(f"{label}: generating {n_lines:,} sale lines …", flush=True)
        generate(db, n_lines, n_makers)
        print(f"{label}: generated in {time.perf_counter() - t0:.1f}s", flush=True)
        measure(db, label)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000, help="number of sale lines (default 1,000,000)")
    parser.add_argument("--makers", type=int, default=600)
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    args = parser.parse_args()
    if args.db in ("sqlite", "both"):
        with tempfile.TemporaryDirectory(prefix="bench-payouts-") as tmp:
            run(f"sqlite:///{tmp}/bench.db", "SQLite", args.lines, args.makers)
    if args.db in ("postgresql", "both"):
        from scripts.pg_server import running_postgres

        with running_postgres() as server:
            run(server.url, "PostgreSQL", args.lines, args.makers)


if __name__ == "__main__":
    main()
