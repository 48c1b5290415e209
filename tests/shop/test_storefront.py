"""The public storefront: catalogue, search, filters, product pages and makers' consent."""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

from accounts.models import Role
from core.extensions import db
from core.files import store_file
from inventory.models import ProductPhoto
from makers.models import Consent, ConsentGiver, ConsentPurpose
from shop.models import Cart
from tests.factories import MakerFactory, SentraFactory, UserFactory
from tests.factories.shop import ShopProductFactory, TicketFactory, consent_all
from tests.shop.helpers import add_to_cart


def test_home_shows_featured_products_and_sentras(client):
    sentra = SentraFactory(name="Sentra Kreasi ATENSI Kartini Temanggung")
    ShopProductFactory(sentra=sentra, name="Batik Ciprat Merah", price=150_000, stock=3)
    ShopProductFactory(sentra=sentra, name="Barang Draf", is_published=False, stock=3)
    page = client.get("/").get_data(as_text=True)
    assert "Batik Ciprat Merah" in page and "Rp 150.000" in page and "tersisa 3" in page
    assert "Kartini Temanggung" in page
    assert "Barang Draf" not in page


def _product_with_photo():
    product = ShopProductFactory(stock=1)
    full, thumb = store_file(b"full-size webp", "image/webp"), store_file(b"thumbnail webp", "image/webp")
    db.session.add(ProductPhoto(product_id=product.id, file_sha256=full.sha256, thumb_sha256=thumb.sha256))
    db.session.commit()
    return product, full.sha256, thumb.sha256


def test_product_photos_are_linked_by_the_hash_of_their_bytes(client):
    product, full, thumb = _product_with_photo()
    assert f"/inventory/berkas/{thumb}.webp" in client.get("/").get_data(as_text=True)
    assert f"/inventory/berkas/{thumb}.webp" in client.get("/katalog").get_data(as_text=True)
    assert f"/inventory/berkas/{full}.webp" in client.get(f"/produk/{product.id}").get_data(as_text=True)


def test_catalogue_pages_never_read_photo_bytes(client):
    product, _full, _thumb = _product_with_photo()
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        for url in ("/", "/katalog", f"/produk/{product.id}"):
            assert client.get(url).status_code == 200
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    assert statements and not [s for s in statements if "stored_files" in s]


def test_catalogue_search_filters_sort_and_pagination(client):
    jateng = SentraFactory(name="Sentra Temanggung", province="Jawa Tengah")
    sulsel = SentraFactory(name="Sentra Gowa", province="Sulawesi Selatan", city="Gowa")
    ShopProductFactory(sentra=jateng, name="Batik Ciprat Biru", category="Batik", price=150_000, stock=2)
    ShopProductFactory(sentra=jateng, name="Tas Anyaman", category="Kerajinan", price=80_000, stock=0,
                       description="Anyaman pandan")
    ShopProductFactory(sentra=sulsel, name="Tenun Lontar", category="Tenun", price=300_000, stock=1)

    def names(query: str) -> list[str]:
        page = client.get(f"/katalog?{query}").get_data(as_text=True)
        return [n for n in ("Batik Ciprat Biru", "Tas Anyaman", "Tenun Lontar") if n in page]

    assert names("q=pandan") == ["Tas Anyaman"]  # description
    assert names("q=gowa") == ["Tenun Lontar"]  # Sentra
    assert names("kategori=Batik") == ["Batik Ciprat Biru"]
    assert names(f"sentra={sulsel.id}") == ["Tenun Lontar"]
    assert names("provinsi=Jawa+Tengah") == ["Batik Ciprat Biru", "Tas Anyaman"]
    assert names("harga_min=100.000&harga_max=200rb") == ["Batik Ciprat Biru"]
    assert names("tersedia=1") == ["Batik Ciprat Biru", "Tenun Lontar"]
    page = client.get("/katalog?urut=harga_naik").get_data(as_text=True)
    assert page.index("Tas Anyaman") < page.index("Batik Ciprat Biru") < page.index("Tenun Lontar")
    for n in range(25):
        ShopProductFactory(sentra=jateng, name=f"Gantungan {n:02d}", category="Suvenir", stock=1)
    first = client.get("/katalog?kategori=Suvenir").get_data(as_text=True)
    second = client.get("/katalog?kategori=Suvenir&halaman=2").get_data(as_text=True)
    assert "Halaman 1 dari 2" in first and "Berikutnya" in first
    assert second.count("product-card") == 1


def test_maker_name_search_only_finds_consented_makers(client):
    shown = MakerFactory(public_name="Bu Sri Rahayu")
    consent_all(shown, (ConsentPurpose.SHOP_NAME,))
    hidden = MakerFactory(public_name="Pak Hidden Wibowo")
    ShopProductFactory(maker=hidden, sentra=hidden.sentra, name="Produk Rahasia", stock=1)
    ShopProductFactory(maker=shown, sentra=shown.sentra, name="Produk Bu Sri", stock=1)
    assert "Produk Bu Sri" in client.get("/katalog?q=sri+rahayu").get_data(as_text=True)
    assert "Produk Rahasia" not in client.get("/katalog?q=wibowo").get_data(as_text=True)


