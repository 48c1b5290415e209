"""Report pages: scope (manager: own Sentras, admin: all), chart, CSV/XLSX/PDF exports."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from accounts.models import Role
from tests.factories import MakerUserFactory, UserFactory
from tests.factories.payouts import product, sell, shop


@pytest.fixture
def two_sentras():
    a = shop(code="TMG")
    b = shop(code="BKS")
    sell(a, [(product(a.sentra, price=100_000, bps=8_000, material=10_000, category="Batik"), 2)])
    sell(b, [(product(b.sentra, price=77_000, category="Kuliner"), 1)])
    return a, b


def test_manager_sees_only_own_sentra(client, login_as, two_sentras):
    a, b = two_sentras
    login_as(a.manager)
    page = client.get("/reports/?per=category")
    assert page.status_code == 200
    assert "Batik" in page.text and "Kuliner" not in page.text
    assert "Rp 200.000" in page.text  # omset
    assert "<svg" in page.text and "<rect" in page.text
    assert client.get(f"/reports/?sentra={b.sentra.id}").status_code == 404
    assert client.get(f"/reports/ekspor.csv?sentra={b.sentra.id}").status_code == 404


def test_admin_sees_all_and_exports(client, login_as, two_sentras, pdf_text):
    login_as(UserFactory(role=Role.ADMIN))
    csv_text = client.get("/reports/ekspor.csv?per=category").text
    assert "Batik" in csv_text and "Kuliner" in csv_text and "277000" in csv_text
    xlsx = client.get("/reports/ekspor.xlsx?per=channel")
    book = load_workbook(io.BytesIO(xlsx.data))
    sheet = book["Ringkasan"]
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[1][:4] == ["Kelompok", "Penjualan kotor", "Retur", "Omset"]
    assert values[-1][0] == "Jumlah" and values[-1][3] == 277_000
    assert "Per penerima manfaat" in book.sheetnames
    pdf = client.get("/reports/ringkasan.pdf?per=day")
    text = " ".join(pdf_text(pdf.data).split())
    assert "Ringkasan Laporan" in text and "Omset Rp 277.000" in text
    # gross profit: (200.000 − 20.000) × 20 % + 77.000 × 20 % = 36.000 + 15.400
    assert "Laba kotor Rp 51.400" in text


@pytest.mark.parametrize("path", ["/reports/", "/reports/ekspor.csv", "/reports/ekspor.xlsx", "/reports/ringkasan.pdf"])
def test_kasir_and_maker_cannot_open_reports(client, login_as, path):
    s = shop()
    login_as(s.kasir)
    assert client.get(path).status_code == 403
    login_as(MakerUserFactory(maker__sentra=s.sentra))
    assert client.get(path).status_code == 403


def test_bad_dates_are_explained_not_crashed(client, login_as):
    s = shop()
    login_as(s.manager)
    page = client.get("/reports/?dari=kemarin&sampai=2026-01-01&per=zzz")
    assert page.status_code == 200 and "Tanggal awal tidak valid" in page.text
