"""Staff pages for products, stock, consignment, opname, transfers, labels and uploaded photos.

Each view loads, authorises (`get_scoped_or_404` → 404 for another Sentra's data), calls one
service and renders; the request commits once (core/unit_of_work.py). Kasir may look up products
and stock; changes need a manager.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from accounts.access import (
    current_sentra,
    get_scoped_or_404,
    manager_required,
    my_sentras,
    require_sentra_access,
    scope_to_user,
    staff_required,
)
from core.errors import ValidationFailed
from core.extensions import db
from core.files import SHA256_PATTERN, file_response, get_file
from core.forms import PhotoForm, apply_errors, form_page, save_photo_upload
from core.images import CONTENT_TYPE as IMAGE_TYPE
from core.unit_of_work import rollback_now
from inventory import bp, services
from inventory.forms import AdjustForm, IntakeForm, ProductForm, TransferForm, format_bps
from inventory.models import ConsignmentIntake, Product, ProductKind, ProductPhoto, SplitMode, StockLevel, StockMovement
from inventory.search import staff_matching_product_ids
from makers.models import ConsentPurpose, Maker, MakerGroup
from makers.services import public_maker_name
from sentras.models import Sentra

PER_PAGE = 25


# --- helpers -----------------------------------------------------------------------------------

def _apply_errors(form, errors: dict[str, str]) -> None:
    """Show service errors next to the matching field (the service's maker_share_bps is the form's maker_share)."""
    apply_errors(form, errors, {"maker_share_bps": "maker_share"})


def _owner_choices(sentra_id: int | None = None) -> list[tuple[str, str]]:
    maker_query = scope_to_user(sa.select(Maker).where(Maker.is_active.is_(True)), Maker.sentra_id)
    group_query = scope_to_user(sa.select(MakerGroup).where(MakerGroup.is_active.is_(True)), MakerGroup.sentra_id)
    if sentra_id is not None:
        maker_query = maker_query.where(Maker.sentra_id == sentra_id)
        group_query = group_query.where(MakerGroup.sentra_id == sentra_id)
    makers = db.session.scalars(maker_query.order_by(Maker.name))
    groups = db.session.scalars(group_query.order_by(MakerGroup.name))
    choices = [("", _("— pilih —"))]
    choices += [(f"g:{g.id}", f"{_('Kelompok')}: {g.name} ({g.sentra.code})") for g in groups]
    choices += [(f"m:{m.id}", f"{m.name} ({m.sentra.code})") for m in makers]
    return choices


def _parse_owner(value: str | None) -> tuple[int | None, int | None]:
    kind, _sep, raw = (value or "").partition(":")
    ident = int(raw) if raw.isdigit() else None
    return (ident, None) if kind == "m" else (None, ident) if kind == "g" else (None, None)


# --- Products ----------------------------------------------------------------------------------

def _matches(q: str):
    """Staff search: every word of the name (in any order, as typed so far), part of the SKU, or
    the whole barcode."""
    like = "%" + q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return sa.or_(Product.id.in_(staff_matching_product_ids(q)),
                  sa.func.lower(Product.sku).like(like, escape="\\"), Product.barcode == q)


@bp.get("/produk")
@staff_required
def product_list():
    query = scope_to_user(sa.select(Product), Product.sentra_id)
    q = request.args.get("q", "").strip()
    if q:
        query = query.where(_matches(q))
    category = request.args.get("category", "").strip()
    if category:
        query = query.where(Product.category == category)
    kind = request.args.get("kind", "")
    if kind in {k.value for k in ProductKind}:
        query = query.where(Product.kind == ProductKind(kind))
    sentra_id = request.args.get("sentra", type=int)
    if sentra_id:
        query = query.where(Product.sentra_id == sentra_id)
    status = request.args.get("status", "active")
    if status == "active":
        query = query.where(Product.is_active.is_(True))
    elif status == "archived":
        query = query.where(Product.is_active.is_(False))
    page = db.paginate(query.order_by(Product.name), page=request.args.get("page", 1, type=int),
                       per_page=PER_PAGE, error_out=False)
    levels = _levels_for([p.id for p in page.items])
    categories = db.session.scalars(scope_to_user(sa.select(Product.category).distinct(), Product.sentra_id)
                                    .order_by(Product.category))
    return render_template("inventory/product_list.html", page=page, levels=levels, q=q, category=category,
                           kind=kind, sentra_id=sentra_id, status=status, sentras=my_sentras(),
                           categories=list(categories))


def _levels_for(product_ids: list[int]) -> dict[int, int]:
    if not product_ids:
        return {}
    rows = db.session.execute(sa.select(StockLevel.product_id, sa.func.sum(StockLevel.qty))
                              .where(StockLevel.product_id.in_(product_ids)).group_by(StockLevel.product_id))
    return {pid: int(qty) for pid, qty in rows}


def _product_form(product: Product | None = None) -> ProductForm:
    form = ProductForm(obj=product)
    form.sentra_id.choices = [(s.id, f"{s.code} — {s.name}") for s in my_sentras()]
    form.owner.choices = _owner_choices()
    if request.method == "GET" and product is not None:
        form.price.data = str(product.price)
        form.maker_price.data = str(product.maker_price) if product.maker_price else ""
        form.material_cost.data = str(product.material_cost) if product.material_cost else ""
        form.maker_share.data = format_bps(product.maker_share_bps)
        form.owner.data = f"m:{product.maker_id}" if product.maker_id else f"g:{product.group_id}"
        form.daily_capacity.data = str(product.daily_capacity or "")
    return form


def _product_data(form: ProductForm) -> dict[str, Any]:
    maker_id, group_id = _parse_owner(form.owner.data)
    capacity = (form.daily_capacity.data or "").strip()
    return {
        "sentra_id": form.sentra_id.data, "sku": form.sku.data, "barcode": form.barcode.data, "name": form.name.data,
        "description": form.description.data, "category": form.category.data, "kind": form.kind.data,
        "price": form.price.amount, "maker_id": maker_id, "group_id": group_id, "split_mode": form.split_mode.data,
        "maker_share_bps": form.maker_share_bps if form.split_mode.data == SplitMode.PERCENT.value else 0,
        "maker_price": form.maker_price.amount or 0, "material_cost": form.material_cost.amount or 0,
        "daily_capacity": int(capacity) if capacity.isdigit() else None, "is_published": form.is_published.data,
    }


@bp.route("/produk/baru", methods=["GET", "POST"])
@manager_required
def product_create():
    form = _product_form()
    if form.validate_on_submit():
        try:
            product = services.create_product(current_user, _product_data(form))
        except ValidationFailed as error:
            _apply_errors(form, error.errors)
        else:
            flash(_("Produk tersimpan."), "success")
            return redirect(url_for("inventory.product_detail", product_id=product.id))
    return form_page(form, _("Produk baru"), url_for("inventory.product_list"),
                      intro=_("Kosongkan barcode bila produk belum punya: kode toko (awalan 2) dibuat otomatis."))


@bp.route("/produk/<int:product_id>/ubah", methods=["GET", "POST"])
@manager_required
def product_edit(product_id: int):
    product = get_scoped_or_404(Product, product_id)
    form = _product_form(product)
    if form.validate_on_submit():
        try:
            services.update_product(current_user, product, _product_data(form))
        except ValidationFailed as error:
            _apply_errors(form, error.errors)
        else:
            flash(_("Produk tersimpan."), "success")
            return redirect(url_for("inventory.product_detail", product_id=product.id))
    return form_page(form, _("Ubah %(name)s", name=product.name),
                      url_for("inventory.product_detail", product_id=product.id))


@bp.get("/produk/<int:product_id>")
@staff_required
def product_detail(product_id: int, photo_form: PhotoForm | None = None, status: int = 200):
    product = db.session.get(Product, product_id) or abort(404)
    if not current_user.can_access_sentra(product.sentra_id):
        # staff of a Sentra that holds transferred stock of this product may look it up too
        holders = db.session.scalars(sa.select(StockLevel.sentra_id).where(StockLevel.product_id == product.id))
        if not any(current_user.can_access_sentra(sentra_id) for sentra_id in holders):
            abort(404)
    levels = db.session.execute(sa.select(Sentra, StockLevel.qty).join(StockLevel, StockLevel.sentra_id == Sentra.id)
                                .where(StockLevel.product_id == product.id).order_by(Sentra.code)).all()
    movements = db.paginate(sa.select(StockMovement).where(StockMovement.product_id == product.id)
                            .order_by(StockMovement.id.desc()), page=request.args.get("page", 1, type=int),
                            per_page=50, error_out=False)
    users = _user_names({m.user_id for m in movements.items})
    sentra_codes: dict[int, str] = dict(db.session.execute(sa.select(Sentra.id, Sentra.code)).tuples().all())
    return render_template("inventory/product_detail.html", product=product, levels=levels, movements=movements,
                           users=users, sentra_codes=sentra_codes, share_label=format_bps(product.maker_share_bps),
                           photo_form=photo_form or PhotoForm(),
                           public_name=public_maker_name(product)), status


def _user_names(ids: set[int | None]) -> dict[int, str]:
    from accounts.models import User

    ids = {i for i in ids if i}
    if not ids:
        return {}
    return dict(db.session.execute(sa.select(User.id, User.name).where(User.id.in_(ids))).tuples().all())


@bp.post("/produk/<int:product_id>/foto")
@manager_required
def product_photo_add(product_id: int):
    product = get_scoped_or_404(Product, product_id)
    form = PhotoForm()
    if save_photo_upload(form, lambda data, name: services.add_product_photo(current_user, product, data, name)):
        flash(_("Foto tersimpan."), "success")
        return redirect(url_for("inventory.product_detail", product_id=product.id))
    return product_detail(product_id, photo_form=form, status=422)


@bp.post("/produk/<int:product_id>/hapus")
@manager_required
def product_remove(product_id: int):
    product = get_scoped_or_404(Product, product_id)
    outcome = services.remove_product(current_user, product)
    if outcome == "deleted":
        flash(_("Produk dihapus (belum pernah ada stok atau penjualan)."), "success")
        return redirect(url_for("inventory.product_list"))
    flash(_("Produk diarsipkan: riwayat stok dan penjualannya tetap tersimpan."), "success")
    return redirect(url_for("inventory.product_detail", product_id=product_id))


@bp.post("/produk/<int:product_id>/pulihkan")
@manager_required
def product_restore(product_id: int):
    product = get_scoped_or_404(Product, product_id)
    services.restore_product(current_user, product)
    flash(_("Produk aktif kembali."), "success")
    return redirect(url_for("inventory.product_detail", product_id=product_id))


@bp.get("/berkas/<sha256>.webp")
def photo(sha256: str):
    """Photos (products, maker portraits), stored in the database (core.files) and addressed by the
    hash of their bytes; served only while a product or a maker points at them.

    A product photo is public and cached for a year by anyone (`immutable`: new bytes get a new
    URL). A maker's portrait is public only while the maker (or guardian) consents to it; otherwise
    only staff of the maker's Sentra see it. It is never cached, so a revoked consent takes effect at
    once, and a replaced portrait is not served any more.
    """
    if not SHA256_PATTERN.match(sha256):
        abort(404)
    is_product_photo = db.session.scalar(sa.select(ProductPhoto.id).where(
        sa.or_(ProductPhoto.file_sha256 == sha256, ProductPhoto.thumb_sha256 == sha256)).limit(1)) is not None
    if not is_product_photo:
        makers = db.session.scalars(sa.select(Maker).where(
            sa.or_(Maker.photo_sha256 == sha256, Maker.photo_thumb_sha256 == sha256))).all()
        if not any(maker.has_consent(ConsentPurpose.SHOP_PHOTO) or _is_staff_of(maker) for maker in makers):
            abort(404)
    stored = get_file(sha256)
    if stored is None or stored.content_type != IMAGE_TYPE:
        abort(404)
    return file_response(stored, public=is_product_photo)


def _is_staff_of(maker: Maker) -> bool:
    return current_user.is_authenticated and current_user.is_staff and current_user.can_access_sentra(maker.sentra_id)


# --- Stock -------------------------------------------------------------------------------------

@bp.get("/stok")
@staff_required
def stock_list():
    sentra = current_sentra()
    query = (sa.select(Product, StockLevel.qty).join(StockLevel, StockLevel.product_id == Product.id)
             .where(StockLevel.sentra_id == sentra.id))
    q = request.args.get("q", "").strip()
    if q:
        query = query.where(_matches(q))
    if request.args.get("empty") == "1":
        query = query.where(StockLevel.qty == 0)
    rows = db.session.execute(query.order_by(Product.name)).all()
    return render_template("inventory/stock_list.html", sentra=sentra, rows=rows, sentras=my_sentras(), q=q,
                           total=sum(qty for _p, qty in rows))


def _goods_choices(sentra_id: int) -> list[tuple]:
    """Goods on this Sentra's shelf; each option carries its owner so the intake form can filter by it."""
    products = db.session.scalars(sa.select(Product).where(
        Product.kind == ProductKind.GOODS, Product.is_active.is_(True),
        sa.or_(Product.sentra_id == sentra_id,
               Product.id.in_(sa.select(StockLevel.product_id).where(StockLevel.sentra_id == sentra_id))))
        .order_by(Product.name))
    return [("", _("— pilih produk —"), {})] + [
        (str(p.id), f"{p.name} · {p.sku}", {"data-owner": f"m:{p.maker_id}" if p.maker_id else f"g:{p.group_id}"})
        for p in products]


