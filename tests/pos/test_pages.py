from __future__ import annotations

import uuid
from datetime import timedelta

import sqlalchemy as sa

from accounts.models import Role
from core.extensions import db
from pos.models import Shift, ShiftStatus
from sales.models import Channel, PaymentMethod
from sales.services import LineRequest, PaymentRequest, record_sale
from tests.factories import SentraFactory, UserFactory
from tests.factories.sales import counter_setup


def _sale(kasir, sentra, shift, ticket):
    sale = record_sale(kasir, sentra, channel=Channel.POS, lines=[LineRequest(ticket.id, 1)],
                       payments=[PaymentRequest(PaymentMethod.CASH, 25_000)], client_key=str(uuid.uuid4()),
                       shift=shift)
    db.session.commit()
    return sale


def test_counter_pages_render_for_the_kasir(client, login_as):
    sentra, kasir, _m, _p, ticket, shift = counter_setup()
    sale = _sale(kasir, sentra, shift, ticket)
    login_as(kasir)
    assert client.get("/pos/").headers["Location"].endswith(f"/pos/sesi/{shift.id}/jual")
    for url in (f"/pos/sesi/{shift.id}/jual", f"/pos/sesi/{shift.id}", f"/pos/sesi/{shift.id}/tutup",
                "/pos/penjualan", f"/pos/penjualan?shift_id={shift.id}", f"/pos/penjualan/{sale.id}"):
        response = client.get(url)
        assert response.status_code == 200, url
    assert sale.number in client.get("/pos/penjualan").get_data(as_text=True)
    assert "Kasir (POS)" in client.get("/staf").get_data(as_text=True)


def test_other_sentras_staff_get_404_and_tokens_are_checked(app, client, login_as):
    sentra, kasir, _m, _p, ticket, shift = counter_setup()
    sale = _sale(kasir, sentra, shift, ticket)
    outsider = UserFactory(role=Role.MANAGER, sentras=[SentraFactory()])
    login_as(outsider)
    for url in (f"/pos/sesi/{shift.id}", f"/pos/penjualan/{sale.id}", f"/pos/penjualan/{sale.id}/struk.pdf",
                f"/pos/sesi/{shift.id}/laporan-z.pdf", f"/pos/penjualan?shift_id={shift.id}"):
        assert client.get(url).status_code == 404, url
    anonymous = app.test_client()
    assert anonymous.get("/pos/struk/" + "x" * 43).status_code == 404
    assert anonymous.get(f"/pos/struk/{sale.receipt_token}").status_code == 200


def test_bad_shift_input_keeps_input_and_writes_nothing(client, login_as, csrf):
    sentra, *_ = counter_setup()
    kasir = UserFactory(role=Role.KASIR, sentras=[sentra])
    login_as(kasir)
    response = client.post("/pos/", data={"csrf_token": csrf(), "sentra_id": sentra.id, "opening_float": "-5"})
    assert response.status_code == 200 and "negatif" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Shift.id)).where(Shift.cashier_id == kasir.id)) == 0
    assert client.post("/pos/", data={"csrf_token": csrf(), "sentra_id": sentra.id,
                                      "opening_float": "150.000"}).status_code == 302
    shift = db.session.scalar(sa.select(Shift).where(Shift.cashier_id == kasir.id))
    assert shift.opening_float == 150_000
    bad = client.post(f"/pos/sesi/{shift.id}/tutup", data={"csrf_token": csrf(), "d100000": "dua"})
    assert bad.status_code == 200 and "angka bulat" in bad.get_data(as_text=True)
    assert 'value="dua"' in bad.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Shift, shift.id).status == ShiftStatus.OPEN


def test_the_receipt_qr_code_is_drawn_once_per_link(client, login_as, monkeypatch):
    import segno

    from pos import views

    drawn = []
    real_make_qr = segno.make_qr
    monkeypatch.setattr(views.segno, "make_qr", lambda *a, **k: drawn.append(a[0]) or real_make_qr(*a, **k))
    views.receipt_qr_svg.cache_clear()
    sentra, kasir, _m, _p, ticket, shift = counter_setup()
    sale = _sale(kasir, sentra, shift, ticket)
    login_as(kasir)
    for _ in range(3):
        assert client.get(f"/pos/penjualan/{sale.id}/struk.pdf").status_code == 200
    assert client.get(f"/pos/struk/{sale.receipt_token}").status_code == 200
    assert len(drawn) == 1 and drawn[0].endswith(f"/pos/struk/{sale.receipt_token}")


def _history(client, **params) -> str:
    response = client.get("/pos/penjualan", query_string=params)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_sale_history_finds_a_sale_by_its_number_on_any_day(client, login_as):
    sentra, kasir, _m, _p, ticket, shift = counter_setup()
    first, second = _sale(kasir, sentra, shift, ticket), _sale(kasir, sentra, shift, ticket)
    first.business_date = first.business_date - timedelta(days=3)  # sold three days ago
    second.offline_number = "TMG-ABCD-0007"
    db.session.commit()
    login_as(kasir)
    today = _history(client)
    assert second.number in today and first.number not in today
    found = _history(client, q=first.number[-8:].lower())  # part of the number, any case, any day
    assert first.number in found and second.number not in found
    assert second.number in _history(client, q="abcd-0007")  # the offline receipt number too
    assert "Belum ada penjualan." in _history(client, q="TMG-%")  # LIKE wildcards are plain text
    in_shift = _history(client, shift_id=shift.id, q=second.number)
    assert second.number in in_shift and first.number not in in_shift


def test_sale_history_shows_the_payment_methods_and_an_offline_sales_device_time(client, login_as):
    sentra, kasir, _m, _p, ticket, shift = counter_setup()
    split = record_sale(kasir, sentra, channel=Channel.POS, lines=[LineRequest(ticket.id, 2)],
                        payments=[PaymentRequest(PaymentMethod.CASH, 20_000),
                                  PaymentRequest(PaymentMethod.QRIS, 30_000, reference="QR-9")],
                        client_key=str(uuid.uuid4()), shift=shift)
    offline = _sale(kasir, sentra, shift, ticket)
    offline.offline_number = "TMG-ABCD-0001"
    offline.offline_sold_at = offline.created_at.replace(hour=2, minute=7, second=0, microsecond=0)
    db.session.commit()
    login_as(kasir)
    html = _history(client, shift_id=shift.id)
    rows = {number: html[html.index(number):][:1200] for number in (split.number, offline.number)}
    assert "Tunai + QRIS" in rows[split.number]
    assert "09:07" in rows[offline.number] and "waktu perangkat" in rows[offline.number]  # 02:07 UTC in WIB
    assert '<th scope="col">Cara bayar</th>' in html
