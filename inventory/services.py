"""Inventory rules: products, photos, consignment and stock.

Every function takes the acting user and plain values, adds and flushes, never commits, and
raises `ValidationFailed` (field → Indonesian message) or another `DomainError`. Every stock
change goes through `inventory.stock.move_stock`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from core.audit import record_audit
from core.errors import DomainError, IdempotencyConflict, NotFound, ValidationFailed
from core.extensions import db
from core.files import ImportCounts
from core.images import import_legacy_image, save_image
from core.parsing import int_or_none, text_value
from inventory.barcodes import is_valid_ean13, random_in_store_code
from inventory.models import (
    ConsignmentIntake,
    ConsignmentIntakeLine,
    MovementKind,
    Product,
    ProductKind,
    ProductPhoto,
    SplitMode,
    StockLevel,
    StockMovement,
)
from inventory.stock import _ensure_level_row, move_stock
from makers.models import Maker, MakerGroup
from makers.services import public_maker_name
from sentras.models import Sentra

MAX_PRICE = 1_000_000_000  # Rp 1 miliar per unit: anything above is a typing mistake
MAX_QTY = 100_000
SKU_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,39}$")


# --- Products ----------------------------------------------------------------------------------

PRICE_FIELDS = ("price", "split_mode", "maker_share_bps", "maker_price", "material_cost")


def _product_values(actor, data: Mapping[str, Any], product: Product | None) -> dict[str, Any]:
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    sentra_id = int_or_none(data.get("sentra_id"))
    if sentra_id is None or db.session.get(Sentra, sentra_id) is None:
        errors["sentra_id"] = "Pilih Sentra."
    elif not actor.can_access_sentra(sentra_id):
        errors["sentra_id"] = "Anda tidak bertugas di Sentra ini."
    values["sentra_id"] = sentra_id

    sku = text_value(data, "sku")
    if not SKU_PATTERN.match(sku):
        errors["sku"] = "SKU 2–40 karakter: huruf, angka, titik, garis bawah atau tanda hubung."
    else:
        clash = db.session.scalar(sa.select(Product.id).where(sa.func.lower(Product.sku) == sku.lower()))
        if clash is not None and (product is None or clash != product.id):
            errors["sku"] = "SKU ini sudah dipakai produk lain."
    values["sku"] = sku

    barcode = re.sub(r"\s", "", text_value(data, "barcode"))
    if barcode:
        if not is_valid_ean13(barcode):
            errors["barcode"] = "Barcode harus EAN-13 yang sah (13 angka, digit terakhir = digit periksa)."
        else:
            clash = db.session.scalar(sa.select(Product.id).where(Product.barcode == barcode))
            if clash is not None and (product is None or clash != product.id):
                errors["barcode"] = "Barcode ini sudah dipakai produk lain."
    elif product is not None:
        barcode = product.barcode
    else:
        barcode = _unused_in_store_code()
    values["barcode"] = barcode

    values["name"] = text_value(data, "name")
    if not values["name"]:
        errors["name"] = "Nama produk wajib diisi."
    values["description"] = text_value(data, "description")
    values["category"] = text_value(data, "category")
    if not values["category"]:
        errors["category"] = "Kategori wajib diisi (mis. Batik, Kuliner, Tiket)."
    try:
        values["kind"] = ProductKind(data.get("kind") or ProductKind.GOODS)
    except ValueError:
        errors["kind"] = "Pilih jenis: barang atau layanan/tiket."
    if product is not None and "kind" in values and values["kind"] != product.kind and _has_history(product):
        errors["kind"] = "Jenis tidak bisa diubah setelah ada pergerakan stok atau penjualan."

    price = data.get("price")
    if not isinstance(price, int) or isinstance(price, bool) or not 1 <= price <= MAX_PRICE:
        errors["price"] = "Harga harus antara Rp 1 dan Rp 1.000.000.000."
        price = None
    values["price"] = price

    maker_id = int_or_none(data.get("maker_id"))
    group_id = int_or_none(data.get("group_id"))
    if (maker_id is None) == (group_id is None):
        errors["owner"] = "Pilih satu pembuat atau satu kelompok."
    elif maker_id is not None:
        maker = db.session.get(Maker, maker_id)
        if maker is None or maker.sentra_id != sentra_id:
            errors["owner"] = "Pembuat harus terdaftar di Sentra yang sama."
    else:
        group = db.session.get(MakerGroup, group_id)
        if group is None or group.sentra_id != sentra_id:
            errors["owner"] = "Kelompok harus terdaftar di Sentra yang sama."
    values["maker_id"] = maker_id
    values["group_id"] = group_id

    try:
        mode = SplitMode(data.get("split_mode") or SplitMode.PERCENT)
    except ValueError:
        errors["split_mode"] = "Pilih cara bagi hasil."
        mode = SplitMode.PERCENT
    values["split_mode"] = mode
    bps = data.get("maker_share_bps")
    maker_price = data.get("maker_price") or 0
    material = data.get("material_cost") or 0
    if mode == SplitMode.PERCENT:
        if not isinstance(bps, int) or not 0 <= bps <= 10000:
            errors["maker_share_bps"] = "Bagian pembuat antara 0% dan 100%."
        values["maker_share_bps"] = bps
        values["maker_price"] = 0
    else:
        if not isinstance(maker_price, int) or maker_price < 0:
            errors["maker_price"] = "Harga untuk pembuat tidak valid."
        elif price is not None and maker_price > price:
            errors["maker_price"] = "Harga untuk pembuat tidak boleh lebih dari harga jual."
        values["maker_price"] = maker_price
        values["maker_share_bps"] = 0
    if not isinstance(material, int) or material < 0:
        errors["material_cost"] = "Biaya bahan tidak valid."
    elif price is not None and material > price:
        errors["material_cost"] = "Biaya bahan tidak boleh lebih dari harga jual."
    elif (price is not None and mode == SplitMode.FIXED and isinstance(maker_price, int)
          and maker_price + material > price and "maker_price" not in errors):
        errors["material_cost"] = "Harga untuk pembuat ditambah biaya bahan melebihi harga jual."
    values["material_cost"] = material

    capacity = data.get("daily_capacity")
    if capacity in (None, ""):
        capacity = None
    elif not isinstance(capacity, int) or not 1 <= capacity <= MAX_QTY:
        errors["daily_capacity"] = "Kapasitas harian harus 1–100.000, atau kosong untuk tanpa batas."
    values["daily_capacity"] = capacity
    values["is_published"] = bool(data.get("is_published"))
    if errors:
        raise ValidationFailed(errors)
    return values


def _unused_in_store_code() -> str:
    while True:
        code = random_in_store_code()
        if db.session.scalar(sa.select(Product.id).where(Product.barcode == code)) is None:
            return code


def _has_history(product: Product) -> bool:
    if db.session.scalar(sa.select(StockMovement.id).where(StockMovement.product_id == product.id).limit(1)):
        return True
    if db.session.scalar(sa.select(ConsignmentIntakeLine.id)
                         .where(ConsignmentIntakeLine.product_id == product.id).limit(1)):
        return True
    # sales is downstream of inventory: look at its table through the metadata, not an import
    sale_lines = db.metadata.tables.get("sale_lines")
    return sale_lines is not None and db.session.scalar(
        sa.select(sale_lines.c.id).where(sale_lines.c.product_id == product.id).limit(1)) is not None


def create_product(actor, data: Mapping[str, Any]) -> Product:
    values = _product_values(actor, data, None)
    product = Product(**values)
    db.session.add(product)
    db.session.flush()
    record_audit(actor, "product.create", product, after={k: values[k] for k in ("sku", "barcode", "name",
                                                                                *PRICE_FIELDS)})
    return product


def update_product(actor, product: Product, data: Mapping[str, Any]) -> Product:
    values = _product_values(actor, data, product)
    if values["sentra_id"] != product.sentra_id:
        raise ValidationFailed({"sentra_id": "Produk tidak bisa dipindah Sentra; gunakan transfer stok."})
    before = {key: getattr(product, key) for key in values}
    for key, value in values.items():
        setattr(product, key, value)
    db.session.flush()
    price_changed = {k: values[k] for k in PRICE_FIELDS if before[k] != values[k]}
    if price_changed:
        record_audit(actor, "product.price_change", product,
                     before={k: before[k] for k in price_changed}, after=price_changed)
    other = {k: values[k] for k in values if k not in PRICE_FIELDS and before[k] != values[k]}
    if other:
        record_audit(actor, "product.update", product, before={k: before[k] for k in other}, after=other)
    return product


def remove_product(actor, product: Product) -> str:
    """Delete a product nobody has touched yet; one with movements, intakes or sales is archived."""
    if _has_history(product):
        if product.is_active:
            product.is_active = False
            product.is_published = False
            db.session.flush()
            record_audit(actor, "product.archive", product, before={"is_active": True}, after={"is_active": False})
        return "archived"
    record_audit(actor, "product.delete", product, before={"sku": product.sku, "name": product.name})
    for photo in list(product.photos):
        db.session.delete(photo)
    db.session.execute(sa.delete(StockLevel).where(StockLevel.product_id == product.id))
    db.session.delete(product)
    db.session.flush()
    return "deleted"


def restore_product(actor, product: Product) -> Product:
    if not product.is_active:
        product.is_active = True
        db.session.flush()
        record_audit(actor, "product.restore", product, before={"is_active": False}, after={"is_active": True})
    return product


def add_product_photo(actor, product: Product, data: bytes, filename: str | None = None) -> ProductPhoto:
    """Store an uploaded photo (checked by content and size, re-encoded, resized) in the database."""
    saved = save_image(data, field="photo", filename=filename)
    position = len(product.photos)
    photo = ProductPhoto(product_id=product.id, file_sha256=saved.full.sha256, thumb_sha256=saved.thumb.sha256,
                         position=position)
    db.session.add(photo)
    db.session.flush()
    db.session.expire(product, ["photos"])
    record_audit(actor, "product.photo_add", product, after={"photo": saved.full.sha256})
    return photo


def import_legacy_photos(folder: Path) -> ImportCounts:
    """Move product photos still on disk (`legacy_path` under `folder`, the old UPLOAD_DIR) into the
    database; rows already moved are left alone, so running it again changes nothing. The files
    on disk are not touched."""
    counts = ImportCounts()
    photos = db.session.scalars(sa.select(ProductPhoto).where(ProductPhoto.legacy_path.is_not(None))
                                .order_by(ProductPhoto.id))
    for photo in photos:
        if photo.file_sha256 is not None:
            counts.already += 1
            continue
        saved = import_legacy_image(folder, photo.legacy_path)
        if saved is None:
            counts.missing += 1
            continue
        photo.file_sha256, photo.thumb_sha256 = saved.full.sha256, saved.thumb.sha256
        counts.moved += 1
    db.session.flush()
    return counts


def find_product_by_code(code: str, sentra_ids: set[int] | None = None) -> Product | None:
    """A product by barcode or SKU (what a scanner or a kasir types)."""
    code = (code or "").strip()
    if not code:
        return None
    query = sa.select(Product).where(sa.or_(Product.barcode == code, sa.func.lower(Product.sku) == code.lower()))
    if sentra_ids is not None:
        # the Sentra's own products, and products transferred to it
        held = sa.select(StockLevel.product_id).where(StockLevel.sentra_id.in_(sentra_ids))
        query = query.where(sa.or_(Product.sentra_id.in_(sentra_ids), Product.id.in_(held)))
    return db.session.scalar(query.limit(1))


# --- Consignment and stock ---------------------------------------------------------------------

def receive_consignment(actor, sentra: Sentra, maker_or_group: Maker | MakerGroup,
                        items: Sequence[tuple[Product, Any]], client_key: str | None,
                        note: str = "") -> ConsignmentIntake:
    """Take goods in on consignment: an intake record, one INTAKE movement per line, idempotent by key.

    The agreed price and split terms are copied onto each line, so the tanda terima keeps showing
    what was agreed even after a later price change.
    """
    if not client_key:
        raise ValidationFailed({"client_key": "Kunci formulir hilang. Muat ulang halaman."})
    existing = db.session.scalar(sa.select(ConsignmentIntake).where(ConsignmentIntake.client_key == client_key))
    if existing is not None:
        _check_same_intake(existing, maker_or_group, items)
        return existing
    if not actor.can_access_sentra(sentra.id):
        raise NotFound("Sentra tidak ditemukan.")
    is_group = isinstance(maker_or_group, MakerGroup)
    if maker_or_group is None or maker_or_group.sentra_id != sentra.id:
        raise ValidationFailed({"owner": "Pembuat atau kelompok harus terdaftar di Sentra ini."})
    errors: dict[str, str] = {}
    merged: dict[int, tuple[Product, int]] = {}
    for index, (product, qty) in enumerate(items):
        field = f"lines-{index}"
        if product is None:
            errors[field] = "Produk tidak dikenal."
            continue
        if product.sentra_id != sentra.id:
            errors[field] = f"{product.name} bukan produk Sentra ini."
        elif (product.group_id if is_group else product.maker_id) != maker_or_group.id:
            errors[field] = f"{product.name} bukan milik {maker_or_group.name}."
        elif not product.is_stock_tracked:
            errors[field] = f"{product.name} adalah layanan/tiket, tidak dititipkan."
        elif not product.is_active:
            errors[field] = f"{product.name} sudah diarsipkan."
        qty_int = int_or_none(qty)
        if qty_int is None or not 1 <= qty_int <= MAX_QTY:
            errors[field] = f"Jumlah {product.name} harus 1–{MAX_QTY}."
            continue
        previous = merged.get(product.id, (product, 0))[1]
        merged[product.id] = (product, previous + qty_int)
    if not merged and not errors:
        errors["lines"] = "Isi minimal satu baris barang dengan jumlahnya."
    if errors:
        raise ValidationFailed(errors)

    intake = ConsignmentIntake(sentra_id=sentra.id, received_by_id=actor.id, client_key=client_key,
                               note=(note or "").strip()[:200],
                               maker_id=None if is_group else maker_or_group.id,
                               group_id=maker_or_group.id if is_group else None)
    db.session.add(intake)
    db.session.flush()
    for product, qty in merged.values():
        intake.lines.append(ConsignmentIntakeLine(
            product_id=product.id, qty=qty, price=product.price, split_mode=product.split_mode,
            maker_share_bps=product.maker_share_bps, maker_price=product.maker_price,
            material_cost=product.material_cost))
        move_stock(actor, product, sentra.id, MovementKind.INTAKE, qty, reference=f"intake:{intake.id}",
                   client_key=client_key)
    db.session.flush()
    record_audit(actor, "stock.intake", intake, sentra_id=sentra.id,
                 after={"owner": maker_or_group.name, "lines": {p.sku: q for p, q in merged.values()}})
    return intake


def _check_same_intake(existing: ConsignmentIntake, owner, items: Sequence[tuple[Product, Any]]) -> None:
    """A replayed key must describe the same intake; otherwise refuse and leave the original alone."""
    wanted: dict[int, int] = {}
    for product, qty in items:
        if product is not None:
            wanted[product.id] = wanted.get(product.id, 0) + (int_or_none(qty) or 0)
    existing_owner = existing.group_id if isinstance(owner, MakerGroup) else existing.maker_id
    same_owner = existing_owner == getattr(owner, "id", None)
    if not same_owner or wanted != {line.product_id: line.qty for line in existing.lines}:
        raise IdempotencyConflict("Formulir ini sudah dipakai untuk titipan lain. Muat ulang halaman lalu isi lagi.")


def render_intake_note(intake: ConsignmentIntake) -> bytes:
    """The *tanda terima barang titipan* as PDF bytes (A4, two signature lines)."""
    from core.pdf import render_pdf

    return render_pdf("intake_note.html", intake=intake, sentra=intake.sentra,
                      owner=intake.maker or intake.group, lines=intake.lines)


def _locked_level(product_id: int, sentra_id: int) -> int:
    """Current stock with the level row locked until commit (PostgreSQL); SQLite is already serialised."""
    _ensure_level_row(product_id, sentra_id)
    return db.session.scalar(
        sa.select(StockLevel.qty)
        .where(StockLevel.product_id == product_id, StockLevel.sentra_id == sentra_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ) or 0


def adjust_stock(actor, product: Product, sentra_id: int, counted_qty: Any, reason: str | None, client_key: str | None,
                 *, is_discrepancy: bool = False) -> StockMovement | None:
    """Stock-take (opname): set the stock to what was counted, as an ADJUSTMENT with a reason.

    The level row is locked before it is read, so two concurrent counts never lose an update:
    the second one sees the first one's result. Returns None when the count matches the books.
    """
    if not client_key:
        raise ValidationFailed({"client_key": "Kunci formulir hilang. Muat ulang halaman."})
    existing = db.session.scalar(sa.select(StockMovement).where(
        StockMovement.client_key == client_key, StockMovement.product_id == product.id,
        StockMovement.kind == MovementKind.ADJUSTMENT))
    if existing is not None:
        return existing
    errors: dict[str, str] = {}
    counted = int_or_none(counted_qty)
    if counted is None or not 0 <= counted <= MAX_QTY:
        errors["counted_qty"] = f"Jumlah hasil hitung harus bilangan bulat 0–{MAX_QTY}."
    reason = (reason or "").strip()
    if not reason:
        errors["reason"] = "Tulis alasan penyesuaian (mis. hasil opname, barang rusak, ditemukan)."
    if not product.is_stock_tracked:
        errors["product_id"] = f"{product.name} adalah layanan/tiket dan tidak memakai stok."
    if errors:
        raise ValidationFailed(errors)
    assert counted is not None  # checked above
    current = _locked_level(product.id, sentra_id)
    delta = counted - current
    if delta == 0:
        return None
    movement = move_stock(actor, product, sentra_id, MovementKind.ADJUSTMENT, delta, reference="opname",
                          reason=reason[:200], client_key=client_key, is_discrepancy=is_discrepancy)
    record_audit(actor, "stock.adjust", product, sentra_id=sentra_id,
                 before={"qty": current}, after={"qty": counted, "reason": reason,
                                                 "discrepancy": is_discrepancy, "movement_id": movement.id})
    return movement


def transfer_stock(actor, product: Product, from_sentra_id: int, to_sentra_id: int, qty: Any,
                   client_key: str | None, reason: str = "") -> tuple[StockMovement, StockMovement]:
    """Move pieces between Sentras: TRANSFER_OUT and TRANSFER_IN in one transaction."""
    if not client_key:
        raise ValidationFailed({"client_key": "Kunci formulir hilang. Muat ulang halaman."})
    out = db.session.scalar(sa.select(StockMovement).where(
        StockMovement.client_key == client_key, StockMovement.product_id == product.id,
        StockMovement.kind == MovementKind.TRANSFER_OUT))
    if out is not None:
        same_target = out.reference == f"transfer:{from_sentra_id}>{int_or_none(to_sentra_id)}"
        if -out.qty_delta != int_or_none(qty) or not same_target:
            raise IdempotencyConflict("Formulir ini sudah dipakai untuk transfer lain. Muat ulang lalu isi lagi.")
        inbound = db.session.scalar(sa.select(StockMovement).where(
            StockMovement.client_key == client_key, StockMovement.product_id == product.id,
            StockMovement.kind == MovementKind.TRANSFER_IN))
        assert inbound is not None  # written in the same transaction as `out`
        return out, inbound
    errors: dict[str, str] = {}
    count = int_or_none(qty)
    if count is None or not 1 <= count <= MAX_QTY:
        errors["qty"] = f"Jumlah harus bilangan bulat 1–{MAX_QTY}."
    target = db.session.get(Sentra, int_or_none(to_sentra_id) or 0)
    if target is None or not target.is_active:
        errors["to_sentra_id"] = "Pilih Sentra tujuan."
    elif target.id == from_sentra_id:
        errors["to_sentra_id"] = "Sentra tujuan harus berbeda dari Sentra asal."
    if not product.is_stock_tracked:
        errors["product_id"] = f"{product.name} adalah layanan/tiket dan tidak memakai stok."
    if errors:
        raise ValidationFailed(errors)
    assert target is not None and count is not None  # checked above
    reference = f"transfer:{from_sentra_id}>{target.id}"
    try:
        out = move_stock(actor, product, from_sentra_id, MovementKind.TRANSFER_OUT, count, reference=reference,
                         reason=(reason or "").strip()[:200], client_key=client_key)
    except DomainError as error:
        raise ValidationFailed({"qty": error.detail}) from None
    inbound = move_stock(actor, product, target.id, MovementKind.TRANSFER_IN, count, reference=reference,
                         reason=(reason or "").strip()[:200], client_key=client_key)
    record_audit(actor, "stock.transfer", product, sentra_id=from_sentra_id,
                 after={"qty": count, "from": from_sentra_id, "to": target.id})
    return out, inbound


def render_labels(products: Sequence[Product], copies: int = 1) -> bytes:
    """An A4 sheet of labels (name, price, EAN-13 bars and digits), `copies` of each product."""
    from core.pdf import render_pdf
    from inventory.barcodes import barcode_data_uri

    labels = []
    for product in products:
        svg = barcode_data_uri(product.barcode)
        labels += [{"name": product.name, "price": product.price, "barcode": product.barcode, "svg": svg,
                    "maker": public_maker_name(product), "sku": product.sku}] * copies
    return render_pdf("labels.html", labels=labels)
