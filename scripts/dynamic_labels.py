"""Indonesian labels that templates translate at render time (`{{ _(status.label) }}`).

`pybabel extract` only sees literal `_("…")` calls, so labels kept in enums (`.label`) and in
label dictionaries (catalogue sort order, report dimensions, Stripe test cards) would never reach
the catalogue; neither would staff-menu titles and hints (`core.menu.add_menu_item`, translated
with `lazy_gettext` when the menu is shown). `scripts/update-translations.sh` adds them to the
extracted template with this module, and `tests/core/test_english_ui.py` checks each one has an English translation.

Run as a script it appends the labels to a POT file: `python -m scripts.dynamic_labels FILE.pot`.
"""

from __future__ import annotations

import enum
import importlib
import importlib.util
import sys

#: modules whose enums carry a user-facing Indonesian `label`
ENUM_MODULES = ("makers.models", "inventory.models", "sales.models", "shop.models", "payouts.models", "pos.models",
                "accounts.models")
#: (module, attribute) of dicts whose values, or strings, are shown through `_()`
LABEL_SOURCES = (
    ("shop.services", "SORTS"),
    ("shop.stripe_gateway", "LOCAL_TEST_METHODS"),
    ("reports.services", "DIMENSIONS"),
    ("reports.services", "CHANNEL_LABELS"),
    ("reports.services", "GROUP_BUCKET"),
)
#: packages whose `views` module registers staff-menu entries at import
MENU_PACKAGES = ("core", "sentras", "accounts", "makers", "inventory", "pos", "shop", "payouts", "reports")


def dynamic_labels() -> dict[str, str]:
    """Every dynamic label mapped to where it comes from (`module.Name`)."""
    found: dict[str, str] = {}
    for module_name in ENUM_MODULES:
        module = importlib.import_module(module_name)
        for name, value in sorted(vars(module).items()):
            if not (isinstance(value, type) and issubclass(value, enum.Enum)) or value.__module__ != module_name:
                continue
            if not isinstance(getattr(value, "label", None), property):
                continue
            for member in value:
                found.setdefault(member.label, f"{module_name}.{name}")
    for module_name, attribute in LABEL_SOURCES:
        source = getattr(importlib.import_module(module_name), attribute, None)
        values = [source] if isinstance(source, str) else list((source or {}).values())
        for text in values:
            found.setdefault(str(text), f"{module_name}.{attribute}")
    for package in MENU_PACKAGES:
        if importlib.util.find_spec(f"{package}.views") is not None:
            importlib.import_module(f"{package}.views")
    from core.menu import _ITEMS

    for item in _ITEMS.values():
        for text in (item.title, item.hint):
            found.setdefault(str(text), f"{item.endpoint.split('.')[0]}.views.menu")
    return found


def add_to_pot(path: str) -> int:
    """Add the dynamic labels to an extracted POT file; returns how many were added."""
    from babel.messages.pofile import read_po, write_po

    with open(path, "rb") as handle:
        catalog = read_po(handle)
    added = 0
    for text, origin in dynamic_labels().items():
        module_name, _attribute = origin.rsplit(".", 1)
        location = (module_name.replace(".", "/") + ".py", None)
        message = catalog.get(text)
        if message is None:
            added += 1
            catalog.add(text, locations=[location], auto_comments=[f"dynamic label: {origin}"])
        else:
            message.locations.append(location)
    with open(path, "wb") as handle:
        write_po(handle, catalog, width=120)
    return added


if __name__ == "__main__":
    sys.path.insert(0, ".")
    print(f"{add_to_pot(sys.argv[1])} dynamic labels added to {sys.argv[1]}", file=sys.stderr)
