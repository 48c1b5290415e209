"""Products, consigned stock and its movements, intakes, labels."""

from flask import Blueprint

bp = Blueprint("inventory", __name__, url_prefix="/inventory")
