"""Through the real server: gunicorn (3 workers) + PostgreSQL (or a SQLite file) on 127.0.0.1, over HTTP.

- counters selling at once through `POST /pos/api/sales` (sale + stock + ledger in one
  transaction): sales per second, median and p95 latency;
- catalogue and search pages with many published products: median and p95 latency;
- `flask ledger verify` (ops.integrity.verify) over the data just written: seconds.
Prints; asserts only that every request succeeded and the books check out.

    .venv/bin/python bench/bench_serve.py     # small: 8 counters × 25 sales, 2,000 products
    .venv/bin/python bench/bench_serve.py --counters 20 --sales 100 --products 10000 --requests 100  # full
    .venv/bin/python bench/bench_serve.py --db sqlite --counters 12 --sales 25   # one Sentra's laptop

`--db sqlite`: the embedded set-up, one SQLite file (WAL) built by the migrations, shared by the
gunicorn workers; every write transaction takes the file's write lock, so the counters' sales
queue on it whatever their Sentra.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


@contextmanager
def sqlite_stack() -> Iterator[object]:
    """A SQLite file with the schema the migrations build, and a Flask app on it (as `running_stack`)."""
    from app import create_app
    from config import TestConfig
    from tests.ops.conftest import SCHEMA_COMMAND, PgStack, _base_env

    workdir = Path(tempfile.mkdtemp(prefix="sentra-bench-sqlite-"))
    url = f"sqlite:///{workdir / 'sentra.db'}"
    try:
        result = subprocess.run(SCHEMA_COMMAND, cwd=ROOT, env=_base_env(workdir, url), capture_output=True,
                                text=True, timeout=120)
        assert result.returncode == 0, result.stderr[-3000:]
        config = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
        app = create_app({**config, "SQLALCHEMY_DATABASE_URI": url, "UPLOAD_DIR": str(workdir / "uploads")})
        yield PgStack(None, url, url, app, workdir)  # type: ignore[arg-type]
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counters", type=int, default=8)
    parser.add_argument("--sales", type=int, default=25, help="sales per counter")
    parser.add_argument("--products", type=int, default=2_000, help="published products in the catalogue")
    parser.add_argument("--requests", type=int, default=30, help="requests per catalogue case")
    parser.add_argument("--sentras", type=int, default=4, help="the counters are spread over this many Sentras")
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--db", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--no-catalogue", action="store_true", help="only the counters (and ledger verify)")
    args = parser.parse_args()

    import requests
    import sqlalchemy as sa
    from bench_catalogue import seed

    from accounts.models import Role
    from core.extensions import db
    from inventory.barcodes import ean13_from_number
    from ops.integrity import verify
    from tests.factories import TEST_PASSWORD, ProductFactory, SentraFactory, UserFactory
    from tests.factories.sales import stock_in
    from tests.ops.conftest import Counter, Gunicorn, running_stack

    database = "SQLite (one file, WAL)" if args.db == "sqlite" else "PostgreSQL"
    with (sqlite_stack() if args.db == "sqlite" else running_stack()) as stack:
        with stack.app.app_context():
            started = time.perf_counter()
            if not args.no_catalogue:
                seed(db, args.products)
                # The catalogue seed bulk-writes stock levels; give them their intake movements so the
                # books are whole and `verify` below checks real data.
                db.session.execute(sa.text(
                    "INSERT INTO stock_movements (product_id, sentra_id, kind, qty_delta, reason, reference, "
                    "is_discrepancy, created_at) SELECT product_id, sentra_id, 'intake', qty, 'bench seed', "
                    "'bench', false, CURRENT_TIMESTAMP FROM stock_levels WHERE qty <> 0"))
                db.session.commit()
                print(f"seeded {args.products:,} catalogue products in {time.perf_counter() - started:.1f} s")
            started = time.perf_counter()
            # Counters spread over several Sentras, as a national deployment would be (the sales of
            # one Sentra queue on its gap-free sale-number counter; see BENCHMARKS.md).
            shops: list[tuple[int, str, list[tuple[int, int]]]] = []  # (sentra id, kasir e-mail, products)
            sentras = [SentraFactory(code=f"SV{i}", hold_days=0) for i in range(args.sentras)]
            stock = {s.id: [] for s in sentras}
            for sentra in sentras:
                for price in (15_000, 27_500, 42_000, 99_900):
                    number = 900_000 + len(stock[sentra.id]) + 10 * sentra.id
                    product = ProductFactory(sentra=sentra, price=price, barcode=ean13_from_number(number),
                                             sku=f"SRV-{number}")
                    stock_in(product, args.counters * args.sales * 3 + 10)
                    stock[sentra.id].append((product.id, price))
            for i in range(args.counters):
                sentra = sentras[i % len(sentras)]
                shops.append((sentra.id, UserFactory(role=Role.KASIR, sentras=[sentra]).email, stock[sentra.id]))
            print(f"seeded {args.counters} counters at {args.sentras} Sentras in {time.perf_counter() - started:.1f} s",
                  flush=True)

        server = Gunicorn(stack, workers=args.workers)
        try:
            with ThreadPoolExecutor(max_workers=min(args.counters, 6)) as pool:
                counters = list(pool.map(
                    lambda shop: Counter(server.url, shop[1], TEST_PASSWORD).login().open_shift(shop[0]), shops))

            def sell(index: int) -> list[float]:
                counter = counters[index]
                times = []
                for n in range(args.sales):
                    products = shops[index][2]
                    product_id, price = products[(index + n) % len(products)]
                    begin = time.perf_counter()
                    answer = counter.sell(str(uuid.uuid4()), [{"product_id": product_id, "quantity": 1}],
                                          [{"method": "qris", "amount": price, "reference": f"QR-{index}-{n}"}])
                    times.append((time.perf_counter() - begin) * 1000)
                    assert answer.status_code == 201, answer.text[:300]
                return times

            started = time.perf_counter()
            with ThreadPoolExecutor(max_workers=args.counters) as pool:
                latencies = [t for batch in pool.map(sell, range(args.counters)) for t in batch]
            seconds = time.perf_counter() - started
            total = args.counters * args.sales
            print(f"\nPOS sales through gunicorn ({args.workers} workers) + {database}, "
                  f"{args.counters} counters at {args.sentras} Sentras at once:")
            print(f"  {total} sales in {seconds:.2f} s = {total / seconds:.1f} sales/s; "
                  f"latency median {statistics.median(latencies):.0f} ms, p95 {percentile(latencies, 0.95):.0f} ms")

            with stack.app.app_context():
                started = time.perf_counter()
                problems = verify()
                print(f"  flask ledger verify afterwards: {len(problems)} problems, "
                      f"{time.perf_counter() - started:.2f} s")
                assert problems == [], problems[:10]
            if args.no_catalogue:
                return

            cases = [
                ("home", "/"),
                ("catalogue page 1", "/katalog"),
                ("catalogue page 50", "/katalog?halaman=50"),
                ("filter category+province+stock", "/katalog?kategori=Tenun&provinsi=Bali&tersedia=1"),
                ("search name", "/katalog?q=selendang"),
                ("search no hits", "/katalog?q=tidakadaapapun"),
                ("product page", f"/produk/{max(1, args.products // 2)}"),
                ("health", "/health"),
            ]
            http = requests.Session()
            print(f"\nCatalogue through gunicorn, {args.products:,} products ({args.requests} requests each):")
            print(f"  {'request':<34} {'median ms':>10} {'p95 ms':>10}")
            for name, path in cases:
                http.get(server.url + path, timeout=60)  # warm
                times = []
                for _ in range(args.requests):
                    begin = time.perf_counter()
                    answer = http.get(server.url + path, timeout=60)
                    times.append((time.perf_counter() - begin) * 1000)
                    assert answer.status_code == 200, (path, answer.status_code)
                print(f"  {name:<34} {statistics.median(times):>10.1f} {percentile(times, 0.95):>10.1f}")
        except Exception:
            print(f"--- gunicorn log (tail) ---\n{server.log_tail(6000)}")
            raise
        finally:
            server.stop()



if __name__ == "__main__":
    main()
