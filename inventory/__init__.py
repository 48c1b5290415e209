"""Products, consigned stock and its movements, intakes, labels."""

from flask import Blueprint, Flask

bp = Blueprint("inventory", __name__, url_prefix="/inventory")


def init_app(app: Flask) -> None:
    """Staff-menu entries."""
    from core.menu import add_menu_item

    add_menu_item("inventory.product_list", "Produk", "Cari produk, harga, barcode dan stok",
                  {"admin", "manager", "kasir"}, order=20)
    add_menu_item("inventory.stock_list", "Stok per Sentra", "Sisa barang di rak",
                  {"admin", "manager", "kasir"}, order=21)
    add_menu_item("inventory.intake_list", "Barang titipan", "Terima titipan dan cetak tanda terima",
                  {"admin", "manager"}, order=22)
    add_menu_item("inventory.adjust", "Opname stok", "Sesuaikan stok dengan hasil hitung",
                  {"admin", "manager"}, order=23)
    add_menu_item("inventory.transfer", "Transfer stok", "Kirim barang ke Sentra lain",
                  {"admin", "manager"}, order=24)
    add_menu_item("inventory.label_select", "Cetak label", "Lembar label barcode A4", {"admin", "manager", "kasir"},
                  order=27)