def _product_in(form_value: str | None, allowed: list[tuple]) -> Product | None:
    if not form_value or form_value not in {choice[0] for choice in allowed if choice[0]}:
        return None
    return db.session.get(Product, int(form_value))


@bp.get("/titipan")
@manager_required
def intake_list():
    sentra = current_sentra()
    intakes = db.paginate(sa.select(ConsignmentIntake).where(ConsignmentIntake.sentra_id == sentra.id)
                          .order_by(ConsignmentIntake.id.desc()), page=request.args.get("page", 1, type=int),
                          per_page=PER_PAGE, error_out=False)
    return render_template("inventory/intake_list.html", sentra=sentra, page=intakes, sentras=my_sentras())


@bp.route("/titipan/baru", methods=["GET", "POST"])
@manager_required
def intake_create():
    sentra = current_sentra()
    form = IntakeForm()
    form.ensure_client_key()
    form.owner.choices = _owner_choices(sentra.id)
    product_choices = _goods_choices(sentra.id)
    for entry in form.lines.entries:
        entry.form.product_id.choices = product_choices
    if form.validate_on_submit():
        maker_id, group_id = _parse_owner(form.owner.data)
        owner = (db.session.get(Maker, maker_id) if maker_id else
                 db.session.get(MakerGroup, group_id) if group_id else None)
        items = []
        for index, entry in enumerate(form.lines.entries):
            product_value, qty = entry.form.product_id.data, (entry.form.qty.data or "").strip()
            if not product_value and not qty:
                continue
            product = _product_in(product_value, product_choices)
            if product is None:
                _apply_errors(form, {f"lines-{index}": _("Pilih produk untuk baris ini.")})
                continue
            items.append((product, qty, index))
        if owner is None:
            _apply_errors(form, {"owner": _("Pilih pembuat atau kelompok yang menitipkan.")})
        if not form.errors and owner is not None:
            intake: ConsignmentIntake | None
            try:
                intake = services.receive_consignment(current_user, sentra, owner,
                                                      [(p, q) for p, q, _i in items], form.client_key.data,
                                                      form.note.data or "")
                db.session.flush()
            except IntegrityError:
                # the same form was submitted twice at once: the other request won, show its result
                rollback_now()
                intake = db.session.scalar(sa.select(ConsignmentIntake).where(
                    ConsignmentIntake.client_key == form.client_key.data))
                if intake is None:
                    raise
                return redirect(url_for("inventory.intake_detail", intake_id=intake.id))
            except ValidationFailed as error:
                # service lines are numbered among the filled rows; map back to the form rows
                remapped = {}
                for key, message in error.errors.items():
                    if key.startswith("lines-") and key[6:].isdigit() and int(key[6:]) < len(items):
                        key = f"lines-{items[int(key[6:])][2]}"
                    remapped[key] = message
                _apply_errors(form, remapped)
            else:
                flash(_("Titipan diterima. Cetak tanda terima untuk pembuat."), "success")
                return redirect(url_for("inventory.intake_detail", intake_id=intake.id))
    status = 422 if request.method == "POST" else 200
    return render_template("inventory/intake_form.html", form=form, sentra=sentra, sentras=my_sentras()), status


