"""Proceeds split, the ledger, payouts and the maker portal."""

from flask import Blueprint, Flask

bp = Blueprint("payouts", __name__, url_prefix="/payouts")


def init_app(app: Flask) -> None:
    """Connects the ledger's signal receivers (`sales` and `shop` never import `payouts`) and the menu entry."""
    from core.menu import add_menu_item
    from payouts.ledger import connect_receivers

    connect_receivers()
    add_menu_item("payouts.run_list", "Pencairan untuk pembuat",
                  "Saldo pembuat, daftar pencairan, persetujuan, bukti pembayaran", roles={"admin", "manager"},
                  order=60)
