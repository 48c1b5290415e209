"""Omset, gross profit, items, visitors: pages and exports for managers."""

from flask import Blueprint

bp = Blueprint("reports", __name__, url_prefix="/reports")
