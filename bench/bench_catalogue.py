"""Shop catalogue and search against hand-written floors doing the same work, SQLite and PostgreSQL.

- **Category page, filter page** (`--products`, 10,000 published products with a photo each): the
  real route through the test client (routing, queries, ORM, template) vs a floor = one
  hand-written SQL query (the page's rows with Sentra, stock, first photo and the total count) +
  the same template rendered with the same context (the filter choices are handed to the floor
  for free). Ratio = route throughput / floor throughput (goal ≥ 0.70).
- **Name search** at `--products` and `--search-products` (100,000): the shop's search
  (`search_catalogue`: the full-text index, the page's rows, photos and count) vs a bare LIKE scan
  over product names returning one page and the total (one statement). Ratio = LIKE time / search
  time (goal > 1: faster than the scan).
- Latency (median, p95) of each kind of shop request through the test client.

Interleaved (each round times the product path and its floor once, in turn), medians over the
rounds. Prints; asserts only that every request succeeded.

    .venv/bin/python bench/bench_catalogue.py [--products 10000] [--search-products 100000] \\
        [--requests 50] [--db sqlite|postgresql|both|URL]

Each database gets the real schema (the Alembic migrations: the search index and its triggers).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import NamedTuple

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

WORDS = ["Batik", "Tenun", "Tas", "Kopi", "Keripik", "Boneka", "Lampu", "Kipas", "Selendang", "Dompet", "Topi",
         "Sarung", "Gantungan", "Madu", "Sambal"]
COLOURS = ["Merah", "Biru", "Hijau", "Ciprat", "Lontar", "Pandan", "Bambu", "Sutra", "Flanel", "Kayu"]
CATEGORIES = ["Batik", "Tenun", "Kerajinan", "Kuliner", "Aksesori", "Suvenir"]
PROVINCES = [("Jawa Tengah", "Temanggung"), ("Jawa Barat", "Bekasi"), ("DKI Jakarta", "Jakarta"),
             ("Sulawesi Selatan", "Gowa"), ("Jawa Timur", "Malang"), ("Bali", "Denpasar")]
PER_PAGE = 24


def seed(db, n_products: int, photos: bool = False) -> None:
    """24 Sentras, 600 makers (every other one consenting to be named), `n_products` published
    products with stock; with `photos`, each product has one photo (tiny bytes) and thumbnail."""
    import sqlalchemy as sa

    from accounts.models import Role, User
    from core.files import StoredFile
    from inventory.models import Product, ProductPhoto, StockLevel
    from makers.models import Cluster, Consent, ConsentGiver, ConsentPurpose, Maker, Program
    from sentras.models import Sentra

    admin = User(name="Admin", role=Role.ADMIN, email="admin@bench.local")
    db.session.add(admin)
    sentras = []
    for i in range(24):
        province, city = PROVINCES[i % len(PROVINCES)]
        sentras.append(Sentra(code=f"B{i:02d}", name=f"Sentra Kreasi {city} {i}", balai=f"Balai {i}", city=city,
                              province=province))
    db.session.add_all(sentras)
    db.session.flush()
    makers = []
    for i in range(600):
        makers.append(Maker(sentra_id=sentras[i % len(sentras)].id, name=f"Pembuat {i}",
                            public_name=f"Bu Pembuat {i}", cluster=Cluster.DISABILITAS, program=Program.ATENSI))
    db.session.add_all(makers)
    db.session.flush()
    db.session.add_all(Consent(maker_id=m.id, purpose=ConsentPurpose.SHOP_NAME, given_by=ConsentGiver.MAKER,
                               given_by_name=m.name, recorded_by_id=admin.id) for m in makers[::2])
    db.session.flush()
    for start in range(0, n_products, 10_000):
        rows = []
        for i in range(start, min(n_products, start + 10_000)):
            maker = makers[i % len(makers)]
            rows.append({
                "sentra_id": maker.sentra_id, "sku": f"BN-{i:06d}", "barcode": f"{200000000000 + i:012d}0",
                "name": f"{WORDS[i % len(WORDS)]} {COLOURS[(i // 7) % len(COLOURS)]} {i}",
                "description": f"Karya penerima manfaat nomor {i}", "category": CATEGORIES[i % len(CATEGORIES)],
                "kind": "goods", "price": 10_000 + (i % 50) * 5_000, "maker_id": maker.id, "split_mode": "percent",
                "maker_share_bps": 8000, "maker_price": 0, "material_cost": 0, "is_published": True,
                "is_active": True,
            })
        db.session.execute(sa.insert(Product), rows)
    ids = db.session.execute(sa.select(Product.id, Product.sentra_id)).all()
    db.session.execute(sa.insert(StockLevel), [{"product_id": pid, "sentra_id": sid, "qty": pid % 7}
                                               for pid, sid in ids])
    if photos:
        files, product_photos = [], []
        for pid, _sid in ids:
            full, thumb = f"{pid:064x}", f"{pid + 10**12:064x}"
            files += [{"sha256": full, "content_type": "image/webp", "size": 4, "data": b"full"},
                      {"sha256": thumb, "content_type": "image/webp", "size": 5, "data": b"thumb"}]
            product_photos.append({"product_id": pid, "file_sha256": full, "thumb_sha256": thumb, "position": 0})
        db.session.execute(sa.insert(StoredFile), files)
        db.session.execute(sa.insert(ProductPhoto), product_photos)
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    else:
        with db.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")


# -- the floors ----------------------------------------------------------------------------------

#: one statement: the page's rows (Sentra, stock, total) and, for those 24 only, the first photo
FLOOR_PAGE = """
SELECT page.id, page.name, page.price, page.kind, page.sentra_name, page.province, page.qty, page.total,
       (SELECT ph.thumb_sha256 FROM product_photos ph WHERE ph.product_id = page.id
        ORDER BY ph.position LIMIT 1) AS thumb
