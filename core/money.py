"""Integer rupiah: formatting, parsing user input, and exact allocation.

Every amount in the system is an `int` number of rupiah; percentages are basis points
(10000 = 100%). Nothing here uses floats.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

BPS_WHOLE = 10_000
#: the largest amount a person may type (Rp 999 triliun); far inside SQL BIGINT
MAX_RUPIAH = 999_999_999_999_999


class MoneyParseError(ValueError):
    """User input that is not an unambiguous, non-negative rupiah amount."""


def format_rupiah(amount: int, locale: str = "id") -> str:
    """`format_rupiah(67000000) == "Rp 67.000.000"`; English UI: `IDR 67,000,000`."""
    if not isinstance(amount, int) or isinstance(amount, bool):
        raise TypeError("amount must be an int number of rupiah")
    sign = "-" if amount < 0 else ""
    grouped = f"{abs(amount):,}"
    if locale.startswith("en"):
        return f"{sign}IDR {grouped}"
    return f"{sign}Rp {grouped.replace(',', '.')}"


_SUFFIXES = {"rb": 1_000, "ribu": 1_000, "k": 1_000, "jt": 1_000_000, "juta": 1_000_000}
# ASCII digits only ([0-9], not \d, which also matches other scripts' digits).
_GROUPED = re.compile(r"^[0-9]{1,3}(\.[0-9]{3})+$")
_PLAIN = re.compile(r"^[0-9]+$")
_DECIMAL_SHORT = re.compile(r"^([0-9]+)(?:,([0-9]{1,3}))?$")


def parse_rupiah(text: str) -> int:
    """Parse what a kasir types into integer rupiah.

    Accepts "67.000", "Rp 67.000", "Rp67000", "67000", "67rb", "1,5jt", "2 juta".
    Rejects negatives, fractions of a rupiah, mixed separators, amounts above `MAX_RUPIAH`
    and anything else ambiguous (e.g. "1.5" or "67,000": a comma is only a decimal mark
    before rb/jt), always with a message a kasir understands.
    """
    value = _parse(text)
    if value > MAX_RUPIAH:
        raise MoneyParseError(f"Jumlah '{text}' terlalu besar.")
    return value


def _parse(text: str) -> int:
    if text is None:
        raise MoneyParseError("Jumlah uang wajib diisi.")
    raw = str(text).strip().lower().replace("\u00a0", " ")
    if not raw:
        raise MoneyParseError("Jumlah uang wajib diisi.")
    if raw.startswith("-") or "-" in raw:
        raise MoneyParseError("Jumlah uang tidak boleh negatif.")
    raw = re.sub(r"^(rp\.?|idr)\s*", "", raw).replace(" ", "")
    if not raw:
        raise MoneyParseError("Jumlah uang wajib diisi.")

    match = re.fullmatch(r"(.+?)(rb|ribu|k|jt|juta)", raw)
    if match:
        number, suffix = match.groups()
        unit = _SUFFIXES[suffix]
        parts = _DECIMAL_SHORT.match(number)
        if not parts:
            raise MoneyParseError(f"Format jumlah '{text}' tidak dikenali. Contoh: 67.000 atau 67rb.")
        whole, frac = parts.groups()
        value = int(whole) * unit
        if frac:
            scaled = int(frac) * unit
            denominator = 10 ** len(frac)
            if scaled % denominator:
                raise MoneyParseError(f"'{text}' bukan jumlah rupiah yang bulat.")
            value += scaled // denominator
        return value

    if _PLAIN.match(raw):
        return int(raw)
    if _GROUPED.match(raw):
        return int(raw.replace(".", ""))
    raise MoneyParseError(
        f"Format jumlah '{text}' tidak dikenali. Tulis tanpa sen, misalnya 67.000, Rp 67.000 atau 67rb."
    )


def allocate(total: int, weights: Sequence[int]) -> list[int]:
    """Split `total` in proportion to `weights` by largest remainder; parts sum exactly to `total`.

    Ties in the remainder go to the earlier weight, so callers pass weights in a documented,
    stable order (e.g. by member id) and the result is deterministic.
    """
    if total < 0:
        raise ValueError("total must not be negative")
    if not weights:
        raise ValueError("weights must not be empty")
    if any(w < 0 for w in weights):
        raise ValueError("weights must not be negative")
    weight_sum = sum(weights)
    if weight_sum == 0:
        raise ValueError("weights must not all be zero")
    parts = [total * w // weight_sum for w in weights]
    remainders = [total * w % weight_sum for w in weights]
    shortfall = total - sum(parts)
    order = sorted(range(len(weights)), key=lambda i: (-remainders[i], i))
    for i in order[:shortfall]:
        parts[i] += 1
    return parts


def apply_bps(amount: int, bps: int) -> int:
    """`amount * bps / 10000`, rounded half up, for a non-negative amount."""
    if not 0 <= bps <= BPS_WHOLE:
        raise ValueError("basis points must be between 0 and 10000")
    return (amount * bps + BPS_WHOLE // 2) // BPS_WHOLE


def round_cash(amount: int, unit: int) -> int:
    """Round a cash amount to the nearest `unit` (half up), e.g. Rp 100 when coins are rare."""
    if unit <= 1:
        return amount
    return (amount + unit // 2) // unit * unit


_ONES = ["", "satu", "dua", "tiga", "empat", "lima", "enam", "tujuh", "delapan", "sembilan",
         "sepuluh", "sebelas"]


def terbilang(amount: int) -> str:
    """Indonesian words for an amount, e.g. 67000 -> "enam puluh tujuh ribu rupiah"."""
    if amount < 0:
        return "minus " + terbilang(-amount)
    if amount == 0:
        return "nol rupiah"
    return _words(amount).strip() + " rupiah"


def _words(n: int) -> str:
    if n < 12:
        return " " + _ONES[n] if n else ""
    if n < 20:
        return _words(n - 10) + " belas"
    if n < 100:
        return _words(n // 10) + " puluh" + _words(n % 10)
    if n < 200:
        return " seratus" + _words(n - 100)
    if n < 1000:
        return _words(n // 100) + " ratus" + _words(n % 100)
    if n < 2000:
        return " seribu" + _words(n - 1000)
    for size, name in ((10**12, "triliun"), (10**9, "miliar"), (10**6, "juta"), (10**3, "ribu")):
        if n >= size:
            return _words(n // size) + " " + name + _words(n % size)
    raise AssertionError("unreachable")
