"""The online storefront: catalogue, cart, Stripe checkout, orders, invoices."""

from flask import Blueprint

bp = Blueprint("shop", __name__)
