"""CSRF, security headers on every kind of response, and cookies (the production guard: test_production_config.py)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from accounts.models import LoginAttempt, Role, User
from app import create_app
from config import TestConfig
from core.extensions import db
from tests.factories import TEST_PASSWORD, UserFactory


def count(model) -> int:
    value = db.session.scalar(sa.select(sa.func.count()).select_from(model))
    db.session.rollback()
    return value


# --- CSRF -----------------------------------------------------------------------------------------

def new_kasir_form(token: str | None = None) -> dict:
    data = {"name": "Siti", "email": "siti@sentra.test", "password": "Batik-Ciprat-2026", "role": "admin"}
    return {**data, "csrf_token": token} if token else data


def test_post_without_csrf_token_is_refused_and_writes_nothing(client, login_as, csrf):
    login_as(UserFactory(role=Role.ADMIN))
    before = count(User)
    response = client.post("/accounts/pengguna/baru", data=new_kasir_form())
    assert response.status_code == 400
    assert "token CSRF" in response.get_data(as_text=True)
    assert count(User) == before

    forged = client.post("/accounts/pengguna/baru", data=new_kasir_form("bukan-token-yang-sah"))
    assert forged.status_code == 400
    assert count(User) == before

    accepted = client.post("/accounts/pengguna/baru", data=new_kasir_form(csrf()))
    assert accepted.status_code == 302
    assert count(User) == before + 1


def test_token_from_another_session_is_refused(app, client, csrf):
    from tests.conftest import csrf_token

    UserFactory(email="budi@sentra.test")
    other = app.test_client()
    with other.session_transaction() as sess:
        sess["csrf_token"] = "another-raw-token"
    token_for_client = csrf_token(client)
    response = other.post("/accounts/masuk", data={"csrf_token": token_for_client, "email": "budi@sentra.test",
                                                   "password": TEST_PASSWORD})
    assert response.status_code == 400
    assert count(LoginAttempt) == 0


def test_login_post_without_token_counts_nothing(client):
    response = client.post("/accounts/masuk", data={"email": "budi@sentra.test", "password": "x"})
    assert response.status_code == 400
    assert count(LoginAttempt) == 0


def test_csrf_header_works_for_scripts(client, login_as, csrf):
    login_as(UserFactory(role=Role.ADMIN))
    response = client.post("/accounts/pengguna/baru", data=new_kasir_form(), headers={"X-CSRFToken": csrf()})
    assert response.status_code == 302


def test_csrf_failure_on_an_api_path_is_problem_json(database_url):
    settings = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
    api_app = create_app({**settings, "SQLALCHEMY_DATABASE_URI": database_url})
    api_app.add_url_rule("/contoh/api/catat", "record", lambda: {"ok": True}, methods=["POST"])

    with api_app.test_client() as test_client:
        response = test_client.post("/contoh/api/catat", json={"x": 1})
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert response.json["status"] == 400 and "CSRF" in response.json["detail"]


# --- headers --------------------------------------------------------------------------------------

def assert_security_headers(response) -> None:
    csp = response.headers["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in csp.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"


@pytest.mark.parametrize(("path", "mimetype", "status"), [
    ("/accounts/masuk", "text/html", 200),
    ("/health", "application/json", 200),
    ("/halaman-yang-tidak-ada", "text/html", 404),
    ("/api/tidak-ada", "application/problem+json", 404),
    ("/staf", "text/html", 302),
])
def test_security_headers_on_every_kind_of_response(client, path, mimetype, status):
    response = client.get(path)
    assert response.status_code == status
    if status != 302:
        assert response.mimetype == mimetype
    assert_security_headers(response)


def test_security_headers_on_server_errors(database_url):
    settings = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
    broken = create_app({**settings, "SQLALCHEMY_DATABASE_URI": database_url})

    @broken.get("/rusak")
    def crash():
        raise RuntimeError("boom")

    with broken.test_client() as test_client:
        response = test_client.get("/rusak")
    assert response.status_code == 500
    assert_security_headers(response)


def test_html_pages_are_not_cached(client):
    assert client.get("/accounts/masuk").headers["Cache-Control"] == "no-store"


def test_no_inline_script_or_style_in_pages(client, login_as):
    login_as(UserFactory(role=Role.ADMIN))
    for path in ("/accounts/masuk", "/accounts/masuk-pembuat", "/accounts/pengguna", "/accounts/pengguna/baru",
                 "/accounts/pengguna/baru-pembuat", "/staf"):
        html = client.get(path).get_data(as_text=True)
        assert "<style" not in html and 'style="' not in html, path
        assert "<script>" not in html and "onclick=" not in html, path


# --- cookies ----------------------------------------------------------------------------------------

def session_cookie_header(response) -> str:
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert cookies, response.headers
    return cookies[0]


def test_session_cookie_is_httponly_and_samesite_lax(client):
    cookie = session_cookie_header(client.get("/accounts/masuk"))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
