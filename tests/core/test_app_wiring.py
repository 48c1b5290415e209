"""Explicit wiring: importing a package connects, registers and adds nothing; `create_app` does it all."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import config as app_config

PROBE = textwrap.dedent("""
    import importlib

    from app import DOMAIN_PACKAGES, ROUTE_MODULES
    from core.menu import _ITEMS
    from sales.signals import online_sale_delivered, sale_recorded, sale_refunded

    signals = (sale_recorded, sale_refunded, online_sale_delivered)
    for module in (*DOMAIN_PACKAGES, *ROUTE_MODULES, "payouts.ledger", "shop.cli"):
        importlib.import_module(module)
    print("imported", sum(len(s.receivers) for s in signals), len(_ITEMS))

    from app import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})  # a second app adds no second receiver
    print("created", sum(len(s.receivers) for s in signals), len(_ITEMS), "shop" in app.cli.commands)
""")


def test_importing_wires_nothing_and_create_app_wires_every_package_once():
    result = subprocess.run([sys.executable, "-c", PROBE], cwd=app_config.BASE_DIR, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    imported, created = result.stdout.split("\n")[:2]
    assert imported == "imported 0 0"
    _word, receivers, menu_items, shop_cli = created.split()
    assert receivers == "3"  # payouts: sale recorded, sale refunded, online sale delivered
    assert int(menu_items) >= 10 and shop_cli == "True"


def test_every_views_and_api_module_is_a_route_module():
    """A package's new views or api module left out of `ROUTE_MODULES` would serve no routes."""
    import importlib.util

    from app import DOMAIN_PACKAGES, ROUTE_MODULES

    existing = {f"{package}.{module}" for package in ("app", *DOMAIN_PACKAGES) for module in ("views", "api")
                if importlib.util.find_spec(f"{package}.{module}") is not None}
    assert existing == set(ROUTE_MODULES)
