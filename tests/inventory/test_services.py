"""Inventory services: products, groups, consent, consignment intake, opname, transfer, audit."""

import io
import uuid
from datetime import date

import pytest
import sqlalchemy as sa
from PIL import Image

from core.audit import AuditEntry
from core.errors import IdempotencyConflict, ValidationFailed
from core.extensions import db
from core.files import StoredFile, get_file, sha256_hex
from inventory import services
from inventory.barcodes import is_valid_ean13
from inventory.models import MovementKind, Product, ProductKind, SplitMode, StockMovement
from inventory.stock import move_stock, movements_sum, stock_level
from makers import services as maker_services
from makers.models import ConsentGiver, ConsentPurpose
from tests.factories import MakerFactory, MakerGroupFactory, MakerGroupMemberFactory, ProductFactory, SentraFactory
from tests.factories.inventory import manager_of


def key() -> str:
    return str(uuid.uuid4())


def audit_actions() -> list[str]:
    return list(db.session.scalars(sa.select(AuditEntry.action).order_by(AuditEntry.id)))


def product_data(sentra, maker, **overrides):
    data = {"sentra_id": sentra.id, "sku": "BTK-001", "barcode": "", "name": "Batik Ciprat Merah",
            "description": "", "category": "Batik", "kind": "goods", "price": 150_000, "maker_id": maker.id,
            "group_id": None, "split_mode": "percent", "maker_share_bps": 8000, "maker_price": 0,
            "material_cost": 20_000, "daily_capacity": None, "is_published": True}
    data.update(overrides)
    return data


# --- products -------------------------------------------------------------------------------------

def test_product_without_barcode_gets_a_valid_in_store_code():
    sentra = SentraFactory()
    maker = MakerFactory(sentra=sentra)
    product = services.create_product(manager_of(sentra), product_data(sentra, maker))
    assert product.barcode.startswith("2") and is_valid_ean13(product.barcode)
    assert "product.create" in audit_actions()


@pytest.mark.parametrize(("overrides", "field"), [
    ({"barcode": "4006381333932"}, "barcode"),          # wrong check digit
    ({"barcode": "12345"}, "barcode"),
    ({"price": 0}, "price"),
    ({"price": -5}, "price"),
    ({"price": 10**12}, "price"),
    ({"maker_share_bps": 10001}, "maker_share_bps"),
    ({"split_mode": "fixed", "maker_price": 150_001, "material_cost": 0}, "maker_price"),
    ({"material_cost": 150_001}, "material_cost"),
    ({"sku": ""}, "sku"),
    ({"sku": "a b"}, "sku"),
    ({"name": ""}, "name"),
    ({"maker_id": None}, "owner"),
    ({"kind": "gift"}, "kind"),
])
def test_bad_product_input_is_refused_and_nothing_written(overrides, field):
    sentra = SentraFactory()
    maker = MakerFactory(sentra=sentra)
    with pytest.raises(ValidationFailed) as caught:
        services.create_product(manager_of(sentra), product_data(sentra, maker, **overrides))
    assert field in caught.value.errors
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(Product.id))) == 0


def test_duplicate_sku_and_barcode_are_refused():
    existing = ProductFactory(sku="BTK-001")
    sentra = existing.sentra
    maker = MakerFactory(sentra=sentra)
    with pytest.raises(ValidationFailed) as caught:
        services.create_product(manager_of(sentra), product_data(sentra, maker, sku="btk-001",
                                                                barcode=existing.barcode))
    assert set(caught.value.errors) >= {"sku", "barcode"}


def test_maker_of_another_sentra_cannot_own_the_product():
    sentra, other = SentraFactory(), SentraFactory()
    with pytest.raises(ValidationFailed) as caught:
        services.create_product(manager_of(sentra), product_data(sentra, MakerFactory(sentra=other)))
    assert "owner" in caught.value.errors


def test_price_change_is_audited_with_before_and_after():
    product = ProductFactory(price=150_000)
    actor = manager_of(product.sentra)
    data = product_data(product.sentra, product.maker, sku=product.sku, barcode=product.barcode, price=175_000)
    services.update_product(actor, product, data)
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "product.price_change"))
    assert entry.before["price"] == 150_000 and entry.after["price"] == 175_000
    assert entry.actor_id == actor.id


