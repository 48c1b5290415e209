"""Inventory pages: who reaches what, Sentra scoping, consent on pages, bad input, uploads."""

import io
import re
import uuid

import pytest
import sqlalchemy as sa
from PIL import Image

from accounts.models import Role
from core.audit import AuditEntry
from core.extensions import db
from core.files import StoredFile, store_file
from inventory.models import ConsignmentIntake, MovementKind, Product, ProductPhoto, StockMovement
from inventory.stock import move_stock, stock_level
from makers.models import ConsentPurpose, Maker, MakerGroup
from sentras.models import Sentra
from tests.factories import (
    MakerFactory,
    MakerGroupMemberFactory,
    MakerUserFactory,
    ProductFactory,
    SentraFactory,
    UserFactory,
)
from tests.factories.inventory import ConsentFactory, admin, kasir_of, manager_of


def counts() -> dict[str, int]:
    models = (Sentra, Maker, MakerGroup, Product, ProductPhoto, StockMovement, ConsignmentIntake, AuditEntry,
              StoredFile)
    return {m.__name__: db.session.scalar(sa.select(sa.func.count()).select_from(m)) for m in models}


@pytest.fixture
def world():
    """One Sentra with a maker, a group, a product with stock and an intake; and people of each role."""
    sentra = SentraFactory(code="TMG")
    maker = MakerFactory(sentra=sentra, name="Sri Rahayu Lengkap", public_name="Bu Sri")
    member = MakerGroupMemberFactory(group__sentra=sentra, maker=maker)
    product = ProductFactory(sentra=sentra, maker=maker, name="Batik Ciprat Biru")
    manager = manager_of(sentra)
    from inventory import services

    intake = services.receive_consignment(manager, sentra, maker, [(product, 5)], str(uuid.uuid4()))
    consent = ConsentFactory(maker=maker, purpose=ConsentPurpose.RECEIPT_NAME)
    db.session.commit()
    return {"sentra": sentra, "maker": maker, "group": member.group, "product": product, "intake": intake,
            "consent": consent, "manager": manager, "kasir": kasir_of(sentra), "admin": admin(),
            "maker_user": MakerUserFactory(maker=maker), "buyer": UserFactory(role=Role.BUYER, email="b@x.test")}


def pages(w) -> dict[str, str]:
    s, m, p = w["sentra"].id, w["maker"].id, w["product"].id
    return {
        "sentra_list": "/inventory/sentra", "sentra_create": "/inventory/sentra/baru",
        "sentra_edit": f"/inventory/sentra/{s}/ubah",
        "maker_list": "/inventory/pembuat", "maker_create": "/inventory/pembuat/baru",
        "maker_detail": f"/inventory/pembuat/{m}", "maker_edit": f"/inventory/pembuat/{m}/ubah",
        "group_list": "/inventory/kelompok", "group_create": "/inventory/kelompok/baru",
        "group_edit": f"/inventory/kelompok/{w['group'].id}/ubah",
        "product_list": "/inventory/produk", "product_detail": f"/inventory/produk/{p}",
        "product_create": "/inventory/produk/baru", "product_edit": f"/inventory/produk/{p}/ubah",
        "stock_list": f"/inventory/stok?sentra={s}", "intake_list": "/inventory/titipan",
        "intake_create": "/inventory/titipan/baru", "intake_detail": f"/inventory/titipan/{w['intake'].id}",
        "adjust": "/inventory/opname", "transfer": "/inventory/transfer", "label_select": "/inventory/label",
        "api_lookup": f"/inventory/api/produk?kode={w['product'].barcode}",
    }


ALLOWED = {
    "admin": "all",
    "manager": {"maker_list", "maker_create", "maker_detail", "maker_edit", "group_list", "group_create",
                "group_edit", "product_list", "product_detail", "product_create", "product_edit", "stock_list",
                "intake_list", "intake_create", "intake_detail", "adjust", "transfer", "label_select",
                "api_lookup"},
    "kasir": {"product_list", "product_detail", "stock_list", "label_select", "api_lookup"},
    "maker_user": set(),
    "buyer": set(),
}


