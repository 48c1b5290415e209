"""Language and local formatting: Indonesian by default, English selectable.

Message ids in the code and templates are Indonesian; `translations/en` holds the English.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import Flask, current_app, has_request_context, session
from flask_babel import format_date, format_datetime, get_locale
from flask_login import current_user

from core.money import format_rupiah

TIMEZONE_LABELS = {"Asia/Jakarta": "WIB", "Asia/Makassar": "WITA", "Asia/Jayapura": "WIT"}


def select_locale() -> str:
    """Indonesian unless the user chose English (language switch, or their account setting)."""
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # CLI commands, background jobs: the default language
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen: str | None = session.get("lang")
    if chosen is not None and chosen in languages:
        return chosen
    user_locale: str | None = getattr(current_user, "locale", None) if current_user else None
    if user_locale is not None and user_locale in languages:
        return user_locale
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def current_locale() -> str:
    return str(get_locale() or "id")


def rupiah(amount: int | None) -> str:
    if amount is None:
        return "-"
    return format_rupiah(int(amount), current_locale())


def local_datetime(value: datetime | None, tz_name: str | None = None, fmt: str = "dd MMM yyyy HH:mm") -> str:
    """A UTC datetime shown in a Sentra's own time zone, with its WIB/WITA/WIT label."""
    if value is None:
        return "-"
    tz_name = tz_name or current_app.config["DEFAULT_TIMEZONE"]
    local = value.astimezone(ZoneInfo(tz_name))
    label = TIMEZONE_LABELS.get(tz_name, tz_name)
    return f"{format_datetime(local.replace(tzinfo=None), fmt)} {label}"


def month_year(value: date | None) -> str:
    """A month by its name: "Desember 2026" (Indonesian), "December 2026" (English) — never "12/2026"."""
    return "-" if value is None else format_date(value, "LLLL yyyy")


def init_i18n(app: Flask) -> None:
    app.jinja_env.filters["rupiah"] = rupiah
    app.jinja_env.filters["local_dt"] = local_datetime
    app.jinja_env.filters["month_year"] = month_year
    app.jinja_env.globals["current_locale"] = current_locale
    app.jinja_env.globals["TIMEZONE_LABELS"] = TIMEZONE_LABELS
    from core.menu import staff_menu

    app.jinja_env.globals["staff_menu"] = staff_menu
