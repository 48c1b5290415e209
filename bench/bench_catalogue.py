"""Catalogue and search latency with 10,000 published products: median and p95 per request kind,
through the real routes (test client, full HTML render). Prints; asserts nothing.

    .venv/bin/python bench/bench_catalogue.py [--products 10000] [--requests 50] [--db sqlite:///...]

Runs on a throw-away SQLite file by default (schema from the models).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

WORDS = ["Batik", "Tenun", "Tas", "Kopi", "Keripik", "Boneka", "Lampu", "Kipas", "Selendang", "Dompet", "Topi",
         "Sarung", "Gantungan", "Madu", "Sambal"]
COLOURS = ["Merah", "Biru", "Hijau", "Ciprat", "Lontar", "Pandan", "Bambu", "Sutra", "Flanel", "Kayu"]
CATEGORIES = ["Batik", "Tenun", "Kerajinan", "Kuliner", "Aksesori", "Suvenir"]
PROVINCES = [("Jawa Tengah", "Temanggung"), ("Jawa Barat", "Bekasi"), ("DKI Jakarta", "Jakarta"),
             ("Sulawesi Selatan", "Gowa"), ("Jawa Timur", "Malang"), ("Bali", "Denpasar")]


def seed(db, n_products: int) -> None:
    import sqlalchemy as sa

    from accounts.models import Role, User
    from inventory.models import Product, StockLevel
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
    rows = []
    for i in range(n_products):
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
    db.session.commit()


def measure(client, path: str, n: int) -> tuple[float, float]:
    client.get(path)  # warm
    times = []
    for _ in range(n):
        start = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.95))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--db", default=None, help="database URL (default: a temporary SQLite file)")
    args = parser.parse_args()

    from app import create_app
    from config import TestConfig
    from core.extensions import db

    url = args.db or f"sqlite:///{tempfile.mkdtemp(prefix='bench-cat-')}/bench.db"
    config = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
    app = create_app({**config, "SQLALCHEMY_DATABASE_URI": url, "TESTING": False})
    with app.app_context():
        db.create_all()
        started = time.perf_counter()
        seed(db, args.products)
        print(f"seeded {args.products} products in {time.perf_counter() - started:.1f} s ({url.split(':')[0]})")
    client = app.test_client()
    cases = [
        ("home", "/"),
        ("catalogue page 1", "/katalog"),
        ("catalogue page 200", "/katalog?halaman=200"),
        ("filter category+province+stock", "/katalog?kategori=Tenun&provinsi=Bali&tersedia=1"),
        ("filter price range, sort price", "/katalog?harga_min=50rb&harga_max=150rb&urut=harga_naik"),
        ("search name", "/katalog?q=selendang"),
        ("search maker (consented)", "/katalog?q=bu+pembuat+12"),
        ("search no hits", "/katalog?q=tidakadaapapun"),
        ("product page", "/produk/5000"),
    ]
    print(f"{'request':<36} {'median ms':>10} {'p95 ms':>10}")
    for name, path in cases:
        median, p95 = measure(client, path, args.requests)
        print(f"{name:<36} {median:>10.1f} {p95:>10.1f}")


if __name__ == "__main__":
    main()
