"""Settings from environment variables, with safe local defaults.

`Config` is the local/embedded default (SQLite under instance/). `ProductionConfig` refuses to
start with unsafe settings. `TestConfig` is used by the test suite.
"""

from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("INSTANCE_DIR", BASE_DIR / "instance"))

DEV_SECRET_KEY = "dev-only-not-secret"


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY", DEV_SECRET_KEY)
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'sentra.db'}"
    )
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}

    # Sessions and cookies.
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = _int("SESSION_IDLE_MINUTES", 60) * 60
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    HSTS = _bool("HSTS", False)

    # Login throttling (accounts/throttle.py; counted in the database so it holds across workers).
    #: failures per account (and per account + address, per account + device) that cost no wait
    LOGIN_FREE_FAILURES = _int("LOGIN_FREE_FAILURES", 3)
    #: the first wait after the free failures; doubled by each further failure, up to the maximum
    LOGIN_DELAY_SECONDS = _int("LOGIN_DELAY_SECONDS", 30)
    LOGIN_MAX_DELAY_SECONDS = _int("LOGIN_MAX_DELAY_SECONDS", 15 * 60)
    #: failures older than this are forgotten (and the PIN cap counts within it)
    LOGIN_FAILURE_WINDOW_HOURS = _int("LOGIN_FAILURE_WINDOW_HOURS", 24)
    #: an address an account logged in from within this many days is "known" for that account
    LOGIN_KNOWN_ADDRESS_DAYS = _int("LOGIN_KNOWN_ADDRESS_DAYS", 90)
    LOGIN_DEVICE_COOKIE_DAYS = _int("LOGIN_DEVICE_COOKIE_DAYS", 365)
    #: wrong PINs (maker login, manager approval) within the window, over all addresses, before
    #: the PIN is blocked until staff reset it
    PIN_MAX_FAILURES = _int("PIN_MAX_FAILURES", 10)

    # Language and time.
    BABEL_DEFAULT_LOCALE = "id"
    LANGUAGES = ("id", "en")
    DEFAULT_TIMEZONE = os.environ.get("DEFAULT_TIMEZONE", "Asia/Jakarta")

    # Uploads.
    MAX_CONTENT_LENGTH = _int("MAX_UPLOAD_BYTES", 8 * 1024 * 1024)
    UPLOAD_IMAGE_MAX_BYTES = _int("UPLOAD_IMAGE_MAX_BYTES", 5 * 1024 * 1024)
    UPLOAD_DIR = os.environ.get("UPLOAD_DIR", str(INSTANCE_DIR / "uploads"))

    # Money.
    CASH_ROUNDING_UNIT = _int("CASH_ROUNDING_UNIT", 100)
    MANAGER_APPROVAL_DISCOUNT_BPS = _int("MANAGER_APPROVAL_DISCOUNT_BPS", 1000)

    # Stripe: real API by configuration alone; STRIPE_API_BASE points at localstripe locally.
    STRIPE_SECRET_KEY = os.environ.get("STRIPE_SECRET_KEY", "sk_test_local")
    STRIPE_PUBLISHABLE_KEY = os.environ.get("STRIPE_PUBLISHABLE_KEY", "pk_test_local")
    STRIPE_WEBHOOK_SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET", "whsec_local")
    STRIPE_API_BASE = os.environ.get("STRIPE_API_BASE", "")
    RESERVATION_MINUTES = _int("RESERVATION_MINUTES", 15)

    #: one JSON line per request on stderr
    REQUEST_LOG = _bool("REQUEST_LOG", True)

    # Public base URL used in QR codes on printed receipts.
    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000")


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", True)
    REMEMBER_COOKIE_SECURE = True
    HSTS = True

    @classmethod
    def check(cls) -> None:
        """Refuse to start with settings that are unsafe in production."""
        problems = []
        if cls.SECRET_KEY in ("", DEV_SECRET_KEY) or len(cls.SECRET_KEY) < 32:
            problems.append("SECRET_KEY must be set to a random value of 32+ characters")
        if not cls.SESSION_COOKIE_SECURE:
            problems.append("SESSION_COOKIE_SECURE must be on")
        if _bool("FLASK_DEBUG", False):
            problems.append("FLASK_DEBUG must be off")
        if problems:
            raise RuntimeError("Unsafe production configuration: " + "; ".join(problems))


class TestConfig(Config):
    TESTING = True
    REQUEST_LOG = False
    SECRET_KEY = "test-secret"
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL", "sqlite://")
    LOGIN_FREE_FAILURES = 3
    LOGIN_DELAY_SECONDS = 30
    LOGIN_MAX_DELAY_SECONDS = 15 * 60
    PIN_MAX_FAILURES = 10
    SERVER_NAME = None


def config_from_env() -> type[Config]:
    name = os.environ.get("APP_CONFIG", "local").lower()
    return {"production": ProductionConfig, "test": TestConfig}.get(name, Config)
