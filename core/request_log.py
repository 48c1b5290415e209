"""Structured request logs (one JSON line per request) with a request id.

The id comes from an `X-Request-ID` header set by a proxy, or is generated; it is echoed in the
response so a kasir's error report can be matched with the server log.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid

from flask import Flask, Response, g, request

logger = logging.getLogger("sentra.request")
_VALID_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def init_request_log(app: Flask) -> None:
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False

    @app.before_request
    def start_timer() -> None:
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if _VALID_ID.match(incoming) else uuid.uuid4().hex
        g.request_started = time.perf_counter()

    @app.after_request
    def log_request(response: Response) -> Response:
        request_id = g.get("request_id")
        if request_id:
            response.headers["X-Request-ID"] = request_id
        if app.config.get("REQUEST_LOG", True) and request.endpoint != "static":
            logger.info(json.dumps({
                "request_id": request_id,
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "ms": round((time.perf_counter() - g.get("request_started", time.perf_counter())) * 1000, 1),
                "user_id": _loaded_user_id(),
                "remote_addr": request.remote_addr,
            }))
        return response


def _loaded_user_id() -> int | None:
    """The id of the user this request already loaded, read without touching the database
    (loading or refreshing the user here would turn a clean 503 when the database is down into a 500)."""
    import sqlalchemy as sa

    user = g.get("_login_user")
    state = sa.inspect(user, raiseerr=False) if user is not None else None
    identity = getattr(state, "identity", None)
    return identity[0] if identity else None
