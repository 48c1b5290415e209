"""Login and logout (staff: e-mail + password; makers: phone + PIN) and the admin user pages."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy.exc import IntegrityError

from accounts import bp, services
from accounts.access import admin_required, manager_required
from accounts.forms import (
    STAFF_ROLE_CHOICES,
    MakerLoginForm,
    OwnApprovalPinForm,
    PinResetForm,
    StaffLoginForm,
    StaffUserForm,
    UserAccessForm,
    UserFilterForm,
)
from accounts.models import Role, User
from accounts.throttle import DEVICE_COOKIE, set_device_cookie
from core.db import utcnow
from core.errors import DomainError, ValidationFailed
from core.extensions import db, login_manager
from core.unit_of_work import commit_before_refusal, rollback_now
from core.urls import safe_next
from sentras.models import Sentra

login_manager.user_loader(services.load_user)
login_manager.login_view = "accounts.login"
login_manager.login_message = "Silakan masuk terlebih dahulu."
login_manager.login_message_category = "info"
login_manager.session_protection = "strong"


def _home_for(user) -> str:
    return url_for("payouts.portal_home") if user.role == Role.MAKER else url_for("app.staff_home")


def _start_session(user) -> None:
    # A fresh session at login (no fixation); keep only the language choice.
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    session.permanent = True
    login_user(user)


def _logged_in(user, target: str):
    """Redirect after login; this browser becomes a known device for the account (accounts/throttle.py)."""
    response = redirect(target)
    set_device_cookie(response, services.remember_device(request.cookies.get(DEVICE_COOKIE), user))
    return response


@bp.route("/masuk", methods=["GET", "POST"])
def login():
    form = StaffLoginForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = services.authenticate_staff(form.email.data, form.password.data, request.remote_addr or "-",
                                               request.cookies.get(DEVICE_COOKIE))
        except DomainError as error:
            commit_before_refusal()  # failed attempts must be counted even though login failed
            form.password.errors.append(error.detail)
            status = error.status
        else:
            _start_session(user)
            return _logged_in(user, safe_next(request.args.get("next")) or _home_for(user))
    elif request.method == "POST":
        status = 422
    return render_template("accounts/login.html", form=form), status


@bp.route("/masuk-pembuat", methods=["GET", "POST"])
def maker_login():
    form = MakerLoginForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = services.authenticate_maker(form.phone.data, form.pin.data, request.remote_addr or "-",
                                               request.cookies.get(DEVICE_COOKIE))
        except DomainError as error:
            commit_before_refusal()  # failed attempts (and a PIN block with its staff alert) are kept
            form.pin.errors.append(error.detail)
            status = error.status
        else:
            _start_session(user)
            return _logged_in(user, _home_for(user))
    elif request.method == "POST":
        status = 422
    return render_template("accounts/maker_login.html", form=form), status


@bp.post("/keluar")
@login_required
def logout():
    # Bumping the session version makes every copy of this session cookie worthless.
    services.end_sessions(current_user)
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


# --- Admin: users, roles, Sentras, maker PINs ---------------------------------------------------


ROLE_LABELS = {role.value: role.label for role in Role}


def _sentra_choices() -> list[tuple[int, str]]:
    return [(s.id, f"{s.code} · {s.name}") for s in db.session.scalars(sa.select(Sentra).order_by(Sentra.code))]


def get_user_or_404(user_id: int) -> User:
    return db.get_or_404(User, user_id)


def _apply_errors(form, error: ValidationFailed) -> None:
    """Show a service's per-field messages next to the fields (unknown fields: on the form)."""
    for name, message in error.errors.items():
        target = getattr(form, name, None)
        if target is None or not hasattr(target, "errors"):
            form.form_errors.append(message)
            continue
        if not isinstance(target.errors, list):
            target.errors = list(target.errors)
        target.errors.append(message)


@bp.get("/pengguna")
@admin_required
def user_list():
    form = UserFilterForm(request.args)
    form.role.choices = [("", _("Semua peran"))] + [(r.value, r.label) for r in Role]
    form.sentra.choices = [("", _("Semua Sentra"))] + [(str(i), label) for i, label in _sentra_choices()]
    query = sa.select(User).order_by(User.role, User.name)
    if form.role.data in ROLE_LABELS:
        query = query.where(User.role == Role(form.role.data))
    if (form.sentra.data or "").isdigit():
        sentra_id = int(form.sentra.data)
        # Staff are assigned to Sentras; a maker login belongs to its maker's Sentra.
        # (makers sit above accounts: the makers table is read through the metadata)
        makers = db.metadata.tables["makers"]
        of_sentra = sa.select(makers.c.id).where(makers.c.sentra_id == sentra_id)
        query = query.where(sa.or_(User.sentras.any(Sentra.id == sentra_id), User.maker_id.in_(of_sentra)))
    search = (form.q.data or "").strip()[:120]
    if search:
        pattern = "%" + search.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        digits = "".join(ch for ch in search if ch.isdigit())
        conditions = [sa.func.lower(User.name).like(pattern, escape="\\"),
                      sa.func.lower(User.email).like(pattern, escape="\\")]
        if len(digits) >= 3:
            conditions.append(User.phone.like("%" + digits.lstrip("0") + "%"))
        query = query.where(sa.or_(*conditions))
    page = db.paginate(query, per_page=50, error_out=False)
    return render_template("accounts/users.html", form=form, page=page, now=utcnow())


