"""A sweep over the whole URL map: each role reaches only its pages.

Generic on purpose: `roles_required` records the roles it lets in on the view
(`view.allowed_roles`), so a route any package adds is swept without touching this file.
For every rule (except `static`) and method:

- anonymous requests to a protected view are sent to a login page (HTML) or get a 401
  problem+json (`/api/`), never a 200;
- a logged-in role the view does not allow gets 403 (or 404: refused without saying why);
- a role the view allows is let in (no 401/403, no redirect to login; GETs only, so the sweep
  changes nothing), and nothing answers 500 — not even with made-up ids;
- public views (no `allowed_roles`) never answer 500 to anonymous GET/POST.

POSTs carry a valid CSRF token, so the access check itself is what is tested.
"""

from __future__ import annotations

import uuid

import pytest
from werkzeug.routing import Rule
from werkzeug.routing.converters import AnyConverter, IntegerConverter, PathConverter, UUIDConverter

from accounts.models import Role
from app import create_app
from config import TestConfig
from tests.conftest import csrf_token, login
from tests.factories import MakerFactory, MakerUserFactory, SentraFactory, UserFactory

METHODS = ("GET", "POST")


def _sweep_params() -> list:
    """(rule, method) pairs of the URL map, read at collection time from a throw-away app."""
    settings = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
    url_map = create_app({**settings, "SQLALCHEMY_DATABASE_URI": "sqlite://"}).url_map
    params = []
    for rule in sorted(url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        if rule.endpoint == "static":
            continue
        for method in METHODS:
            if method in (rule.methods or ()):
                params.append(pytest.param(rule.rule, method, id=f"{method} {rule.rule}"))
    return params


SWEEP = _sweep_params()


def dummy_url(rule: Rule) -> str:
    """A URL for `rule` with made-up values for its arguments (404 counts as refused)."""
    values = {}
    for name, converter in rule._converters.items():
        if isinstance(converter, IntegerConverter):
            values[name] = 1
        elif isinstance(converter, UUIDConverter):
            values[name] = uuid.UUID(int=1)
        elif isinstance(converter, AnyConverter):
            values[name] = sorted(converter.items)[0]
        elif isinstance(converter, PathConverter):
            values[name] = "x/y"
        else:
            values[name] = "x1"
    _domain, path = rule.build(values, append_unknown=False)
    return path


def find_rule(app, rule_text: str, method: str) -> Rule:
    return next(r for r in app.url_map.iter_rules() if r.rule == rule_text and method in (r.methods or ()))


@pytest.fixture
def clients(app):
    """A logged-in test client per role (staff assigned to a Sentra), and an anonymous one."""
    sentra = SentraFactory()
    users = {
        Role.ADMIN: UserFactory(role=Role.ADMIN),
        Role.MANAGER: UserFactory(role=Role.MANAGER, sentras=[sentra]),
        Role.KASIR: UserFactory(role=Role.KASIR, sentras=[sentra]),
        Role.MAKER: MakerUserFactory(maker=MakerFactory(sentra=sentra)),
        Role.BUYER: UserFactory(role=Role.BUYER),
    }
    result = {}
    for role, user in users.items():
        client = app.test_client()
        login(client, user)
        result[role] = (client, csrf_token(client))
    anonymous = app.test_client()
    result[None] = (anonymous, csrf_token(anonymous))
    return result


def send(client, token: str, method: str, url: str):
    return client.open(url, method=method, headers={"X-CSRFToken": token, "Accept": "text/html"})


def is_login_redirect(response) -> bool:
    return response.status_code == 302 and response.headers["Location"].startswith("/accounts/masuk")


def is_401_problem(response) -> bool:
    return (response.status_code == 401 and response.mimetype == "application/problem+json"
            and response.json["status"] == 401)


@pytest.mark.parametrize(("rule_text", "method"), SWEEP)
def test_each_role_reaches_only_its_pages(app, clients, rule_text, method):
    rule = find_rule(app, rule_text, method)
    view = app.view_functions[rule.endpoint]
    url = dummy_url(rule)
    allowed = getattr(view, "allowed_roles", None)

    client, token = clients[None]
    response = send(client, token, method, url)
    assert response.status_code < 500, f"anonymous {method} {url} → {response.status_code}"
    if allowed is None:
        return  # a public page: it only must not break

    if "/api/" in url:
        assert is_401_problem(response), f"anonymous {method} {url} → {response.status_code}"
    else:
        assert is_login_redirect(response), f"anonymous {method} {url} → {response.status_code}"

    for role in (Role.ADMIN, Role.MANAGER, Role.KASIR, Role.MAKER, Role.BUYER):
        client, token = clients[role]
        if role in allowed:
            if method != "GET":
                continue  # a POST by an allowed role could change data; the package's own tests cover it
            response = send(client, token, method, url)
            assert response.status_code < 500, f"{role} {method} {url} → {response.status_code}"
            assert response.status_code not in (401, 403) and not is_login_redirect(response), (
                f"{role} is allowed on {rule.endpoint} but {method} {url} → {response.status_code}")
        else:
            response = send(client, token, method, url)
            assert response.status_code in (403, 404), (
                f"{role} must be refused on {rule.endpoint}: {method} {url} → {response.status_code}")


def test_sweep_covers_the_protected_pages_of_every_package():
    """Guards the sweep itself: it must see the routes, and the decorator must mark them."""
    ids = {p.id for p in SWEEP}
    assert "GET /staf" in ids and "GET /accounts/pengguna" in ids and "POST /accounts/keluar" in ids


def test_roles_required_records_allowed_roles(app):
    assert app.view_functions["accounts.user_list"].allowed_roles == frozenset({Role.ADMIN})
    assert app.view_functions["app.staff_home"].allowed_roles == frozenset({Role.ADMIN, Role.MANAGER, Role.KASIR})
