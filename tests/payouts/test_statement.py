"""Monthly statements across months: opening balance, clawback shown, never hidden."""

from __future__ import annotations

from datetime import UTC, date, datetime

import time_machine

from core.extensions import db
from payouts import services
from tests.factories import MakerUserFactory
from tests.factories.payouts import key, product, refund, sell, shop


def test_statements_carry_balances_and_show_clawback(client, login_as, pdf_text):
    with time_machine.travel(datetime(2026, 10, 5, 3, tzinfo=UTC), tick=False):
        s = shop(hold_days=0)
        user = MakerUserFactory(maker__sentra=s.sentra, maker__name="Tri Handayani")
        item = product(s.sentra, maker=user.maker, price=100_000, bps=8_000)
        sale = sell(s, [(item, 2)])
    with time_machine.travel(datetime(2026, 10, 20, 3, tzinfo=UTC), tick=False):
        run = services.create_run(s.manager, s.sentra, cutoff_date=date(2026, 10, 20), client_key=key())
        services.approve_run(s.manager2, run)
        services.mark_run_paid(s.manager2, run)
        db.session.commit()
    with time_machine.travel(datetime(2026, 11, 3, 3, tzinfo=UTC), tick=False):
        refund(s, sale, [(sale.lines[0].id, 1)])
    with time_machine.travel(datetime(2026, 12, 2, 3, tzinfo=UTC), tick=False):
        sell(s, [(item, 1)])

    october = services.monthly_statement(user.maker, date(2026, 10, 1))
    assert (october.opening, october.earnings, october.refunds, october.payouts, october.closing) == (
        0, 160_000, 0, 160_000, 0)
    november = services.monthly_statement(user.maker, date(2026, 11, 1))
    assert (november.opening, november.refunds, november.closing) == (0, 80_000, -80_000)
    december = services.monthly_statement(user.maker, date(2026, 12, 1))
    assert (december.opening, december.earnings, december.closing) == (-80_000, 80_000, 0)

    login_as(user)
    text = " ".join(pdf_text(client.get("/payouts/saya/laporan/2026-11.pdf").data).split())
    assert "Saldo akhir -Rp 80.000" in text and "Saldo minus" in text
    text = " ".join(pdf_text(client.get("/payouts/saya/laporan/2026-10.pdf").data).split())
    assert "Pendapatan penjualan Rp 160.000" in text and "pencairan Rp 160.000" in text
    assert client.get("/payouts/saya/laporan/2026-13.pdf").status_code == 404


def test_staff_opens_a_makers_statement_from_the_balances(client, login_as, pdf_text):
    s = shop(hold_days=0)
    user = MakerUserFactory(maker__sentra=s.sentra, maker__name="Joko Susilo")
    sell(s, [(product(s.sentra, maker=user.maker, price=50_000, bps=10_000), 1)])
    login_as(s.manager)
    page = client.get(f"/payouts/runs?sentra_id={s.sentra.id}").text
    month = s.sentra.local_date().strftime("%Y-%m")
    link = f"/payouts/pembuat/{user.maker_id}/laporan/{month}.pdf"
    assert link in page
    text = " ".join(pdf_text(client.get(link).data).split())
    assert "Joko Susilo" in text and "Saldo akhir Rp 50.000" in text


def test_a_partial_refund_shows_its_own_quantity_on_portal_csv_slip_and_statement(client, login_as, pdf_text):
    """1 of 2 Selendang given back is "1" everywhere a maker reads or signs it, never the sale's "2"."""
    with time_machine.travel(datetime(2026, 11, 2, 3, tzinfo=UTC), tick=False):
        s = shop(hold_days=0)
        user = MakerUserFactory(maker__sentra=s.sentra, maker__name="Sri Lestari")
        item = product(s.sentra, maker=user.maker, price=100_000, bps=8_000, name="Selendang Batik Ciprat")
        sale = sell(s, [(item, 2)])
        refund(s, sale, [(sale.lines[0].id, 1)])
        run = services.create_run(s.manager, s.sentra, cutoff_date=date(2026, 11, 2), client_key=key())
        services.approve_run(s.manager2, run)
        services.mark_run_paid(s.manager2, run)
        db.session.commit()
        [line] = run.lines

    sold, given_back = sorted(services.maker_sales(user.maker_id), key=lambda r: r.is_refund)
    assert (sold.quantity, sold.share) == (2, 160_000)
    assert (given_back.quantity, given_back.line_total, given_back.share) == (1, 100_000, -80_000)
    covered = sorted(services.covered_rows(line), key=lambda r: r.kind)
    assert [(r.kind, r.quantity) for r in covered] == [("Pengembalian", 1), ("Penjualan", 2)]

    login_as(user)
    csv = client.get("/payouts/saya/penjualan.csv?bulan=2026-11").text.splitlines()
    assert any(row.endswith(",pengembalian") and ",Selendang Batik Ciprat,1," in row for row in csv), csv
    slip = " ".join(pdf_text(client.get(f"/payouts/saya/pencairan/{line.id}/bukti.pdf").data).split())
    assert "Ciprat1 Pengembalian" in slip and "Ciprat2 Penjualan" in slip, slip  # pdftotext glues the cells
    statement = " ".join(pdf_text(client.get("/payouts/saya/laporan/2026-11.pdf").data).split())
    assert "November 2026" in statement and "11/2026" not in statement
    assert f"Selendang Batik Ciprat × 1 ({sale.number})" in statement
    assert f"Selendang Batik Ciprat × 2 ({sale.number})" in statement and "sale:" not in statement
