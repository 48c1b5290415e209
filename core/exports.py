"""Every CSV and XLSX file the app writes goes through here, so user text never runs as a formula.

A maker, product or account holder named `=HYPERLINK(...)` or `=1+1` would otherwise become a live
formula when staff open the file in Excel or LibreOffice. Following OWASP ("CSV injection"):

- text starting with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading `'`, which
  spreadsheets read as "this is text" (CSV);
- in XLSX every text cell is written as a string cell (`data_type "s"`, never `"f"`) with the
  quote-prefix style, so it is shown as typed and stays text if someone edits it;
- numbers stay numbers: a negative amount (a refund, -150000) is an `int`, not text, and is not
  escaped — only `str` values are.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

#: the first characters that make a spreadsheet treat a cell as a formula (OWASP)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def is_formula_like(value: object) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def csv_cell(value: Any) -> Any:
    """A value safe to write into a CSV cell (None becomes an empty cell)."""
    if value is None:
        return ""
    if is_formula_like(value):
        return "'" + value
    return value


def csv_text(rows: Iterable[Iterable[Any]]) -> str:
    """The CSV text of `rows`, every cell escaped by `csv_cell`."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow([csv_cell(value) for value in row])
    return buffer.getvalue()


def xlsx_append(sheet, row: Iterable[Any]) -> None:
    """Append `row` to an openpyxl worksheet with every text cell forced to a string cell."""
    values = ["" if value is None else value for value in row]
    sheet.append(values)
    for cell in sheet[sheet.max_row]:
        if isinstance(cell.value, str):
            # openpyxl makes any text starting with "=" a formula cell: undo that, and mark the
            # cell quote-prefixed so editing it in Excel keeps it text.
            cell.data_type = "s"
            if is_formula_like(cell.value):
                cell.quotePrefix = True


def new_workbook():
    from openpyxl import Workbook

    return Workbook()


def xlsx_bytes(book) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
