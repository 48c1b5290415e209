"""Payout pages, PDFs by their text, and a maker seeing only their own records."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa
from PIL import Image

from core.extensions import db
from makers.models import PayoutMethod
from payouts import services
from payouts.models import LineStatus, PayoutLine, PayoutRun, RunStatus
from tests.factories import MakerFactory, MakerUserFactory
from tests.factories.payouts import key, product, refund, sell, shop


def paid_run(s, makers_items):
    for item, qty in makers_items:
        sell(s, [(item, qty)])
    run = services.create_run(s.manager, s.sentra, cutoff_date=s.sentra.local_date(), client_key=key())
    services.approve_run(s.manager2, run)
    services.mark_run_paid(s.manager2, run, references={ln.id: "TRF-1" for ln in run.lines})
    db.session.commit()
    return run


def test_staff_creates_approves_pays_and_prints_slip(client, login_as, csrf, pdf_text):
    s = shop()
    maker = MakerFactory(sentra=s.sentra, name="Siti Aminah", payout_method=PayoutMethod.CASH)
    sell(s, [(product(s.sentra, maker=maker, price=84_375, bps=8_000), 1)])  # share 67.500
    login_as(s.manager)
    page = client.get(f"/payouts/runs?sentra_id={s.sentra.id}")
    assert page.status_code == 200 and "Siti Aminah" in page.text
    today = s.sentra.local_date().isoformat()
    response = client.post("/payouts/runs", data={"csrf_token": csrf(), "sentra_id": s.sentra.id,
                                                  "cutoff_date": today, "client_key": key()})
    assert response.status_code == 302
    run = db.session.scalars(sa.select(PayoutRun)).one()
    # the creator cannot approve
    client.post(f"/payouts/runs/{run.id}/setujui", data={"csrf_token": csrf()})
    db.session.expire_all()
    assert db.session.get(PayoutRun, run.id).status == RunStatus.DRAFT
    login_as(s.manager2)
    client.post(f"/payouts/runs/{run.id}/setujui", data={"csrf_token": csrf()})
    client.post(f"/payouts/runs/{run.id}/bayar-tunai", data={"csrf_token": csrf()})
    client.post(f"/payouts/runs/{run.id}/bayar-tunai", data={"csrf_token": csrf()})
    db.session.expire_all()
    run = db.session.get(PayoutRun, run.id)
    assert run.status == RunStatus.PAID and run.lines[0].status == LineStatus.PAID
    pdf = client.get(f"/payouts/lines/{run.lines[0].id}/bukti.pdf")
    assert pdf.mimetype == "application/pdf"
    text = " ".join(pdf_text(pdf.data).split())
    assert "BUKTI PEMBAYARAN" in text and "Siti Aminah" in text and "Rp 67.500" in text
    assert "Enam puluh tujuh ribu lima ratus rupiah" in text
    assert s.manager2.name in text


def test_minor_slip_has_guardian_signature_line(client, login_as, pdf_text):
    s = shop()
    minor = MakerFactory(sentra=s.sentra, name="Adi Kecil", is_minor=True, guardian_name="Bu Rahayu",
                         guardian_relation="pendamping")
    run = paid_run(s, [(product(s.sentra, maker=minor, price=10_000, bps=10_000), 1)])
    login_as(s.manager)
    text = " ".join(pdf_text(client.get(f"/payouts/lines/{run.lines[0].id}/bukti.pdf").data).split())
    assert "Bu Rahayu" in text and "untuk Adi Kecil" in text and "Sepuluh ribu rupiah" in text


def test_transfer_csv_and_references(client, login_as, csrf):
    s = shop()
    maker = MakerFactory(sentra=s.sentra, payout_method=PayoutMethod.BANK, bank_name="BRI",
                         account_number="=1234", account_holder="Siti")
    sell(s, [(product(s.sentra, maker=maker, price=100_000, bps=5_000), 1)])
    run = services.create_run(s.manager, s.sentra, cutoff_date=s.sentra.local_date(), client_key=key())
    services.approve_run(s.manager2, run)
    db.session.commit()
    login_as(s.manager)
    csv_text = client.get(f"/payouts/runs/{run.id}/transfer.csv").text
    assert "BRI" in csv_text and "'=1234" in csv_text and ",50000," in csv_text
    line = run.lines[0]
    client.post(f"/payouts/runs/{run.id}/referensi", data={"csrf_token": csrf(), f"ref-{line.id}": "BRI-778899"})
    db.session.expire_all()
    line = db.session.get(PayoutLine, line.id)
    assert line.status == LineStatus.PAID and line.reference == "BRI-778899"


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(out, "PNG")
    return out.getvalue()


def test_slip_upload_checks_content_and_size(client, login_as, csrf, app):
    s = shop()
    run = paid_run(s, [(product(s.sentra, price=10_000), 1)])
    line = run.lines[0]
    login_as(s.manager)
    bad = client.post(f"/payouts/lines/{line.id}/scan", data={"csrf_token": csrf(),
                      "slip": (io.BytesIO(b"<script>alert(1)</script>"), "bukti.jpg")},
                      content_type="multipart/form-data", follow_redirects=True)
    assert "berisi kode" in bad.text
    app.config["UPLOAD_IMAGE_MAX_BYTES"], limit = 10, app.config["UPLOAD_IMAGE_MAX_BYTES"]
    try:
        big = client.post(f"/payouts/lines/{line.id}/scan", data={"csrf_token": csrf(),
                          "slip": (io.BytesIO(_png()), "b.png")}, content_type="multipart/form-data",
                          follow_redirects=True)
        assert "terlalu besar" in big.text
    finally:
        app.config["UPLOAD_IMAGE_MAX_BYTES"] = limit
    client.post(f"/payouts/lines/{line.id}/scan", data={"csrf_token": csrf(), "slip": (io.BytesIO(_png()), "b.png")},
                content_type="multipart/form-data")
    db.session.expire_all()
    assert db.session.get(PayoutLine, line.id).slip_file.content_type == "image/png"
    scan = client.get(f"/payouts/lines/{line.id}/scan")
    assert scan.status_code == 200 and scan.data.startswith(b"\x89PNG") and scan.mimetype == "image/png"
    assert scan.headers["Content-Disposition"] == f'attachment; filename="bukti-{line.id}.png"'
    assert scan.headers["Cache-Control"] == "no-store"


def test_a_new_slip_scan_replaces_the_old_one_which_stays_stored(client, login_as, csrf):
    from core.audit import AuditEntry
    from core.files import StoredFile

    s = shop()
    line = paid_run(s, [(product(s.sentra, price=10_000), 1)]).lines[0]
    login_as(s.manager)
    for colour in ("white", "black"):
        out = io.BytesIO()
        Image.new("RGB", (8, 8), colour).save(out, "PNG")
        client.post(f"/payouts/lines/{line.id}/scan", content_type="multipart/form-data",
                    data={"csrf_token": csrf(), "slip": (io.BytesIO(out.getvalue()), "b.png")})
    db.session.expire_all()
    files = db.session.scalars(sa.select(StoredFile).order_by(StoredFile.id)).all()
    assert len(files) == 2 and db.session.get(PayoutLine, line.id).slip_sha256 == files[1].sha256
    changes = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "payout_line.slip")
                                 .order_by(AuditEntry.id)).all()
    assert [(c.before["slip_sha256"], c.after["slip_sha256"]) for c in changes] == [
        (None, files[0].sha256), (files[0].sha256, files[1].sha256)]
    assert client.get(f"/payouts/lines/{line.id}/scan").data == files[1].data


def test_maker_portal_shows_balances_sales_stock_and_statement(client, login_as, pdf_text):
    s = shop(hold_days=0)
    user = MakerUserFactory(maker__sentra=s.sentra, maker__name="Sri Lestari")
    item = product(s.sentra, maker=user.maker, price=100_000, bps=8_000, name="Batik Ciprat Merah")
    run = paid_run(s, [(item, 2)])
    sale = sell(s, [(item, 1)])
    refund(s, sale, [(sale.lines[0].id, 1)])
    sell(s, [(item, 3)])
    login_as(user)
    home = client.get("/payouts/saya")
    assert home.status_code == 200
    assert "Saldo siap dicairkan" in home.text and "Rp 240.000" in home.text
    assert "Sudah dibayar" in home.text and "Rp 160.000" in home.text and "Masih ditahan" in home.text
    sales = client.get("/payouts/saya/penjualan")
    assert "Batik Ciprat Merah" in sales.text and "dikembalikan pembeli" in sales.text
    assert "Batik Ciprat Merah" in client.get("/payouts/saya/stok").text
    payouts = client.get("/payouts/saya/pencairan")
    assert f"/payouts/saya/pencairan/{run.lines[0].id}/bukti.pdf" in payouts.text
    month = s.sentra.local_date().strftime("%Y-%m")
    text = " ".join(pdf_text(client.get(f"/payouts/saya/laporan/{month}.pdf").data).split())
    assert "Sri Lestari" in text and "Saldo awal Rp 0" in text
    assert "Pendapatan penjualan Rp 480.000" in text and "pengembalian barang Rp 80.000" in text
    assert "pencairan Rp 160.000" in text and "Saldo akhir Rp 240.000" in text


def test_new_sales_are_highlighted_since_last_visit(client, login_as):
    from datetime import timedelta

    from payouts.models import MakerPortalVisit

    s = shop()
    user = MakerUserFactory(maker__sentra=s.sentra)
    item = product(s.sentra, maker=user.maker)
    login_as(user)
    client.get("/payouts/saya")
    visit = db.session.get(MakerPortalVisit, user.maker_id)
    visit.last_seen_at = visit.last_seen_at - timedelta(hours=2)
    db.session.commit()
    sell(s, [(item, 3)])  # one sale line of three pieces: three pieces sold, not "1"
    home = client.get("/payouts/saya")
    assert "3 barang Anda terjual sejak kunjungan terakhir" in home.text
    assert "is-new" in client.get("/payouts/saya/penjualan").text


@pytest.fixture
def two_makers():
    s = shop()
    mine = MakerUserFactory(maker__sentra=s.sentra, maker__name="Maker Satu")
    other = MakerUserFactory(maker__sentra=s.sentra, maker__name="Maker Dua")
    run = paid_run(s, [(product(s.sentra, maker=mine.maker, name="Barang Satu"), 1),
                       (product(s.sentra, maker=other.maker, name="Barang Dua"), 1)])
    others_line = next(ln for ln in run.lines if ln.maker_id == other.maker_id)
    services.attach_slip(s.manager, others_line, _png())
    db.session.commit()
    return s, mine, other, others_line


def test_maker_cannot_reach_another_makers_slip_scan_or_staff_pages(client, login_as, two_makers):
    _s, mine, _other, others_line = two_makers
    login_as(mine)
    assert client.get(f"/payouts/saya/pencairan/{others_line.id}/bukti.pdf").status_code == 404
    assert client.get(f"/payouts/saya/pencairan/{others_line.id}/scan").status_code == 404
    assert client.get(f"/payouts/lines/{others_line.id}/bukti.pdf").status_code == 403
    assert client.get(f"/payouts/pembuat/{others_line.maker_id}/laporan/2026-01.pdf").status_code == 403
    assert client.get(f"/payouts/runs/{others_line.run_id}/transfer.csv").status_code == 403


def test_maker_lists_exports_and_statements_hold_only_their_own(client, login_as, two_makers, pdf_text):
    s, mine, _other, _line = two_makers
    login_as(mine)
    for path in ("/payouts/saya/penjualan", "/payouts/saya/penjualan.csv", "/payouts/saya/stok",
                 "/payouts/saya/pencairan"):
        body = client.get(path).text
        assert "Barang Dua" not in body and "Maker Dua" not in body, path
    assert "Barang Satu" in client.get("/payouts/saya/penjualan.csv").text
    month = s.sentra.local_date().strftime("%Y-%m")
    text = pdf_text(client.get(f"/payouts/saya/laporan/{month}.pdf").data)
    assert "Maker Satu" in text and "Maker Dua" not in text


def test_staff_of_another_sentra_gets_404(client, login_as, two_makers):
    _s, _mine, _other, line = two_makers
    outsider = shop(code="BKS")
    login_as(outsider.manager)
    assert client.get(f"/payouts/runs/{line.run_id}").status_code == 404
    assert client.get(f"/payouts/lines/{line.id}/bukti.pdf").status_code == 404
    assert client.get(f"/payouts/runs/{line.run_id}/transfer.csv").status_code == 404
    assert client.get(f"/payouts/pembuat/{line.maker_id}/laporan/2026-01.pdf").status_code == 404


def test_future_cutoff_is_refused_on_the_form_and_keeps_input(client, login_as, csrf):
    from datetime import timedelta

    s = shop()
    sell(s, [(product(s.sentra), 1)])
    login_as(s.manager)
    tomorrow = (s.sentra.local_date() + timedelta(days=1)).isoformat()
    response = client.post("/payouts/runs", data={"csrf_token": csrf(), "sentra_id": s.sentra.id,
                                                  "cutoff_date": tomorrow, "note": "Catatan saya",
                                                  "client_key": key()})
    assert response.status_code == 422
    assert "Tanggal batas tidak boleh di masa depan." in response.text
    assert tomorrow in response.text and "Catatan saya" in response.text
    assert db.session.scalar(sa.select(sa.func.count(PayoutRun.id))) == 0


def test_staff_pages_render_for_each_run_state(client, login_as, csrf):
    s = shop()
    maker = MakerFactory(sentra=s.sentra, payout_method=PayoutMethod.EWALLET, ewallet_provider="DANA",
                         ewallet_number="0812")
    sell(s, [(product(s.sentra, maker=maker), 1)])
    run = services.create_run(s.manager, s.sentra, cutoff_date=s.sentra.local_date(), client_key=key())
    db.session.commit()
    login_as(s.manager)
    assert "Setujui (orang kedua)" in client.get(f"/payouts/runs/{run.id}").text
    services.approve_run(s.manager2, run)
    db.session.commit()
    page = client.get(f"/payouts/runs/{run.id}").text
    assert f'name="ref-{run.lines[0].id}"' in page and "Dompet digital" in page
    client.post(f"/payouts/runs/{run.id}/batal", data={"csrf_token": csrf(), "reason": "Salah tanggal"})
    db.session.expire_all()
    assert db.session.get(PayoutRun, run.id).status == RunStatus.CANCELLED
    assert "Dibatalkan" in client.get(f"/payouts/runs/{run.id}").text


def test_method_can_change_only_while_draft(client, login_as, csrf):
    s = shop()
    maker = MakerFactory(sentra=s.sentra, payout_method=PayoutMethod.CASH)
    sell(s, [(product(s.sentra, maker=maker), 1)])
    run = services.create_run(s.manager, s.sentra, cutoff_date=s.sentra.local_date(), client_key=key())
    db.session.commit()
    line_id = run.lines[0].id
    login_as(s.manager)
    client.post(f"/payouts/lines/{line_id}/cara", data={"csrf_token": csrf(), "method": "savings"})
    db.session.expire_all()
    assert db.session.get(PayoutLine, line_id).method == PayoutMethod.SAVINGS
    services.approve_run(s.manager2, db.session.get(PayoutRun, run.id))
    services.mark_run_paid(s.manager2, db.session.get(PayoutRun, run.id))
    db.session.commit()
    from payouts import ledger
    assert ledger.maker_balance(maker.id).paid == db.session.get(PayoutLine, line_id).amount
    page = client.post(f"/payouts/lines/{line_id}/cara", data={"csrf_token": csrf(), "method": "cash"},
                       follow_redirects=True)
    assert "sebelum pencairan disetujui" in page.text
    db.session.expire_all()
    assert db.session.get(PayoutLine, line_id).method == PayoutMethod.SAVINGS


def test_a_slip_has_a_thumbprint_box_and_a_savings_deposit_is_not_called_money_received(client, login_as, pdf_text):
    s = shop()
    saver = MakerFactory(sentra=s.sentra, name="Pak Darmo", payout_method=PayoutMethod.SAVINGS)
    run = paid_run(s, [(product(s.sentra, maker=saver, price=104_000, bps=10_000), 1)])
    login_as(s.manager)
    text = " ".join(pdf_text(client.get(f"/payouts/lines/{run.lines[0].id}/bukti.pdf").data).split())
    assert "Cap jempol" in text and "BUKTI SETORAN TABUNGAN" in text
    assert "Disimpan sebagai tabungan atas nama Pak Darmo" in text and "Ditabung sejumlah Rp 104.000" in text
    assert "Telah diterima oleh" not in text and "Uang sejumlah" not in text
