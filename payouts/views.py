"""Maker portal and payout pages."""

from flask import render_template

from accounts.access import maker_required
from payouts import bp


@bp.get("/saya")
@maker_required
def portal_home():
    return render_template("payouts/portal_home.html")
