"""The staff home menu: each package adds its entries in its `init_app(app)`."""

from __future__ import annotations

from dataclasses import dataclass

from flask import url_for
from flask_babel import lazy_gettext


@dataclass(frozen=True)
class MenuItem:
    endpoint: str
    title: str
    hint: str
    roles: frozenset[str]
    order: int


_ITEMS: dict[str, MenuItem] = {}


def add_menu_item(endpoint: str, title: str, hint: str, roles: set[str], order: int = 50) -> None:
    _ITEMS[endpoint] = MenuItem(endpoint, title, hint, frozenset(roles), order)


def staff_menu(user) -> list[dict]:
    items = sorted((i for i in _ITEMS.values() if str(user.role) in i.roles), key=lambda i: (i.order, i.endpoint))
    return [{"url": url_for(i.endpoint), "title": lazy_gettext(i.title), "hint": lazy_gettext(i.hint)} for i in items]