@pytest.mark.parametrize("role", list(ALLOWED))
def test_each_role_reaches_only_its_pages(client, login_as, world, role):
    login_as(world[role])
    for name, url in pages(world).items():
        status = client.get(url).status_code
        allowed = ALLOWED[role] == "all" or name in ALLOWED[role]
        assert status == (200 if allowed else 403), (role, name, status)


def test_anonymous_is_sent_to_login(client, world):
    for url in pages(world).values():
        response = client.get(url)
        assert response.status_code in (302, 401), url


def test_staff_of_another_sentra_gets_404(client, login_as, world):
    other = SentraFactory(code="BKS")
    login_as(manager_of(other))
    w = world
    for url in (f"/inventory/pembuat/{w['maker'].id}", f"/inventory/pembuat/{w['maker'].id}/ubah",
                f"/inventory/produk/{w['product'].id}", f"/inventory/produk/{w['product'].id}/ubah",
                f"/inventory/kelompok/{w['group'].id}/ubah", f"/inventory/titipan/{w['intake'].id}",
                f"/inventory/titipan/{w['intake'].id}/tanda-terima.pdf", f"/inventory/stok?sentra={w['sentra'].id}",
                f"/inventory/opname?sentra={w['sentra'].id}", f"/inventory/label.pdf?product_id={w['product'].id}"):
        assert client.get(url).status_code == 404, url
    listing = client.get("/inventory/produk").get_data(as_text=True)
    assert "Batik Ciprat Biru" not in listing
    assert "Sri Rahayu" not in client.get("/inventory/pembuat").get_data(as_text=True)
    lookup = client.get(f"/inventory/api/produk?kode={w['product'].barcode}")
    assert lookup.status_code == 404 and lookup.mimetype == "application/problem+json"


def test_maker_login_cannot_read_staff_pages(client, login_as, world):
    login_as(world["maker_user"])
    assert client.get(f"/inventory/pembuat/{world['maker'].id}").status_code == 403
    assert client.get(f"/inventory/produk/{world['product'].id}").status_code == 403


def test_revoked_consent_removes_the_name_from_pages(client, login_as, csrf, world):
    login_as(world["kasir"])
    product_url = f"/inventory/produk/{world['product'].id}"
    assert "Bu Sri" in client.get(product_url).get_data(as_text=True)
    assert client.get(f"/inventory/api/produk?kode={world['product'].sku}").json["maker_name"] == "Bu Sri"

    login_as(world["manager"])
    maker_url = f"/inventory/pembuat/{world['maker'].id}"
    assert "Bu Sri" in client.get(maker_url).get_data(as_text=True)
    response = client.post(f"/inventory/izin/{world['consent'].id}/cabut", data={"csrf_token": csrf()})
    assert response.status_code == 302

    assert "Bu Sri" not in client.get(maker_url).get_data(as_text=True)
    login_as(world["kasir"])
    page = client.get(product_url).get_data(as_text=True)
    assert "Bu Sri" not in page and "belum ada izin" in page
    assert client.get(f"/inventory/api/produk?kode={world['product'].sku}").json["maker_name"] is None
    assert db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "consent.revoke")) is not None


