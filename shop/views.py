"""Storefront pages."""

from flask import render_template

from shop import bp


@bp.get("/")
def home():
    return render_template("shop/home.html")
