"""`flask shop expire-reservations`: give back the stock of unpaid orders whose hold has lapsed (cron)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from core.unit_of_work import transactional

#: added to `app.cli` by `shop.init_app`
shop_cli = AppGroup("shop", help="Online shop maintenance.")


@shop_cli.command("expire-reservations")
@transactional
def expire_reservations_command() -> None:
    """Release the stock held by unpaid online orders whose payment time is up."""
    from shop.checkout import expire_reservations

    released = expire_reservations()
    click.echo(f"{released} pesanan dilepas")
