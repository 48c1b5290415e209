"""Managers read their own Sentras' audit log (admins everything), filter it and follow each entry to
the thing it changed; kasir and other Sentras' staff never see it."""

from __future__ import annotations

from accounts.models import Role
from core.audit import record_audit
from core.extensions import db
from tests.factories import ProductFactory, SentraFactory, UserFactory


def _world():
    mine, theirs = SentraFactory(code="TMG"), SentraFactory(code="MGL")
    manager = UserFactory(role=Role.MANAGER, sentras=[mine], name="Bu Manajer")
    product = ProductFactory(sentra=mine, name="Batik Ciprat Ungu")
    other = ProductFactory(sentra=theirs, name="Gerabah Rahasia")
    record_audit(manager, "product.price_change", product, sentra_id=mine.id, before={"price": 100_000},
                 after={"price": 120_000})
    record_audit(manager, "product.publish", product, sentra_id=mine.id)
    record_audit(None, "product.price_change", other, sentra_id=theirs.id, after={"price": 1})
    db.session.commit()
    return mine, theirs, manager, product, other


def test_a_manager_sees_their_sentras_entries_linked_to_the_product(client, login_as):
    _mine, _theirs, manager, product, other = _world()
    login_as(manager)
    page = client.get("/staf/audit").get_data(as_text=True)
    assert "2 catatan" in page and "product.price_change" in page and "product.publish" in page
    assert f'href="/inventory/produk/{product.id}"' in page and "Bu Manajer" in page
    assert f"Product #{other.id}<" not in page and '"price": 1}' not in page
    assert '{"price": 100000}' in page and '{"price": 120000}' in page


def test_the_log_filters_by_action_person_and_thing(client, login_as):
    _mine, _theirs, manager, product, _other = _world()
    login_as(manager)
    assert "1 catatan" in client.get("/staf/audit?aksi=product.publish").get_data(as_text=True)
    assert "2 catatan" in client.get(f"/staf/audit?oleh={manager.id}").get_data(as_text=True)
    assert "2 catatan" in client.get(f"/staf/audit?jenis=Product&id={product.id}").get_data(as_text=True)
    assert "0 catatan" in client.get("/staf/audit?dari=2001-01-01&sampai=2001-01-31").get_data(as_text=True)


def test_an_admin_sees_everything_and_a_kasir_nothing(client, login_as):
    mine, *_ = _world()
    login_as(UserFactory(role=Role.ADMIN))
    assert "3 catatan" in client.get("/staf/audit").get_data(as_text=True)
    login_as(UserFactory(role=Role.KASIR, sentras=[mine]))
    assert client.get("/staf/audit").status_code in (403, 404)
