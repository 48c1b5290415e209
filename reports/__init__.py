"""Omset, gross profit, items, visitors: pages and exports for managers."""

from flask import Blueprint, Flask

bp = Blueprint("reports", __name__, url_prefix="/reports")


def init_app(app: Flask) -> None:
    """Staff-menu entries."""
    from core.menu import add_menu_item

    add_menu_item("reports.summary", "Laporan", "Omset, laba kotor, barang terjual, pengunjung, pencairan",
                  roles={"admin", "manager"}, order=70)
