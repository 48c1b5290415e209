"""Sentra rules: create and edit a Sentra (code, time zone, receipt texts, tax, hold days, shipping).

Every function takes the acting user and plain values, adds and flushes, never commits, and
raises `ValidationFailed` (field → Indonesian message).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from core.audit import record_audit
from core.errors import ValidationFailed
from core.extensions import db
from core.parsing import int_or_none, text_value
from sentras.models import Sentra

TIMEZONES = ("Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura")

SENTRA_FIELDS = ("code", "name", "balai", "city", "province", "timezone", "address", "opening_hours", "about",
                 "receipt_header", "receipt_footer", "tax_bps", "hold_days", "online_release_days", "shipping_fee",
                 "is_active")


def _sentra_values(data: Mapping[str, Any], sentra: Sentra | None) -> dict[str, Any]:
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    code = text_value(data, "code")
    if not re.fullmatch(r"[A-Z]{2,8}", code):
        errors["code"] = "Kode harus 2–8 huruf kapital, misalnya TMG."
    else:
        clash = db.session.scalar(sa.select(Sentra.id).where(Sentra.code == code))
        if clash is not None and (sentra is None or clash != sentra.id):
            errors["code"] = "Kode ini sudah dipakai Sentra lain."
    values["code"] = code
    for key, label in (("name", "Nama"), ("balai", "Balai induk"), ("city", "Kota/kabupaten"),
                       ("province", "Provinsi")):
        values[key] = text_value(data, key)
        if not values[key]:
            errors[key] = f"{label} wajib diisi."
    timezone = text_value(data, "timezone")
    if timezone not in TIMEZONES:
        errors["timezone"] = "Pilih zona waktu: WIB (Asia/Jakarta), WITA (Asia/Makassar) atau WIT (Asia/Jayapura)."
    values["timezone"] = timezone
    for key in ("address", "opening_hours", "about", "receipt_header", "receipt_footer"):
        values[key] = text_value(data, key)
    for key, low, high, empty, message in (
        ("tax_bps", 0, 10000, 0, "Pajak antara 0 dan 10000 basis poin (0–100%)."),
        ("hold_days", 0, 365, 0, "Masa tahan antara 0 dan 365 hari."),
        ("online_release_days", 1, 120, 14, "Batas pembayaran pesanan terkirim antara 1 dan 120 hari."),
        ("shipping_fee", 0, 10_000_000, 0, "Ongkos kirim antara Rp 0 dan Rp 10.000.000."),
    ):
        number = int_or_none(data[key] if data.get(key) not in (None, "") else empty)
        if number is None or not low <= number <= high:
            errors[key] = message
        values[key] = number
    values["is_active"] = bool(data.get("is_active", True))
    if errors:
        raise ValidationFailed(errors)
    return values


def create_sentra(actor, data: Mapping[str, Any]) -> Sentra:
    values = _sentra_values(data, None)
    sentra = Sentra(**values)
    db.session.add(sentra)
    db.session.flush()
    record_audit(actor, "sentra.create", sentra, sentra_id=sentra.id, after=values)
    return sentra


def update_sentra(actor, sentra: Sentra, data: Mapping[str, Any]) -> Sentra:
    values = _sentra_values(data, sentra)
    before = {key: getattr(sentra, key) for key in values}
    for key, value in values.items():
        setattr(sentra, key, value)
    db.session.flush()
    changed = {k: v for k, v in values.items() if before[k] != v}
    if changed:
        record_audit(actor, "sentra.update", sentra, sentra_id=sentra.id,
                     before={k: before[k] for k in changed}, after=changed)
    return sentra
