"""A whole counter shift through the web layer: open, sell, refund, close, Z-report."""

from __future__ import annotations

import io
import uuid

import sqlalchemy as sa
from pypdf import PdfReader

from accounts.models import Role
from core.audit import AuditEntry
from core.extensions import db
from inventory.stock import movements_sum, stock_level
from makers.models import Consent, ConsentGiver, ConsentPurpose
from pos.models import Shift, ShiftStatus
from sales.models import Refund, Sale, SaleStatus
from tests.factories import TEST_PIN, MakerFactory, ProductFactory, SentraFactory, UserFactory
from tests.factories.sales import TicketFactory, stock_in


def api_sale(client, csrf, shift_id, lines, payments):
    response = client.post("/pos/api/sales", json={"shift_id": shift_id, "lines": lines, "payments": payments},
                           headers={"Idempotency-Key": str(uuid.uuid4()), "X-CSRFToken": csrf()})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_whole_shift(client, login_as, csrf, pdf_text):
    sentra = SentraFactory(code="BKS", name="Sentra Kreasi Pangudi Luhur", timezone="Asia/Makassar")
    kasir = UserFactory(role=Role.KASIR, sentras=[sentra], name="Kasir Sari")
    manager = UserFactory(role=Role.MANAGER, sentras=[sentra], name="Manajer Tono")
    manager.set_pin(TEST_PIN)
    consenting = MakerFactory(sentra=sentra, public_name="Bu Sri")
    private = MakerFactory(sentra=sentra, public_name="Nama Rahasia")
    db.session.add(Consent(maker=consenting, purpose=ConsentPurpose.RECEIPT_NAME, given_by=ConsentGiver.MAKER,
                           given_by_name="Sri", recorded_by_id=manager.id))
    db.session.commit()
    batik = ProductFactory(sentra=sentra, maker=consenting, price=150_050, category="Batik", name="Batik Ciprat Biru")
    mug = ProductFactory(sentra=sentra, maker=private, price=35_000, category="Keramik", name="Mug Tanah Liat")
    ticket = TicketFactory(sentra=sentra, maker=consenting, price=25_000, name="Tiket Kolam Pancing")
    stock_in(batik, 5)
    stock_in(mug, 3)
    login_as(kasir)

    # Open the shift with Rp 200.000 in the drawer.
    response = client.post("/pos/", data={"csrf_token": csrf(), "sentra_id": sentra.id, "opening_float": "200rb"})
    assert response.status_code == 302
    shift = db.session.scalar(sa.select(Shift))
    assert shift.opening_float == 200_000 and shift.status == ShiftStatus.OPEN
    assert client.get(f"/pos/sesi/{shift.id}/jual").status_code == 200
    # A second open shift for the same kasir at the same Sentra is refused.
    again = client.post("/pos/", data={"csrf_token": csrf(), "sentra_id": sentra.id, "opening_float": "0"})
    assert again.status_code == 200 and "masih punya sesi" in again.get_data(as_text=True)

    # 1: goods + tickets in cash, rounded to Rp 100.
    s1 = api_sale(client, csrf, shift.id, [{"product_id": batik.id, "quantity": 1},
                                           {"product_id": ticket.id, "quantity": 2},
                                           {"product_id": mug.id, "quantity": 1}],
                  [{"method": "cash", "amount": 235_100, "tendered": 300_000}])
    assert s1["total"] == 235_050 and s1["rounding"] == 50 and s1["change"] == 64_900
    # 2: QRIS.
    s2 = api_sale(client, csrf, shift.id, [{"product_id": mug.id, "quantity": 1}],
                  [{"method": "qris", "amount": 35_000, "reference": "QRIS-778"}])
    # 3: split card + cash.
    s3 = api_sale(client, csrf, shift.id, [{"product_id": batik.id, "quantity": 2}],
                  [{"method": "card", "amount": 200_000, "reference": "EDC-001122"},
                   {"method": "cash", "amount": 100_100, "tendered": 150_000}])
    assert s3["rounding"] == 0 and s3["change"] == 49_900

    # Receipt of sale 1: 80 mm wide, number, total, change, maker name only with consent.
    pdf = client.get(s1["receipt_pdf_url"])
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    page = PdfReader(io.BytesIO(pdf.data)).pages[0]
    assert abs(float(page.mediabox.width) - 80 / 25.4 * 72) < 0.5
    text = pdf_text(pdf.data)
    assert s1["number"] in text and "Rp 235.050" in text and "Rp 64.900" in text and "Kembalian" in text
    assert "Karya: Bu Sri" in text and "Nama Rahasia" not in text
    assert "SALINAN" not in text and "Kasir Sari" in text
    copy = pdf_text(client.get(s1["receipt_pdf_url"] + "?salinan=1").data)
    assert "SALINAN" in copy
    # The e-receipt by token, with a WhatsApp share link.
    ereceipt = client.get(s1["receipt_url"]).get_data(as_text=True)
    assert s1["number"] in ereceipt and "https://wa.me/?text=" in ereceipt and "Bu Sri" in ereceipt

    # Refund one line (the mug of sale 1) in cash, approved by the manager's PIN.
    sale1 = db.session.get(Sale, s1["id"])
    mug_line = next(ln for ln in sale1.lines if ln.product_id == mug.id)
    form = {"csrf_token": csrf(), "client_key": str(uuid.uuid4()), f"qty_{mug_line.id}": "1", "method": "cash",
            "reason": "Retak", "restock": "1", "approver_id": manager.id, "approver_pin": "999999"}
    client.post(f"/pos/penjualan/{sale1.id}/retur", data=form)
    assert db.session.scalar(sa.select(sa.func.count(Refund.id))) == 0  # wrong PIN: nothing written
    form["approver_pin"] = TEST_PIN
    assert client.post(f"/pos/penjualan/{sale1.id}/retur", data=form).status_code == 302
    client.post(f"/pos/penjualan/{sale1.id}/retur", data=form)  # a double submit changes nothing
    db.session.expire_all()
    refund = db.session.scalar(sa.select(Refund))
    assert db.session.scalar(sa.select(sa.func.count(Refund.id))) == 1
    assert refund.amount == 35_000 and refund.approved_by_id == manager.id and refund.shift_id == shift.id
    assert db.session.get(Sale, s1["id"]).status == SaleStatus.PARTIALLY_REFUNDED

    # Stock: batik 5-1-2 = 2, mug 3-1-1+1 = 2; the ledger agrees.
    assert stock_level(batik.id, sentra.id) == 2 == movements_sum(batik.id, sentra.id)
    assert stock_level(mug.id, sentra.id) == 2 == movements_sum(mug.id, sentra.id)

    # Close with Rp 500 short. Expected = 200.000 + 235.100 + 100.100 - 35.000 = 500.200.
    # Counted: 4×100.000 + 50.000 + 2×20.000 + 5.000 + 2×2.000 + 7×100 = 499.700.
    counts = {"csrf_token": csrf(), "d100000": "4", "d50000": "1", "d20000": "2", "d5000": "1", "d2000": "2",
              "d100": "7"}
    assert client.post(f"/pos/sesi/{shift.id}/tutup", data=counts).status_code == 302
    db.session.expire_all()
    shift = db.session.get(Shift, shift.id)
    assert shift.status == ShiftStatus.CLOSED
    assert shift.expected_cash == 500_200 and shift.counted_cash == 499_700 and shift.variance == -500
    detail = client.get(f"/pos/sesi/{shift.id}").get_data(as_text=True)
    assert "Rp 500.200" in detail and "-Rp 500" in detail

    # The Z-report agrees with the sales: per tender, per category, refunds, rounding, variance.
    z = client.get(f"/pos/sesi/{shift.id}/laporan-z.pdf")
    z_page = PdfReader(io.BytesIO(z.data)).pages[0]
    assert abs(float(z_page.mediabox.width) - 80 / 25.4 * 72) < 0.5
    z_text = pdf_text(z.data)
    net = sum(s["total"] for s in (s1, s2, s3))
    assert net == 235_050 + 35_000 + 300_100
    for expected in ("LAPORAN Z", f"Rp {net:,}".replace(",", "."), "QRIS", "Rp 35.000", "Kartu (EDC)",
                     "Rp 200.000", "Tunai", "Rp 335.200", "Batik", "Keramik", "Tiket", "Rp 50",
                     "Rp 500.200", "Rp 499.700", "-Rp 500"):
        assert expected in z_text, expected
    # A closed shift takes no more sales.
    late_body = {"shift_id": shift.id, "lines": [{"product_id": ticket.id, "quantity": 1}],
                 "payments": [{"method": "cash", "amount": 25_000}]}
    late = client.post("/pos/api/sales", json=late_body,
                       headers={"Idempotency-Key": str(uuid.uuid4()), "X-CSRFToken": csrf()})
    assert late.status_code == 409

    # Audit: three sales, one refund approved by the manager, shift opened and closed.
    actions = [a for (a,) in db.session.execute(sa.select(AuditEntry.action).order_by(AuditEntry.id))]
    assert actions.count("sale.recorded") == 3 and actions.count("sale.refunded") == 1
    assert "shift.opened" in actions and "shift.closed" in actions
    # History pages list the sales.
    history = client.get(f"/pos/penjualan?shift_id={shift.id}").get_data(as_text=True)
    assert s1["number"] in history and s3["number"] in history
