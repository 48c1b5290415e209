"""`flask shop ...`, for cron or the job scheduler: `expire-reservations` gives back the stock of unpaid
orders whose hold has lapsed; `send-refunds` sends the automatic refunds still pending."""

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


@shop_cli.command("send-refunds")
@transactional
def send_refunds_command() -> None:
    """Send the automatic refunds Stripe has not taken yet (each committed on its own)."""
    from shop.refunds import retry_pending_refunds

    sent = retry_pending_refunds()
    click.echo(f"{sent} pengembalian dana dikirim")
