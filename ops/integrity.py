"""Consistency checks over the stock and money ledgers, recomputed from the raw rows.

`verify()` runs every check and returns one `Problem` per inconsistency (empty = all good).
Each check is one aggregate SQL query, so it stays fast on millions of rows and runs the same on
SQLite and PostgreSQL. Used by `flask ledger verify` (exit code 1 on any problem) and at the end
of the load and fault tests.

What is checked:
- every stock level equals the sum of its movements, and no stock level is negative;
- every ledger posting sums to zero;
- every maker's balance computed by the payouts service equals a raw SQL sum over the maker's
  payable account, and earned − refunded − paid equals that balance;
- every sale's payments equal its total + rounding, its total equals the sum of its lines, and it
  has exactly one sale posting in the ledger;
- every sale line's allocation (material + Sentra + makers) sums to the line total, and every
  refund line's reversal sums to the refunded amount;
- refunds never exceed what was sold (pieces and rupiah per line, rupiah per sale);
- every stored file (photo, slip scan) holds as many bytes as its recorded size.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from core.db import utcnow
from core.extensions import db


@dataclass(frozen=True)
class Problem:
    #: which check found it, e.g. "stock", "posting", "maker-balance"
    check: str
    message: str

    def __str__(self) -> str:
        return f"[{self.check}] {self.message}"


def _rows(sql: str, **params) -> list[sa.Row]:
    return list(db.session.execute(sa.text(sql), params))


def check_stock_levels() -> list[Problem]:
    """Every StockLevel equals the sum of its StockMovements (and movements have a level row)."""
    movement_sums = ("SELECT product_id, sentra_id, SUM(qty_delta) AS total FROM stock_movements "
                     "GROUP BY product_id, sentra_id")
    problems = [
        Problem("stock", f"Barang {product_id} di Sentra {sentra_id}: stok tercatat {qty}, "
                         f"jumlah mutasi {moved}.")
        for product_id, sentra_id, qty, moved in _rows(
            f"SELECT l.product_id, l.sentra_id, l.qty, COALESCE(m.total, 0) FROM stock_levels l "
            f"LEFT JOIN ({movement_sums}) m ON m.product_id = l.product_id AND m.sentra_id = l.sentra_id "
            f"WHERE l.qty <> COALESCE(m.total, 0) ORDER BY l.sentra_id, l.product_id"
        )
    ]
    problems += [
        Problem("stock", f"Barang {product_id} di Sentra {sentra_id}: mutasi berjumlah {moved} "
                         f"tetapi tidak ada baris stok.")
        for product_id, sentra_id, moved in _rows(
            f"SELECT m.product_id, m.sentra_id, m.total FROM ({movement_sums}) m "
            f"LEFT JOIN stock_levels l ON l.product_id = m.product_id AND l.sentra_id = m.sentra_id "
            f"WHERE l.product_id IS NULL AND m.total <> 0 ORDER BY m.sentra_id, m.product_id"
        )
    ]
    return problems


def check_negative_stock() -> list[Problem]:
    return [
        Problem("negative-stock", f"Barang {product_id} di Sentra {sentra_id}: stok negatif ({qty}).")
        for product_id, sentra_id, qty in _rows(
            "SELECT product_id, sentra_id, qty FROM stock_levels WHERE qty < 0 ORDER BY sentra_id, product_id"
        )
    ]


def check_postings_balance() -> list[Problem]:
    """Every ledger transaction's entries sum to zero."""
    return [
        Problem("posting", f"Posting {txn_id} ({reference}) tidak seimbang: jumlah entri {total}.")
        for txn_id, reference, total in _rows(
            "SELECT t.id, t.reference, SUM(e.amount) FROM ledger_transactions t "
            "JOIN ledger_entries e ON e.transaction_id = t.id "
            "GROUP BY t.id, t.reference HAVING SUM(e.amount) <> 0 ORDER BY t.id"
        )
    ]