def test_record_consent_for_minor_requires_guardian(client, login_as, csrf, world):
    child = MakerFactory(sentra=world["sentra"], is_minor=True, guardian_name="Ibu Ratna")
    login_as(world["manager"])
    before = counts()
    response = client.post(f"/inventory/pembuat/{child.id}/izin", data={
        "csrf_token": csrf(), "purpose": "shop_name", "given_by": "maker", "given_by_name": "Ani"})
    assert response.status_code == 422
    assert "wali" in response.get_data(as_text=True)
    assert counts() == before
    response = client.post(f"/inventory/pembuat/{child.id}/izin", data={
        "csrf_token": csrf(), "purpose": "shop_name", "given_by": "guardian", "given_by_name": "Ibu Ratna"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Maker, child.id).has_consent(ConsentPurpose.SHOP_NAME)


def _field_error(html: str, field_id: str) -> str:
    match = re.search(rf'<p class="error" id="{field_id}-err">([^<]*)</p>', html)
    return match.group(1) if match else ""


def test_bad_product_input_keeps_what_was_typed_and_writes_nothing(client, login_as, csrf, world):
    login_as(world["manager"])
    before = counts()
    response = client.post("/inventory/produk/baru", data={
        "csrf_token": csrf(), "sentra_id": world["sentra"].id, "sku": world["product"].sku, "barcode": "4006381333932",
        "name": "Tas Anyaman", "category": "Kerajinan", "kind": "goods", "price": "15O.000",
        "owner": f"m:{world['maker'].id}", "split_mode": "percent", "maker_share": "80"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "tidak dikenali" in _field_error(html, "price")
    assert 'value="15O.000"' in html and 'value="Tas Anyaman"' in html
    assert counts() == before
    # price fixed, the service finds the duplicate SKU and the bad check digit
    response = client.post("/inventory/produk/baru", data={
        "csrf_token": csrf(), "sentra_id": world["sentra"].id, "sku": world["product"].sku, "barcode": "4006381333932",
        "name": "Tas Anyaman", "category": "Kerajinan", "kind": "goods", "price": "150rb",
        "owner": f"m:{world['maker'].id}", "split_mode": "percent", "maker_share": "80"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "sudah dipakai" in _field_error(html, "sku")
    assert "EAN-13" in _field_error(html, "barcode")
    assert 'value="150rb"' in html
    assert counts() == before


def test_create_product_through_the_form(client, login_as, csrf, world):
    login_as(world["manager"])
    response = client.post("/inventory/produk/baru", data={
        "csrf_token": csrf(), "sentra_id": world["sentra"].id, "sku": "TAS-01", "barcode": "",
        "name": "Tas Anyaman", "category": "Kerajinan", "kind": "goods", "price": "Rp 150.000",
        "owner": f"g:{world['group'].id}", "split_mode": "percent", "maker_share": "72,5", "material_cost": "20rb"})
    assert response.status_code == 302
    product = db.session.scalar(sa.select(Product).where(Product.sku == "TAS-01"))
    assert (product.price, product.maker_share_bps, product.material_cost, product.group_id) == (
        150_000, 7250, 20_000, world["group"].id)


@pytest.mark.parametrize(("members", "message"), [
    ([("", ""), ("", "")], "minimal satu anggota"),
    ([("{a}", "1"), ("{a}", "2")], "lebih dari sekali"),
    ([("{a}", "0")], "Bobot"),
    ([("{a}", "satu")], "Bobot"),
])
def test_bad_group_weights_are_shown_and_nothing_written(client, login_as, csrf, world, members, message):
    login_as(world["manager"])
    before = counts()
    data = {"csrf_token": csrf(), "sentra_id": world["sentra"].id, "name": "KUBE Melati", "kind": "kube"}
    for index, (maker_id, weight) in enumerate(members):
        data[f"members-{index}-maker_id"] = maker_id.format(a=world["maker"].id)
        data[f"members-{index}-share_weight"] = weight
    response = client.post("/inventory/kelompok/baru", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in html and 'value="KUBE Melati"' in html
    assert counts() == before


def test_intake_form_and_pdf(client, login_as, csrf, world, pdf_text):
    login_as(world["manager"])
    key = str(uuid.uuid4())
    data = {"csrf_token": csrf(), "client_key": key, "owner": f"m:{world['maker'].id}",
            "lines-0-product_id": str(world["product"].id), "lines-0-qty": "7"}
    response = client.post(f"/inventory/titipan/baru?sentra={world['sentra'].id}", data=data)
    assert response.status_code == 302
    replay = client.post(f"/inventory/titipan/baru?sentra={world['sentra'].id}", data=data)
    assert replay.headers["Location"] == response.headers["Location"]
    assert stock_level(world["product"].id, world["sentra"].id) == 12
    intake_id = int(response.headers["Location"].rstrip("/").split("/")[-1])
    pdf = client.get(f"/inventory/titipan/{intake_id}/tanda-terima.pdf")
    assert pdf.mimetype == "application/pdf"
    text = pdf_text(pdf.data)
    assert "Sri Rahayu Lengkap" in text and "Batik Ciprat Biru" in text and "7" in text


def test_intake_bad_quantity_is_shown_next_to_the_line(client, login_as, csrf, world):
    login_as(world["manager"])
    before = counts()
    response = client.post(f"/inventory/titipan/baru?sentra={world['sentra'].id}", data={
        "csrf_token": csrf(), "client_key": str(uuid.uuid4()), "owner": f"m:{world['maker'].id}",
        "lines-0-product_id": str(world["product"].id), "lines-0-qty": "-3"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Jumlah" in _field_error(html, "lines-0-qty") and 'value="-3"' in html
    assert counts() == before


def test_opname_and_transfer_forms(client, login_as, csrf, world):
    login_as(world["manager"])
    other = SentraFactory(code="BKS")
    sentra_id, product_id = world["sentra"].id, world["product"].id
    response = client.post(f"/inventory/opname?sentra={sentra_id}", data={
        "csrf_token": csrf(), "client_key": str(uuid.uuid4()), "product_id": str(product_id),
        "counted_qty": "4", "reason": "opname bulanan"})
    assert response.status_code == 302
    before = counts()
    response = client.post(f"/inventory/transfer?sentra={sentra_id}", data={
        "csrf_token": csrf(), "client_key": str(uuid.uuid4()), "product_id": str(product_id),
        "to_sentra_id": str(other.id), "qty": "9"})
    assert response.status_code == 422 and "tersisa 4" in response.get_data(as_text=True)
    assert counts() == before
    response = client.post(f"/inventory/transfer?sentra={sentra_id}", data={
        "csrf_token": csrf(), "client_key": str(uuid.uuid4()), "product_id": str(product_id),
        "to_sentra_id": str(other.id), "qty": "3"})
    assert response.status_code == 302
    assert stock_level(product_id, sentra_id) == 1 and stock_level(product_id, other.id) == 3
    # staff at the receiving Sentra see the product and its stock there, but cannot edit it
    login_as(manager_of(other))
    assert "Batik Ciprat Biru" in client.get(f"/inventory/stok?sentra={other.id}").get_data(as_text=True)
    page = client.get(f"/inventory/produk/{product_id}").get_data(as_text=True)
    assert "Batik Ciprat Biru" in page and f"/inventory/produk/{product_id}/ubah" not in page
    assert client.get(f"/inventory/produk/{product_id}/ubah").status_code == 404


def test_kasir_cannot_change_stock(client, login_as, csrf, world):
    login_as(world["kasir"])
    response = client.post(f"/inventory/opname?sentra={world['sentra'].id}", data={
        "csrf_token": csrf(), "client_key": str(uuid.uuid4()), "product_id": str(world["product"].id),
        "counted_qty": "0", "reason": "x"})
    assert response.status_code == 403
    assert stock_level(world["product"].id, world["sentra"].id) == 5


def _image(fmt="PNG", size=(900, 600)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (30, 120, 60)).save(out, fmt)
    return out.getvalue()


def test_photo_upload_route(client, login_as, csrf, world, app):
    login_as(world["manager"])
    url = f"/inventory/produk/{world['product'].id}/foto"
    # A real image under a code file name is refused (the name must agree with the content) ...
    refused = client.post(url, data={"csrf_token": csrf(), "photo": (io.BytesIO(_image()), "evil.php")},
                          content_type="multipart/form-data")
    assert refused.status_code == 422 and "tidak cocok" in refused.get_data(as_text=True)
    # ... and the uploader's name is never what is stored.
    response = client.post(url, data={"csrf_token": csrf(), "photo": (io.BytesIO(_image()), "evil.png")},
                           content_type="multipart/form-data")
    assert response.status_code == 302
    photo = db.session.scalar(sa.select(ProductPhoto))
    stored = db.session.scalar(sa.select(StoredFile).where(StoredFile.sha256 == photo.file_sha256))
    assert b"evil" not in stored.data and photo.legacy_path is None
    served = client.get(f"/inventory/berkas/{photo.file_sha256}.webp")
    assert served.status_code == 200 and served.mimetype == "image/webp" and served.data == stored.data
    assert client.get("/inventory/berkas/..%2Fsentra.db").status_code == 404
    assert client.get("/inventory/berkas/evil.php").status_code == 404

    before = counts()
    response = client.post(url, data={"csrf_token": csrf(), "photo": (io.BytesIO(b"GIF89a not really"), "x.gif")},
                           content_type="multipart/form-data")
    assert response.status_code == 422 and "bukan gambar" in response.get_data(as_text=True)
    big = b"\x89PNG\r\n\x1a\n" + b"\0" * (app.config["UPLOAD_IMAGE_MAX_BYTES"] + 10)
    response = client.post(url, data={"csrf_token": csrf(), "photo": (io.BytesIO(big), "big.png")},
                           content_type="multipart/form-data")
    assert response.status_code in (413, 422)
    assert counts() == before


def test_a_product_photo_is_cached_for_a_year_at_its_hash_and_revalidated_by_etag(client, login_as, world):
    from inventory import services

    photo = services.add_product_photo(world["manager"], world["product"], _image())
    db.session.commit()
    anonymous = client.application.test_client()
    login_as(world["kasir"])  # a logged-in browser gets the same public answer
    for browser in (anonymous, client):
        for sha256 in (photo.file_sha256, photo.thumb_sha256):
            served = browser.get(f"/inventory/berkas/{sha256}.webp")
            assert served.status_code == 200 and served.mimetype == "image/webp"
            assert served.headers["Cache-Control"] == "public, max-age=31536000, immutable"
            assert served.headers["ETag"] == f'"{sha256}"'
            assert served.headers["X-Content-Type-Options"] == "nosniff"
            again = browser.get(f"/inventory/berkas/{sha256}.webp", headers={"If-None-Match": served.headers["ETag"]})
            assert again.status_code == 304 and again.data == b""
    # Only hashes a product or maker points at are served: not a slip scan, not an unknown hash.
    slip = store_file(_image(), "image/png")
    db.session.commit()
    assert anonymous.get(f"/inventory/berkas/{slip.sha256}.webp").status_code == 404
    assert anonymous.get(f"/inventory/berkas/{'0' * 64}.webp").status_code == 404
    assert anonymous.get(f"/inventory/berkas/{photo.file_sha256.upper()}.webp").status_code == 404


def test_sentra_admin_pages_validate_code_and_time_zone(client, login_as, csrf, world):
    login_as(world["admin"])
    before = counts()
    data = {"csrf_token": csrf(), "code": "mks1", "name": "SKA Gowa", "balai": "Balai Gau Mabaji", "city": "Gowa",
            "province": "Sulawesi Selatan", "timezone": "Asia/Tokyo", "tax_bps": "0", "hold_days": "7",
            "shipping_fee": "0", "is_active": "y"}
    response = client.post("/inventory/sentra/baru", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "huruf kapital" in _field_error(html, "code") and "WITA" in _field_error(html, "timezone")
    assert 'value="mks1"' in html
    assert counts() == before
    response = client.post("/inventory/sentra/baru", data={**data, "code": "TMG", "timezone": "Asia/Makassar"})
    assert "sudah dipakai" in response.get_data(as_text=True)
    response = client.post("/inventory/sentra/baru", data={**data, "code": "MKS", "timezone": "Asia/Makassar"})
    assert response.status_code == 302
    sentra = db.session.scalar(sa.select(Sentra).where(Sentra.code == "MKS"))
    assert sentra.timezone == "Asia/Makassar"
    response = client.post(f"/inventory/sentra/{sentra.id}/ubah", data={**data, "code": "MKS",
                                                                        "timezone": "Asia/Jayapura"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Sentra, sentra.id).timezone == "Asia/Jayapura"
    assert {"sentra.create", "sentra.update"} <= set(db.session.scalars(sa.select(AuditEntry.action)))


def test_product_search_and_filters(client, login_as, world):
    ProductFactory(sentra=world["sentra"], maker=world["maker"], name="Tiket Kolam Pancing", sku="TKT-01",
                   category="Tiket", kind="service")
    login_as(world["kasir"])
    html = client.get("/inventory/produk?q=kolam").get_data(as_text=True)
    assert "Tiket Kolam Pancing" in html and "Batik Ciprat Biru" not in html
    html = client.get(f"/inventory/produk?q={world['product'].barcode}").get_data(as_text=True)
    assert "Batik Ciprat Biru" in html and "Tiket Kolam" not in html
    html = client.get("/inventory/produk?kind=service").get_data(as_text=True)
    assert "Tiket Kolam Pancing" in html and "Batik Ciprat Biru" not in html


def test_product_search_finds_name_words_in_any_order_and_sku_parts(client, login_as, world):
    ProductFactory(sentra=world["sentra"], maker=world["maker"], name="Tiket Kolam Pancing", sku="TKT-01",
                   category="Tiket", kind="service")
    login_as(world["kasir"])
    for q in ("pancing kolam", "kol", "tkt-0", "KT-01"):
        html = client.get("/inventory/produk", query_string={"q": q}).get_data(as_text=True)
        assert "Tiket Kolam Pancing" in html and "Batik Ciprat Biru" not in html, q
    # the staff member's own Sentra is in every product's search document: not a match by itself
    assert "Uji" in world["sentra"].name
    html = client.get("/inventory/produk", query_string={"q": "uji"}).get_data(as_text=True)
    assert "Tiket Kolam Pancing" not in html
    html = client.get("/inventory/stok", query_string={"q": "kolam pancing"}).get_data(as_text=True)
    assert "Batik Ciprat Biru" not in html
    world["product"].is_active = False  # archived: not in the shop, still found by staff
    db.session.commit()
    html = client.get("/inventory/produk", query_string={"q": "ciprat batik", "status": "archived"}).get_data(
        as_text=True)
    assert "Batik Ciprat Biru" in html


def test_maker_search_and_filters(client, login_as, world):
    MakerFactory(sentra=world["sentra"], name="Pak Darto", cluster="lanjut_usia", program="pkh")
    login_as(world["manager"])
    html = client.get("/inventory/pembuat?cluster=lanjut_usia").get_data(as_text=True)
    assert "Pak Darto" in html and "Sri Rahayu" not in html
    html = client.get("/inventory/pembuat?q=sri").get_data(as_text=True)
    assert "Sri Rahayu" in html and "Pak Darto" not in html


def test_movement_history_on_product_page(client, login_as, world):
    move_stock(world["manager"], world["product"], world["sentra"].id, MovementKind.SALE, 2, reference="sale:1")
    db.session.commit()
    login_as(world["kasir"])
    html = client.get(f"/inventory/produk/{world['product'].id}").get_data(as_text=True)
    assert "Titipan masuk" in html and "Terjual" in html and "sale:1" in html


def test_product_list_paginates(client, login_as, world):
    for i in range(30):
        ProductFactory(sentra=world["sentra"], maker=world["maker"], name=f"Produk Uji {i:02d}")
    login_as(world["kasir"])
    first = client.get("/inventory/produk?q=uji").get_data(as_text=True)
    assert "Produk Uji 00" in first and "Produk Uji 29" not in first
    assert "/inventory/produk?q=uji&amp;page=2" in first
    second = client.get("/inventory/produk?q=uji&page=2").get_data(as_text=True)
    assert "Produk Uji 29" in second and "Produk Uji 00" not in second


def test_group_edit_form_shows_members_and_saves(client, login_as, csrf, world):
    login_as(world["manager"])
    group = world["group"]
    html = client.get(f"/inventory/kelompok/{group.id}/ubah").get_data(as_text=True)
    assert f'<option selected value="{world["maker"].id}">' in html
    other = MakerFactory(sentra=world["sentra"])
    response = client.post(f"/inventory/kelompok/{group.id}/ubah", data={
        "csrf_token": csrf(), "sentra_id": world["sentra"].id, "name": group.name, "kind": "kube",
        "members-0-maker_id": str(world["maker"].id), "members-0-share_weight": "2",
        "members-1-maker_id": str(other.id), "members-1-share_weight": "1"})
    assert response.status_code == 302
    db.session.expire_all()
    assert sorted((m.maker_id, m.share_weight) for m in db.session.get(MakerGroup, group.id).members) == sorted(
        [(world["maker"].id, 2), (other.id, 1)])


def test_api_lookup_by_barcode_and_sku(client, login_as, world):
    login_as(world["kasir"])
    response = client.get(f"/inventory/api/produk?kode={world['product'].barcode}")
    assert response.status_code == 200
    assert response.json["sku"] == world["product"].sku and response.json["stock"] == 5
    assert response.json["price"] == world["product"].price
    missing = client.get("/inventory/api/produk?kode=2999999999999")
    assert missing.status_code == 404 and "tidak dikenal" in missing.json["detail"]


def test_maker_photo_is_public_only_with_consent(client, login_as, csrf, world):
    login_as(world["manager"])
    url = f"/inventory/pembuat/{world['maker'].id}/foto"
    response = client.post(url, data={"csrf_token": csrf(), "photo": (io.BytesIO(_image()), "me.png")},
                           content_type="multipart/form-data")
    assert response.status_code == 302
    db.session.expire_all()
    photo_url = f"/inventory/berkas/{db.session.get(Maker, world['maker'].id).photo_sha256}.webp"
    assert client.get(photo_url).status_code == 200  # staff of the Sentra
    anonymous = client.application.test_client()
    assert anonymous.get(photo_url).status_code == 404  # no SHOP_PHOTO consent
    ConsentFactory(maker=db.session.get(Maker, world["maker"].id), purpose=ConsentPurpose.SHOP_PHOTO)
    served = anonymous.get(photo_url)
    assert served.status_code == 200 and served.headers["Cache-Control"] == "no-store"
    assert "ETag" not in served.headers

    bad = client.post(url, data={"csrf_token": csrf(), "photo": (io.BytesIO(b"%PDF-1.4 nope"), "me.jpg")},
                      content_type="multipart/form-data")
    assert bad.status_code == 422 and "bukan gambar" in _field_error(bad.get_data(as_text=True), "photo")


def test_bad_maker_input_is_shown_next_to_fields_and_nothing_written(client, login_as, csrf, world):
    login_as(world["manager"])
    before = counts()
    response = client.post("/inventory/pembuat/baru", data={
        "csrf_token": csrf(), "sentra_id": world["sentra"].id, "name": "Ani Kecil", "cluster": "anak",
        "program": "atensi", "phone": "12345", "is_minor": "y", "payout_method": "bank", "bank_name": "BRI",
        "account_number": "", "account_holder": "Ani"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "wali" in _field_error(html, "guardian_name")
    assert "Nomor HP tidak valid" in _field_error(html, "phone")
    assert "rekening" in _field_error(html, "account_number")
    assert 'value="Ani Kecil"' in html and 'value="12345"' in html
    assert counts() == before
