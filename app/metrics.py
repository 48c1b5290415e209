"""`GET /metrics`: Prometheus text format, for a scraper on this host (or one holding METRICS_TOKEN).

Request counts (by method, endpoint, status) and a latency histogram are kept in this worker
process's memory: each gunicorn worker reports its own counts since it started, so a scrape through
one worker sees a part of the traffic (sum over workers by scraping each, or read the per-request
JSON log). `sentra_sales_last_minute` and the job gauges (`sentra_jobs{state}`, `sentra_jobs_overdue`)
come from the database and are the same in every worker.
Reachable only from loopback (the client address after ProxyFix, see wsgi.py) or with
`Authorization: Bearer <METRICS_TOKEN>`; anything else is a plain 404.
"""

from __future__ import annotations

import hmac
import ipaddress
import threading
import time
from collections import Counter
from datetime import timedelta

import sqlalchemy as sa
from flask import Response, abort, current_app, g, request

from app import bp
from core.extensions import db

#: histogram bucket upper bounds, seconds
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

_lock = threading.Lock()
_requests: Counter[tuple[str, str, str]] = Counter()
_bucket_counts = [0] * (len(BUCKETS) + 1)  # the last one is +Inf
_latency_sum = 0.0


@bp.before_app_request
def _start_clock() -> None:
    g.metrics_started = time.perf_counter()


@bp.after_app_request
def _count(response: Response) -> Response:
    global _latency_sum
    started = g.get("metrics_started")
    if started is None or request.endpoint in ("static", "app.metrics"):
        return response
    elapsed = time.perf_counter() - started
    key = (request.method, request.endpoint or "<unmatched>", str(response.status_code))
    with _lock:
        _requests[key] += 1
        _latency_sum += elapsed
        for i, bound in enumerate(BUCKETS):
            if elapsed <= bound:
                _bucket_counts[i] += 1
                break
        else:
            _bucket_counts[-1] += 1
    return response


def _allowed() -> bool:
    token = current_app.config.get("METRICS_TOKEN", "")
    header = request.headers.get("Authorization", "")
    if token and header.startswith("Bearer "):
        return hmac.compare_digest(header[7:].encode(), token.encode())
    try:
        return ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        return False


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _sales_last_minute() -> int:
    from core.db import utcnow
    from sales.models import Sale

    since = utcnow() - timedelta(minutes=1)
    return db.session.scalar(sa.select(sa.func.count()).select_from(Sale).where(Sale.created_at >= since)) or 0


@bp.get("/metrics")
def metrics():
    if not _allowed():
        abort(404)
    with _lock:
        requests = sorted(_requests.items())
        buckets = list(_bucket_counts)
        latency_sum = _latency_sum
    lines = ["# HELP sentra_http_requests_total HTTP requests handled by this worker process.",
             "# TYPE sentra_http_requests_total counter"]
    for (method, endpoint, status), n in requests:
        lines.append(f'sentra_http_requests_total{{method="{_label(method)}",endpoint="{_label(endpoint)}",'
                     f'status="{status}"}} {n}')
    lines += ["# HELP sentra_http_request_duration_seconds Request latency in this worker process.",
              "# TYPE sentra_http_request_duration_seconds histogram"]
    cumulative = 0
    for bound, n in zip((*map(str, BUCKETS), "+Inf"), buckets, strict=True):
        cumulative += n
        lines.append(f'sentra_http_request_duration_seconds_bucket{{le="{bound}"}} {cumulative}')
    lines.append(f"sentra_http_request_duration_seconds_sum {latency_sum:.6f}")
    lines.append(f"sentra_http_request_duration_seconds_count {cumulative}")
    from core.jobs.runner import queue_summary

    jobs = queue_summary()
    lines += ["# HELP sentra_jobs Background jobs by state (from the database: the same in every worker).",
              "# TYPE sentra_jobs gauge"]
    lines += [f'sentra_jobs{{state="{state}"}} {jobs[state]}' for state in ("pending", "running", "done", "failed")]
    lines += ["# HELP sentra_jobs_overdue Pending jobs more than five minutes past due (is a worker running?).",
              "# TYPE sentra_jobs_overdue gauge", f"sentra_jobs_overdue {jobs['overdue']}"]
    lines += ["# HELP sentra_sales_last_minute Sales recorded in the last minute (all Sentras, from the database).",
              "# TYPE sentra_sales_last_minute gauge",
              f"sentra_sales_last_minute {_sales_last_minute()}"]
    response = Response("\n".join(lines) + "\n", mimetype="text/plain")
    response.headers["Content-Type"] = "text/plain; version=0.0.4; charset=utf-8"
    response.headers["Cache-Control"] = "no-store"
    return response
