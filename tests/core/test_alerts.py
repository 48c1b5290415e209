"""Staff alerts: raised once per key, listed for the Sentra's managers, handled by a person."""

from __future__ import annotations

import logging

import sqlalchemy as sa

from core.alerts import StaffAlert, open_alerts, raise_alert
from core.extensions import db
from tests.factories import SentraFactory
from tests.factories.inventory import admin, kasir_of, manager_of


def test_the_same_key_raises_one_alert_and_logs_a_warning(caplog):
    sentra = SentraFactory()
    with caplog.at_level(logging.WARNING, logger="sentra.alerts"):
        first = raise_alert("payment.refunded", "Dana dikembalikan.", key="refund:pi_1", sentra_id=sentra.id)
        again = raise_alert("payment.refunded", "Dana dikembalikan.", key="refund:pi_1", sentra_id=sentra.id)
    db.session.commit()
    assert first.id == again.id
    assert db.session.scalar(sa.select(sa.func.count()).select_from(StaffAlert)) == 1
    assert [r.levelname for r in caplog.records] == ["WARNING"]


def test_managers_see_their_sentras_alerts_and_admins_see_all(client, login_as):
    own, other = SentraFactory(code="TMG"), SentraFactory(code="BKS")
    raise_alert("x", "Peringatan Temanggung", key="a", sentra_id=own.id)
    raise_alert("x", "Peringatan Bekasi", key="b", sentra_id=other.id)
    raise_alert("x", "Peringatan nasional", key="c")
    db.session.commit()
    assert [a.key for a in open_alerts({own.id})] == ["a"]
    assert len(open_alerts(None)) == 3

    login_as(manager_of(own))
    page = client.get("/staf/peringatan").get_data(as_text=True)
    assert "Peringatan Temanggung" in page and "Bekasi" not in page and "nasional" not in page
    assert "Peringatan yang perlu diperiksa: 1" in client.get("/staf").get_data(as_text=True)

    login_as(admin())
    page = client.get("/staf/peringatan").get_data(as_text=True)
    assert all(text in page for text in ("Temanggung", "Bekasi", "nasional"))


def test_a_manager_marks_an_alert_handled_and_cannot_touch_another_sentras(client, login_as, csrf):
    own, other = SentraFactory(code="TMG"), SentraFactory(code="BKS")
    mine = raise_alert("x", "Milik TMG", key="a", sentra_id=own.id)
    theirs = raise_alert("x", "Milik BKS", key="b", sentra_id=other.id)
    national = raise_alert("x", "Nasional", key="c")
    db.session.commit()
    manager = manager_of(own)
    login_as(manager)
    for alert in (theirs, national):
        assert client.post(f"/staf/peringatan/{alert.id}/selesai", data={"csrf_token": csrf()}).status_code == 404
    response = client.post(f"/staf/peringatan/{mine.id}/selesai", data={"csrf_token": csrf()})
    assert response.status_code == 302
    db.session.expire_all()
    assert mine.resolved_by_id == manager.id and mine.resolved_at is not None
    assert theirs.resolved_at is None and national.resolved_at is None
    assert "Milik TMG" not in client.get("/staf/peringatan").get_data(as_text=True)


def test_a_kasir_cannot_open_the_alert_list(client, login_as):
    login_as(kasir_of(SentraFactory()))
    assert client.get("/staf/peringatan").status_code == 403
