"""Regression tests for bugs the security audit found (each fixed in the package it belongs to)."""

from __future__ import annotations

import sqlalchemy as sa

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


def test_nul_bytes_are_refused_with_400_not_a_database_error(client, login_as, csrf):
    """core/security.py: PostgreSQL cannot store or compare text with NUL (psycopg raised → 500 on
    /katalog?q=a%00b and on every form). Every request carrying one is refused with 400."""
    assert client.get("/katalog?q=a%00b").status_code == 400
    assert client.get("/katalog?q=batik").status_code == 200
    s = shop()
    login_as(s.kasir)
    form = client.post("/akun/masuk", data={"csrf_token": csrf(), "email": "a\x00@contoh.co.id", "password": "x"})
    assert form.status_code == 400
    api = client.post("/pos/api/sales", json={"shift_id": s.shift.id, "lines": [{"product_id": "1\x00"}]},
                      headers={"Idempotency-Key": "00000000-0000-4000-8000-000000000001", "X-CSRFToken": csrf()})
    assert api.status_code == 400 and api.mimetype == "application/problem+json"
    assert client.get("/pesanan/abc%00def").status_code == 400


def test_a_login_with_a_huge_identifier_is_refused_not_a_500(client, csrf):
    """accounts/services.py: the failed attempt was stored untruncated into a 254-character column
    (PostgreSQL: 500 on /akun/masuk with a 10,000-character e-mail). Now a plain refusal."""
    from accounts.models import LoginAttempt

    for url, field in (("/akun/masuk", "email"), ("/accounts/masuk", "email"), ("/accounts/masuk-pembuat", "phone")):
        response = client.post(url, data={"csrf_token": csrf(), field: "x" * 10_000 + "@contoh.co.id",
                                          "password": "salah", "pin": "123456"})
        assert response.status_code in (200, 401, 422, 429), (url, response.status_code)
    lengths = db.session.scalars(sa.select(sa.func.length(LoginAttempt.identifier))).all()
    assert lengths and max(lengths) <= 254


def test_numbers_too_big_for_the_database_are_4xx_not_500(app, client, login_as):
    """core: `<int:id>` matched any size (SQLite OverflowError, PostgreSQL "integer out of range":
    500 on every detail page, e.g. /pos/penjualan/9999999999); query ids/pages likewise."""
    s = shop()
    login_as(s.manager)
    big = "99999999999999999999999"
    for url in (f"/pos/penjualan/{big}", "/pos/penjualan/9999999999", f"/produk/{big}", f"/payouts/runs/{big}",
                "/inventory/produk/2147483648"):
        assert client.get(url).status_code == 404, url
    for url in (f"/katalog?halaman={big}", f"/inventory/stok?sentra={big}", f"/payouts/runs?sentra_id={big}",
                f"/pos/api/products?sentra_id={big}&q=batik"):
        response = client.get(url)
        assert 400 <= response.status_code < 500, (url, response.status_code)
    assert client.get("/pos/penjualan/2147483647").status_code == 404  # the largest id still routes


def test_json_bodies_that_are_not_objects_are_4xx(client, login_as, csrf):
    """pos/api.py devices/visitors: `get_json() or {}` let a JSON string/list through to `.get` (500);
    core/security.py: a body nested too deep for the JSON parser (RecursionError, 500)."""
    s = shop()
    login_as(s.kasir)
    for url in ("/pos/api/devices", "/pos/api/visitors", "/pos/api/sales"):
        for raw in (b'"text"', b"[1, 2]", b"12", b"[" * 5000 + b"]" * 5000):
            headers = {"X-CSRFToken": csrf(), "Idempotency-Key": "00000000-0000-4000-8000-0000000000aa"}
            response = client.post(url, data=raw, content_type="application/json", headers=headers)
            assert 400 <= response.status_code < 500, (url, raw[:10], response.status_code)
            assert response.mimetype == "application/problem+json"


def test_a_replaced_maker_portrait_is_no_longer_served(app, client):
    """inventory/views.py photo: a file no maker or product refers to any more was served to anyone
    (public, cached a day), so a replaced portrait stayed public after consent was withdrawn."""
    import io

    from PIL import Image

    from inventory import services as inventory_services
    from makers import services as maker_services
    from makers.models import ConsentPurpose
    from tests.factories import MakerFactory
    from tests.factories.shop import consent_all

    def png(colour) -> bytes:
        out = io.BytesIO()
        Image.new("RGB", (8, 8), colour).save(out, "PNG")
        return out.getvalue()

    s = shop()
    maker = MakerFactory(sentra=s.sentra)
    consent_all(maker, purposes=(ConsentPurpose.SHOP_PHOTO,))
    maker_services.set_maker_photo(s.manager, maker, png((1, 2, 3)))
    db.session.commit()
    old, old_thumb = maker.photo_sha256, maker.photo_thumb_sha256
    assert client.get(f"/inventory/berkas/{old}.webp").status_code == 200
    maker_services.set_maker_photo(s.manager, maker, png((4, 5, 6)))
    db.session.commit()
    assert client.get(f"/inventory/berkas/{old}.webp").status_code == 404
    assert client.get(f"/inventory/berkas/{old_thumb}.webp").status_code == 404
    assert client.get(f"/inventory/berkas/{maker.photo_sha256}.webp").status_code == 200
    item = product(s.sentra)
    photo = inventory_services.add_product_photo(s.manager, item, png((7, 8, 9)))
    db.session.commit()
    assert client.get(f"/inventory/berkas/{photo.file_sha256}.webp").status_code == 200  # product photos stay public


def test_payout_runs_for_a_sentra_that_does_not_exist_is_404(client, login_as):
    """payouts/views.py run_list: an admin passes the Sentra check for any id, and the page then
    computed "today" for a missing Sentra (500 on /payouts/runs?sentra_id=-1)."""
    from accounts.models import Role
    from tests.factories import UserFactory

    s = shop()
    login_as(UserFactory(role=Role.ADMIN))
    for value in ("-1", "999999"):
        assert client.get(f"/payouts/runs?sentra_id={value}").status_code == 404
    assert client.get(f"/payouts/runs?sentra_id={s.sentra.id}").status_code == 200
