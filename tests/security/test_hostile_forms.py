"""Hostile input in every HTML form reachable from the staff home and the storefront.

An admin (and a kasir on an open shift) crawls the GET pages, reads every form with
`html.parser`, and submits each one a handful of times with a hostile value in every text field:
SQL injection, markup, path traversal, negative and huge numbers, unicode edge cases, a NUL byte,
a 10,000-character string. Nothing may answer 500, and no page may echo the markup unescaped —
neither the answer to the submit nor, afterwards, any crawled page showing what was stored.
"""

from __future__ import annotations

import io
import re
import uuid
from urllib.parse import urljoin, urlsplit

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import MultiDict

from accounts.models import Role, User
from core.extensions import db
from inventory.models import Product
from makers.models import PayoutMethod
from payouts import services as payout_services
from sales.models import Sale
from tests.conftest import csrf_token, login
from tests.factories import MakerFactory, MakerUserFactory, UserFactory
from tests.factories.payouts import product, refund, sell, shop
from tests.factories.shop import ShopProductFactory, consent_all
from tests.security.htmlforms import Form, parse_forms, parse_links
from tests.shop.helpers import place_order

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
HOSTILE = [
    "' OR 1=1 --",
    '"; DROP TABLE sales; --',
    SCRIPT,
    IMG,
    "../../etc/passwd",
    "-1",
    "99999999999999999999999",
    "\u202egnp.exe\u200d\u200b\ufeff👩\u200d👩\u200d👧",
    "a\x00b",
    "x" * 10_000,
]
RAW_MARKUP = ("<script>alert(1)", "<img src=x onerror")
SKIP_PATH = re.compile(r"(\.pdf|\.csv|\.xlsx|\.js|\.webmanifest|/scan)$|^/static/|^/stripe/")
SKIP_ACTIONS = ("/accounts/keluar",)  # logging out ends the sweep's session
MAX_PAGES = 90


def shape(path: str) -> str:
    """/inventory/produk/12/ubah → /inventory/produk/N/ubah: one page of each kind is enough."""
    return re.sub(r"\d+", "N", path)


def crawl(client, starts: list[str]) -> tuple[dict[str, str], list[tuple[str, Form]]]:
    pages: dict[str, str] = {}
    forms: dict[tuple, tuple[str, Form]] = {}
    seen_shapes: set[str] = set()
    queue = list(starts)
    while queue and len(pages) < MAX_PAGES:
        url = queue.pop(0)
        parts = urlsplit(url)
        if parts.netloc or SKIP_PATH.search(parts.path):
            continue
        key = shape(parts.path) + ("?" + shape(parts.query) if parts.query else "")
        if key in seen_shapes:
            continue
        seen_shapes.add(key)
        response = client.get(url, headers={"Accept": "text/html"})
        assert response.status_code < 500, f"GET {url} → {response.status_code}"
        if response.status_code != 200 or response.mimetype != "text/html":
            continue
        html = response.get_data(as_text=True)
        pages[url] = html
        for form in parse_forms(html):
            action = urlsplit(urljoin(url, form.action or url)).path
            if action in SKIP_ACTIONS:
                continue
            form_key = (form.method, shape(action), tuple(sorted(f.name for f in form.fields)))
            forms.setdefault(form_key, (urljoin(url, form.action or url), form))
        for link in parse_links(html):
            target = urljoin(url, link).split("#", 1)[0]
            if target.startswith("http://localhost"):
                target = target[len("http://localhost"):]
            if target.startswith("/"):
                queue.append(target)
    return pages, list(forms.values())


EVERY_FIELD = ["' OR 1=1 --", SCRIPT, "-1", "99999999999999999999999", "x" * 10_000, "2024-02-30", "m:x", ""]


def submit(client, url: str, form: Form, value: str, every_field: bool = False):
    names = set(form.text_fields())
    if every_field:  # selects, radios and hidden fields too (a hand-made request), not the CSRF token
        names = {f.name for f in form.fields if f.name != "csrf_token"}
    data = MultiDict([(name, value if name in names else v) for name, v in form.values()])
    if form.method == "get":
        return client.get(url, query_string=data, headers={"Accept": "text/html"})
    files = {}
    for f in form.fields:
        if f.kind == "file":
            files[f.name] = (io.BytesIO(b"GIF89a not really"), "../../config.py")
    if files:
        data.update(files)
        return client.post(url, data=data, content_type="multipart/form-data", headers={"Accept": "text/html"})
    return client.post(url, data=data, headers={"Accept": "text/html"})


def assert_escaped(text: str, where: str) -> None:
    for raw in RAW_MARKUP:
        assert raw not in text, f"{where} echoes unescaped markup {raw!r}"


@pytest.fixture
def world(app):
    s = shop("TMG")
    item = product(s.sentra, name="Batik Uji", price=100_000)
    consent_all(item.maker)
    ShopProductFactory(sentra=s.sentra, stock=3, name="Tenun Toko")
    sale = sell(s, [(item, 2)])
    refund(s, sale, [(sale.lines[0].id, 1)])
    MakerUserFactory(maker=item.maker)
    bank = product(s.sentra, maker=MakerFactory(sentra=s.sentra, payout_method=PayoutMethod.BANK, bank_name="BRI",
                                                account_number="123", account_holder="Siti"), price=50_000)
    sell(s, [(bank, 1)])
    run = payout_services.create_run(s.manager, s.sentra, cutoff_date=s.sentra.local_date(),
                                     client_key=str(uuid.uuid4()))
    payout_services.approve_run(s.manager2, run)
    db.session.commit()
    guest = app.test_client()
    place_order(guest, lambda: csrf_token(guest), [(ShopProductFactory(sentra=s.sentra, stock=2), 1)])
    return s


