"""Catalogue search on the full-text index (inventory.search, migration fff1e22f32db): words in any
order, prefixes, accents, misspellings (PostgreSQL), consent, and the index following every change."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from accounts.models import Role
from core.db import utcnow
from core.extensions import db
from inventory.models import Product
from makers.models import Consent, ConsentGiver, ConsentPurpose, Maker
from shop.services import consent_clause
from tests.factories import MakerFactory, MakerGroupFactory, SentraFactory, UserFactory
from tests.factories.shop import ShopProductFactory, consent_all

CARD_NAME = re.compile(r'<li class="card product-card">.*?<h3><a href="/produk/\d+">([^<]*)</a></h3>', re.S)


def found(client, q: str, **args) -> list[str]:
    """The names on the catalogue page for this search, in the page's order."""
    response = client.get("/katalog", query_string={"q": q, **args})
    assert response.status_code == 200
    return CARD_NAME.findall(response.get_data(as_text=True))


def exact(client, q: str) -> list[str]:
    """The names found for this search as typed (not PostgreSQL's similar words, tried when none is)."""
    page = client.get("/katalog", query_string={"q": q}).get_data(as_text=True)
    return [] if "ini yang mirip dengan" in page else CARD_NAME.findall(page)


def test_words_match_in_any_order_and_all_of_them(client):
    ShopProductFactory(name="Kemeja Batik Ciprat", category="Batik", stock=1)
    ShopProductFactory(name="Tenun Ikat Lontar", category="Tenun", stock=1)
    assert found(client, "batik kemeja") == ["Kemeja Batik Ciprat"]
    assert found(client, "KEMEJA  batik!") == ["Kemeja Batik Ciprat"]
    assert found(client, "kemeja tenun") == []


def test_a_word_typed_half_way_finds_the_words_it_starts(client):
    ShopProductFactory(name="Kemeja Batik Ciprat", stock=1)
    ShopProductFactory(name="Tas Anyaman Pandan", category="Kerajinan", stock=1)
    assert found(client, "kem") == ["Kemeja Batik Ciprat"]
    assert found(client, "kemeja bat") == ["Kemeja Batik Ciprat"]
    assert found(client, "anyam") == ["Tas Anyaman Pandan"]  # a suffix (-an) needs no stemmer
    assert exact(client, "nyaman") == []  # the start of a word, not any part of it


def test_accents_do_not_matter(client):
    ShopProductFactory(name="Kopi Gayo Pilihan", category="Kuliner", stock=1)
    ShopProductFactory(name="Café Kémangi", category="Kuliner", stock=1)
    assert found(client, "kopi gayó") == ["Kopi Gayo Pilihan"]
    assert found(client, "cafe kemangi") == ["Café Kémangi"]


def test_description_category_sentra_and_group_names_are_searched(client):
    sentra = SentraFactory(name="Sentra Kreasi Pangudi Luhur", city="Bekasi")
    group = MakerGroupFactory(sentra=sentra, name="KUBE Mawar Sejahtera")
    ShopProductFactory(sentra=sentra, maker=None, group=group, name="Keset Perca", category="Kerajinan",
                       description="Dijahit dari kain perca sisa konveksi", stock=1)
    for q in ("konveksi", "kerajinan", "pangudi", "bekasi", "mawar sejahtera"):
        assert found(client, q) == ["Keset Perca"], q


def test_name_matches_come_before_description_matches(client):
    ShopProductFactory(name="Tas Pandan", description="Dianyam dari selendang bekas", stock=1)
    ShopProductFactory(name="Selendang Sutra", description="Tenun halus", stock=1)
    assert found(client, "selendang") == ["Selendang Sutra", "Tas Pandan"]
    # another order chosen by the buyer still applies to the matches
    assert found(client, "selendang", urut="nama") == ["Selendang Sutra", "Tas Pandan"]
    assert found(client, "selendang", urut="terbaru") == ["Selendang Sutra", "Tas Pandan"]


def test_filters_apply_to_the_matches(client):
    jateng = SentraFactory(province="Jawa Tengah")
    bali = SentraFactory(province="Bali", city="Denpasar")
    ShopProductFactory(sentra=jateng, name="Batik Tulis Jawa", category="Batik", price=200_000, stock=1)
    ShopProductFactory(sentra=bali, name="Batik Bali Rangrang", category="Batik", price=90_000, stock=0)
    assert found(client, "batik", provinsi="Bali") == ["Batik Bali Rangrang"]
    assert found(client, "batik", harga_min="100rb") == ["Batik Tulis Jawa"]
    assert found(client, "batik", tersedia="1") == ["Batik Tulis Jawa"]


