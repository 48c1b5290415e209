"""Settings from environment variables, with safe local defaults.

`Config` is the local/embedded default (SQLite under instance/). `ProductionConfig` refuses to
start with unsafe settings. `TestConfig` is used by the test suite.
"""

from __future__ import annotations

import ipaddress
import math
import os
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("INSTANCE_DIR", BASE_DIR / "instance"))

DEV_SECRET_KEY = "dev-only-not-secret"
#: the local defaults below: fine with localstripe on a laptop, never in production
LOCAL_STRIPE_SECRET_KEY = "sk_test_local"
LOCAL_STRIPE_PUBLISHABLE_KEY = "pk_test_local"
LOCAL_STRIPE_WEBHOOK_SECRET = "whsec_local"
#: words that mark a secret copied from an example rather than generated
PLACEHOLDER_WORDS = ("changeme", "change-me", "change_me", "replace", "example", "placeholder", "your-secret",
                     "yoursecret", "secret-key", "secretkey", "dev-only", "not-secret", "password", "xxxxxxxx")


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
    #: where an older release wrote photos and slip scans; read only by `flask files import-uploads`
    #: (files live in the database now, core/files.py)
    UPLOAD_DIR = os.environ.get("UPLOAD_DIR", str(INSTANCE_DIR / "uploads"))

    # Money.
    CASH_ROUNDING_UNIT = _int("CASH_ROUNDING_UNIT", 100)
    MANAGER_APPROVAL_DISCOUNT_BPS = _int("MANAGER_APPROVAL_DISCOUNT_BPS", 1000)

    # Stripe: real API by configuration alone; STRIPE_API_BASE points at localstripe locally.
    STRIPE_SECRET_KEY = os.environ.get("STRIPE_SECRET_KEY", LOCAL_STRIPE_SECRET_KEY)
    STRIPE_PUBLISHABLE_KEY = os.environ.get("STRIPE_PUBLISHABLE_KEY", LOCAL_STRIPE_PUBLISHABLE_KEY)
    STRIPE_WEBHOOK_SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET", LOCAL_STRIPE_WEBHOOK_SECRET)
    STRIPE_API_BASE = os.environ.get("STRIPE_API_BASE", "")
    #: production with Stripe test keys (a rehearsal install): allowed only when set, and then
    #: every staff page says so
    STRIPE_TEST_MODE = _bool("STRIPE_TEST_MODE", False)
    RESERVATION_MINUTES = _int("RESERVATION_MINUTES", 15)
    #: nightly backups (ops/jobs.py): where, and how many of the newest to keep
    BACKUP_DIR = os.environ.get("BACKUP_DIR", str(INSTANCE_DIR / "backups"))
    BACKUP_KEEP = _int("BACKUP_KEEP", 14)

    #: one JSON line per request on stderr
    REQUEST_LOG = _bool("REQUEST_LOG", True)
    #: `Authorization: Bearer <token>` reaches /metrics from another host (empty: loopback only)
    METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")

    # Background jobs (core/jobs): the queue that carries them to `flask jobs worker`. Empty: next to
    # the database (a SQLite file beside a SQLite database; huey's tables in a PostgreSQL one), or
    # redis://host:6379/0.
    JOB_QUEUE_URL = os.environ.get("JOB_QUEUE_URL", "")
    #: seconds a running job may take before its worker is presumed dead (0: each job's own lease)
    JOB_LEASE_SECONDS = _int("JOB_LEASE_SECONDS", 0)

    # E-mail (core/mail.py), sent by a job: SMTP when MAIL_SERVER is set; otherwise, locally, one .eml
    # file per message in MAIL_DIR. Bodies are never logged: they hold the buyer's secret order link.
    MAIL_SERVER = os.environ.get("MAIL_SERVER", "")
    MAIL_PORT = _int("MAIL_PORT", 25)
    #: STARTTLS after connecting (port 587), or implicit TLS from the start (port 465)
    MAIL_USE_TLS = _bool("MAIL_USE_TLS", False)
    MAIL_USE_SSL = _bool("MAIL_USE_SSL", False)
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME") or None
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD") or None
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_FROM", "toko@sentrakreasi.local")
    MAIL_TIMEOUT = _int("MAIL_TIMEOUT", 20)
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
        """Refuse to start with settings that are unsafe in production, naming every problem at once."""
        problems = secret_key_problems(cls.SECRET_KEY)
        if not cls.SESSION_COOKIE_SECURE:
            problems.append("SESSION_COOKIE_SECURE must be on")
        if _bool("FLASK_DEBUG", False):
            problems.append("FLASK_DEBUG must be off")
        problems += stripe_problems(cls.STRIPE_SECRET_KEY, cls.STRIPE_PUBLISHABLE_KEY, cls.STRIPE_WEBHOOK_SECRET,
                                    cls.STRIPE_API_BASE, test_mode=cls.STRIPE_TEST_MODE)
        problems += public_url_problems(cls.PUBLIC_BASE_URL)
        if problems:
            raise RuntimeError("Unsafe production configuration:\n" + "\n".join(f"- {p}" for p in problems))


