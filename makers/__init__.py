"""Makers (penerima manfaat), their consents and payout details, and their groups (KUBE)."""

from flask import Blueprint

#: same URL prefix as before the split: the pages keep their addresses
bp = Blueprint("makers", __name__, url_prefix="/inventory")