def test_query_syntax_is_only_words(client):
    ShopProductFactory(name="Kemeja Batik", stock=1)
    for q in ('kemeja"', "kemeja*", "kemeja OR", "NEAR(kemeja)", "-kemeja", "kemeja:*", "kemeja & !batik",
              "kemeja'", "k_e_m"):
        response = client.get("/katalog", query_string={"q": q})
        assert response.status_code == 200, q
    assert found(client, "kemeja*") == ["Kemeja Batik"]
    assert found(client, "!!!") == []


def test_a_renamed_or_unpublished_product_is_found_as_it_is_now(client):
    product = ShopProductFactory(name="Tas Rotan", stock=1)
    assert found(client, "rotan") == ["Tas Rotan"]
    product.name = "Tas Purun"
    db.session.commit()
    assert found(client, "rotan") == []
    assert found(client, "purun") == ["Tas Purun"]
    product.description = "Anyaman enceng gondok"
    db.session.commit()
    assert found(client, "gondok") == ["Tas Purun"]
    product.is_published = False
    db.session.commit()
    assert found(client, "purun") == []
    product.is_published = True
    db.session.commit()
    assert found(client, "purun") == ["Tas Purun"]
    product.is_active = False
    db.session.commit()
    assert found(client, "purun") == []


def test_products_of_a_closed_sentra_are_not_found_until_it_opens_again(client):
    sentra = SentraFactory(name="Sentra Kreasi Tutup")
    ShopProductFactory(sentra=sentra, name="Kain Songket", stock=1)
    sentra.is_active = False
    db.session.commit()
    assert exact(client, "songket") == []
    sentra.is_active = True
    db.session.commit()
    assert found(client, "songket") == ["Kain Songket"]


def test_a_renamed_sentra_or_group_is_found_by_its_new_name(client):
    sentra = SentraFactory(name="Sentra Kreasi Lama", city="Magelang")
    group = MakerGroupFactory(sentra=sentra, name="KUBE Melati")
    ShopProductFactory(sentra=sentra, maker=None, group=group, name="Keripik Tempe", category="Kuliner", stock=1)
    sentra.name, sentra.city = "Sentra Kreasi Baru", "Wonosobo"
    group.name = "KUBE Kenanga"
    db.session.commit()
    assert found(client, "wonosobo") == found(client, "kenanga") == ["Keripik Tempe"]
    assert found(client, "magelang") == found(client, "melati") == []


def test_a_makers_name_finds_their_products_only_with_consent(client):
    maker = MakerFactory(public_name="Bu Sumarni")
    ShopProductFactory(maker=maker, sentra=maker.sentra, name="Batik Tulis", stock=1)
    assert found(client, "sumarni") == []
    consent_all(maker, (ConsentPurpose.SHOP_STORY,))  # another purpose does not count
    assert found(client, "sumarni") == []
    consent_all(maker, (ConsentPurpose.SHOP_NAME,))
    assert found(client, "sumarni") == found(client, "batik bu sumarni") == ["Batik Tulis"]
    maker.public_name = "Bu Marni"
    db.session.commit()
    assert exact(client, "sumarni") == []
    assert found(client, "marni") == ["Batik Tulis"]
    consent = db.session.scalar(sa.select(Consent).where(Consent.maker_id == maker.id,
                                                         Consent.purpose == ConsentPurpose.SHOP_NAME))
    consent.revoked_at = utcnow()
    db.session.commit()
    assert found(client, "marni") == []
    assert found(client, "batik tulis") == ["Batik Tulis"]  # the product itself is still found


def test_a_minors_name_needs_a_guardians_consent(client):
    minor = MakerFactory(public_name="Adik Bayu", is_minor=True, guardian_name="Ibu Bayu")
    ShopProductFactory(maker=minor, sentra=minor.sentra, name="Gantungan Kunci Flanel", stock=1)
    consent_all(minor, (ConsentPurpose.SHOP_NAME,))  # given by the minor himself
    assert found(client, "bayu") == []
    admin = UserFactory(role=Role.ADMIN)
    db.session.add(Consent(maker=minor, purpose=ConsentPurpose.SHOP_NAME, given_by=ConsentGiver.GUARDIAN,
                           given_by_name="Ibu Bayu", recorded_by_id=admin.id))
    db.session.commit()
    assert found(client, "bayu") == ["Gantungan Kunci Flanel"]


