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

    # Login throttling (counted in the database so it holds across workers).
    LOGIN_MAX_FAILURES = _int("LOGIN_MAX_FAILURES", 5)
    LOGIN_LOCK_MINUTES = _int("LOGIN_LOCK_MINUTES", 15)
    LOGIN_MAX_FAILURES_PER_IP = _int("LOGIN_MAX_FAILURES_PER_IP", 30)

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

    # E-mail: SMTP when MAIL_SERVER is set; otherwise, locally, one .eml file per message in MAIL_DIR
    # (core/mail.py). Bodies are never logged: they hold the buyer's secret order link.
    MAIL_SERVER = os.environ.get("MAIL_SERVER", "")
    MAIL_PORT = _int("MAIL_PORT", 25)
    MAIL_FROM = os.environ.get("MAIL_FROM", "toko@sentrakreasi.local")
    MAIL_DIR = os.environ.get("MAIL_DIR", str(INSTANCE_DIR / "mail"))
    INSTANCE_DIR = str(INSTANCE_DIR)

    # Public base URL used in QR codes on printed receipts.
    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000")


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", True)
    REMEMBER_COOKIE_SECURE = True
    HSTS = True
    #: no mail files on one host's disk in production: without MAIL_SERVER a message is dropped (logged, no body)
    MAIL_DIR = os.environ.get("MAIL_DIR", "")

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
    LOGIN_MAX_FAILURES = 5
    LOGIN_LOCK_MINUTES = 15
    SERVER_NAME = None


def config_from_env() -> type[Config]:
    name = os.environ.get("APP_CONFIG", "local").lower()
    return {"production": ProductionConfig, "test": TestConfig}.get(name, Config)
