"""The kasir's counter: shifts, sale screen, tenders, receipts, Z-report."""

from flask import Blueprint, Flask

bp = Blueprint("pos", __name__, url_prefix="/pos")


def init_app(app: Flask) -> None:
    """Staff-menu entries."""
    from core.menu import add_menu_item

    add_menu_item("pos.index", "Kasir (POS)", "Buka sesi kasir, jual, cetak struk, tutup sesi",
                  {"admin", "manager", "kasir"}, order=10)
    add_menu_item("pos.stock_conflicts", "Konflik stok offline",
                  "Penjualan offline yang melebihi stok tercatat, dan harga yang berbeda",
                  {"admin", "manager"}, order=12)
    add_menu_item("pos.sale_history", "Riwayat penjualan", "Penjualan hari ini, cetak ulang struk, retur",
                  {"admin", "manager", "kasir"}, order=11)
