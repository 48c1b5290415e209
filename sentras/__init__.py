"""The Sentra (tenant): its time zone and local day, receipt texts, rules, and its admin pages."""

from flask import Blueprint

#: same URL prefix as before the split: the pages keep their addresses
bp = Blueprint("sentras", __name__, url_prefix="/inventory")
