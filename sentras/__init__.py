"""The Sentra (tenant): its time zone and local day, receipt texts, rules, and its admin pages."""

from flask import Blueprint, Flask

#: same URL prefix as before the split: the pages keep their addresses
bp = Blueprint("sentras", __name__, url_prefix="/inventory")


def init_app(app: Flask) -> None:
    """Staff-menu entries."""
    from core.menu import add_menu_item

    add_menu_item("sentras.sentra_list", "Sentra", "Data Sentra dan zona waktu", {"admin"}, order=80)