def sweep(app, user, starts: list[str], prepare=None) -> tuple[int, int]:
    client = app.test_client()
    if user is not None:
        login(client, user)
    csrf_token(client)
    if prepare is not None:
        prepare(client)
    pages, forms = crawl(client, starts)
    assert pages, "the crawl found no page"
    sent = 0
    for url, form in forms:
        variants = [(value, False) for value in HOSTILE] + [(value, True) for value in EVERY_FIELD]
        for value, every_field in variants:
            response = submit(client, url, form, value, every_field)
            sent += 1
            assert response.status_code < 500, (
                f"{form.method.upper()} {url} with {value[:40]!r} → {response.status_code}")
            if response.mimetype == "text/html":
                assert_escaped(response.get_data(as_text=True), f"{form.method.upper()} {url}")
            db.session.rollback()
    # what was stored is shown escaped everywhere
    for url in pages:
        response = client.get(url, headers={"Accept": "text/html"})
        assert response.status_code < 500, f"GET {url} after the sweep → {response.status_code}"
        assert_escaped(response.get_data(as_text=True), f"GET {url} after the sweep")
    return len(pages), sent


def test_admin_forms_survive_hostile_input(app, world):
    pages, sent = sweep(app, UserFactory(role=Role.ADMIN), ["/staf", "/"])
    assert pages >= 25 and sent >= 100  # the sweep really reached the staff pages and their forms


def test_manager_forms_survive_hostile_input(app, world):
    pages, sent = sweep(app, world.manager, ["/staf"])
    assert pages >= 15 and sent >= 100


def test_kasir_and_storefront_forms_survive_hostile_input(app, world):
    pages, sent = sweep(app, world.kasir, ["/staf", "/pos/"])
    assert pages >= 5 and sent > 0
    pages, sent = sweep(app, None, ["/", "/katalog", "/akun/masuk", "/akun/daftar", "/accounts/masuk",
                                    "/accounts/masuk-pembuat", "/checkout"], prepare=fill_cart)
    assert pages >= 5 and sent > 0


def fill_cart(client) -> None:
    item = db.session.scalars(sa.select(Product).where(Product.name == "Tenun Toko")).one()
    response = client.post(f"/produk/{item.id}/keranjang", data={"csrf_token": csrf_token(client), "quantity": "1"})
    assert response.status_code == 302


def test_maker_and_buyer_pages_survive_hostile_input(app, world):
    maker_user = db.session.scalars(sa.select(User).where(User.role == Role.MAKER)).first()
    pages, _sent = sweep(app, maker_user, ["/payouts/saya"])
    assert pages >= 3
    buyer = UserFactory(role=Role.BUYER, email="pembeli@contoh.co.id")
    pages, _sent = sweep(app, buyer, ["/akun/pesanan", "/katalog"], prepare=fill_cart)
    assert pages >= 2


def test_invalid_numbers_write_nothing(client, login_as, csrf, world):
    """Negative and huge prices/quantities are refused, and no row is written."""
    login_as(world.manager)
    products = db.session.scalar(sa.select(sa.func.count(Product.id)))
    maker_id = db.session.scalars(sa.select(Product.maker_id)).first()
    for price in ("-1", "99999999999999999999999", "1e9", "0x10", "' OR 1=1 --", "\x00"):
        response = client.post("/inventory/produk/baru", data={
            "csrf_token": csrf(), "sentra_id": world.sentra.id, "sku": f"HOST-{abs(hash(price)) % 1000}",
            "name": "Produk Jahat", "category": "Uji", "kind": "goods", "price": price, "owner": f"m:{maker_id}",
            "split_mode": "percent", "maker_share": "80"})
        assert response.status_code in (400, 422), (price, response.status_code)
    assert db.session.scalar(sa.select(sa.func.count(Product.id))) == products
    sales = db.session.scalar(sa.select(sa.func.count(Sale.id)))
    login_as(world.kasir)
    item = db.session.scalars(sa.select(Product).where(Product.name == "Batik Uji")).one()
    for quantity in (-1, 0, 99999999999999999999999, "1; DROP TABLE sales", None, 1.5, [1], {"a": 1}):
        response = client.post("/pos/api/sales", json={
            "shift_id": world.shift.id, "lines": [{"product_id": item.id, "quantity": quantity}],
            "payments": [{"method": "cash", "amount": 100_000}]},
            headers={"Idempotency-Key": f"00000000-0000-4000-8000-{abs(hash(str(quantity))) % 10**12:012d}",
                     "X-CSRFToken": csrf()})
        assert 400 <= response.status_code < 500, (quantity, response.status_code)
        assert response.mimetype == "application/problem+json"
    assert db.session.scalar(sa.select(sa.func.count(Sale.id))) == sales
