"""Makers (penerima manfaat), their consents and payout details, and their groups (KUBE)."""

from flask import Blueprint, Flask

#: no prefix: the routes keep the addresses they had before the split (/inventory/…, and the
#: admin's maker-login page under /accounts/…)
bp = Blueprint("makers", __name__)


def init_app(app: Flask) -> None:
    """Staff-menu entries."""
    from core.menu import add_menu_item

    add_menu_item("makers.maker_list", "Pembuat (PM)", "Data pembuat, izin data dan pembayaran",
                  {"admin", "manager"}, order=25)
    add_menu_item("makers.group_list", "Kelompok (KUBE)", "Anggota dan bobot bagian", {"admin", "manager"}, order=26)
