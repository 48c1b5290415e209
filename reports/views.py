"""Report pages and exports: managers see their own Sentras, admins all."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import Response, abort, current_app, render_template, request
from flask_login import current_user

from accounts.access import manager_required, require_sentra_access, scoped_sentra_ids
from core.db import utcnow
from core.extensions import db
from core.pdf import render_pdf
from reports import bp, services
from sentras.models import Sentra

MAX_DAYS = 400


def _params():
    """Parse the filter (sentra, start, end, by); returns values and a list of problems."""
    problems = []
    scoped = scoped_sentra_ids(current_user)
    query = sa.select(Sentra).order_by(Sentra.name)
    if scoped is not None:
        query = query.where(Sentra.id.in_(scoped))
    sentras = list(db.session.scalars(query))
    raw_sentra = request.args.get("sentra", "all")
    if raw_sentra == "all":
        sentra_ids = None if scoped is None else sorted(scoped)
    else:
        try:
            sentra_id = int(raw_sentra)
        except ValueError:
            abort(404)
        require_sentra_access(current_user, sentra_id)
        sentra_ids = [sentra_id]
    # "Today" of the chosen Sentra; across several, the latest of their days (WIT is ahead of WIB).
    chosen = [s for s in sentras if sentra_ids is None or s.id in sentra_ids]
    today = (max(s.local_date() for s in chosen) if chosen
             else utcnow().astimezone(ZoneInfo(current_app.config["DEFAULT_TIMEZONE"])).date())
    start = _date(request.args.get("dari")) or today.replace(day=1)
    end = _date(request.args.get("sampai")) or today
    if request.args.get("dari") and _date(request.args.get("dari")) is None:
        problems.append("Tanggal awal tidak valid (format YYYY-MM-DD).")
    if request.args.get("sampai") and _date(request.args.get("sampai")) is None:
        problems.append("Tanggal akhir tidak valid (format YYYY-MM-DD).")
    if end < start:
        problems.append("Tanggal akhir sebelum tanggal awal; ditukar.")
        start, end = end, start
    if end - start > timedelta(days=MAX_DAYS):
        problems.append(f"Rentang paling panjang {MAX_DAYS} hari; dipotong.")
        start = end - timedelta(days=MAX_DAYS)
    dimension = request.args.get("per", "day")
    if dimension not in services.DIMENSIONS:
        dimension = "day"
    return sentras, raw_sentra, sentra_ids, start, end, dimension, problems


def _date(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        return None


@bp.get("/")
@manager_required
def summary():
    sentras, raw_sentra, sentra_ids, start, end, dimension, problems = _params()
    report = services.build_report(start=start, end=end, dimension=dimension, sentra_ids=sentra_ids)
    return render_template("reports/summary.html", report=report, sentras=sentras, raw_sentra=raw_sentra,
                           dimensions=services.DIMENSIONS, bars=services.bar_chart(report), problems=problems,
                           args=request.args.to_dict())


def _filename(report, ext: str) -> str:
    return f"laporan-{report.start.isoformat()}-{report.end.isoformat()}-{report.dimension}.{ext}"


@bp.get("/ekspor.csv")
@manager_required
def export_csv():
    _s, _r, sentra_ids, start, end, dimension, _p = _params()
    report = services.build_report(start=start, end=end, dimension=dimension, sentra_ids=sentra_ids)
    return Response(services.to_csv(report), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename={_filename(report, 'csv')}"})


@bp.get("/ekspor.xlsx")
@manager_required
def export_xlsx():
    _s, _r, sentra_ids, start, end, dimension, _p = _params()
    report = services.build_report(start=start, end=end, dimension=dimension, sentra_ids=sentra_ids)
    return Response(services.to_xlsx(report),
                    mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f"attachment; filename={_filename(report, 'xlsx')}"})


@bp.get("/ringkasan.pdf")
@manager_required
def export_pdf():
    sentras, _r, sentra_ids, start, end, dimension, _p = _params()
    report = services.build_report(start=start, end=end, dimension=dimension, sentra_ids=sentra_ids)
    names = [s.name for s in sentras if sentra_ids is None or s.id in sentra_ids]
    pdf = render_pdf("report_summary.html", report=report, sentra_names=names,
                     dimension_label=services.DIMENSIONS[dimension], printed_at=utcnow(),
                     printed_by=current_user.name)
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": f"inline; filename={_filename(report, 'pdf')}"})