def test_product_with_movements_is_archived_not_deleted():
    product = ProductFactory()
    actor = manager_of(product.sentra)
    move_stock(actor, product, product.sentra_id, MovementKind.INTAKE, 2)
    assert services.remove_product(actor, product) == "archived"
    assert db.session.get(Product, product.id).is_active is False
    fresh = ProductFactory(sentra=product.sentra)
    assert services.remove_product(actor, fresh) == "deleted"


def test_service_products_are_not_stock_tracked():
    sentra = SentraFactory()
    ticket = ProductFactory(sentra=sentra, kind=ProductKind.SERVICE, name="Tiket kolam pemancingan")
    with pytest.raises(ValidationFailed):
        services.adjust_stock(manager_of(sentra), ticket, sentra.id, 5, "opname", key())


# --- groups ---------------------------------------------------------------------------------------

def test_group_with_weights():
    sentra = SentraFactory()
    a, b = MakerFactory(sentra=sentra), MakerFactory(sentra=sentra)
    group = maker_services.create_group(manager_of(sentra), {"sentra_id": sentra.id, "name": "KUBE Mawar"},
                                  [(a.id, "1"), (b.id, "2")])
    assert sorted(m.share_weight for m in group.members) == [1, 2]


@pytest.mark.parametrize("members", [
    [],
    [("", "")],
    ["same"],
    ["zero"],
    ["negative"],
    ["fraction"],
    ["foreign"],
])
def test_group_weights_that_make_no_sense_are_refused(members):
    sentra = SentraFactory()
    a, b = MakerFactory(sentra=sentra), MakerFactory(sentra=sentra)
    foreign = MakerFactory()
    rows = {"same": [(a.id, 1), (a.id, 2)], "zero": [(a.id, 0)], "negative": [(a.id, -1), (b.id, 2)],
            "fraction": [(a.id, "1.5")], "foreign": [(a.id, 1), (foreign.id, 1)]}
    members = rows[members[0]] if members and isinstance(members[0], str) else members
    with pytest.raises(ValidationFailed) as caught:
        maker_services.create_group(manager_of(sentra), {"sentra_id": sentra.id, "name": "KUBE"}, members)
    assert "members" in caught.value.errors


def test_group_update_replaces_members():
    member = MakerGroupMemberFactory(share_weight=1)
    group = member.group
    other = MakerFactory(sentra=group.sentra)
    member.maker.sentra = group.sentra
    db.session.commit()
    maker_services.update_group(manager_of(group.sentra), group, {"sentra_id": group.sentra_id, "name": "KUBE Baru"},
                          [(other.id, 3)])
    assert [(m.maker_id, m.share_weight) for m in group.members] == [(other.id, 3)]
    assert "group.update" in audit_actions()


# --- consent --------------------------------------------------------------------------------------

def test_minor_needs_guardian_consent_and_revoking_unpublishes_at_once():
    sentra = SentraFactory()
    actor = manager_of(sentra)
    child = MakerFactory(sentra=sentra, is_minor=True, guardian_name="Ibu Ratna", public_name="Dik Ani")
    product = ProductFactory(sentra=sentra, maker=child)
    with pytest.raises(ValidationFailed) as caught:
        maker_services.record_consent(actor, child, ConsentPurpose.RECEIPT_NAME, ConsentGiver.MAKER, "Ani")
    assert "given_by" in caught.value.errors
    consent = maker_services.record_consent(actor, child, ConsentPurpose.RECEIPT_NAME, ConsentGiver.GUARDIAN,
                                      "Ibu Ratna")
    assert maker_services.public_maker_name(product) == "Dik Ani"
    maker_services.revoke_consent(actor, consent)
    assert maker_services.public_maker_name(product) is None
    assert consent.revoked_by_id == actor.id and consent.recorded_by_id == actor.id
    assert audit_actions()[-2:] == ["consent.record", "consent.revoke"]


def test_minor_flag_follows_birth_date_and_needs_guardian():
    sentra = SentraFactory()
    today = date.today()
    data = {"sentra_id": sentra.id, "name": "Ani Lestari", "cluster": "anak", "program": "atensi",
            "birth_date": date(today.year - 12, 1, 1)}
    with pytest.raises(ValidationFailed) as caught:
        maker_services.create_maker(manager_of(sentra), data)
    assert "guardian_name" in caught.value.errors
    maker = maker_services.create_maker(manager_of(sentra), {**data, "guardian_name": "Ibu Ratna"})
    assert maker.is_minor


