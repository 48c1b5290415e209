"""Site-wide routes: health check, language switch, staff home, staff alerts (and /metrics, app/metrics.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import abort, current_app, flash, jsonify, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

from accounts.access import manager_required, require_sentra_access, scoped_sentra_ids, staff_required
from accounts.models import Role, User
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


#: where an audited thing is shown: entity type → (endpoint, its id argument)
ENTITY_PAGES = {"Product": ("inventory.product_detail", "product_id"), "Sale": ("pos.sale_detail", "sale_id"),
                "Shift": ("pos.shift_detail", "shift_id"), "Fulfilment": ("shop.staff_fulfilment", "fulfilment_id"),
                "PayoutRun": ("payouts.run_detail", "run_id"), "Maker": ("makers.maker_detail", "maker_id"),
                "User": ("accounts.user_access", "user_id")}


def entity_url(entry) -> str | None:
    """The page of the thing an audit entry changed, if it has one."""
    page = ENTITY_PAGES.get(entry.entity_type)
    if page is None or not (entry.entity_id or "").isdigit():
        return None
    endpoint, argument = page
    values: dict[str, Any] = {argument: int(entry.entity_id)}
    return url_for(endpoint, **values)


@bp.get("/staf/audit")
@manager_required
def audit_log():
    """Who did what, when, to which thing: managers see their Sentras', admins everything."""
    from core.audit import AuditFilter, audit_query

    since, until = _local_day_start(request.args.get("dari")), _local_day_start(request.args.get("sampai"), 1)
    wanted = AuditFilter(actor_id=request.args.get("oleh", type=int), action=request.args.get("aksi", "").strip(),
                         entity_type=request.args.get("jenis", "").strip(),
                         entity_id=request.args.get("id", "").strip(), since=since, until=until)
    pagination = db.paginate(audit_query(scoped_sentra_ids(current_user), wanted),
                             page=max(request.args.get("halaman", 1, type=int) or 1, 1), per_page=50, error_out=False)
    ids = {entry.actor_id for entry in pagination.items if entry.actor_id}
    actors = dict(db.session.execute(sa.select(User.id, User.name).where(User.id.in_(ids))).tuples().all())
    args = {k: v for k, v in request.args.items() if k != "halaman" and v}
    return render_template("app/audit.html", pagination=pagination, actors=actors, entity_url=entity_url,
                           entity_types=sorted(ENTITY_PAGES), args=args)


def _local_day_start(value: str | None, days_later: int = 0) -> datetime | None:
    """The UTC moment a `YYYY-MM-DD` day (plus `days_later`) begins in the default time zone."""
    try:
        day = date.fromisoformat(value or "")
    except ValueError:
        return None
    zone = ZoneInfo(current_app.config["DEFAULT_TIMEZONE"])
    return datetime.combine(day + timedelta(days=days_later), time(0), zone).astimezone(UTC)
