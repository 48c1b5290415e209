"""Sentras, makers and groups, products, consigned stock and its movements."""

from flask import Blueprint

bp = Blueprint("inventory", __name__, url_prefix="/inventory")
