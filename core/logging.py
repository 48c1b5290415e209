"""One JSON object per log line, on every logger (app, requests, jobs, mail, alerts, huey).

Each line carries the request id (`X-Request-ID`, core/request_log.py) or the job id of the work
that wrote it, so one kasir's failed sale can be followed through the web log and its jobs. Fields
a logger adds with `extra={"fields": {...}}` become top-level keys. Messages never hold secrets:
request paths are redacted before logging, mail bodies are never logged.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

from flask import Flask, g, has_app_context
from flask.logging import default_handler

_HANDLER_NAME = "sentra-json"


class WorkContextFilter(logging.Filter):
    """Stamp each record with the id of the request or job that is running."""

    def filter(self, record: logging.LogRecord) -> bool:
        if has_app_context():
            record.request_id = g.get("request_id")
            record.job_id = g.get("job_id")
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data: dict = {"time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
                      "level": record.levelname, "logger": record.name, "message": record.getMessage()}
        for name in ("request_id", "job_id"):
            value = getattr(record, name, None)
            if value:
                data[name] = value
        data.update(getattr(record, "fields", None) or {})
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False, default=str)


def init_logging(app: Flask) -> None:
    """JSON lines on stderr through the root logger (once per process), INFO and up."""
    app.logger.removeHandler(default_handler)
    root = logging.getLogger()
    if not any(handler.get_name() == _HANDLER_NAME for handler in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.set_name(_HANDLER_NAME)
        handler.setFormatter(JsonFormatter())
        handler.addFilter(WorkContextFilter())
        root.addHandler(handler)
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)