def test_a_product_given_to_another_maker_follows_their_consent(client):
    shown, hidden = MakerFactory(public_name="Bu Lestari"), MakerFactory(public_name="Pak Tersembunyi")
    consent_all(shown, (ConsentPurpose.SHOP_NAME,))
    product = ShopProductFactory(maker=shown, sentra=shown.sentra, name="Dompet Tenun", stock=1)
    assert found(client, "lestari") == ["Dompet Tenun"]
    product.maker = hidden
    db.session.commit()
    assert found(client, "lestari") == found(client, "tersembunyi") == []


def test_the_index_applies_the_same_consent_rule_as_the_shop(client):
    """The migration's SQL and `consent_clause` + `maker_public` agree, case by case."""
    admin = UserFactory(role=Role.ADMIN)
    cases = [  # (is_minor, is_active, consents given as (giver, revoked))
        (False, True, []), (False, True, [(ConsentGiver.MAKER, False)]), (False, True, [(ConsentGiver.MAKER, True)]),
        (False, False, [(ConsentGiver.MAKER, False)]), (True, True, [(ConsentGiver.MAKER, False)]),
        (True, True, [(ConsentGiver.GUARDIAN, False)]), (True, True, [(ConsentGiver.GUARDIAN, True)]),
        (True, True, [(ConsentGiver.GUARDIAN, True), (ConsentGiver.GUARDIAN, False)]),
    ]
    for n, (minor, active, consents) in enumerate(cases):
        maker = MakerFactory(public_name=f"Pembuat Kasus{chr(97 + n)}", is_minor=minor, is_active=active,
                             guardian_name="Wali" if minor else "")
        for giver, revoked in consents:
            db.session.add(Consent(maker=maker, purpose=ConsentPurpose.SHOP_NAME, given_by=giver,
                                   given_by_name="X", recorded_by_id=admin.id,
                                   revoked_at=utcnow() if revoked else None))
        ShopProductFactory(maker=maker, sentra=maker.sentra, name=f"Karya {n}", stock=1)
    db.session.commit()
    for n in range(len(cases)):
        maker = db.session.scalar(sa.select(Maker).where(Maker.public_name == f"Pembuat Kasus{chr(97 + n)}"))
        allowed = maker.is_active and db.session.scalar(
            sa.select(consent_clause(sa.literal(maker.id), ConsentPurpose.SHOP_NAME)))
        assert (found(client, f"kasus{chr(97 + n)}") == [f"Karya {n}"]) == bool(allowed), cases[n]


@pytest.mark.postgresql_only
def test_misspelt_words_find_similar_products_on_postgresql(client):
    ShopProductFactory(name="Kemeja Batik Ciprat", stock=1)
    ShopProductFactory(name="Selendang Sutra", category="Tenun", stock=1)
    page = client.get("/katalog", query_string={"q": "kemja batk"}).get_data(as_text=True)
    assert CARD_NAME.findall(page) == ["Kemeja Batik Ciprat"]
    assert "ini yang mirip dengan" in page
    assert found(client, "selendng") == ["Selendang Sutra"]
    assert found(client, "zzzqqq") == []
    exact = client.get("/katalog", query_string={"q": "kemeja"}).get_data(as_text=True)
    assert "ini yang mirip" not in exact


def test_without_a_trigram_index_sqlite_finds_only_the_words_as_typed(client, db_backend):
    if db_backend != "sqlite":
        pytest.skip("SQLite only")
    ShopProductFactory(name="Kemeja Batik Ciprat", stock=1)
    assert found(client, "kemja") == []


def test_the_index_holds_one_document_per_product(client, db_backend):
    products = [ShopProductFactory(name=f"Produk {n}", stock=1) for n in range(3)]
    table, key = ("product_search", "rowid") if db_backend == "sqlite" else ("product_search", "product_id")
    ids = set(db.session.scalars(sa.text(f"SELECT {key} FROM {table}")))
    assert ids == {p.id for p in products} == set(db.session.scalars(sa.select(Product.id)))