def check_maker_balances(now: datetime | None = None) -> list[Problem]:
    """The payouts service's balances agree with a raw sum over each maker's payable account."""
    from payouts.ledger import all_maker_balances

    service = all_maker_balances(now=now or utcnow())
    raw = {
        maker_id: int(total)
        for maker_id, total in _rows(
            "SELECT a.maker_id, -SUM(e.amount) FROM ledger_entries e "
            "JOIN ledger_accounts a ON a.id = e.account_id "
            "WHERE a.kind = 'maker_payable' GROUP BY a.maker_id"
        )
    }
    problems = []
    for maker_id in sorted(set(service) | set(raw), key=lambda m: (m is None, m or 0)):
        balance = service.get(maker_id)
        computed = balance.total if balance is not None else 0
        direct = raw.get(maker_id, 0)
        if computed != direct:
            problems.append(Problem(
                "maker-balance",
                f"Pembuat {maker_id}: saldo menurut layanan {computed}, menurut akun hutang {direct}.",
            ))
        if balance is not None and balance.earned - balance.refunded - balance.paid != balance.total:
            problems.append(Problem(
                "maker-balance",
                f"Pembuat {maker_id}: hasil {balance.earned} − retur {balance.refunded} − dibayar "
                f"{balance.paid} ≠ saldo {balance.total}.",
            ))
    return problems


def check_sale_payments() -> list[Problem]:
    """Payments equal total + rounding; total equals the lines; one sale posting per sale."""
    problems = [
        Problem("sale-payment", f"Penjualan {number}: harus dibayar {due}, pembayaran tercatat {paid}.")
        for _sale_id, number, due, paid in _rows(
            "SELECT s.id, s.number, s.total + s.rounding, COALESCE(p.paid, 0) FROM sales s "
            "LEFT JOIN (SELECT sale_id, SUM(amount) AS paid FROM payments GROUP BY sale_id) p "
            "ON p.sale_id = s.id WHERE s.total + s.rounding <> COALESCE(p.paid, 0) ORDER BY s.id"
        )
    ]
    problems += [
        Problem("sale-total", f"Penjualan {number}: total {total}, jumlah baris {lines}.")
        for _sale_id, number, total, lines in _rows(
            "SELECT s.id, s.number, s.total, COALESCE(l.lines_total, 0) FROM sales s "
            "LEFT JOIN (SELECT sale_id, SUM(line_total) AS lines_total FROM sale_lines GROUP BY sale_id) l "
            "ON l.sale_id = s.id WHERE s.total <> COALESCE(l.lines_total, 0) ORDER BY s.id"
        )
    ]
    problems += [
        Problem("sale-posting", f"Penjualan {number}: {count} posting penjualan di buku besar (harus 1).")
        for _sale_id, number, count in _rows(
            "SELECT s.id, s.number, COUNT(t.id) FROM sales s "
            "LEFT JOIN ledger_transactions t ON t.sale_id = s.id AND t.kind = 'sale' "
            "GROUP BY s.id, s.number HAVING COUNT(t.id) <> 1 ORDER BY s.id"
        )
    ]
    return problems