def secret_key_problems(key: str) -> list[str]:
    """A session-signing key must be long, random-looking, and not copied from an example."""
    hint = "generate one with: python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"
    if not key or key == DEV_SECRET_KEY:
        return [f"SECRET_KEY is not set; {hint}"]
    if len(key) < 32:
        return [f"SECRET_KEY is too short ({len(key)} characters, need 32+); {hint}"]
    lowered = key.lower()
    if any(word in lowered for word in PLACEHOLDER_WORDS):
        return [f"SECRET_KEY looks like a placeholder from an example; {hint}"]
    if _is_repetition(key) or _shannon_bits(key) < 100:
        return [f"SECRET_KEY has too little randomness (repeated characters or a pattern); {hint}"]
    return []


def _is_repetition(text: str) -> bool:
    """True for a string made of one shorter piece repeated ("abcabcabc…", "aaaa…")."""
    return (text + text).find(text, 1) < len(text)


def _shannon_bits(text: str) -> float:
    """The string's length times its per-character Shannon entropy: a floor-level randomness estimate
    (a 32-character hex token scores about 115, 48 × "a" scores 0)."""
    counts = Counter(text)
    per_char = -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())
    return per_char * len(text)


def _is_local_address(host: str) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


def stripe_problems(secret_key: str, publishable_key: str, webhook_secret: str, api_base: str, *,
                    test_mode: bool) -> list[str]:
    problems = []
    live_prefixes = ("sk_live_", "rk_live_")
    test_prefixes = ("sk_test_", "rk_test_")
    if not secret_key or secret_key == LOCAL_STRIPE_SECRET_KEY:
        problems.append("STRIPE_SECRET_KEY is missing or the local default")
    elif secret_key.startswith(test_prefixes):
        if not test_mode:
            problems.append("STRIPE_SECRET_KEY is a test key (sk_test_…); set STRIPE_TEST_MODE=1 to allow test keys")
    elif not secret_key.startswith(live_prefixes):
        problems.append("STRIPE_SECRET_KEY is not a Stripe secret key (sk_live_…)")
    if not publishable_key or publishable_key == LOCAL_STRIPE_PUBLISHABLE_KEY:
        problems.append("STRIPE_PUBLISHABLE_KEY is missing or the local default")
    elif publishable_key.startswith("pk_test_") and not test_mode:
        problems.append("STRIPE_PUBLISHABLE_KEY is a test key (pk_test_…); set STRIPE_TEST_MODE=1 to allow test keys")
    elif not publishable_key.startswith(("pk_live_", "pk_test_")):
        problems.append("STRIPE_PUBLISHABLE_KEY is not a Stripe publishable key (pk_live_…)")
    if not webhook_secret or webhook_secret == LOCAL_STRIPE_WEBHOOK_SECRET or len(webhook_secret) < 20:
        problems.append("STRIPE_WEBHOOK_SECRET is missing or the local default (copy the endpoint's whsec_… secret)")
    elif not webhook_secret.startswith("whsec_"):
        problems.append("STRIPE_WEBHOOK_SECRET is not a Stripe webhook signing secret (whsec_…)")
    if api_base:
        problems.append("STRIPE_API_BASE is set: it is for the local Stripe server only; unset it in production")
    return problems


def public_url_problems(url: str) -> list[str]:
    """Links in e-mails and receipt QR codes must reach buyers: https, and not this machine."""
    parts = urlsplit(url or "")
    host = (parts.hostname or "").lower()
    problems = []
    if parts.scheme != "https" or not host:
        problems.append(f"PUBLIC_BASE_URL must be an https:// address buyers can reach (now {url or 'empty'!r})")
    if host == "localhost" or host.endswith(".localhost") or _is_local_address(host):
        problems.append(f"PUBLIC_BASE_URL points at this machine ({host}); use the public https address")
    return problems


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
    #: jobs are run by the tests themselves (`run_jobs`), or by a real worker given its own queue
    JOB_QUEUE_URL = "memory://"


def config_from_env() -> type[Config]:
    name = os.environ.get("APP_CONFIG", "local").lower()
    return {"production": ProductionConfig, "test": TestConfig}.get(name, Config)