FROM (SELECT p.id, p.name, p.price, p.kind, p.created_at, s.name AS sentra_name, s.province,
             coalesce(sl.qty, 0) AS qty, count(*) OVER () AS total
      FROM products p JOIN sentras s ON s.id = p.sentra_id
      LEFT JOIN stock_levels sl ON sl.product_id = p.id AND sl.sentra_id = p.sentra_id
      WHERE p.is_published AND p.is_active AND s.is_active {where}
      ORDER BY {order} LIMIT 24) page
ORDER BY {outer}
"""
FLOORS = {
    # (url, extra WHERE, parameters, ORDER BY inside, ORDER BY outside)
    "category page": ("/katalog?kategori=Tenun", "AND p.category = %s", ("Tenun",),
                      "p.created_at DESC, p.id DESC", "page.created_at DESC, page.id DESC"),
    "filter page": ("/katalog?kategori=Tenun&provinsi=Jawa+Barat&tersedia=1&harga_min=20rb&harga_max=200rb"
                    "&urut=harga_naik",
                    "AND p.category = %s AND s.province = %s AND (p.kind = 'service' OR sl.qty > 0) "
                    "AND p.price >= %s AND p.price <= %s", ("Tenun", "Jawa Barat", 20_000, 200_000),
                    "p.price ASC, p.id DESC", "page.price ASC, page.id DESC"),
}
#: the bare scan the search replaced (name only: less than the old search did), one page + total
LIKE_SCAN = ("SELECT p.id, p.name, p.price, p.kind, count(*) OVER () AS total FROM products p "
             "WHERE lower(p.name) LIKE %s ORDER BY p.created_at DESC, p.id DESC LIMIT 24")
#: (what the buyer typed, the LIKE pattern doing the closest thing)
SEARCHES = [("selendang", "%selendang%"), ("sel", "%sel%"), ("merah batik", "%batik merah%"),
            ("4321", "%4321%"), ("tidakadaapapun", "%tidakadaapapun%")]


def _sql(dialect: str, sql: str) -> str:
    return sql.replace("%s", "?") if dialect == "sqlite" else sql


def _page(items: list, total: int, page: int = 1) -> SimpleNamespace:
    pages = max(1, -(-total // PER_PAGE))
    return SimpleNamespace(items=items, total=total, page=page, pages=pages, has_prev=page > 1,
                           prev_num=page - 1, has_next=page < pages, next_num=page + 1, similar=False)


class Floor:
    """One hand-written statement on a bare DB-API cursor, then the route's template."""

    def __init__(self, app, db, case: str) -> None:
        from shop.services import SORTS, CatalogueFilters, filter_choices

        self.app = app
        self.url, where, self.params, order, outer = FLOORS[case]
        self.dialect = db.engine.dialect.name
        self.sql = _sql(self.dialect, FLOOR_PAGE.format(where=where, order=order, outer=outer))
        self.raw = db.engine.raw_connection()
        with app.test_request_context(self.url):
            from flask import request

            args = {k: v for k, v in request.args.items() if k != "halaman" and v}
            filters = CatalogueFilters(category=request.args.get("kategori", ""),
                                       province=request.args.get("provinsi", ""),
                                       in_stock=request.args.get("tersedia") == "1",
                                       sort=request.args.get("urut", "terbaru"))
            choices = filter_choices()
            # handed over as plain values: the floor does not pay for them
            self.context = {"filters": filters, "sorts": SORTS, "args": args, "choices": {
                "categories": list(choices["categories"]), "provinces": list(choices["provinces"]),
                "sentras": [SimpleNamespace(id=s.id, name=s.name) for s in choices["sentras"]]}}

    def __call__(self) -> str:
        from flask import render_template

        from shop.services import Card

        cursor = self.raw.cursor()
        cursor.execute(self.sql, self.params)
        rows = cursor.fetchall()
        cursor.close()
        items = [Card(r[0], r[1], r[2], r[3], r[4], r[5], r[6] if r[3] == "goods" else None, r[8]) for r in rows]
        with self.app.test_request_context(self.url):
            return render_template("shop/catalogue.html", pagination=_page(items, rows[0][7] if rows else 0),
                                   **self.context)


