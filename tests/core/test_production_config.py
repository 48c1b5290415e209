"""`APP_CONFIG=production` refuses to start with unsafe settings, and starts with sound ones."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

import config as app_config
from accounts.models import Role
from app import create_app
from config import DEV_SECRET_KEY, ProductionConfig
from tests.core.test_security import assert_security_headers, session_cookie_header
from tests.factories import UserFactory

#: what an operator following the README sets: every check passes
SOUND = {
    "SECRET_KEY": "q3V9x-Lw2ZpR7cT0bNf8YkJ4sHd6MgA1uE5oIiWtXr",
    "STRIPE_SECRET_KEY": "sk_live_51Hx9aVb2c3d4e5f6g7h8i9j0",
    "STRIPE_PUBLISHABLE_KEY": "pk_live_51Hx9aVb2c3d4e5f6g7h8i9j0",
    "STRIPE_WEBHOOK_SECRET": "whsec_8f2KcL0pQ7rT3vX9zB1nM5",
    "STRIPE_API_BASE": "",
    "STRIPE_TEST_MODE": False,
    "PUBLIC_BASE_URL": "https://sentrakreasi.kemensos.go.id",
}


def production(**overrides) -> type:
    return type("Production", (ProductionConfig,), {**SOUND, **overrides})


@pytest.fixture(autouse=True)
def _no_debug(monkeypatch):
    monkeypatch.delenv("FLASK_DEBUG", raising=False)


def test_sound_settings_are_accepted():
    production().check()


def test_test_keys_are_accepted_with_an_explicit_test_mode():
    production(STRIPE_SECRET_KEY="sk_test_51Hx9aVb2c3d4e5f6g7h8", STRIPE_PUBLISHABLE_KEY="pk_test_51Hx9aVb2c3d4",
               STRIPE_TEST_MODE=True).check()


@pytest.mark.parametrize(("overrides", "problem"), [
    ({"SECRET_KEY": DEV_SECRET_KEY}, "SECRET_KEY is not set"),
    ({"SECRET_KEY": ""}, "SECRET_KEY is not set"),
    ({"SECRET_KEY": "short-but-not-default"}, "SECRET_KEY is too short"),
    ({"SECRET_KEY": "a" * 48}, "SECRET_KEY has too little randomness"),
    ({"SECRET_KEY": "abc123" * 8}, "SECRET_KEY has too little randomness"),
    ({"SECRET_KEY": "ababababababababbababababababababababab"}, "SECRET_KEY has too little randomness"),
    ({"SECRET_KEY": "please-change-me-to-something-random-0192"}, "placeholder"),
    ({"SECRET_KEY": "your-secret-key-here-for-the-sentra-app-2026"}, "placeholder"),
    ({"SESSION_COOKIE_SECURE": False}, "SESSION_COOKIE_SECURE"),
    ({"STRIPE_SECRET_KEY": "sk_test_local"}, "STRIPE_SECRET_KEY is missing or the local default"),
    ({"STRIPE_SECRET_KEY": ""}, "STRIPE_SECRET_KEY is missing"),
    ({"STRIPE_SECRET_KEY": "sk_test_51Hx9aVb2c3d4e5f6g7h8"}, "STRIPE_TEST_MODE=1"),
    ({"STRIPE_SECRET_KEY": "hunter2-not-a-key"}, "not a Stripe secret key"),
    ({"STRIPE_PUBLISHABLE_KEY": "pk_test_local"}, "STRIPE_PUBLISHABLE_KEY is missing or the local default"),
    ({"STRIPE_PUBLISHABLE_KEY": "pk_test_51Hx9aVb2c3d4"}, "STRIPE_TEST_MODE=1"),
    ({"STRIPE_WEBHOOK_SECRET": "whsec_local"}, "STRIPE_WEBHOOK_SECRET is missing or the local default"),
    ({"STRIPE_WEBHOOK_SECRET": ""}, "STRIPE_WEBHOOK_SECRET is missing"),
    ({"STRIPE_API_BASE": "http://127.0.0.1:8420"}, "STRIPE_API_BASE is set"),
    ({"PUBLIC_BASE_URL": "http://127.0.0.1:5000"}, "PUBLIC_BASE_URL must be an https://"),
    ({"PUBLIC_BASE_URL": "https://localhost"}, "PUBLIC_BASE_URL points at this machine"),
    ({"PUBLIC_BASE_URL": "https://127.0.0.1"}, "PUBLIC_BASE_URL points at this machine"),
    ({"PUBLIC_BASE_URL": "http://sentrakreasi.kemensos.go.id"}, "PUBLIC_BASE_URL must be an https://"),
    ({"PUBLIC_BASE_URL": ""}, "PUBLIC_BASE_URL must be an https://"),
])
def test_each_unsafe_setting_is_refused(overrides, problem):
    with pytest.raises(RuntimeError, match=problem):
        production(**overrides).check()
    with pytest.raises(RuntimeError, match=problem):
        create_app(production(**overrides))


def test_debug_mode_is_refused(monkeypatch):
    monkeypatch.setenv("FLASK_DEBUG", "1")
    with pytest.raises(RuntimeError, match="FLASK_DEBUG"):
        production().check()


def test_every_problem_is_listed_in_one_message():
    with pytest.raises(RuntimeError) as refused:
        production(SECRET_KEY="", STRIPE_SECRET_KEY="sk_test_local", STRIPE_WEBHOOK_SECRET="whsec_local",
                   PUBLIC_BASE_URL="http://127.0.0.1:5000", STRIPE_API_BASE="http://127.0.0.1:8420").check()
    message = str(refused.value)
    for problem in ("SECRET_KEY", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "PUBLIC_BASE_URL", "STRIPE_API_BASE"):
        assert problem in message
    assert message.count("\n- ") >= 6


def test_the_local_defaults_from_the_environment_do_not_start_production():
    """The very settings that let a webhook signed with `whsec_local` book an unpaid order."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SECRET_KEY", "STRIPE_", "PUBLIC_BASE_URL", "FLASK_DEBUG"))}
    env["APP_CONFIG"] = "production"
    result = subprocess.run([sys.executable, "-c", "from app import create_app; create_app()"],
                            cwd=app_config.BASE_DIR, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "Unsafe production configuration" in result.stderr
    for problem in ("SECRET_KEY", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "PUBLIC_BASE_URL"):
        assert problem in result.stderr


def test_production_starts_with_sound_settings_secure_cookies_and_hsts(database_url):
    app = create_app(production(SQLALCHEMY_DATABASE_URI=database_url))
    with app.test_client() as test_client:
        response = test_client.get("/accounts/masuk")
    assert "Secure" in session_cookie_header(response)
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    assert_security_headers(response)


@pytest.mark.parametrize("test_mode", [True, False])
def test_staff_pages_say_when_stripe_runs_on_test_keys(app, client, login_as, test_mode, monkeypatch):
    monkeypatch.setitem(app.config, "STRIPE_TEST_MODE", test_mode)
    login_as(UserFactory(role=Role.KASIR))
    staff_page = client.get("/staf").get_data(as_text=True)
    assert ("Mode uji Stripe" in staff_page) is test_mode
    anonymous = app.test_client().get("/").get_data(as_text=True)
    assert "Mode uji Stripe" not in anonymous  # buyers see the shop as it is
