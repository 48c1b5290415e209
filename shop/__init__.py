"""The online storefront: catalogue, cart, Stripe checkout, orders, invoices."""

from flask import Blueprint, Flask

bp = Blueprint("shop", __name__)


def init_app(app: Flask) -> None:
    """The Stripe gateway (on `app.extensions`), jobs and schedules, `flask shop ...`, the staff-menu entry."""
    from core.menu import add_menu_item
    from shop import cli, jobs, stripe_gateway

    stripe_gateway.init_app(app)
    jobs.register_schedules()
    app.cli.add_command(cli.shop_cli)
    add_menu_item("shop.staff_orders", "Pesanan online", "Antrean pesanan toko online: siapkan, kirim, kembalikan dana",
                  roles={"admin", "manager", "kasir"}, order=30)