def test_bank_payout_needs_account_details():
    sentra = SentraFactory()
    with pytest.raises(ValidationFailed) as caught:
        maker_services.create_maker(manager_of(sentra), {
            "sentra_id": sentra.id, "name": "Pak Darto", "cluster": "lanjut_usia", "program": "pkh",
            "payout_method": "bank", "account_number": "12ab"})
    assert set(caught.value.errors) >= {"bank_name", "account_number", "account_holder"}


# --- consignment, opname, transfer ----------------------------------------------------------------

def test_consignment_intake_records_movements_and_prints_a_note(app, pdf_text):
    sentra = SentraFactory(name="Sentra Kreasi Kartini")
    maker = MakerFactory(sentra=sentra, name="Sri Rahayu")
    batik = ProductFactory(sentra=sentra, maker=maker, name="Batik Ciprat Biru", price=150_000)
    shawl = ProductFactory(sentra=sentra, maker=maker, name="Selendang Ciprat", price=85_000,
                           split_mode=SplitMode.FIXED, maker_price=60_000, maker_share_bps=0)
    actor = manager_of(sentra)
    client_key = key()
    intake = services.receive_consignment(actor, sentra, maker, [(batik, 12), (shawl, 5)], client_key)
    db.session.commit()
    assert stock_level(batik.id, sentra.id) == 12 and stock_level(shawl.id, sentra.id) == 5
    assert movements_sum(batik.id, sentra.id) == 12

    again = services.receive_consignment(actor, sentra, maker, [(batik, 12), (shawl, 5)], client_key)
    assert again.id == intake.id
    assert stock_level(batik.id, sentra.id) == 12
    with pytest.raises(IdempotencyConflict):
        services.receive_consignment(actor, sentra, maker, [(batik, 13), (shawl, 5)], client_key)
    assert stock_level(batik.id, sentra.id) == 12

    with app.test_request_context():
        text = pdf_text(services.render_intake_note(intake))
    assert "TANDA TERIMA BARANG TITIPAN" in text
    assert "Sri Rahayu" in text
    assert "Batik Ciprat Biru" in text and "Selendang Ciprat" in text
    assert "12" in text and "Rp 150.000" in text and "Rp 60.000 per barang" in text
    assert "stock.intake" in audit_actions()


def test_intake_refuses_products_of_someone_else():
    sentra = SentraFactory()
    maker, other = MakerFactory(sentra=sentra), MakerFactory(sentra=sentra)
    foreign = ProductFactory(sentra=sentra, maker=other)
    with pytest.raises(ValidationFailed) as caught:
        services.receive_consignment(manager_of(sentra), sentra, maker, [(foreign, 2)], key())
    assert "lines-0" in caught.value.errors


def test_group_intake(app, pdf_text):
    group = MakerGroupFactory(name="KUBE Ciprat Lestari")
    MakerGroupMemberFactory(group=group, maker=MakerFactory(sentra=group.sentra, name="Siti Aminah"))
    product = ProductFactory(sentra=group.sentra, maker=None, group=group)
    intake = services.receive_consignment(manager_of(group.sentra), group.sentra, group, [(product, 4)], key())
    assert intake.group_id == group.id and stock_level(product.id, group.sentra_id) == 4
    with app.test_request_context():
        text = pdf_text(services.render_intake_note(intake))
    assert "KUBE Ciprat Lestari" in text and "Siti Aminah" in text


def test_minor_intake_note_names_the_guardian(app, pdf_text):
    sentra = SentraFactory()
    child = MakerFactory(sentra=sentra, name="Dimas Pratama", is_minor=True, guardian_name="Endang Pratiwi")
    product = ProductFactory(sentra=sentra, maker=child)
    intake = services.receive_consignment(manager_of(sentra), sentra, child, [(product, 2)], key())
    with app.test_request_context():
        text = pdf_text(services.render_intake_note(intake))
    assert "Dimas Pratama" in text and "Endang Pratiwi" in text


def test_opname_sets_counted_quantity_with_reason_and_audit():
    product = ProductFactory()
    sentra = product.sentra
    actor = manager_of(sentra)
    move_stock(actor, product, sentra.id, MovementKind.INTAKE, 10)
    movement = services.adjust_stock(actor, product, sentra.id, "7", "hasil opname: 3 rusak", key(),
                                     is_discrepancy=True)
    assert movement.qty_delta == -3 and movement.is_discrepancy and movement.reason == "hasil opname: 3 rusak"
    assert stock_level(product.id, sentra.id) == 7 == movements_sum(product.id, sentra.id)
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "stock.adjust"))
    assert entry.before == {"qty": 10} and entry.after["qty"] == 7
    assert services.adjust_stock(actor, product, sentra.id, 7, "cek ulang", key()) is None


