"""`flask shop expire-reservations`: give back the stock of unpaid orders whose hold has lapsed (cron)."""

from __future__ import annotations

import click

from core.extensions import db
from shop import bp


@bp.cli.command("expire-reservations")
def expire_reservations_command() -> None:
    """Release the stock held by unpaid online orders whose payment time is up."""
    from shop.checkout import expire_reservations

    try:
        released = expire_reservations()
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    click.echo(f"{released} pesanan dilepas")
