"""Counter throughput: one counter sale through `POST /pos/api/sales` against a floor that writes the
same rows by hand (bare sqlite3 / bare psycopg), as a ratio; warm receipt PDFs per second. Prints;
asserts nothing but that every sale succeeded.

    .venv/bin/python bench/bench_pos.py [--sales 200] [--rounds 10] [--receipts 20] [--db URL|postgresql]

Runs on a throw-away SQLite file by default (schema from the models); `--db postgresql` starts a
throw-away PostgreSQL 15 (scripts/pg_server.py), `--db postgresql+psycopg://...` uses that one.

The sale: two goods from two makers (one line with a material cost), paid in cash with rounding.
The floor does, in one transaction, what that sale writes and reads:

- reads: the idempotency key (no sale yet), the two products;
- writes: the shift-row lock, the sale-number counter (upsert), the sale, 2 lines, 1 payment,
  2 conditional stock updates, 2 stock movements, the ledger transaction, its 6 entries, the
  audit entry — 18 writes, then COMMIT;
- with the ledger account ids already known (the app caches them per process too).

API and floor run interleaved (`--rounds` rounds of `--sales / --rounds` each), and the ratio is
the median over rounds of floor time / API time (= API throughput ÷ floor throughput).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

#: (quantity, price, maker share bps, material cost per unit) of the two lines
LINES = ((1, 150_050, 8_000, 0), (2, 75_000, 7_000, 10_000))
ROUNDING_UNIT = 100


class Floor:
    """One counter sale written by hand on a bare DB-API connection (same rows as the app writes)."""

    def __init__(self, url: str, ids: dict) -> None:
        self.ids = ids
        self.dialect = url.split(":", 1)[0].split("+")[0]
        if self.dialect == "sqlite":
            import sqlite3

            self.conn = sqlite3.connect(url.split("///", 1)[1], isolation_level=None)
            for pragma in ("PRAGMA foreign_keys=ON", "PRAGMA busy_timeout=30000", "PRAGMA journal_mode=WAL"):
                self.conn.execute(pragma)
        else:
            import psycopg

            self.conn = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"))
        self.tz = ZoneInfo(ids["timezone"])

    def q(self, sql: str) -> str:
        return sql.replace("%s", "?") if self.dialect == "sqlite" else sql

    def ts(self, value: datetime):
        # SQLAlchemy stores SQLite DATETIME as this text; PostgreSQL takes the aware datetime.
        return value.strftime("%Y-%m-%d %H:%M:%S.%f") if self.dialect == "sqlite" else value

    def json(self, value: dict):
        if self.dialect == "sqlite":
            return json.dumps(value)
        from psycopg.types.json import Json

        return Json(value)

    def sale(self) -> None:
        ids, q = self.ids, self.q
        key = str(uuid.uuid4())
        now = datetime.now(UTC)
        day: date = now.astimezone(self.tz).date()
        cur = self.conn.cursor()
        if self.dialect == "sqlite":
            cur.execute("BEGIN IMMEDIATE")
        # reads: the key, the products
        cur.execute(q("SELECT id FROM sales WHERE client_key = %s"), (key,))
        assert cur.fetchone() is None
        cur.execute(q("SELECT id, sentra_id, name, sku, category, price, maker_id, group_id, split_mode, "
                      "maker_share_bps, maker_price, material_cost, kind, is_active FROM products "
                      "WHERE id IN (%s, %s)"), ids["products"])
        products = {row[0]: row for row in cur.fetchall()}
        # writes
        cur.execute(q("UPDATE pos_shifts SET status = 'open' WHERE id = %s AND status = 'open'"), (ids["shift"],))
        cur.execute(q("INSERT INTO sale_number_counters (sentra_id, business_date, last_number) VALUES (%s, %s, 1) "
                      "ON CONFLICT (sentra_id, business_date) DO UPDATE SET last_number = "
                      "sale_number_counters.last_number + 1 RETURNING last_number"), (ids["sentra"], day))
        number = f"BEN-{day:%Y%m%d}-{cur.fetchone()[0]:04d}"
        lines, subtotal = [], 0
        for product_id, (qty, price, bps, material) in zip(ids["products"], LINES, strict=True):
            p = products[product_id]
            lines.append((product_id, p[2], p[3], p[4], qty, price, qty * price, p[6], bps, material))
            subtotal += qty * price
        due = (subtotal + ROUNDING_UNIT // 2) // ROUNDING_UNIT * ROUNDING_UNIT
        rounding = due - subtotal
        cur.execute(q("INSERT INTO sales (number, sentra_id, channel, status, cashier_id, shift_id, business_date, "
                      "client_key, subtotal, discount_total, total, rounding, receipt_token, created_at) "
                      "VALUES (%s, %s, 'pos', 'completed', %s, %s, %s, %s, %s, 0, %s, %s, %s, %s) RETURNING id"),
                    (number, ids["sentra"], ids["kasir"], ids["shift"], day, key, subtotal, subtotal, rounding,
                     uuid.uuid4().hex, self.ts(now)))
        sale_id = cur.fetchone()[0]
        line_ids = []
        for ln in lines:
            cur.execute(q("INSERT INTO sale_lines (sale_id, product_id, product_name, sku, category, "
                          "is_stock_tracked, quantity, unit_price, discount, line_total, maker_id, split_mode, "
                          "maker_share_bps, maker_price, material_cost) VALUES "
                          "(%s, %s, %s, %s, %s, true, %s, %s, 0, %s, %s, 'percent', %s, 0, %s) RETURNING id"),
                        (sale_id, *ln))
            line_ids.append(cur.fetchone()[0])
        cur.execute(q("INSERT INTO payments (sale_id, method, amount, tendered, change, reference) "
                      "VALUES (%s, 'cash', %s, %s, %s, '')"), (sale_id, due, 400_000, 400_000 - due))
        for product_id, ln in zip(ids["products"], lines, strict=True):
            cur.execute(q("UPDATE stock_levels SET qty = qty - %s WHERE product_id = %s AND sentra_id = %s "
                          "AND qty >= %s"), (ln[4], product_id, ids["sentra"], ln[4]))
            assert cur.rowcount == 1
        cur.executemany(q("INSERT INTO stock_movements (product_id, sentra_id, kind, qty_delta, reason, reference, "
                          "is_discrepancy, user_id, client_key, created_at) "
                          "VALUES (%s, %s, 'sale', %s, %s, %s, false, %s, %s, %s)"),
                        [(product_id, ids["sentra"], -ln[4], number, f"sale:{sale_id}", ids["kasir"], key,
                          self.ts(now)) for product_id, ln in zip(ids["products"], lines, strict=True)])
        cur.execute(q("INSERT INTO ledger_transactions (kind, reference, client_key, actor_id, sentra_id, "
                      "business_date, sale_id, created_at) VALUES ('sale', %s, %s, %s, %s, %s, %s, %s) RETURNING id"),
                    (f"sale:{number}", f"sale:{sale_id}", ids["kasir"], ids["sentra"], day, sale_id, self.ts(now)))
        txn_id = cur.fetchone()[0]
        accounts, hold = ids["accounts"], self.ts(now + timedelta(days=ids["hold_days"]))
        entries = []
        for line_id, ln in zip(line_ids, lines, strict=True):
            material = min(ln[9] * ln[4], ln[6])
            maker = (ln[6] - material) * ln[8] // 10_000  # the app rounds half up; same arithmetic cost
            if material:
                entries.append((accounts["material"], -material, "material", None, line_id, None))
            entries.append((accounts["revenue"], -(ln[6] - material - maker), "sentra", None, line_id, None))
            entries.append((accounts[f"maker{ln[7]}"], -maker, "maker", ln[7], line_id, hold))
        entries.append((accounts["cash"], due, "tender", None, None, None))
        if rounding:
            entries.append((accounts["rounding"], -rounding, "rounding", None, None, None))
        cur.executemany(q("INSERT INTO ledger_entries (transaction_id, account_id, amount, component, sentra_id, "
                          "maker_id, sale_id, sale_line_id, available_at, created_at) "
                          "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"),
                        [(txn_id, a, amount, c, ids["sentra"], m, sale_id, line, at, self.ts(now))
                         for a, amount, c, m, line, at in entries])
        after = {"number": number, "channel": "pos", "total": subtotal, "rounding": rounding, "discount_total": 0,
                 "lines": [{"sku": ln[2], "qty": ln[4], "unit_price": ln[5], "discount": 0} for ln in lines],
                 "payments": [{"method": "cash", "amount": due, "reference": ""}]}
        cur.execute(q("INSERT INTO audit_entries (created_at, actor_id, action, entity_type, entity_id, sentra_id, "
                      "after) VALUES (%s, %s, 'sale.recorded', 'Sale', %s, %s, %s)"),
                    (self.ts(now), ids["kasir"], str(sale_id), ids["sentra"], self.json(after)))
        self.conn.commit() if self.dialect != "sqlite" else cur.execute("COMMIT")

    def close(self) -> None:
        self.conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sales", type=int, default=200, help="sales on each side (API and floor)")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--receipts", type=int, default=20)
    parser.add_argument("--db", default=None,
                        help="database URL, or 'postgresql' for a throw-away server (default: a temporary SQLite file)")
    args = parser.parse_args()
    if args.db == "postgresql":
        from scripts.pg_server import running_postgres

        with running_postgres() as server:
            args.db = server.url
            run(args)
    else:
        run(args)


def run(args: argparse.Namespace) -> None:

    import sqlalchemy as sa

    from accounts.models import Role, User
    from app import create_app
    from config import TestConfig
    from core.extensions import db
    from inventory.models import MovementKind, Product
    from inventory.stock import move_stock
    from makers.models import Maker
    from payouts.models import LedgerAccount
    from pos.models import Shift
    from sentras.models import Sentra
    from tests.conftest import csrf_token, login

    url = args.db or f"sqlite:///{tempfile.mkdtemp(prefix='bench-pos-')}/bench.db"
    config = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
    app = create_app({**config, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        db.drop_all()
        db.create_all()
        sentra = Sentra(code="BEN", name="Sentra Bench", balai="Balai", city="Kota", province="Prov")
        kasir = User(name="Kasir Bench", role=Role.KASIR, email="bench@sentra.test")
        kasir.sentras = [sentra]
        makers = [Maker(sentra=sentra, name=f"Pembuat {i}", public_name=f"Bu Bench {i}", cluster="disabilitas",
                        program="atensi") for i in (1, 2)]
        products = [Product(sentra=sentra, sku=f"BEN-{i}", barcode=f"200000000999{i}", name=f"Batik Bench {i}",
                            category="Batik", price=price, maker=maker, maker_share_bps=bps, material_cost=material)
                    for i, ((_qty, price, bps, material), maker) in enumerate(zip(LINES, makers, strict=True))]
        db.session.add_all([sentra, kasir, *makers, *products])
        db.session.flush()
        for product in products:
            move_stock(None, product, sentra.id, MovementKind.INTAKE, args.sales * 6 + 20,
                       client_key=f"bench-intake-{product.id}")
        shift = Shift(sentra_id=sentra.id, cashier_id=kasir.id, opening_float=0, open_marker=1)
        db.session.add(shift)
        db.session.commit()
        ids = {"sentra": sentra.id, "kasir": kasir.id, "shift": shift.id, "products": [p.id for p in products],
               "makers": [m.id for m in makers], "timezone": sentra.timezone, "hold_days": sentra.hold_days}
        login_id = kasir.get_id()

    # Requests run outside the set-up's app context, each in its own (as in production).
    client = app.test_client()
    login(client, type("LoginAs", (), {"get_id": lambda self: login_id})())
    token = csrf_token(client)
    subtotal = sum(qty * price for qty, price, _bps, _material in LINES)
    due = (subtotal + ROUNDING_UNIT // 2) // ROUNDING_UNIT * ROUNDING_UNIT
    body = {"shift_id": ids["shift"],
            "lines": [{"product_id": pid, "quantity": qty} for pid, (qty, *_rest) in zip(ids["products"], LINES,
                                                                                        strict=True)],
            "payments": [{"method": "cash", "amount": due, "tendered": 400_000}]}

    def sale() -> dict:
        response = client.post("/pos/api/sales", json=body,
                               headers={"Idempotency-Key": str(uuid.uuid4()), "X-CSRFToken": token})
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    first = sale()  # warm-up (imports, caches, the ledger accounts)
    with app.app_context():
        keys = {"material": f"materials_recovered:s{ids['sentra']}", "revenue": f"sentra_revenue:s{ids['sentra']}",
                "cash": f"sentra_cash:s{ids['sentra']}", "rounding": f"rounding:s{ids['sentra']}",
                **{f"maker{m}": f"maker_payable:m{m}" for m in ids["makers"]}}
        found = dict(db.session.execute(sa.select(LedgerAccount.key, LedgerAccount.id)
                                        .where(LedgerAccount.key.in_(keys.values()))).all())
        ids["accounts"] = {name: found[key] for name, key in keys.items()}
    floor = Floor(url, ids)
    for _ in range(5):
        sale()
        floor.sale()

    per_round = max(1, args.sales // args.rounds)
    api_times, floor_times, ratios = [], [], []
    for _ in range(args.rounds):
        start = time.perf_counter()
        for _ in range(per_round):
            sale()
        api = (time.perf_counter() - start) / per_round
        start = time.perf_counter()
        for _ in range(per_round):
            floor.sale()
        bare = (time.perf_counter() - start) / per_round
        api_times.append(api)
        floor_times.append(bare)
        ratios.append(bare / api)
    floor.close()
    with app.app_context():
        from ops.integrity import verify

        problems = verify()  # the floor's rows and the app's both keep the books whole
        assert problems == [], problems[:5]

    pdf_seconds = pdf_rate = 0.0
    if args.receipts:
        receipt_url = first["receipt_pdf_url"]
        client.get(receipt_url)  # warm WeasyPrint
        start = time.perf_counter()
        for _ in range(args.receipts):
            response = client.get(receipt_url)
            assert response.status_code == 200
        pdf_seconds = time.perf_counter() - start
        pdf_rate = args.receipts / pdf_seconds

    api_ms, floor_ms = statistics.median(api_times) * 1000, statistics.median(floor_times) * 1000
    print(f"database: {url.split('://')[0]}; {args.rounds} rounds × {per_round} sales each side, interleaved")
    print(f"sale through POST /pos/api/sales:  {api_ms:8.2f} ms  ({1000 / api_ms:7.1f} /s, median of rounds)")
    print(f"floor, same rows by bare {'sqlite3' if floor.dialect == 'sqlite' else 'psycopg'}: "
          f"{floor_ms:8.2f} ms  ({1000 / floor_ms:7.1f} /s)")
    print(f"ratio API / floor (median):        {statistics.median(ratios):8.3f}  "
          f"(rounds: {min(ratios):.3f} – {max(ratios):.3f})")
    print("books afterwards (ops.integrity.verify): 0 problems")
    if args.receipts:
        print(f"80 mm receipt PDFs (warm):         {pdf_rate:8.1f} /s  ({args.receipts} in {pdf_seconds:.2f} s)")


if __name__ == "__main__":
    main()