@bp.route("/pengguna/baru", methods=["GET", "POST"])
@admin_required
def user_create():
    form = StaffUserForm()
    form.sentra_ids.choices = _sentra_choices()
    status = 200
    if form.validate_on_submit():
        try:
            user = services.create_user(
                current_user, name=form.name.data, role=Role(form.role.data), email=form.email.data,
                password=form.password.data, sentra_ids=form.sentra_ids.data or [],
            )
            db.session.flush()
        except ValidationFailed as error:
            _apply_errors(form, error)
            status = 422
        except IntegrityError:  # a concurrent request took the same e-mail
            rollback_now()
            form.email.errors.append(_("E-mail ini sudah dipakai akun lain."))
            status = 422
        else:
            flash(_("Akun %(name)s dibuat.", name=user.name), "success")
            return redirect(url_for("accounts.user_list"))
    elif request.method == "POST":
        status = 422
    return render_template("accounts/user_form.html", form=form), status


@bp.route("/pengguna/<int:user_id>/akses", methods=["GET", "POST"])
@admin_required
def user_access(user_id: int):
    user = get_user_or_404(user_id)
    form = UserAccessForm(data=None if request.method == "POST" else {
        "role": user.role.value, "sentra_ids": sorted(user.sentra_ids), "active": user.is_active_account,
    })
    if user.role == Role.MAKER:
        form.role.choices = [(Role.MAKER.value, Role.MAKER.label)]
    else:
        form.role.choices = list(STAFF_ROLE_CHOICES)
    form.sentra_ids.choices = _sentra_choices()
    status = 200
    if form.validate_on_submit():
        try:
            services.update_user_access(
                current_user, user, role=Role(form.role.data),
                sentra_ids=[] if user.role == Role.MAKER else (form.sentra_ids.data or []),
                active=bool(form.active.data),
            )
        except ValidationFailed as error:
            _apply_errors(form, error)
            status = 422
        else:
            flash(_("Akses %(name)s disimpan.", name=user.name), "success")
            return redirect(url_for("accounts.user_list"))
    elif request.method == "POST":
        status = 422
    return render_template("accounts/user_access.html", form=form, user=user), status


@bp.route("/pin-persetujuan", methods=["GET", "POST"])
@manager_required
def own_approval_pin():
    """A manager's (or admin's) own counter-approval PIN: separate from the password, which the
    counter never accepts."""
    form = OwnApprovalPinForm()
    status = 200
    if form.validate_on_submit():
        if not current_user.check_password(form.password.data):
            form.password.errors = [*form.password.errors, _("Kata sandi salah.")]
            status = 422
        else:
            try:
                services.set_approval_pin(current_user, current_user, form.pin.data)
            except ValidationFailed as error:
                _apply_errors(form, error)
                status = 422
            else:
                flash(_("PIN persetujuan tersimpan. Pakai PIN ini di kasir, bukan kata sandi."), "success")
                return redirect(url_for("app.staff_home"))
    elif request.method == "POST":
        status = 422
    return render_template("accounts/own_pin.html", form=form, has_pin=bool(current_user.pin_hash)), status


@bp.route("/pengguna/<int:user_id>/pin", methods=["GET", "POST"])
@admin_required
def user_pin_reset(user_id: int):
    """A maker's login PIN, or a manager's (admin's) counter-approval PIN: also lifts a PIN block."""
    user = get_user_or_404(user_id)
    if user.role not in (Role.MAKER, Role.MANAGER, Role.ADMIN):
        abort(404)
    form = PinResetForm()
    status = 200
    if form.validate_on_submit():
        try:
            if user.role == Role.MAKER:
                services.reset_maker_pin(current_user, user, form.pin.data)
            else:
                services.set_approval_pin(current_user, user, form.pin.data)
        except ValidationFailed as error:
            _apply_errors(form, error)
            status = 422
        else:
            flash(_("PIN %(name)s sudah diganti. Sesi lamanya sudah diakhiri.", name=user.name), "success")
            return redirect(url_for("accounts.user_list"))
    elif request.method == "POST":
        status = 422
    return render_template("accounts/user_pin.html", form=form, user=user,
                           blocked=services.is_pin_blocked(user)), status
