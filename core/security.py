"""Security headers on every response: a strict CSP with no inline scripts, and friends."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, abort, g, request, session
from werkzeug.routing import IntegerConverter

STRIPE_PAGES_CSP = {
    "script-src": "'self' https://js.stripe.com",
    "frame-src": "https://js.stripe.com https://hooks.stripe.com",
    "connect-src": "'self' https://api.stripe.com",
}


def build_csp(extra: dict[str, str] | None = None) -> str:
    directives = {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self'",
        "img-src": "'self' data:",
        "font-src": "'self'",
        "connect-src": "'self'",
        "frame-src": "'none'",
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }
    directives.update(extra or {})
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def allow_stripe_js() -> None:
    """Called by the one view that embeds Stripe.js (the card form)."""
    g.csp_extra = STRIPE_PAGES_CSP


def allow_printing_frames() -> None:
    """Called by a page that prints documents in a hidden frame (the counter's receipts): the
    frame holds a `blob:` copy the page fetched from this site, nothing else may be framed."""
    g.csp_extra = {**(g.get("csp_extra") or {}), "frame-src": "blob:"}


#: the largest id a table can hold (PostgreSQL INTEGER): a bigger one in a URL is a plain 404
MAX_DB_INT = 2**31 - 1


class DatabaseIntConverter(IntegerConverter):
    """`<int:...>` that never matches a number the database cannot compare (was a 500)."""

    def __init__(self, map, *args, **kwargs) -> None:
        kwargs.setdefault("max", MAX_DB_INT)
        super().__init__(map, *args, **kwargs)


def _has_nul(value: Any) -> bool:
    stack = [value]
    while stack:  # iterative: a deeply nested JSON body must not overflow the stack
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def init_security(app: Flask) -> None:
    @app.before_request
    def refuse_nul_bytes() -> None:
        """No text with a NUL byte reaches a view: PostgreSQL cannot store it (it was a 500), and no
        person types one. 400 (problem+json under /api/)."""
        if "\x00" in request.path:
            abort(400)
        for source in (request.args, request.form):
            if any(_has_nul(v) for k, values in source.lists() for v in [k, *values]):
                abort(400)
        if request.is_json:
            try:
                body = request.get_json(silent=True)
            except RecursionError:  # nested too deep for the JSON parser
                abort(400)
            if _has_nul(body):
                abort(400)

    @app.after_request
    def set_security_headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", build_csp(g.get("csp_extra")))
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if app.config.get("HSTS"):
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if response.mimetype == "text/html":
            response.headers.setdefault("Cache-Control", "no-store")
        cache_control = response.headers.get("Cache-Control", "")
        # A view that declared its answer public (a product photo) keeps it; everything else for a
        # logged-in user or a secret link is never stored — send_file's default "no-cache" still
        # lets a shared cache or the browser keep the bytes.
        if "no-store" not in cache_control and "public" not in cache_control and is_private_request():
            response.headers["Cache-Control"] = "private, no-store"
        return response


#: public files anyone may cache, even when fetched by a logged-in browser
CACHEABLE_ENDPOINTS = frozenset({"static"})


def is_private_request() -> bool:
    """A response for a logged-in user or behind a secret link (`/pesanan/<token>`,
    `/pos/struk/<token>`): no cache may keep it (PDFs, CSV, XLSX, JSON alike)."""
    if request.endpoint in CACHEABLE_ENDPOINTS:
        return False
    if "token" in (request.view_args or {}):
        return True
    # Read the session, not current_user: loading the user here could touch the database.
    if session.get("_user_id"):
        return True
    user = g.get("_login_user")
    return bool(user is not None and getattr(user, "is_authenticated", False))
