"""Users, roles, login (staff: e-mail + password; makers: phone + PIN)."""

from flask import Blueprint

bp = Blueprint("accounts", __name__, url_prefix="/accounts")
