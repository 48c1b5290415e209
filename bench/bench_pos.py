"""Counter throughput: sales committed per second through the JSON API, receipt PDFs per second
(warm), and a raw-SQL insert baseline beside them as a ratio. Prints; asserts nothing.

    .venv/bin/python bench/bench_pos.py [--sales 200] [--receipts 20] [--db sqlite:///...]

Runs on a throw-away SQLite file by default (schema from the models).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sales", type=int, default=200)
    parser.add_argument("--receipts", type=int, default=20)
    parser.add_argument("--db", default=None, help="database URL (default: a temporary SQLite file)")
    args = parser.parse_args()

    import sqlalchemy as sa

    from accounts.models import Role, User
    from app import create_app
    from config import TestConfig
    from core.extensions import db
    from inventory.models import MovementKind, Product
    from inventory.stock import move_stock
    from makers.models import Maker
    from pos.models import Shift
    from sales.models import Sale
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
        maker = Maker(sentra=sentra, name="Pembuat", public_name="Bu Bench", cluster="disabilitas", program="atensi")
        product = Product(sentra=sentra, sku="BEN-1", barcode="2000000009999", name="Batik Bench", category="Batik",
                          price=150_050, maker=maker, maker_share_bps=8000)
        db.session.add_all([sentra, kasir, maker, product])
        db.session.flush()
        move_stock(None, product, sentra.id, MovementKind.INTAKE, args.sales * 2 + 10, client_key="bench-intake")
        shift = Shift(sentra_id=sentra.id, cashier_id=kasir.id, opening_float=0, open_marker=1)
        db.session.add(shift)
        db.session.commit()
        product_id, shift_id, sentra_id, kasir_id = product.id, shift.id, sentra.id, kasir.id
        login_id = kasir.get_id()

    # Requests run outside the set-up's app context, each in its own (as in production).
    client = app.test_client()
    login(client, type("LoginAs", (), {"get_id": lambda self: login_id})())
    token = csrf_token(client)
    body = {"shift_id": shift_id, "lines": [{"product_id": product_id, "quantity": 1}],
            "payments": [{"method": "cash", "amount": 150_100, "tendered": 200_000}]}

    def sale() -> dict:
        response = client.post("/pos/api/sales", json=body,
                               headers={"Idempotency-Key": str(uuid.uuid4()), "X-CSRFToken": token})
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    first = sale()  # warm-up (imports, caches)
    start = time.perf_counter()
    for _ in range(args.sales):
        sale()
    api_seconds = time.perf_counter() - start
    api_rate = args.sales / api_seconds

    # Baseline: the same number of bare INSERTs of a sale row, one commit each.
    with app.app_context():
        start = time.perf_counter()
        for i in range(args.sales):
            with db.engine.begin() as conn:
                conn.execute(sa.insert(Sale).values(
                    number=f"RAW-{i:06d}", sentra_id=sentra_id, channel="pos", status="completed",
                    cashier_id=kasir_id, business_date=sa.func.current_date(), client_key=str(uuid.uuid4()),
                    subtotal=150_050, discount_total=0, total=150_050, rounding=50,
                    receipt_token=uuid.uuid4().hex, created_at=sa.func.current_timestamp()))
        raw_seconds = time.perf_counter() - start
        raw_rate = args.sales / raw_seconds

    receipt_url = first["receipt_pdf_url"]
    client.get(receipt_url)  # warm WeasyPrint
    start = time.perf_counter()
    for _ in range(args.receipts):
        response = client.get(receipt_url)
        assert response.status_code == 200
    pdf_seconds = time.perf_counter() - start
    pdf_rate = args.receipts / pdf_seconds

    print(f"database: {url.split('://')[0]}")
    print(f"sales through POST /pos/api/sales: {api_rate:8.1f} /s  ({args.sales} in {api_seconds:.2f} s)")
    print(f"raw-SQL sale-row insert baseline:  {raw_rate:8.1f} /s  ({args.sales} in {raw_seconds:.2f} s)")
    print(f"ratio API / raw insert:            {api_rate / raw_rate:8.3f}")
    print(f"80 mm receipt PDFs (warm):         {pdf_rate:8.1f} /s  ({args.receipts} in {pdf_seconds:.2f} s)")


if __name__ == "__main__":
    main()
