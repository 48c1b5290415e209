"""Operations tools: consistency checks over the stock and money ledgers (`flask ledger verify`)."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Nothing to wire: `flask ledger verify` (app/cli.py) calls `ops.integrity`."""
