"""Operations: consistency checks over the stock and money ledgers (`flask ledger verify`) and the
nightly backup job."""

from flask import Flask


def init_app(app: Flask) -> None:
    """The nightly backup's schedule (`flask ledger verify`, app/cli.py, calls `ops.integrity`)."""
    from ops import jobs

    jobs.register_schedules()
