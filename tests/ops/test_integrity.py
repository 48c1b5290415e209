"""`flask ledger verify`: clean data passes; each kind of corruption (raw SQL) is reported."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from core.extensions import db
from core.files import store_file
from core.money import round_cash
from makers.models import PayoutMethod
from ops.integrity import verify
from payouts import services as payout_services
from payouts.models import LineStatus
from sales.models import PaymentMethod
from sales.services import LineRequest, PaymentRequest, record_sale
from tests.factories import MakerFactory
from tests.factories.payouts import group, key, product, refund, sell, shop


@pytest.fixture
def books():
    """Cash sale with rounding, a group product with a discount, a partial refund, a paid payout."""
    s = shop(hold_days=0)
    maker = MakerFactory(sentra=s.sentra, payout_method=PayoutMethod.CASH)
    batik = product(s.sentra, maker=maker, price=12_345, bps=8_000, stock=20)
    kube, _members = group(s.sentra, [2, 1])
    for member in _members:
        member.payout_method = PayoutMethod.CASH
    db.session.commit()
    tas = product(s.sentra, group=kube, price=100_000, bps=7_000, material=10_000, stock=20)

    due = round_cash(2 * 12_345, 100)
    cash_sale = record_sale(s.kasir, s.sentra, channel="pos", lines=[LineRequest(batik.id, 2)],
                            payments=[PaymentRequest(PaymentMethod.CASH, due, tendered=50_000)],
                            client_key=key(), shift=s.shift)
    db.session.commit()
    assert cash_sale.rounding == due - 2 * 12_345 != 0
    mixed = sell(s, [(tas, 3, 5_000), (batik, 1)])
    refund(s, mixed, [(mixed.lines[0].id, 1)])

    run = payout_services.create_run(s.manager, s.sentra, cutoff_date=s.sentra.local_date(),
                                     client_key=key())
    payout_services.approve_run(s.manager2, run)
    for line in run.lines:
        if line.status == LineStatus.PENDING:
            payout_services.mark_line_paid(s.manager2, line, reference="SLIP-1")
    db.session.commit()
    return {"shop": s, "batik": batik, "tas": tas, "cash_sale": cash_sale, "mixed": mixed, "maker": maker}


def run_verify(runner):
    db.session.remove()  # the command runs in its own app context and session
    return runner.invoke(args=["ledger", "verify"])


def test_clean_books_pass(books, runner):
    assert verify() == []
    result = run_verify(runner)
    assert result.exit_code == 0, result.output
    assert "OK: tidak ada masalah" in result.output
    assert "sales 2" in result.output and "refunds 1" in result.output


def test_empty_database_passes(runner):
    result = run_verify(runner)
    assert result.exit_code == 0, result.output


def _exec(sql: str, **params) -> None:
    """Corrupt on purpose, past any history guard: on PostgreSQL the test's superuser switches row
    triggers off for this one transaction (an application role cannot)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.text("SET LOCAL session_replication_role = replica"))
    db.session.execute(sa.text(sql), params)
    db.session.commit()


def _first_entry_id(**where) -> int:
    clauses = " AND ".join(f"{column} = :{column}" for column in where)
    return db.session.scalar(sa.text(f"SELECT MIN(id) FROM ledger_entries WHERE {clauses}"), where)


COPY_ENTRY = ("INSERT INTO ledger_entries (transaction_id, account_id, amount, component, sentra_id, maker_id, "
              "sale_id, sale_line_id, refund_line_id, available_at, created_at) "
              "SELECT transaction_id, {account}, :amount, {component}, sentra_id, {maker}, sale_id, {line}, "
              "refund_line_id, available_at, created_at FROM ledger_entries WHERE id = :source")


def copy_entry(source: int, amount: int, *, account: str = "account_id", component: str = "component",
               maker: str = "maker_id", line: str = "sale_line_id", **params) -> None:
    _exec(COPY_ENTRY.format(account=account, component=component, maker=maker, line=line),
          amount=amount, source=source, **params)


def corrupt_stock_level(books):
    _exec("UPDATE stock_levels SET qty = qty + 1 WHERE product_id = :p", p=books["batik"].id)
    return "stock", f"Barang {books['batik'].id} di Sentra {books['shop'].sentra.id}: stok tercatat"


def corrupt_lost_movement(books):
    # A movement written without its stock level moving (a half-written sale).
    _exec("INSERT INTO stock_movements (product_id, sentra_id, kind, qty_delta, reason, reference, is_discrepancy, "
          "created_at) SELECT product_id, sentra_id, kind, qty_delta, reason, 'lost', is_discrepancy, created_at "
          "FROM stock_movements WHERE product_id = :p AND kind = 'sale'", p=books["tas"].id)
    return "stock", "jumlah mutasi"


def corrupt_unbalanced_posting(books):
    source = _first_entry_id(sale_id=books["mixed"].id, component="tender")
    copy_entry(source, 1)
    return "posting", "tidak seimbang: jumlah entri 1"


