"""Proceeds split, the ledger, payouts and the maker portal."""

from flask import Blueprint

bp = Blueprint("payouts", __name__, url_prefix="/payouts")

# Connects the sale_recorded / sale_refunded receivers: `sales` never imports `payouts`.
from payouts import ledger  # noqa: E402, F401
