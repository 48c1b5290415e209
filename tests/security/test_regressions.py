"""Regression tests for bugs the security audit found (each fixed in the package it belongs to)."""

from __future__ import annotations

from core.extensions import db
from inventory.models import Product
from tests.factories.payouts import product, shop


def test_product_edit_with_fields_missing_from_the_post_is_not_a_500(client, login_as, csrf):
    """inventory/forms.py RupiahField: a POST without `price` fell back to the product's int price
    and crashed on `.strip()` (500). Now the form validates (the stored price is kept)."""
    s = shop()
    item = product(s.sentra, price=150_000, name="Batik Lama")
    login_as(s.manager)
    response = client.post(f"/inventory/produk/{item.id}/ubah", data={"csrf_token": csrf()})
    assert response.status_code < 500
    response = client.post(f"/inventory/produk/{item.id}/ubah", data={"csrf_token": csrf(), "price": ""})
    assert response.status_code == 422  # the form again, with "Wajib diisi."
    db.session.expire_all()
    stored = db.session.get(Product, item.id)
    assert stored.price == 150_000 and stored.name == "Batik Lama"