def check_line_allocations() -> list[Problem]:
    """Each sale line's split sums to its line total; each refund line's reversal to its amount."""
    split = "('material', 'sentra', 'maker')"
    problems = [
        Problem("allocation", f"Penjualan {number}, baris {line_id}: total baris {line_total}, "
                              f"dibagi {allocated}.")
        for line_id, number, line_total, allocated in _rows(
            "SELECT sl.id, s.number, sl.line_total, COALESCE(a.allocated, 0) FROM sale_lines sl "
            "JOIN sales s ON s.id = sl.sale_id "
            "LEFT JOIN (SELECT e.sale_line_id, -SUM(e.amount) AS allocated FROM ledger_entries e "
            "  JOIN ledger_transactions t ON t.id = e.transaction_id "
            f"  WHERE t.kind = 'sale' AND e.component IN {split} GROUP BY e.sale_line_id) a "
            "ON a.sale_line_id = sl.id WHERE sl.line_total <> COALESCE(a.allocated, 0) ORDER BY sl.id"
        )
    ]
    problems += [
        Problem("allocation", f"Retur {refund_id}, baris {rl_id}: nilai {amount}, dibalik {reversed_}.")
        for rl_id, refund_id, amount, reversed_ in _rows(
            "SELECT rl.id, rl.refund_id, rl.amount, COALESCE(a.reversed, 0) FROM refund_lines rl "
            "LEFT JOIN (SELECT refund_line_id, SUM(amount) AS reversed FROM ledger_entries "
            f"  WHERE refund_line_id IS NOT NULL AND component IN {split} GROUP BY refund_line_id) a "
            "ON a.refund_line_id = rl.id WHERE rl.amount <> COALESCE(a.reversed, 0) ORDER BY rl.id"
        )
    ]
    return problems


def check_refunds() -> list[Problem]:
    """Refunds never exceed what was sold: per line (pieces, rupiah) and per sale (rupiah paid)."""
    problems = [
        Problem("refund", f"Penjualan {number}, baris {line_id}: terjual {qty} ({line_total}), "
                          f"dikembalikan {back_qty} ({back_amount}).")
        for line_id, number, qty, line_total, back_qty, back_amount in _rows(
            "SELECT sl.id, s.number, sl.quantity, sl.line_total, r.qty, r.amount FROM sale_lines sl "
            "JOIN sales s ON s.id = sl.sale_id "
            "JOIN (SELECT sale_line_id, SUM(quantity) AS qty, SUM(amount) AS amount FROM refund_lines "
            "  GROUP BY sale_line_id) r ON r.sale_line_id = sl.id "
            "WHERE r.qty > sl.quantity OR r.amount > sl.line_total ORDER BY sl.id"
        )
    ]
    problems += [
        Problem("refund", f"Penjualan {number}: dibayar {due}, dikembalikan {refunded}.")
        for _sale_id, number, due, refunded in _rows(
            "SELECT s.id, s.number, s.total + s.rounding, r.amount FROM sales s "
            "JOIN (SELECT sale_id, SUM(amount) AS amount FROM refunds GROUP BY sale_id) r ON r.sale_id = s.id "
            "WHERE r.amount > s.total + s.rounding ORDER BY s.id"
        )
    ]
    return problems


def check_stored_files() -> list[Problem]:
    """Every stored file (photos, slip scans) holds as many bytes as it says (a truncated restore
    or copy shows here). `length()` of a blob reads its size, not its bytes, on both databases."""
    return [
        Problem("file", f"Berkas {sha256[:12]}…: ukuran tercatat {size} byte, isinya {actual} byte.")
        for sha256, size, actual in _rows(
            "SELECT sha256, size, length(data) FROM stored_files WHERE length(data) <> size ORDER BY id"
        )
    ]


CHECKS: dict[str, Callable[[], list[Problem]]] = {
    "stock": check_stock_levels,
    "negative-stock": check_negative_stock,
    "posting": check_postings_balance,
    "maker-balance": check_maker_balances,
    "sale": check_sale_payments,
    "allocation": check_line_allocations,
    "refund": check_refunds,
    "file": check_stored_files,
}


def verify() -> list[Problem]:
    """Run every check; an empty list means the ledgers are consistent. Reads only."""
    problems: list[Problem] = []
    for check in CHECKS.values():
        problems += check()
    return problems


def counts() -> dict[str, int]:
    """Row counts shown with the verdict (what was checked)."""
    tables = ("stock_levels", "stock_movements", "sales", "sale_lines", "payments", "refunds",
              "ledger_transactions", "ledger_entries", "stored_files")
    return {t: int(db.session.scalar(sa.text(f"SELECT COUNT(*) FROM {t}"))) for t in tables}