def test_product_page_shows_a_consented_makers_name_and_story(client):
    maker = MakerFactory(public_name="Bu Sri", story="Belajar membatik sejak 2019 di Balai Kartini.")
    consent_all(maker)
    product = ShopProductFactory(maker=maker, sentra=maker.sentra, stock=3, price=150_000)
    page = client.get(f"/produk/{product.id}").get_data(as_text=True)
    assert "Bu Sri" in page and "Belajar membatik sejak 2019" in page
    assert "Rp 150.000" in page and "tersisa 3" in page
    assert client.get(f"/pembuat/{maker.id}").status_code == 200


def test_without_consent_the_maker_stays_anonymous(client):
    maker = MakerFactory(public_name="Bu Rahasia", story="Cerita pribadi yang tidak boleh tampil.")
    product = ShopProductFactory(maker=maker, sentra=maker.sentra, stock=1)
    page = client.get(f"/produk/{product.id}").get_data(as_text=True)
    assert "Bu Rahasia" not in page and "Cerita pribadi" not in page
    assert f"Karya penerima manfaat Sentra {maker.sentra.name}" in page
    assert client.get(f"/pembuat/{maker.id}").status_code == 404


def test_name_consent_alone_does_not_show_the_story(client):
    maker = MakerFactory(public_name="Bu Nama Saja", story="Cerita tanpa izin.")
    consent_all(maker, (ConsentPurpose.SHOP_NAME,))
    product = ShopProductFactory(maker=maker, sentra=maker.sentra, stock=1)
    page = client.get(f"/produk/{product.id}").get_data(as_text=True)
    assert "Bu Nama Saja" in page and "Cerita tanpa izin" not in page


def test_a_minor_needs_a_guardians_consent_and_revocation_hides_again(client):
    minor = MakerFactory(public_name="Adik Budi", is_minor=True, guardian_name="Ibu Budi", story="Cerita anak.")
    consent_all(minor)  # given by the maker himself: not enough for a minor
    product = ShopProductFactory(maker=minor, sentra=minor.sentra, stock=1)
    assert "Adik Budi" not in client.get(f"/produk/{product.id}").get_data(as_text=True)
    admin = UserFactory(role=Role.ADMIN)
    guardian = Consent(maker=minor, purpose=ConsentPurpose.SHOP_NAME, given_by=ConsentGiver.GUARDIAN,
                       given_by_name="Ibu Budi", recorded_by_id=admin.id)
    db.session.add(guardian)
    db.session.commit()
    assert "Adik Budi" in client.get(f"/produk/{product.id}").get_data(as_text=True)
    from core.db import utcnow

    guardian.revoked_at = utcnow()
    db.session.commit()
    assert "Adik Budi" not in client.get(f"/produk/{product.id}").get_data(as_text=True)


def test_unpublished_or_archived_products_are_not_found(client):
    assert client.get(f"/produk/{ShopProductFactory(is_published=False).id}").status_code == 404
    assert client.get(f"/produk/{ShopProductFactory(is_active=False).id}").status_code == 404


def test_sentra_page_shows_about_hours_and_products(client):
    sentra = SentraFactory(code="BKS", about="Kolam pemancingan dan kafe.", opening_hours="Setiap hari 08.00–17.00")
    ShopProductFactory(sentra=sentra, name="Kopi Bekasi", stock=1)
    page = client.get("/sentra/BKS").get_data(as_text=True)
    assert "Kolam pemancingan" in page and "08.00–17.00" in page and "Kopi Bekasi" in page
    assert client.get("/sentra/NOPE").status_code == 404


def test_tickets_are_bought_for_a_date_within_the_daily_capacity(client, csrf):
    ticket = TicketFactory(daily_capacity=3)
    day = date.today() + timedelta(days=2)
    response = add_to_cart(client, csrf, ticket, 2)
    assert response.status_code == 422 and "Pilih tanggal kunjungan" in response.get_data(as_text=True)
    response = add_to_cart(client, csrf, ticket, 2, date.today() - timedelta(days=1))
    assert "sudah lewat" in response.get_data(as_text=True)
    assert add_to_cart(client, csrf, ticket, 2, day).status_code == 302
    response = add_to_cart(client, csrf, ticket, 2, day)
    assert response.status_code == 409 and "tersisa 3" in response.get_data(as_text=True)
    assert "Tanggal" in client.get("/keranjang").get_data(as_text=True)


def test_a_guest_cart_joins_the_buyers_cart_at_login(client, csrf, login_as):
    product = ShopProductFactory(stock=5)
    add_to_cart(client, csrf, product, 2)
    buyer = UserFactory(role=Role.BUYER, email="pembeli@contoh.co.id")
    login_as(buyer)
    page = client.get("/keranjang").get_data(as_text=True)
    assert product.name in page
    cart = db.session.scalar(sa.select(Cart).where(Cart.user_id == buyer.id))
    assert [(i.product_id, i.quantity) for i in cart.items] == [(product.id, 2)]
