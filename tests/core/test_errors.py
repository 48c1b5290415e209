"""Domain errors become a readable page or problem+json; unexpected ones never leak a stack trace."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app import create_app
from config import TestConfig
from core.errors import NotFound, OutOfStock, ValidationFailed

SECRET = "psycopg-password=hunter2 at line 42"


@pytest.fixture
def error_app(database_url):
    """An app with a few routes that fail on purpose (routes cannot be added to the shared app)."""
    settings = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
    application = create_app({**settings, "SQLALCHEMY_DATABASE_URI": database_url})

    def out_of_stock():
        raise OutOfStock("Stok Batik ciprat tinggal 2.", field="qty", available=2)

    def invalid():
        raise ValidationFailed({"email": "Alamat e-mail tidak valid.", "pin": "PIN harus 6 angka."})

    def missing():
        raise NotFound("Penjualan tidak ditemukan.")

    def crash():
        raise RuntimeError(SECRET)

    def db_down():
        raise sa.exc.OperationalError("SELECT 1", {}, Exception(SECRET))

    for name, view in (("stok", out_of_stock), ("valid", invalid), ("hilang", missing), ("rusak", crash),
                       ("db", db_down)):
        application.add_url_rule(f"/contoh/{name}", f"html_{name}", view)
        application.add_url_rule(f"/contoh/api/{name}", f"api_{name}", view)
    return application


@pytest.fixture
def error_client(error_app):
    with error_app.test_client() as test_client:
        yield test_client


def test_domain_error_on_api_route_is_problem_json(error_client):
    response = error_client.get("/contoh/api/stok")
    assert response.status_code == 409
    assert response.mimetype == "application/problem+json"
    assert response.json == {"status": 409, "title": "Stok habis", "detail": "Stok Batik ciprat tinggal 2.",
                             "field": "qty", "available": 2}


def test_validation_failure_lists_each_field(error_client):
    response = error_client.get("/contoh/api/valid")
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    assert response.json["errors"] == {"email": "Alamat e-mail tidak valid.", "pin": "PIN harus 6 angka."}
    assert response.json["title"] == "Data tidak valid"


def test_domain_error_on_html_route_shows_the_message(error_client):
    response = error_client.get("/contoh/hilang")
    assert response.status_code == 404 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "Tidak ditemukan" in html and "Penjualan tidak ditemukan." in html


def test_json_client_gets_problem_json_outside_api_paths(error_client):
    response = error_client.get("/contoh/stok", headers={"Accept": "application/json"})
    assert response.mimetype == "application/problem+json" and response.json["status"] == 409


@pytest.mark.parametrize("path", ["/contoh/rusak", "/contoh/api/rusak"])
def test_unexpected_error_is_500_without_stack_trace(error_client, path):
    response = error_client.get(path)
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert SECRET not in body and "Traceback" not in body and "RuntimeError" not in body
    assert "Terjadi kesalahan" in body
    if "/api/" in path:
        assert response.mimetype == "application/problem+json"
        assert response.json["status"] == 500 and response.json["title"] == "Terjadi kesalahan"
    else:
        assert response.mimetype == "text/html"


def test_database_outage_is_503_without_details(error_client):
    response = error_client.get("/contoh/api/db")
    assert response.status_code == 503 and response.json["status"] == 503
    assert SECRET not in response.get_data(as_text=True)


@pytest.mark.parametrize(("path", "status"), [("/api/tidak-ada", 404), ("/tidak-ada", 404)])
def test_http_errors_follow_the_same_shapes(client, path, status):
    response = client.get(path)
    assert response.status_code == status
    if "/api/" in path:
        assert response.mimetype == "application/problem+json"
        assert response.json == {"status": 404, "title": "Halaman tidak ditemukan",
                                 "detail": "Halaman atau data yang dicari tidak ada."}
    else:
        assert "Halaman tidak ditemukan" in response.get_data(as_text=True)


def test_method_not_allowed_is_405(client):
    assert client.get("/accounts/keluar").status_code == 405
