"""Indonesian by default, English on request; money and dates in the reader's format and zone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask import render_template_string, session
from flask_babel import refresh

from core.i18n import local_datetime, rupiah
from tests.factories import SentraFactory, UserFactory


def html_lang(response) -> str:
    html = response.get_data(as_text=True)
    start = html.index('<html lang="') + len('<html lang="')
    return html[start:html.index('"', start)]


def test_indonesian_is_the_default(client):
    response = client.get("/accounts/masuk")
    assert html_lang(response) == "id"
    assert "Masuk staf Sentra" in response.get_data(as_text=True)
    assert ">English</button>" in response.get_data(as_text=True)


@pytest.mark.parametrize("accept", ["en-US,en;q=0.9", "en-US,id;q=0.8", "fr-FR,fr;q=0.9"])
def test_indonesian_stays_the_default_whatever_the_browser_asks(client, accept):
    # English is the user's choice (the language switch), never a guess from the browser.
    assert html_lang(client.get("/accounts/masuk", headers={"Accept-Language": accept})) == "id"


def test_language_switch_is_remembered_for_the_session(client, csrf):
    response = client.post("/bahasa", data={"csrf_token": csrf(), "lang": "en", "next": "/accounts/masuk"})
    assert response.status_code == 302 and response.headers["Location"] == "/accounts/masuk"
    page = client.get("/accounts/masuk")
    assert html_lang(page) == "en"
    assert ">Bahasa Indonesia</button>" in page.get_data(as_text=True)

    client.post("/bahasa", data={"csrf_token": csrf(), "lang": "id"})
    assert html_lang(client.get("/accounts/masuk")) == "id"


def test_language_switch_ignores_unknown_languages_and_foreign_redirects(client, csrf):
    response = client.post("/bahasa", data={"csrf_token": csrf(), "lang": "xx", "next": "https://evil.example/"})
    assert response.status_code == 302 and "evil" not in response.headers["Location"]
    assert html_lang(client.get("/accounts/masuk")) == "id"


def test_language_switch_needs_csrf(client):
    assert client.post("/bahasa", data={"lang": "en"}).status_code == 400


def test_users_saved_language_applies_without_a_session_choice(client, login_as):
    user = UserFactory(locale="en", sentras=[SentraFactory()])
    login_as(user)
    assert html_lang(client.get("/staf")) == "en"


def render_in(app, lang: str, template: str, **context) -> str:
    with app.test_request_context():
        session["lang"] = lang
        refresh()  # the test's app context is shared: forget a locale chosen earlier
        return render_template_string(template, **context)


def test_rupiah_filter_follows_the_language(app):
    assert render_in(app, "id", "{{ 67000 | rupiah }}") == "Rp 67.000"
    assert render_in(app, "en", "{{ 67000 | rupiah }}") == "IDR 67,000"
    assert render_in(app, "id", "{{ 67000000 | rupiah }}") == "Rp 67.000.000"
    with app.test_request_context():
        assert rupiah(None) == "-"


@pytest.mark.parametrize(("zone", "expected"), [
    ("Asia/Jakarta", "17 Agu 2026 10.00 WIB"),
    ("Asia/Makassar", "17 Agu 2026 11.00 WITA"),
    ("Asia/Jayapura", "17 Agu 2026 12.00 WIT"),
])
def test_dates_show_in_the_sentras_own_zone(app, zone, expected):
    moment = datetime(2026, 8, 17, 3, 0, tzinfo=UTC)
    rendered = render_in(app, "id", "{{ moment | local_dt(zone) }}", moment=moment, zone=zone)
    assert rendered.replace(":", ".") == expected


def test_dates_in_english(app):
    moment = datetime(2026, 8, 17, 3, 0, tzinfo=UTC)
    with app.test_request_context():
        session["lang"] = "en"
        refresh()
        assert local_datetime(moment, "Asia/Jakarta") == "17 Aug 2026 10:00 WIB"
        assert local_datetime(None) == "-"
