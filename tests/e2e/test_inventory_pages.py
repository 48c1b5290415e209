"""Inventory pages in a real browser: keyboard-only intake, and no serious axe-core violations."""

import uuid

import pytest

from accounts.models import Role
from core.extensions import db
from inventory import services
from inventory.stock import stock_level
from tests.factories import TEST_PASSWORD, MakerFactory, ProductFactory, SentraFactory, UserFactory

pytestmark = pytest.mark.e2e


def _login(page, live_server, email):
    page.goto(f"{live_server}/accounts/masuk")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Kata sandi").fill(TEST_PASSWORD)
    page.get_by_label("Kata sandi").press("Enter")
    page.wait_for_url(f"{live_server}/staf")


@pytest.fixture
def shop_floor():
    sentra = SentraFactory(code="TMG")
    maker = MakerFactory(sentra=sentra, name="Sri Rahayu")
    product = ProductFactory(sentra=sentra, maker=maker, name="Batik Ciprat Biru")
    other_product = ProductFactory(sentra=sentra, name="Tas Anyaman", maker=MakerFactory(sentra=sentra))
    manager = UserFactory(role=Role.MANAGER, email="manajer@sentra.test", sentras=[sentra])
    intake = services.receive_consignment(manager, sentra, maker, [(product, 3)], str(uuid.uuid4()))
    db.session.commit()
    return {"sentra_id": sentra.id, "maker_id": maker.id, "product_id": product.id, "intake_id": intake.id,
            "other_product_id": other_product.id}


def test_manager_takes_in_consignment_with_the_keyboard(page, live_server, shop_floor):
    _login(page, live_server, "manajer@sentra.test")
    page.goto(f"{live_server}/inventory/titipan/baru")
    page.get_by_label("Pembuat atau kelompok yang menitipkan").select_option(f"m:{shop_floor['maker_id']}")
    # the line lists only this maker's goods once the maker is chosen
    assert page.locator(f"#lines-0-product_id option[value='{shop_floor['other_product_id']}']").is_disabled()
    page.get_by_label("Produk baris 1").select_option(str(shop_floor["product_id"]))
    page.get_by_label("Jumlah baris 1").fill("4")
    page.get_by_label("Jumlah baris 1").press("Enter")
    page.wait_for_url(f"{live_server}/inventory/titipan/*")
    assert "Titipan diterima" in page.content()
    db.session.expire_all()
    assert stock_level(shop_floor["product_id"], shop_floor["sentra_id"]) == 7


def test_inventory_pages_have_no_serious_accessibility_violations(page, live_server, shop_floor, axe_violations):
    _login(page, live_server, "manajer@sentra.test")
    for path in ("/inventory/produk", f"/inventory/produk/{shop_floor['product_id']}", "/inventory/produk/baru",
                 "/inventory/pembuat", f"/inventory/pembuat/{shop_floor['maker_id']}", "/inventory/kelompok/baru",
                 "/inventory/stok", "/inventory/titipan/baru", "/inventory/opname", "/inventory/transfer",
                 "/inventory/label"):
        page.goto(f"{live_server}{path}")
        assert axe_violations(page) == [], path


def test_an_uploaded_photo_is_shown_from_the_database(page, live_server, shop_floor, tmp_path):
    from PIL import Image

    upload = tmp_path / "batik.png"
    Image.new("RGB", (1600, 1000), (20, 60, 160)).save(upload, "PNG")
    _login(page, live_server, "manajer@sentra.test")
    page.goto(f"{live_server}/inventory/produk/{shop_floor['product_id']}")
    page.get_by_label("Foto produk (JPEG, PNG atau WebP)").set_input_files(str(upload))
    page.get_by_role("button", name="Unggah foto").click()
    page.wait_for_url(f"{live_server}/inventory/produk/{shop_floor['product_id']}")
    assert "Foto tersimpan" in page.content()
    photo = page.get_by_alt_text("Foto Batik Ciprat Biru")
    photo.wait_for()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=photo.element_handle())
    assert photo.evaluate("img => [img.naturalWidth, img.naturalHeight]") == [400, 250]  # the thumbnail
    assert "/inventory/berkas/" in photo.get_attribute("src")
