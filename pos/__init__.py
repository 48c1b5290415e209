"""The kasir's counter: shifts, sale screen, tenders, receipts, Z-report."""

from flask import Blueprint

bp = Blueprint("pos", __name__, url_prefix="/pos")
