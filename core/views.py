"""Site-wide routes: health check, language switch, staff home."""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app, jsonify, redirect, render_template, request, session, url_for

from accounts.access import staff_required
from core import bp
from core.extensions import db
from core.urls import safe_next


@bp.get("/health")
def health():
    """Liveness and database reachability, for load balancers and `make serve`."""
    try:
        db.session.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError:
        db.session.rollback()
        return jsonify(status="unavailable", database="down"), 503
    return jsonify(status="ok", database="up")


@bp.post("/bahasa")
def language_set():
    lang = request.form.get("lang", "")
    if lang in current_app.config["LANGUAGES"]:
        session["lang"] = lang
    return redirect(safe_next(request.form.get("next")) or url_for("shop.home"))


@bp.get("/staf")
@staff_required
def staff_home():
    return render_template("core/staff_home.html")
