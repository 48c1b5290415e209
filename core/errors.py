"""Domain errors and how the web layer shows them.

Services raise `DomainError` subclasses with a message a kasir understands (Indonesian).
HTML routes show the message; JSON routes (`/api/` in the path, or a JSON request) answer
problem+json (RFC 9457): status, title, detail — never a stack trace.
"""

from __future__ import annotations

from flask import Flask, Response, g, jsonify, render_template, request
from werkzeug.exceptions import HTTPException


class DomainError(Exception):
    """A business rule was broken; `detail` is shown to the user."""

    status = 422
    title = "Permintaan tidak dapat diproses"

    def __init__(self, detail: str, *, field: str | None = None, **extra):
        super().__init__(detail)
        self.detail = detail
        self.field = field
        self.extra = extra


class ValidationFailed(DomainError):
    title = "Data tidak valid"

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


class NotFound(DomainError):
    status = 404
    title = "Tidak ditemukan"


class Forbidden(DomainError):
    status = 403
    title = "Tidak diizinkan"


class Conflict(DomainError):
    status = 409
    title = "Konflik"


class OutOfStock(Conflict):
    title = "Stok habis"


class ShiftClosed(Conflict):
    title = "Sesi kasir tertutup"


class PaymentMismatch(DomainError):
    title = "Pembayaran tidak sesuai"


class IdempotencyConflict(DomainError):
    title = "Kunci idempotensi dipakai ulang"


class AccountLocked(DomainError):
    status = 429
    title = "Akun terkunci sementara"


class ServiceUnavailable(DomainError):
    status = 503
    title = "Layanan sedang tidak tersedia"


def wants_json() -> bool:
    if "/api/" in request.path:
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def problem(status: int, title: str, detail: str, **extra) -> Response:
    body = {"status": status, "title": title, "detail": detail, **extra}
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    return response


def register_errorhandlers(app: Flask) -> None:
    from core.extensions import db

    @app.errorhandler(DomainError)
    def handle_domain_error(error: DomainError):
        db.session.rollback()
        if wants_json():
            extra = dict(error.extra)
            if error.field:
                extra["field"] = error.field
            if isinstance(error, ValidationFailed):
                extra["errors"] = error.errors
            return problem(error.status, error.title, error.detail, **extra)
        return (
            render_template("core/error.html", status=error.status, title=error.title, detail=error.detail),
            error.status,
        )

    @app.errorhandler(HTTPException)
    def handle_http_error(error: HTTPException):
        titles = {
            400: "Permintaan tidak valid",
            403: "Tidak diizinkan",
            404: "Halaman tidak ditemukan",
            405: "Metode tidak diizinkan",
            413: "Berkas atau data terlalu besar",
            429: "Terlalu banyak percobaan",
        }
        title = titles.get(error.code or 500, error.name)
        detail = _http_detail(error)
        if wants_json():
            return problem(error.code or 500, title, detail)
        return render_template("core/error.html", status=error.code, title=title, detail=detail), error.code

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception):
        from sqlalchemy.exc import OperationalError

        db.session.rollback()
        if _number_out_of_range(error):
            # An id or number bigger than the database can compare (SQLite OverflowError,
            # PostgreSQL "integer out of range"): the request is wrong, not the server.
            detail = "Angka di permintaan ini terlalu besar. Periksa lagi lalu coba kembali."
            if wants_json():
                return problem(400, "Permintaan tidak valid", detail)
            return render_template("core/error.html", status=400, title="Permintaan tidak valid", detail=detail), 400
        if isinstance(error, OperationalError):
            app.logger.warning("database unavailable: %s", error.__class__.__name__)
            # The page must not touch the database: show it as to a visitor (the user row,
            # expired by the rollback, would be reloaded by the layout and fail again).
            from core.extensions import login_manager

            g._login_user = login_manager.anonymous_user()
            status, title = 503, "Layanan sedang tidak tersedia"
            detail = "Database sedang tidak dapat dihubungi. Coba lagi sebentar lagi; tidak ada data yang tersimpan."
        else:
            app.logger.exception("unhandled error")
            status, title = 500, "Terjadi kesalahan"
            detail = "Terjadi kesalahan di server. Tidak ada data yang tersimpan; silakan coba lagi."
        if wants_json():
            return problem(status, title, detail)
        return render_template("core/error.html", status=status, title=title, detail=detail), status


def _number_out_of_range(error: Exception) -> bool:
    from sqlalchemy.exc import DataError, StatementError

    if isinstance(error, OverflowError):
        return True
    if isinstance(error, StatementError) and isinstance(error.orig, OverflowError):
        return True
    return isinstance(error, DataError) and type(error.orig).__name__ == "NumericValueOutOfRange"


def _http_detail(error: HTTPException) -> str:
    details = {
        400: "Permintaan tidak lengkap atau tidak sah. Muat ulang halaman lalu coba lagi.",
        403: "Anda tidak memiliki akses ke halaman ini.",
        404: "Halaman atau data yang dicari tidak ada.",
        405: "Cara permintaan ini tidak didukung.",
        413: "Berkas atau data yang dikirim terlalu besar.",
        429: "Terlalu banyak percobaan. Tunggu sebentar lalu coba lagi.",
    }
    if error.code == 400 and error.description and "CSRF" in error.description:
        return "Sesi formulir sudah tidak berlaku (token CSRF). Muat ulang halaman lalu kirim lagi."
    return details.get(error.code or 500, error.description or "")
