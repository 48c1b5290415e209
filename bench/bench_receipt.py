"""The 80 mm receipt, warm: PDFs per second through the route (`GET /pos/penjualan/<id>/struk.pdf`:
database reads, template, QR code, one layout pass cut to the content) against a floor — a bare
WeasyPrint render of the very HTML the route renders, with the same fonts loaded once. Prints the
ratio (route ÷ floor); asserts nothing.

    .venv/bin/python bench/bench_receipt.py [--receipts 40] [--rounds 5]

Interleaved rounds; the median of each side is compared.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--receipts", type=int, default=40, help="PDFs per round and side")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    from flask import render_template
    from weasyprint import HTML
    from weasyprint.text.fonts import FontConfiguration

    from app import create_app
    from config import TestConfig
    from core.extensions import db
    from core.pdf import ROLL_DRAFT_HEIGHT_MM
    from pos.views import receipt_context
    from sales.models import Channel, PaymentMethod, Sale
    from sales.services import LineRequest, PaymentRequest, record_sale
    from tests.conftest import login
    from tests.factories.sales import counter_setup

    url = f"sqlite:///{tempfile.mkdtemp(prefix='bench-receipt-')}/bench.db"
    config = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
    app = create_app({**config, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        db.create_all()
        sentra, kasir, _maker, _product, ticket, shift = counter_setup()
        sale = record_sale(kasir, sentra, channel=Channel.POS, lines=[LineRequest(ticket.id, 2)],
                           payments=[PaymentRequest(PaymentMethod.CASH, 50_000)], client_key=str(uuid.uuid4()),
                           shift=shift)
        db.session.commit()
        sale_id, login_id = sale.id, kasir.get_id()

    client = app.test_client()
    login(client, type("LoginAs", (), {"get_id": lambda self: login_id})())
    route = f"/pos/penjualan/{sale_id}/struk.pdf"
    assert client.get(route).status_code == 200  # warm: imports, fonts, caches

    with app.test_request_context():
        sale = db.session.get(Sale, sale_id)
        html = render_template("pdf/receipt.html", roll_width_mm=80, page_height_mm=ROLL_DRAFT_HEIGHT_MM,
                               **receipt_context(sale, copy=True))
        base_url = Path(app.static_folder).resolve().as_uri() + "/"
    fonts = FontConfiguration()
    HTML(string=html, base_url=base_url).render(font_config=fonts).write_pdf()

    def through_the_route() -> float:
        start = time.perf_counter()
        for _ in range(args.receipts):
            assert client.get(route).status_code == 200
        return time.perf_counter() - start

    def bare_weasyprint() -> float:
        start = time.perf_counter()
        for _ in range(args.receipts):
            HTML(string=html, base_url=base_url).render(font_config=fonts).write_pdf()
        return time.perf_counter() - start

    route_times, floor_times = [], []
    for _ in range(args.rounds):
        route_times.append(through_the_route())
        floor_times.append(bare_weasyprint())
    route_s, floor_s = statistics.median(route_times), statistics.median(floor_times)
    print(f"80 mm receipt via the route (warm): {args.receipts / route_s:6.1f} /s  "
          f"({route_s / args.receipts * 1000:.0f} ms each)")
    print(f"bare WeasyPrint, same HTML:         {args.receipts / floor_s:6.1f} /s  "
          f"({floor_s / args.receipts * 1000:.0f} ms each)")
    print(f"ratio route / floor:                {floor_s / route_s:6.2f}   (goal >= 0.85)")


if __name__ == "__main__":
    main()
