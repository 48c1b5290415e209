"""Sales shared by the counter and the shop: Sale, SaleLine, Payment, Refund."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Nothing to wire: sales sends signals (sales/signals.py) and registers no routes or commands."""
