"""Proceeds split, the ledger, payouts and the maker portal."""

from flask import Blueprint

bp = Blueprint("payouts", __name__, url_prefix="/payouts")