def corrupt_maker_balance(books):
    # Balanced, but the maker's payable account moves without the entry naming the maker.
    maker_entry = _first_entry_id(maker_id=books["maker"].id, component="maker")
    tender = _first_entry_id(sale_id=books["mixed"].id, component="tender")
    copy_entry(maker_entry, 500, component="'tender'", maker="NULL", line="NULL")
    copy_entry(tender, -500)
    return "maker-balance", f"Pembuat {books['maker'].id}: saldo menurut layanan"


def corrupt_payment(books):
    _exec('INSERT INTO payments (sale_id, method, amount, tendered, "change", reference) '
          "VALUES (:s, 'qris', 1000, NULL, 0, 'EXTRA')", s=books["cash_sale"].id)
    return "sale-payment", f"Penjualan {books['cash_sale'].number}: harus dibayar"


def corrupt_sale_total(books):
    _exec("UPDATE sales SET subtotal = subtotal + 100, total = total + 100, rounding = rounding - 100 "
          "WHERE id = :s", s=books["mixed"].id)
    return "sale-total", f"Penjualan {books['mixed'].number}: total"


def corrupt_double_posting(books):
    _exec("INSERT INTO ledger_transactions (kind, reference, client_key, actor_id, sentra_id, business_date, "
          "sale_id, created_at) SELECT kind, reference, 'dup-' || client_key, actor_id, sentra_id, business_date, "
          "sale_id, created_at FROM ledger_transactions WHERE sale_id = :s AND kind = 'sale'", s=books["mixed"].id)
    return "sale-posting", "2 posting penjualan"


def corrupt_allocation(books):
    # A maker gets 100 more out of a line, balanced against the tender: only the split is wrong.
    maker_entry = _first_entry_id(maker_id=books["maker"].id, component="maker")
    tender = _first_entry_id(sale_id=books["cash_sale"].id, component="tender")
    copy_entry(maker_entry, -100)
    copy_entry(tender, 100)
    return "allocation", f"Penjualan {books['cash_sale'].number}, baris"


def corrupt_refund_quantity(books):
    _exec("UPDATE refund_lines SET quantity = quantity + 5")
    return "refund", "dikembalikan"


def corrupt_refund_reversal(books):
    source = db.session.scalar(sa.text("SELECT MIN(id) FROM ledger_entries WHERE refund_line_id IS NOT NULL "
                                       "AND component = 'sentra'"))
    tender = _first_entry_id(sale_id=books["mixed"].id, component="tender")
    copy_entry(source, 7)
    copy_entry(tender, -7)
    return "allocation", "Retur"


def corrupt_stored_file(books):
    # A photo cut short (a truncated copy or restore).
    stored = store_file(b"foto utuh", "image/webp")
    db.session.commit()
    _exec("UPDATE stored_files SET data = :cut WHERE id = :i", cut=b"foto", i=stored.id)
    return "file", f"Berkas {stored.sha256[:12]}…: ukuran tercatat 9 byte, isinya 4 byte"


CORRUPTIONS = [corrupt_stock_level, corrupt_lost_movement, corrupt_unbalanced_posting, corrupt_maker_balance,
               corrupt_payment, corrupt_sale_total, corrupt_double_posting, corrupt_allocation,
               corrupt_refund_quantity, corrupt_refund_reversal, corrupt_stored_file]


@pytest.mark.parametrize("corrupt", CORRUPTIONS, ids=[c.__name__.removeprefix("corrupt_") for c in CORRUPTIONS])
def test_each_corruption_is_reported(books, runner, corrupt):
    assert verify() == []
    check, text = corrupt(books)
    problems = verify()
    assert any(p.check == check and text in p.message for p in problems), problems
    result = run_verify(runner)
    assert result.exit_code == 1
    assert f"[{check}]" in result.output and text in result.output
    assert "masalah ditemukan" in result.output


def test_negative_stock_is_reported(books, db_backend):
    """The CHECK constraint stops negative stock; lift it inside a transaction that is rolled back."""
    conn = db.session.connection()
    if db_backend == "postgresql":
        name = conn.execute(sa.text("SELECT conname FROM pg_constraint WHERE conrelid = 'stock_levels'::regclass "
                                    "AND contype = 'c'")).scalar_one()
        conn.execute(sa.text(f'ALTER TABLE stock_levels DROP CONSTRAINT "{name}"'))
        conn.execute(sa.text("SET LOCAL session_replication_role = replica"))
    else:
        conn.exec_driver_sql("PRAGMA ignore_check_constraints = ON")
    try:
        conn.execute(sa.text("UPDATE stock_levels SET qty = -3 WHERE product_id = :p"), {"p": books["tas"].id})
        problems = verify()
    finally:
        db.session.rollback()
        if db_backend != "postgresql":
            db.session.connection().exec_driver_sql("PRAGMA ignore_check_constraints = OFF")
            db.session.rollback()
    assert any(p.check == "negative-stock" and "stok negatif (-3)" in p.message for p in problems), problems
