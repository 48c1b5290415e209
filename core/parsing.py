"""Plain-value helpers for services that take form or JSON data (`Mapping[str, Any]`)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any


def text_value(data: Mapping[str, Any], key: str) -> str:
    """`data[key]` as stripped text ("" when missing or None)."""
    return str(data.get(key) or "").strip()


def int_or_none(value: Any) -> int | None:
    """An int from an int or a string of up to 12 digits; None for anything else (bools included)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    text = str(value).strip()
    return int(text) if re.fullmatch(r"-?\d{1,12}", text) else None
