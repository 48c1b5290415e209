"""`flask shop expire-reservations`: give back the stock of unpaid orders whose hold has lapsed (cron)."""

from __future__ import annotations

import click

from core.unit_of_work import transactional
from shop import bp


@bp.cli.command("expire-reservations")
@transactional
def expire_reservations_command() -> None:
    """Release the stock held by unpaid online orders whose payment time is up."""
    from shop.checkout import expire_reservations

    released = expire_reservations()
    click.echo(f"{released} pesanan dilepas")
