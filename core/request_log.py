"""Request logs (one JSON line per request, core/logging.py) with a request id.

The id comes from an `X-Request-ID` header set by a proxy, or is generated; it is echoed in the
response so a kasir's error report can be matched with the server log.

Secret links never reach the log: a URL argument named like a token (`/pesanan/<token>`,
`/pos/struk/<token>`) is logged as `<redacted>`, so are the same paths when they match no route,
and query values whose name says secret (`token`, `payment_intent_client_secret`, `key`, …).
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from flask import Flask, Response, g, request

logger = logging.getLogger("sentra.request")
_VALID_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
REDACTED = "<redacted>"
#: paths whose next segment is a secret, also when the URL matches no route (a mistyped link)
_SECRET_SEGMENT = re.compile(r"^(/pesanan/|/pos/struk/|/akun/sandi-baru/)[^/?#]+")
#: query parameter names whose value is a secret
_SECRET_PARAM = re.compile(r"token|secret|key|password|pin|code|signature", re.IGNORECASE)


def redacted_path(path: str, view_args: dict | None = None) -> str:
    """`path` with secret URL arguments replaced by `<redacted>`."""
    for name, value in (view_args or {}).items():
        if isinstance(value, str) and value and _SECRET_PARAM.search(name):
            path = path.replace(value, REDACTED)
    return _SECRET_SEGMENT.sub(lambda m: m.group(1) + REDACTED, path)


def redacted_query(args) -> str:
    """The query string with secret values replaced by `<redacted>` ("" when there is none)."""
    from urllib.parse import urlencode

    pairs = [(name, REDACTED if _SECRET_PARAM.search(name) else value) for name, value in args.items(multi=True)]
    return urlencode(pairs, safe="<>")


def init_request_log(app: Flask) -> None:
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
            path = redacted_path(request.path, request.view_args)
            fields = {"method": request.method, "path": path, "query": redacted_query(request.args),
                      "status": response.status_code,
                      "ms": round((time.perf_counter() - g.get("request_started", time.perf_counter())) * 1000, 1),
                      "user_id": _loaded_user_id(), "remote_addr": request.remote_addr}
            logger.info("%s %s %s", request.method, path, response.status_code, extra={"fields": fields})
        return response


def _loaded_user_id() -> int | None:
    """The id of the user this request already loaded, read without touching the database
    (loading or refreshing the user here would turn a clean 503 when the database is down into a 500)."""
    import sqlalchemy as sa

    user = g.get("_login_user")
    state = sa.inspect(user, raiseerr=False) if user is not None else None
    identity = getattr(state, "identity", None)
    return identity[0] if identity else None
