"""Site-wide routes: health check, language switch, staff home, staff alerts (and /metrics, app/metrics.py)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, current_app, flash, jsonify, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

from accounts.access import manager_required, require_sentra_access, scoped_sentra_ids, staff_required
from accounts.models import Role
from app import bp
from app import metrics as _metrics  # noqa: F401  (attaches GET /metrics and its request counters)
from core.alerts import StaffAlert, open_alerts, resolve_alert
from core.extensions import db
from core.urls import safe_next


@bp.get("/health")
def health():
    """Liveness and database reachability, for load balancers and `make serve`; and the job queue.

    The queue never makes a host unhealthy (sales go on without it, jobs wait in the database), so
    its state is reported — reachable, jobs waiting, overdue (no worker?), failed — not answered 503.
    """
    from core.jobs.queue import job_queue
    from core.jobs.runner import queue_summary

    try:
        db.session.execute(sa.text("SELECT 1"))
        jobs = queue_summary()
    except sa.exc.OperationalError:
        return jsonify(status="unavailable", database="down"), 503
    try:
        job_queue().pending()
        reachable = True
    except Exception:  # a Redis or queue file that is down: reported, never a 500
        reachable = False
    queue = {"reachable": reachable, "pending": jobs["pending"], "running": jobs["running"],
             "overdue": jobs["overdue"], "failed": jobs["failed"]}
    return jsonify(status="ok", database="up", queue=queue)


@bp.post("/bahasa")
def language_set():
    lang = request.form.get("lang", "")
    if lang in current_app.config["LANGUAGES"]:
        session["lang"] = lang
    return redirect(safe_next(request.form.get("next")) or url_for("shop.home"))


@bp.get("/staf")
@staff_required
def staff_home():
    from shop.services import open_order_count

    sentra_ids = scoped_sentra_ids(current_user)
    alert_count = len(open_alerts(sentra_ids)) if current_user.role != Role.KASIR else 0
    return render_template("app/staff_home.html", alert_count=alert_count, open_orders=open_order_count(sentra_ids))


@bp.get("/staf/peringatan")
@manager_required
def alert_list():
    alerts = open_alerts(scoped_sentra_ids(current_user))
    return render_template("app/alerts.html", alerts=alerts)


@bp.post("/staf/peringatan/<int:alert_id>/selesai")
@manager_required
def alert_resolve(alert_id: int):
    alert = db.get_or_404(StaffAlert, alert_id)
    if alert.sentra_id is None:
        if current_user.role != Role.ADMIN:
            abort(404)
    else:
        require_sentra_access(current_user, alert.sentra_id)
    resolve_alert(current_user, alert)
    flash(_("Peringatan ditandai selesai."), "success")
    return redirect(url_for("app.alert_list"))
