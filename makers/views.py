"""Staff pages for makers (PM), their consents and payout details, and groups (KUBE).

Each view loads, authorises (`get_scoped_or_404` → 404 for another Sentra's data), calls one
service and renders; the request commits once (core/unit_of_work.py). Managers and admins only.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from accounts.access import (
    admin_required,
    get_scoped_or_404,
    manager_required,
    my_sentras,
    require_sentra_access,
    scope_to_user,
)
from accounts.forms import MakerUserForm
from accounts.models import User
from core.errors import ValidationFailed
from core.extensions import db
from core.forms import PhotoForm, apply_errors, form_page, save_photo_upload
from core.unit_of_work import refusals_flashed, rollback_now
from makers import bp, services
from makers.forms import ConsentForm, GroupForm, MakerForm
from makers.models import Cluster, Consent, Maker, MakerGroup, MakerGroupMember, Program

PER_PAGE = 25


def _products_of(maker: Maker) -> list[Any]:
    """The maker's products (id, name, price) for the detail page.

    inventory is downstream of makers: read its table through the metadata, not an import.
    """
    products = db.metadata.tables.get("products")
    if products is None:
        return []
    return list(db.session.execute(sa.select(products.c.id, products.c.name, products.c.price)
                                   .where(products.c.maker_id == maker.id).order_by(products.c.name)))


# --- Makers ------------------------------------------------------------------------------------

@bp.get("/inventory/pembuat")
@manager_required
def maker_list():
    query = scope_to_user(sa.select(Maker), Maker.sentra_id)
    q = request.args.get("q", "").strip()
    if q:
        like = f"%{q.lower()}%"
        query = query.where(sa.or_(sa.func.lower(Maker.name).like(like), sa.func.lower(Maker.public_name).like(like),
                                   Maker.phone.like(f"%{q}%")))
    cluster = request.args.get("cluster", "")
    if cluster in {c.value for c in Cluster}:
        query = query.where(Maker.cluster == Cluster(cluster))
    program = request.args.get("program", "")
    if program in {p.value for p in Program}:
        query = query.where(Maker.program == Program(program))
    sentra_id = request.args.get("sentra", type=int)
    if sentra_id:
        query = query.where(Maker.sentra_id == sentra_id)
    page = db.paginate(query.order_by(Maker.name), page=request.args.get("page", 1, type=int), per_page=PER_PAGE,
                       error_out=False)
    return render_template("makers/maker_list.html", page=page, q=q, cluster=cluster, program=program,
                           sentra_id=sentra_id, sentras=my_sentras(), clusters=list(Cluster),
                           programs=list(Program))


def _maker_form(maker: Maker | None = None) -> MakerForm:
    form = MakerForm(obj=maker)
    form.sentra_id.choices = [(s.id, f"{s.code} — {s.name}") for s in my_sentras()]
    return form


def _maker_data(form: MakerForm) -> dict[str, Any]:
    return {name: form[name].data for name in services.MAKER_FIELDS}


@bp.route("/inventory/pembuat/baru", methods=["GET", "POST"])
@manager_required
def maker_create():
    form = _maker_form()
    if form.validate_on_submit():
        try:
            maker = services.create_maker(current_user, _maker_data(form))
        except ValidationFailed as error:
            apply_errors(form, error.errors)
        else:
            flash(_("Data pembuat tersimpan."), "success")
            return redirect(url_for("makers.maker_detail", maker_id=maker.id))
    return form_page(form, _("Pembuat baru"), url_for("makers.maker_list"))


@bp.route("/inventory/pembuat/<int:maker_id>/ubah", methods=["GET", "POST"])
@manager_required
def maker_edit(maker_id: int):
    maker = get_scoped_or_404(Maker, maker_id)
    form = _maker_form(maker)
    if form.validate_on_submit():
        try:
            services.update_maker(current_user, maker, _maker_data(form))
        except ValidationFailed as error:
            apply_errors(form, error.errors)
        else:
            flash(_("Data pembuat tersimpan."), "success")
            return redirect(url_for("makers.maker_detail", maker_id=maker.id))
    return form_page(form, _("Ubah data %(name)s", name=maker.name),
                      url_for("makers.maker_detail", maker_id=maker.id))


@bp.get("/inventory/pembuat/<int:maker_id>")
@manager_required
def maker_detail(maker_id: int, consent_form: ConsentForm | None = None, status: int = 200,
                 photo_form: PhotoForm | None = None):
    maker = get_scoped_or_404(Maker, maker_id)
    groups = db.session.scalars(sa.select(MakerGroup).join(MakerGroupMember)
                                .where(MakerGroupMember.maker_id == maker.id).order_by(MakerGroup.name))
    products = _products_of(maker)
    if consent_form is None:
        consent_form = ConsentForm()
        if maker.is_minor:
            consent_form.given_by.data = "guardian"
            consent_form.given_by_name.data = maker.guardian_name
        else:
            consent_form.given_by_name.data = maker.name
    return render_template("makers/maker_detail.html", maker=maker, groups=list(groups),
                           products=list(products), consent_form=consent_form,
                           photo_form=photo_form or PhotoForm()), status


@bp.post("/inventory/pembuat/<int:maker_id>/izin")
@manager_required
def consent_create(maker_id: int):
    maker = get_scoped_or_404(Maker, maker_id)
    form = ConsentForm()
    if form.validate_on_submit():
        try:
            services.record_consent(current_user, maker, form.purpose.data, form.given_by.data,
                                    form.given_by_name.data)
        except ValidationFailed as error:
            apply_errors(form, error.errors)
        else:
            flash(_("Izin tercatat."), "success")
            return redirect(url_for("makers.maker_detail", maker_id=maker.id))
    return maker_detail(maker_id, consent_form=form, status=422)


@bp.post("/inventory/izin/<int:consent_id>/cabut")
@manager_required
def consent_revoke(consent_id: int):
    consent = db.session.get(Consent, consent_id) or abort(404)
    require_sentra_access(current_user, consent.maker.sentra_id)
    with refusals_flashed(ValidationFailed):
        services.revoke_consent(current_user, consent)
        flash(_("Izin dicabut. Nama tidak lagi ditampilkan untuk penggunaan ini."), "success")
    return redirect(url_for("makers.maker_detail", maker_id=consent.maker_id))


# --- Groups ------------------------------------------------------------------------------------

@bp.get("/inventory/kelompok")
@manager_required
def group_list():
    groups = db.session.scalars(scope_to_user(sa.select(MakerGroup), MakerGroup.sentra_id).order_by(MakerGroup.name))
    return render_template("makers/group_list.html", groups=list(groups))


def _group_form(group: MakerGroup | None = None) -> GroupForm:
    form = GroupForm(obj=group)
    sentras = my_sentras()
    form.sentra_id.choices = [(s.id, f"{s.code} — {s.name}") for s in sentras]
    makers = db.session.scalars(scope_to_user(sa.select(Maker).where(Maker.is_active.is_(True)), Maker.sentra_id)
                                .order_by(Maker.name))
    choices = [("", _("— tidak ada —"))] + [(str(m.id), f"{m.name} ({m.sentra.code})") for m in makers]
    if request.method == "GET" and group is not None:
        while len(form.members.entries) < len(group.members) + 2:
            form.members.append_entry()
        for entry, member in zip(form.members.entries, group.members, strict=False):
            entry.form.maker_id.data = str(member.maker_id)
            entry.form.share_weight.data = str(member.share_weight)
        for entry in form.members.entries[len(group.members):]:
            entry.form.maker_id.data = ""
            entry.form.share_weight.data = ""
    for entry in form.members.entries:
        entry.form.maker_id.choices = choices
    return form


def _group_members(form: GroupForm) -> list[tuple[Any, Any]]:
    return [(entry.form.maker_id.data, (entry.form.share_weight.data or "").strip())
            for entry in form.members.entries]


@bp.route("/inventory/kelompok/baru", methods=["GET", "POST"])
@manager_required
def group_create():
    form = _group_form()
    if form.validate_on_submit():
        try:
            services.create_group(current_user, {"sentra_id": form.sentra_id.data, "name": form.name.data,
                                                 "kind": form.kind.data}, _group_members(form))
        except ValidationFailed as error:
            apply_errors(form, error.errors)
        else:
            flash(_("Kelompok tersimpan."), "success")
            return redirect(url_for("makers.group_list"))
    status = 422 if request.method == "POST" else 200
    return render_template("makers/group_form.html", form=form, title=_("Kelompok baru")), status


@bp.route("/inventory/kelompok/<int:group_id>/ubah", methods=["GET", "POST"])
@manager_required
def group_edit(group_id: int):
    group = get_scoped_or_404(MakerGroup, group_id)
    form = _group_form(group)
    if form.validate_on_submit():
        try:
            services.update_group(current_user, group, {"sentra_id": form.sentra_id.data, "name": form.name.data,
                                                        "kind": form.kind.data}, _group_members(form))
        except ValidationFailed as error:
            apply_errors(form, error.errors)
        else:
            flash(_("Kelompok tersimpan."), "success")
            return redirect(url_for("makers.group_list"))
    status = 422 if request.method == "POST" else 200
    return render_template("makers/group_form.html", form=form, group=group,
                           title=_("Ubah kelompok %(name)s", name=group.name)), status


@bp.post("/inventory/pembuat/<int:maker_id>/foto")
@manager_required
def maker_photo_set(maker_id: int):
    maker = get_scoped_or_404(Maker, maker_id)
    form = PhotoForm()
    if save_photo_upload(form, lambda data, name: services.set_maker_photo(current_user, maker, data, name)):
        flash(_("Foto pembuat tersimpan."), "success")
        return redirect(url_for("makers.maker_detail", maker_id=maker.id))
    return maker_detail(maker_id, photo_form=form, status=422)


@bp.route("/accounts/pengguna/baru-pembuat", methods=["GET", "POST"])
@admin_required
def maker_user_create():
    form = MakerUserForm()
    with_login = sa.select(User.maker_id).where(User.maker_id.is_not(None))
    makers = db.session.scalars(
        sa.select(Maker).where(Maker.id.not_in(with_login), Maker.is_active.is_(True)).order_by(Maker.name)
    )
    form.maker_id.choices = [("", _("— pilih pembuat —"))] + [
        (m.id, f"{m.name} ({m.sentra.code})") for m in makers
    ]
    status = 200
    if form.validate_on_submit():
        maker_id = form.maker_id.data if isinstance(form.maker_id.data, int) and form.maker_id.data > 0 else None
        try:
            user = services.create_maker_login(
                current_user, name=form.name.data, phone=form.phone.data, pin=form.pin.data, maker_id=maker_id,
            )
            db.session.flush()
        except ValidationFailed as error:
            apply_errors(form, error.errors)
            status = 422
        except IntegrityError:
            rollback_now()
            form.phone.errors.append(_("Nomor HP atau pembuat ini sudah punya akun."))
            status = 422
        else:
            flash(_("Akun pembuat %(name)s dibuat. Berikan PIN secara langsung, jangan lewat pesan.",
                    name=user.name), "success")
            return redirect(url_for("accounts.user_list"))
    elif request.method == "POST":
        status = 422
    return render_template("makers/maker_login_form.html", form=form), status
