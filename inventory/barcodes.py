"""EAN-13 codes: check digit, validation, in-store codes (prefix 2) and SVG rendering for labels."""

from __future__ import annotations

import base64
import io
import secrets

#: GS1 reserves prefixes 20–29 for in-store use; we generate 2 + 11 digits + check digit
IN_STORE_PREFIX = "2"


def ean13_check_digit(first12: str) -> str:
    """The EAN-13 check digit for 12 digits (weights 1, 3, 1, 3 … from the left)."""
    if len(first12) != 12 or not first12.isdigit():
        raise ValueError("EAN-13 needs exactly 12 digits before the check digit")
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(first12))
    return str((10 - total % 10) % 10)


def is_valid_ean13(code: str) -> bool:
    return len(code) == 13 and code.isdigit() and ean13_check_digit(code[:12]) == code[12]


def ean13_from_number(number: int, prefix: str = IN_STORE_PREFIX) -> str:
    """A deterministic in-store EAN-13 for `number` (used by test factories)."""
    body = f"{prefix}{number:0{12 - len(prefix)}d}"
    return body + ean13_check_digit(body)


def random_in_store_code() -> str:
    body = IN_STORE_PREFIX + "".join(secrets.choice("0123456789") for _ in range(11))
    return body + ean13_check_digit(body)


def barcode_svg(code: str, *, module_width_mm: float = 0.33, height_mm: float = 14.0) -> str:
    """The bars of an EAN-13 as SVG (no text: labels print the digits themselves)."""
    import barcode
    from barcode.writer import SVGWriter

    out = io.BytesIO()
    barcode.get("ean13", code[:12], writer=SVGWriter()).write(
        out, options={"module_width": module_width_mm, "module_height": height_mm, "write_text": False,
                      "quiet_zone": 3.0, "margin_top": 0.5, "margin_bottom": 0.5})
    return out.getvalue().decode()


def barcode_data_uri(code: str) -> str:
    """The SVG as a data: URI, which the PDF helper may load without any network access."""
    return "data:image/svg+xml;base64," + base64.b64encode(barcode_svg(code).encode()).decode()