@pytest.mark.parametrize(("counted", "reason", "field"), [("-1", "x", "counted_qty"), ("abc", "x", "counted_qty"),
                                                         ("5", "", "reason"), ("9999999", "x", "counted_qty")])
def test_opname_bad_input(counted, reason, field):
    product = ProductFactory()
    with pytest.raises(ValidationFailed) as caught:
        services.adjust_stock(manager_of(product.sentra), product, product.sentra_id, counted, reason, key())
    assert field in caught.value.errors
    assert db.session.scalar(sa.select(sa.func.count(StockMovement.id))) == 0


def test_transfer_moves_stock_atomically_and_is_idempotent():
    product = ProductFactory()
    source, target = product.sentra, SentraFactory()
    actor = manager_of(source)
    move_stock(actor, product, source.id, MovementKind.INTAKE, 5)
    client_key = key()
    out, inbound = services.transfer_stock(actor, product, source.id, target.id, 3, client_key)
    assert (out.qty_delta, inbound.qty_delta) == (-3, 3)
    services.transfer_stock(actor, product, source.id, target.id, 3, client_key)
    with pytest.raises(IdempotencyConflict):
        services.transfer_stock(actor, product, source.id, target.id, 2, client_key)
    assert stock_level(product.id, source.id) == 2 and stock_level(product.id, target.id) == 3
    with pytest.raises(ValidationFailed) as caught:
        services.transfer_stock(actor, product, source.id, target.id, 3, key())
    assert "tersisa 2" in caught.value.errors["qty"]
    assert "stock.transfer" in audit_actions()
    with pytest.raises(ValidationFailed):
        services.transfer_stock(actor, product, source.id, source.id, 1, key())


# --- uploads --------------------------------------------------------------------------------------

def _png(size=(1600, 900)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 40, 40)).save(out, "PNG")
    return out.getvalue()


def test_photo_is_reencoded_resized_and_stored_in_the_database(app):
    product = ProductFactory()
    photo = services.add_product_photo(manager_of(product.sentra), product, _png())
    full, thumb = get_file(photo.file_sha256), get_file(photo.thumb_sha256)
    with Image.open(io.BytesIO(full.data)) as image:
        assert image.format == "WEBP" and max(image.size) == 1200
    with Image.open(io.BytesIO(thumb.data)) as image:
        assert max(image.size) == 400
    assert full.content_type == "image/webp" and full.size == len(full.data)
    assert sha256_hex(full.data) == photo.file_sha256 and photo.legacy_path is None


def test_the_same_photo_twice_is_stored_once():
    product = ProductFactory()
    actor = manager_of(product.sentra)
    first = services.add_product_photo(actor, product, _png())
    second = services.add_product_photo(actor, product, _png())
    assert (first.file_sha256, first.thumb_sha256) == (second.file_sha256, second.thumb_sha256)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(StoredFile)) == 2
    assert [p.position for p in product.photos] == [0, 1]


def test_non_image_and_oversized_uploads_are_refused(app):
    product = ProductFactory()
    actor = manager_of(product.sentra)
    with pytest.raises(ValidationFailed, match="bukan gambar"):
        services.add_product_photo(actor, product, b"<?php echo 'hi'; ?>" + b"\x89PNG" * 10)
    too_big = b"\xff\xd8\xff" + b"0" * (app.config["UPLOAD_IMAGE_MAX_BYTES"] + 1)
    with pytest.raises(ValidationFailed, match="terlalu besar"):
        services.add_product_photo(actor, product, too_big)
    assert product.photos == []


def test_maker_with_products_cannot_move_sentra_and_payout_change_is_audited():
    product = ProductFactory()
    maker, other = product.maker, SentraFactory()
    actor = manager_of(product.sentra, other)
    base = {"sentra_id": maker.sentra_id, "name": maker.name, "public_name": maker.public_name,
            "cluster": "disabilitas", "program": "atensi", "phone": maker.phone}
    with pytest.raises(ValidationFailed) as caught:
        maker_services.update_maker(actor, maker, {**base, "sentra_id": other.id})
    assert "sentra_id" in caught.value.errors
    maker_services.update_maker(actor, maker, {**base, "payout_method": "ewallet", "ewallet_provider": "GoPay",
                                         "ewallet_number": "0812 3456 7890"})
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "maker.update"))
    assert entry.before["payout_method"] == "cash" and entry.after["ewallet_number"] == "6281234567890"
