"""Login and logout for staff (e-mail + password) and makers (phone + PIN)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import login_required, login_user, logout_user

from accounts import bp, services
from accounts.forms import MakerLoginForm, StaffLoginForm
from accounts.models import Role
from core.errors import DomainError
from core.extensions import db, login_manager
from core.urls import safe_next

login_manager.user_loader(services.load_user)
login_manager.login_view = "accounts.login"
login_manager.login_message = "Silakan masuk terlebih dahulu."
login_manager.login_message_category = "info"
login_manager.session_protection = "strong"


def _home_for(user) -> str:
    return url_for("payouts.portal_home") if user.role == Role.MAKER else url_for("core.staff_home")


def _start_session(user) -> None:
    # A fresh session at login (no fixation); keep only the language choice.
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    session.permanent = True
    login_user(user)


@bp.route("/masuk", methods=["GET", "POST"])
def login():
    form = StaffLoginForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = services.authenticate_staff(form.email.data, form.password.data, request.remote_addr or "-")
        except DomainError as error:
            db.session.commit()  # failed attempts must be counted even though login failed
            form.password.errors.append(error.detail)
            status = error.status
        else:
            db.session.commit()
            _start_session(user)
            return redirect(safe_next(request.args.get("next")) or _home_for(user))
    elif request.method == "POST":
        status = 422
    return render_template("accounts/login.html", form=form), status


@bp.route("/masuk-pembuat", methods=["GET", "POST"])
def maker_login():
    form = MakerLoginForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = services.authenticate_maker(form.phone.data, form.pin.data, request.remote_addr or "-")
        except DomainError as error:
            db.session.commit()
            form.pin.errors.append(error.detail)
            status = error.status
        else:
            db.session.commit()
            _start_session(user)
            return redirect(_home_for(user))
    elif request.method == "POST":
        status = 422
    return render_template("accounts/maker_login.html", form=form), status


@bp.post("/keluar")
@login_required
def logout():
    logout_user()
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    flash(_("Anda sudah keluar."), "success")
    return redirect(url_for("shop.home"))


@login_manager.unauthorized_handler
def unauthorized():
    from core.errors import problem, wants_json

    if wants_json():
        return problem(401, "Belum masuk", "Silakan masuk terlebih dahulu.")
    flash(login_manager.login_message, "info")
    if request.blueprint == "payouts":
        return redirect(url_for("accounts.maker_login"))
    return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))