# -- measuring -----------------------------------------------------------------------------------

def timed(fn: Callable[[], object]) -> tuple[float, float]:
    """Wall-clock and this process's CPU seconds of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


class Medians(NamedTuple):
    ours_wall: float
    floor_wall: float
    ours_cpu: float
    floor_cpu: float


def interleaved(product: Callable[[], object], floor: Callable[[], object], rounds: int) -> Medians:
    """Median seconds of each, timed in turn (after one warm call each)."""
    product(), floor()
    ours, theirs = [], []
    for _ in range(rounds):
        ours.append(timed(product))
        theirs.append(timed(floor))
    return Medians(statistics.median(w for w, _c in ours), statistics.median(w for w, _c in theirs),
                   statistics.median(c for _w, c in ours), statistics.median(c for _w, c in theirs))


def cpu_note(m: Medians, dialect: str) -> str:
    """The same ratio by CPU time, on SQLite (all the work is in this process: robust under load)."""
    if dialect != "sqlite":
        return ""
    return f"   (CPU {m.ours_cpu * 1000:.1f} / {m.floor_cpu * 1000:.1f} ms: {m.floor_cpu / m.ours_cpu:.2f})"


def get(client, url: str) -> Callable[[], object]:
    def run():
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        return response
    return run


def latency(client, path: str, n: int) -> tuple[float, float]:
    client.get(path)  # warm
    times = sorted(timed(get(client, path))[0] * 1000 for _ in range(n))
    return statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.95))]


@contextmanager
def shop_database(url: str, n_products: int, photos: bool) -> Iterator:
    import flask_migrate

    from app import create_app
    from config import TestConfig
    from core.extensions import db

    config = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
    app = create_app({**config, "SQLALCHEMY_DATABASE_URI": url, "TESTING": False})
    with app.app_context():
        flask_migrate.upgrade(directory=str(ROOT / "migrations"))
        started = time.perf_counter()
        seed(db, n_products, photos=photos)
        print(f"  seeded {n_products:,} products{' with photos' if photos else ''} in "
              f"{time.perf_counter() - started:.1f} s", flush=True)
    try:
        yield app
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def search_cases(app, n_products: int, rounds: int) -> None:
    from core.extensions import db
    from shop.services import CatalogueFilters, search_catalogue

    with app.app_context():
        dialect = db.engine.dialect.name
        raw = db.engine.raw_connection()
        like_sql = _sql(dialect, LIKE_SCAN)

        for q, pattern in SEARCHES:
            found: list[int] = []

            def ours(q=q, found=found):
                db.session.remove()
                page = search_catalogue(CatalogueFilters(q=q, sort="relevan"))
                found[:] = [page.total or 0]
                db.session.rollback()

            def scan(pattern=pattern):
                cursor = raw.cursor()
                cursor.execute(like_sql, (pattern,))
                cursor.fetchall()
                cursor.close()
                raw.rollback()

            m = interleaved(ours, scan, rounds)
            print(f"  {n_products:>7,}  {q!r:<16} {found[0]:>6,} found   search {m.ours_wall * 1000:6.1f} ms   "
                  f"LIKE scan {m.floor_wall * 1000:6.1f} ms   LIKE/search {m.floor_wall / m.ours_wall:5.2f}"
                  f"{cpu_note(m, dialect)}", flush=True)
        raw.close()


def run_database(label: str, url_for_size: Callable[[str], str], args) -> None:
    print(f"\n## {label}", flush=True)
    with shop_database(url_for_size("pages"), args.products, photos=True) as app:
        from core.extensions import db

        client = app.test_client()
        print(f"\n  page vs floor (one SQL query + the same template), {args.products:,} products, "
              f"{args.requests} interleaved rounds")
        with app.app_context():
            for case in FLOORS:
                floor = Floor(app, db, case)
                m = interleaved(get(client, floor.url), floor, args.requests)
                floor.raw.close()
                print(f"  {case:<16} route {m.ours_wall * 1000:6.1f} ms   floor {m.floor_wall * 1000:6.1f} ms   "
                      f"ratio {m.floor_wall / m.ours_wall:5.2f}{cpu_note(m, db.engine.dialect.name)}", flush=True)
        print(f"\n  name search vs a bare LIKE scan over names, {args.requests} interleaved rounds")
        search_cases(app, args.products, args.requests)
        print(f"\n  {'request':<36} {'median ms':>10} {'p95 ms':>10}")
        for name, path in [
            ("home", "/"),
            ("catalogue page 1", "/katalog"),
            ("catalogue page 200", "/katalog?halaman=200"),
            ("filter category+province+stock", "/katalog?kategori=Tenun&provinsi=Bali&tersedia=1"),
            ("filter price range, sort price", "/katalog?harga_min=50rb&harga_max=150rb&urut=harga_naik"),
            ("search name", "/katalog?q=selendang"),
            ("search two words, any order", "/katalog?q=merah+batik"),
            ("search maker (consented)", "/katalog?q=bu+pembuat+12"),
            ("search no hits", "/katalog?q=tidakadaapapun"),
            ("product page", f"/produk/{max(1, args.products // 2)}"),
        ]:
            median, p95 = latency(client, path, args.requests)
            print(f"  {name:<36} {median:>10.1f} {p95:>10.1f}", flush=True)
    if args.search_products:
        print(f"\n  name search vs a bare LIKE scan over names, {args.search_products:,} products")
        with shop_database(url_for_size("search"), args.search_products, photos=False) as app:
            search_cases(app, args.search_products, args.requests)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--search-products", type=int, default=100_000, help="a second catalogue for search "
                        "only (0: none)")
    parser.add_argument("--requests", type=int, default=50, help="rounds per case")
    parser.add_argument("--db", default="sqlite", help="sqlite, postgresql, both, or a database URL")
    args = parser.parse_args()

    with open("/proc/loadavg") as f:
        print(f"load average at start: {' '.join(f.read().split()[:3])}")
    if args.db in ("sqlite", "both"):
        folder = tempfile.mkdtemp(prefix="bench-cat-")
        run_database("SQLite (file)", lambda name: f"sqlite:///{folder}/{name}.db", args)
    if args.db in ("postgresql", "both"):
        import sqlalchemy as sa

        from scripts.pg_server import running_postgres

        with running_postgres() as server:
            engine = sa.create_engine(server.url, isolation_level="AUTOCOMMIT")

            def database(name: str) -> str:
                with engine.connect() as conn:
                    conn.exec_driver_sql(f"CREATE DATABASE bench_{name}")
                return sa.make_url(server.url).set(database=f"bench_{name}").render_as_string(hide_password=False)

            run_database("PostgreSQL 15", database, args)
            engine.dispose()
    if args.db not in ("sqlite", "postgresql", "both"):
        args.search_products = 0  # one database: the pages' catalogue only
        run_database(args.db.split(":")[0], lambda name: args.db, args)
    with open("/proc/loadavg") as f:
        print(f"\nload average at end: {' '.join(f.read().split()[:3])}")


if __name__ == "__main__":
    main()
