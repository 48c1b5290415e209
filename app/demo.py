"""Demo data for `make run` and the browser tests; idempotent (looked up by natural keys).

Each package contributes `LOADERS` in its `demo` module; they run in this order.
"""

from __future__ import annotations

import importlib

DEMO_MODULES = ("sentras.demo", "accounts.demo", "makers.demo", "inventory.demo", "shop.demo", "pos.demo",
                "payouts.demo")


def load_demo_data() -> dict[str, int]:
    """Run every package's demo loader; returns how many new rows each created."""
    summary: dict[str, int] = {}
    for module_name in DEMO_MODULES:
        for name, loader in importlib.import_module(module_name).LOADERS:
            summary[name] = loader()
    return summary
