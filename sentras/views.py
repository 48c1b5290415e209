"""Admin pages for Sentras: list, create, edit (code, time zone, receipt texts, tax, hold days)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from core.access import roles_required
from core.errors import ValidationFailed
from core.extensions import db
from core.forms import apply_errors, form_page
from sentras import bp, services
from sentras.forms import SentraForm
from sentras.models import Sentra


@bp.get("/sentra")
@roles_required("admin")
def sentra_list():
    sentras = db.session.scalars(sa.select(Sentra).order_by(Sentra.code))
    return render_template("sentras/sentra_list.html", sentras=sentras)


@bp.route("/sentra/baru", methods=["GET", "POST"])
@roles_required("admin")
def sentra_create():
    form = SentraForm()
    if form.validate_on_submit():
        try:
            sentra = services.create_sentra(current_user, _sentra_data(form))
        except ValidationFailed as error:
            apply_errors(form, error.errors)
        else:
            flash(_("Sentra %(code)s tersimpan.", code=sentra.code), "success")
            return redirect(url_for("sentras.sentra_list"))
    return form_page(form, _("Sentra baru"), url_for("sentras.sentra_list"))


@bp.route("/sentra/<int:sentra_id>/ubah", methods=["GET", "POST"])
@roles_required("admin")
def sentra_edit(sentra_id: int):
    sentra = db.session.get(Sentra, sentra_id) or abort(404)
    form = SentraForm(obj=sentra)
    if request.method == "GET":
        form.shipping_fee.data = str(sentra.shipping_fee)
        form.tax_bps.data = str(sentra.tax_bps)
        form.hold_days.data = str(sentra.hold_days)
        form.online_release_days.data = str(sentra.online_release_days)
    if form.validate_on_submit():
        try:
            services.update_sentra(current_user, sentra, _sentra_data(form))
        except ValidationFailed as error:
            apply_errors(form, error.errors)
        else:
            flash(_("Sentra %(code)s tersimpan.", code=sentra.code), "success")
            return redirect(url_for("sentras.sentra_list"))
    return form_page(form, _("Ubah Sentra %(code)s", code=sentra.code), url_for("sentras.sentra_list"))


def _sentra_data(form: SentraForm) -> dict[str, Any]:
    data = {name: form[name].data for name in services.SENTRA_FIELDS if name in form}
    data["shipping_fee"] = form.shipping_fee.amount
    return data