@bp.get("/titipan/<int:intake_id>")
@manager_required
def intake_detail(intake_id: int):
    intake = get_scoped_or_404(ConsignmentIntake, intake_id)
    return render_template("inventory/intake_detail.html", intake=intake)


@bp.get("/titipan/<int:intake_id>/tanda-terima.pdf")
@manager_required
def intake_pdf(intake_id: int):
    intake = get_scoped_or_404(ConsignmentIntake, intake_id)
    pdf = services.render_intake_note(intake)
    return Response(pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="tanda-terima-{intake.number}.pdf"'})


@bp.route("/opname", methods=["GET", "POST"])
@manager_required
def adjust():
    sentra = current_sentra()
    form = AdjustForm()
    form.ensure_client_key()
    choices = _goods_choices(sentra.id)
    form.product_id.choices = choices
    if form.validate_on_submit():
        product = _product_in(form.product_id.data, choices)
        if product is None:
            _apply_errors(form, {"product_id": _("Pilih produk.")})
        else:
            try:
                movement = services.adjust_stock(current_user, product, sentra.id, form.counted_qty.data,
                                                 form.reason.data, form.client_key.data,
                                                 is_discrepancy=form.is_discrepancy.data)
                db.session.flush()
            except IntegrityError:
                rollback_now()  # a double submit: the first one is recorded
                flash(_("Penyesuaian ini sudah tercatat."), "success")
                return redirect(url_for("inventory.adjust", sentra=sentra.id))
            except ValidationFailed as error:
                _apply_errors(form, error.errors)
            else:
                if movement is None:
                    flash(_("Hasil hitung sama dengan catatan; tidak ada penyesuaian."), "success")
                else:
                    flash(_("Stok %(name)s disesuaikan (%(delta)+d).", name=product.name, delta=movement.qty_delta),
                          "success")
                return redirect(url_for("inventory.adjust", sentra=sentra.id))
    status = 422 if request.method == "POST" else 200
    return render_template("inventory/stock_form.html", form=form, sentra=sentra, sentras=my_sentras(),
                           title=_("Opname stok"), endpoint="inventory.adjust"), status


@bp.route("/transfer", methods=["GET", "POST"])
@manager_required
def transfer():
    sentra = current_sentra()
    form = TransferForm()
    form.ensure_client_key()
    choices = _goods_choices(sentra.id)
    form.product_id.choices = choices
    targets = db.session.scalars(sa.select(Sentra).where(Sentra.is_active.is_(True), Sentra.id != sentra.id)
                                 .order_by(Sentra.code))
    form.to_sentra_id.choices = [("", _("— pilih —"))] + [(str(s.id), f"{s.code} — {s.name}") for s in targets]
    if form.validate_on_submit():
        product = _product_in(form.product_id.data, choices)
        if product is None:
            _apply_errors(form, {"product_id": _("Pilih produk.")})
        else:
            try:
                services.transfer_stock(current_user, product, sentra.id, form.to_sentra_id.data, form.qty.data,
                                        form.client_key.data, form.reason.data or "")
                db.session.flush()
            except IntegrityError:
                rollback_now()  # a double submit: the first one is recorded
                return redirect(url_for("inventory.transfer", sentra=sentra.id))
            except ValidationFailed as error:
                _apply_errors(form, error.errors)
            else:
                flash(_("Transfer %(name)s tercatat.", name=product.name), "success")
                return redirect(url_for("inventory.transfer", sentra=sentra.id))
    status = 422 if request.method == "POST" else 200
    return render_template("inventory/stock_form.html", form=form, sentra=sentra, sentras=my_sentras(),
                           title=_("Transfer stok"), endpoint="inventory.transfer"), status


# --- Labels ------------------------------------------------------------------------------------

@bp.get("/label")
@staff_required
def label_select():
    sentra = current_sentra()
    products = db.session.scalars(sa.select(Product).where(Product.sentra_id == sentra.id,
                                                           Product.is_active.is_(True)).order_by(Product.name))
    return render_template("inventory/label_select.html", sentra=sentra, products=list(products),
                           sentras=my_sentras())


@bp.get("/label.pdf")
@staff_required
def label_pdf():
    ids = [int(v) for v in request.args.getlist("product_id") if v.isdigit()]
    copies = request.args.get("copies", 1, type=int) or 1
    if not ids:
        flash(_("Pilih minimal satu produk."), "error")
        return redirect(url_for("inventory.label_select"))
    copies = max(1, min(copies, 60))
    products = list(db.session.scalars(sa.select(Product).where(Product.id.in_(ids)).order_by(Product.name)))
    for product in products:
        require_sentra_access(current_user, product.sentra_id)
    if len(products) != len(set(ids)):
        abort(404)
    pdf = services.render_labels(products, copies)
    return Response(pdf, mimetype="application/pdf", headers={"Content-Disposition": 'inline; filename="label.pdf"'})
