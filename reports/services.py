"""Report figures for managers and the Balai, computed from sales and the ledger.

Definitions (shown on the page and in the PDF):

- **Penjualan kotor** (gross sales): sum of sale line totals (after discounts) of sales whose
  business day (the Sentra's own calendar day) is in the period.
- **Retur** (refunds): money refunded, dated by the day the refund was posted (Sentra's day).
- **Omset** (turnover) = penjualan kotor − retur.
- **Biaya bahan** (material cost recovered), **bagian pembuat** (makers' share) and **laba kotor**
  (gross profit) come from the ledger, net of refunds: gross profit is the Sentra's share less
  the material cost it recovered, i.e. omset − material − makers' share.
- **Barang terjual** = pieces sold − pieces refunded; **rata-rata belanja** (average basket) =
  gross sales / number of sales (only by time and channel, where a sale falls in one bucket).
- **Pengunjung** (visitors) from the counter tally; **pencairan** = payouts paid in the period;
  **terutang** = what the Sentra owes makers now (payable + held), clawbacks shown separately.
- Lines of a KUBE/co-maker group are grouped under the group by maker, and under "Kelompok" by
  cluster and program; per-beneficiary income (each member's exact share) is its own table.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlalchemy as sa

from core.exports import csv_text, new_workbook, xlsx_append, xlsx_bytes
from core.extensions import db
from makers.models import Cluster, Maker, MakerGroup, Program
from payouts import ledger
from payouts.models import Component, LedgerEntry, LedgerTransaction, TransactionKind
from pos.models import VisitorTally
from sales.models import RefundLine, Sale, SaleLine

DIMENSIONS = {
    "day": "Hari", "week": "Minggu", "month": "Bulan", "channel": "Saluran", "category": "Kategori",
    "maker": "Pembuat / kelompok", "cluster": "Klaster", "program": "Program",
}
TIME_DIMENSIONS = ("day", "week", "month")
CHANNEL_LABELS = {"pos": "Kasir (toko)", "online": "Toko online"}
GROUP_BUCKET = "Kelompok (KUBE / bersama)"


@dataclass
class Row:
    key: object
    label: str
    gross_sales: int = 0
    refunds: int = 0
    material: int = 0
    maker_share: int = 0
    gross_profit: int = 0
    items: int = 0
    sales_count: int | None = 0
    visitors: int | None = None
    payouts: int | None = None

    @property
    def omset(self) -> int:
        return self.gross_sales - self.refunds

    @property
    def average_basket(self) -> int | None:
        if not self.sales_count:
            return None
        return self.gross_sales // self.sales_count


@dataclass
class Income:
    maker_id: int
    name: str
    cluster: str
    program: str
    income: int


@dataclass
class Report:
    start: date
    end: date
    dimension: str
    sentra_ids: list[int] | None
    rows: list[Row]
    total: Row
    visitors: int
    payouts_made: int
    outstanding: int
    clawback: int
    incomes: list[Income] = field(default_factory=list)


def _bucket(day: date, dimension: str) -> date:
    if dimension == "week":
        return day - timedelta(days=day.weekday())
    if dimension == "month":
        return day.replace(day=1)
    return day


def _bucket_label(key: date, dimension: str) -> str:
    if dimension == "week":
        return f"{key:%d-%m-%Y} – {key + timedelta(days=6):%d-%m-%Y}"
    if dimension == "month":
        return f"{key:%m/%Y}"
    return f"{key:%d-%m-%Y}"


def build_report(*, start: date, end: date, dimension: str, sentra_ids: Iterable[int] | None) -> Report:
    """All figures for the period [start, end] (Sentras' own days), grouped by `dimension`."""
    if dimension not in DIMENSIONS:
        raise ValueError(f"unknown dimension {dimension}")
    ids = None if sentra_ids is None else sorted(set(sentra_ids))
    makers: dict[int, Maker] = {}
    groups: dict[int, MakerGroup] = {}

    def scope(column):
        return sa.true() if ids is None else column.in_(ids)

    # Group in SQL only by what the dimension needs; fold days into weeks/months below.
    def grain(day_column) -> list:
        if dimension in TIME_DIMENSIONS:
            return [day_column]
        if dimension == "channel":
            return [Sale.channel]
        if dimension == "category":
            return [SaleLine.category]
        return [SaleLine.maker_id, SaleLine.group_id]

    g_money = grain(LedgerTransaction.business_date)
    money = db.session.execute(
        sa.select(*g_money, LedgerEntry.component, sa.func.sum(LedgerEntry.amount))
        .select_from(LedgerEntry)
        .join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
        .join(SaleLine, SaleLine.id == LedgerEntry.sale_line_id)
        .join(Sale, Sale.id == SaleLine.sale_id)
        .where(scope(LedgerTransaction.sentra_id), LedgerTransaction.business_date.between(start, end),
               LedgerEntry.component.in_([Component.MATERIAL, Component.MAKER, Component.SENTRA]))
        .group_by(*g_money, LedgerEntry.component)
    ).all()
    g_sold = grain(Sale.business_date)
    sold = db.session.execute(
        sa.select(*g_sold, sa.func.sum(SaleLine.quantity), sa.func.sum(SaleLine.line_total))
        .join(Sale, Sale.id == SaleLine.sale_id)
        .where(scope(Sale.sentra_id), Sale.business_date.between(start, end))
        .group_by(*g_sold)
    ).all()
    g_returned = grain(LedgerTransaction.business_date)
    returned = db.session.execute(
        sa.select(*g_returned, sa.func.sum(RefundLine.quantity), sa.func.sum(RefundLine.amount))
        .select_from(RefundLine)
        .join(LedgerTransaction, LedgerTransaction.refund_id == RefundLine.refund_id)
        .join(SaleLine, SaleLine.id == RefundLine.sale_line_id)
        .join(Sale, Sale.id == SaleLine.sale_id)
        .where(scope(LedgerTransaction.sentra_id), LedgerTransaction.business_date.between(start, end))
        .group_by(*g_returned)
    ).all()
    counts = db.session.execute(
        sa.select(Sale.business_date, Sale.channel, sa.func.count(Sale.id))
        .where(scope(Sale.sentra_id), Sale.business_date.between(start, end))
        .group_by(Sale.business_date, Sale.channel)
    ).all()
    visits = db.session.execute(
        sa.select(VisitorTally.business_date, sa.func.sum(VisitorTally.count))
        .where(scope(VisitorTally.sentra_id), VisitorTally.business_date.between(start, end))
        .group_by(VisitorTally.business_date)
    ).all()
    paid = db.session.execute(
        sa.select(LedgerTransaction.business_date, sa.func.sum(LedgerEntry.amount))
        .join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
        .where(scope(LedgerTransaction.sentra_id), LedgerTransaction.business_date.between(start, end),
               LedgerEntry.component == Component.PAYOUT, LedgerEntry.maker_id.is_not(None))
        .group_by(LedgerTransaction.business_date)
    ).all()

    if dimension in ("maker", "cluster", "program"):
        maker_ids = {r[0] for r in (*money, *sold, *returned) if r[0] is not None}
        group_ids = {r[1] for r in (*money, *sold, *returned) if r[1] is not None}
        if maker_ids:
            makers = {m.id: m for m in db.session.scalars(sa.select(Maker).where(Maker.id.in_(maker_ids)))}
        if group_ids:
            groups = {g.id: g for g in db.session.scalars(sa.select(MakerGroup).where(MakerGroup.id.in_(group_ids)))}
    width = len(g_money)

    def key_of(values: tuple) -> tuple[object, str]:
        if dimension in TIME_DIMENSIONS:
            k = _bucket(values[0], dimension)
            return k, _bucket_label(k, dimension)
        if dimension == "channel":
            return str(values[0]), CHANNEL_LABELS.get(str(values[0]), str(values[0]))
        if dimension == "category":
            return values[0], values[0]
        maker_id, group_id = values
        if dimension == "maker":
            if maker_id is not None:
                return f"m{maker_id}", makers[maker_id].name
            return f"g{group_id}", f"{groups[group_id].name} (kelompok)"
        if maker_id is None:
            return "group", GROUP_BUCKET
        value = makers[maker_id].cluster if dimension == "cluster" else makers[maker_id].program
        return str(value), value.label

    rows: dict[object, Row] = {}

    def row(key: object, label: str) -> Row:
        if key not in rows:
            rows[key] = Row(key, label, sales_count=0 if dimension in (*TIME_DIMENSIONS, "channel") else None)
        return rows[key]

    for values in money:
        r = row(*key_of(tuple(values[:width])))
        component, amount = values[width], values[width + 1]
        value = -int(amount)  # credits are negative; refunds (debits) reduce
        if component == Component.MATERIAL:
            r.material += value
        elif component == Component.MAKER:
            r.maker_share += value
        else:
            r.gross_profit += value
    for values in sold:
        r = row(*key_of(tuple(values[:width])))
        r.items += int(values[width])
        r.gross_sales += int(values[width + 1])
    for values in returned:
        r = row(*key_of(tuple(values[:width])))
        r.items -= int(values[width])
        r.refunds += int(values[width + 1])
    if dimension in (*TIME_DIMENSIONS, "channel"):
        for day, channel, count in counts:
            r = row(*key_of((day,) if dimension in TIME_DIMENSIONS else (channel,)))
            assert r.sales_count is not None  # counted for these dimensions (see `row`)
            r.sales_count += int(count)
    visitors_total = 0
    payouts_total = 0
    for day, count in visits:
        visitors_total += int(count)
        if dimension in TIME_DIMENSIONS:
            r = row(*key_of((day,)))
            r.visitors = (r.visitors or 0) + int(count)
    for day, amount in paid:
        payouts_total += int(amount)
        if dimension in TIME_DIMENSIONS:
            r = row(*key_of((day,)))
            r.payouts = (r.payouts or 0) + int(amount)

    ordered = sorted(rows.values(), key=lambda r: (str(r.key) if dimension in TIME_DIMENSIONS else r.label))
    total = Row("total", "Jumlah", sales_count=sum(int(c) for _d, _ch, c in counts))
    for r in ordered:
        for name in ("gross_sales", "refunds", "material", "maker_share", "gross_profit", "items"):
            setattr(total, name, getattr(total, name) + getattr(r, name))
    total.visitors = visitors_total
    total.payouts = payouts_total

    outstanding = clawback = 0
    scope_ids = ids if ids is not None else [None]
    for sentra_id in scope_ids:
        for balance in ledger.all_maker_balances(sentra_id=sentra_id).values():
            if balance.total > 0:
                outstanding += balance.total
            else:
                clawback += balance.total
    return Report(start, end, dimension, ids, ordered, total, visitors_total, payouts_total, outstanding, clawback,
                  beneficiary_income(start=start, end=end, sentra_ids=ids))


def beneficiary_income(*, start: date, end: date, sentra_ids: list[int] | None) -> list[Income]:
    """Each maker's exact net share in the period (members of groups individually)."""
    query = (
        sa.select(LedgerEntry.maker_id, sa.func.sum(LedgerEntry.amount))
        .join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
        .where(LedgerTransaction.business_date.between(start, end), LedgerEntry.component == Component.MAKER,
               LedgerTransaction.kind.in_([TransactionKind.SALE, TransactionKind.REFUND]))
        .group_by(LedgerEntry.maker_id)
    )
    if sentra_ids is not None:
        query = query.where(LedgerTransaction.sentra_id.in_(sentra_ids))
    amounts: dict[int | None, int] = dict(db.session.execute(query).tuples().all())
    makers = db.session.scalars(sa.select(Maker).where(Maker.id.in_(list(amounts)))).all() if amounts else []
    return sorted((Income(m.id, m.name, Cluster(m.cluster).label, Program(m.program).label, -int(amounts[m.id]))
                   for m in makers), key=lambda i: i.name)


# --- charts and exports -----------------------------------------------------------------------

@dataclass(frozen=True)
class Bar:
    x: int
    y: int
    width: int
    height: int
    label: str
    value: int


def bar_chart(report: Report, *, width: int = 720, height: int = 240, measure: str = "omset") -> list[Bar]:
    """Geometry of a simple SVG bar chart (pixels), one bar per row; values are shown as text."""
    values = [max(getattr(r, measure), 0) for r in report.rows]
    if not values:
        return []
    top = max(values) or 1
    slot = max(width // len(values), 4)
    bar_width = max(slot - 4, 2)
    bars = []
    for index, (r, value) in enumerate(zip(report.rows, values, strict=True)):
        h = value * (height - 20) // top
        bars.append(Bar(index * slot + 2, height - h, bar_width, h, r.label, getattr(r, measure)))
    return bars


COLUMNS = [
    ("label", "Kelompok"), ("gross_sales", "Penjualan kotor"), ("refunds", "Retur"), ("omset", "Omset"),
    ("material", "Biaya bahan"), ("maker_share", "Bagian pembuat"), ("gross_profit", "Laba kotor"),
    ("items", "Barang terjual"), ("sales_count", "Jumlah transaksi"), ("average_basket", "Rata-rata belanja"),
    ("visitors", "Pengunjung"), ("payouts", "Pencairan"),
]


def table_rows(report: Report) -> list[list[object]]:
    out: list[list[object]] = [[title for _n, title in COLUMNS]]
    for r in [*report.rows, report.total]:
        out.append([getattr(r, name) for name, _t in COLUMNS])
    return out


def to_csv(report: Report) -> str:
    rows: list[list[object]] = [[f"Laporan {report.start.isoformat()} s.d. {report.end.isoformat()}",
                                 DIMENSIONS[report.dimension]]]
    rows.extend(table_rows(report))
    rows.append([])
    rows.append(["Pendapatan per penerima manfaat", "Klaster", "Program", "Pendapatan"])
    rows.extend([income.name, income.cluster, income.program, income.income] for income in report.incomes)
    return csv_text(rows)


def to_xlsx(report: Report) -> bytes:
    book = new_workbook()
    sheet = book.active
    sheet.title = "Ringkasan"
    xlsx_append(sheet, [f"Laporan {report.start.isoformat()} s.d. {report.end.isoformat()}",
                        DIMENSIONS[report.dimension]])
    for values in table_rows(report):
        xlsx_append(sheet, values)
    for column in sheet.iter_cols(min_col=2, min_row=3):
        for cell in column:
            if isinstance(cell.value, int):
                cell.number_format = "#,##0"
    people = book.create_sheet("Per penerima manfaat")
    xlsx_append(people, ["Nama", "Klaster", "Program", "Pendapatan"])
    for income in report.incomes:
        xlsx_append(people, [income.name, income.cluster, income.program, income.income])
    return xlsx_bytes(book)

