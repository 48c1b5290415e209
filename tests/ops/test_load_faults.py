"""Load and faults against a real gunicorn (3 workers) + PostgreSQL on 127.0.0.1.

Counters sell concurrently beside online checkouts (paid through localstripe); 200 attempts at the
counter and on the web race for the last 5 pieces; every worker is SIGKILLed in the middle of
sales; the database goes away and comes back. Afterwards the ledgers are checked by
query (`ops.integrity.verify`, the logic of `flask ledger verify`) and counted: nothing lost,
nothing doubled, nothing half-written. Request loops are bounded in count and time.
"""

from __future__ import annotations

import os
import random
import signal
import threading
import uuid
from collections import Counter as Tally
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
import requests
import sqlalchemy as sa

from accounts.models import Role
from core.extensions import db
from inventory.stock import stock_level
from ops.integrity import verify
from sales.models import Payment, Sale, SaleLine
from tests.factories import TEST_PASSWORD, ProductFactory, SentraFactory, UserFactory
from tests.factories.sales import stock_in
from tests.ops.conftest import Buyer, Counter

pytestmark = pytest.mark.slow


@dataclass
class Shop:
    sentra_id: int
    emails: list[str]
    #: (product id, price, initial stock)
    products: list[tuple[int, int, int]]


def seed_shop(stack, code: str, kasirs: int, products: list[tuple[int, int]]) -> Shop:
    """A Sentra with `kasirs` kasir accounts and products given as (price, stock), published in the
    online shop too, committed."""
    with stack.app.app_context():
        sentra = SentraFactory(code=code, hold_days=0)
        emails = [UserFactory(role=Role.KASIR, sentras=[sentra]).email for _ in range(kasirs)]
        items = []
        for price, stock in products:
            product = ProductFactory(sentra=sentra, price=price, is_published=True)
            stock_in(product, stock)
            items.append((product.id, price, stock))
        return Shop(sentra.id, emails, items)


def open_counters(server, shop: Shop) -> list[Counter]:
    """Every kasir logs in through the form and opens a shift (in parallel, as a morning would)."""
    def start(email: str) -> Counter:
        return Counter(server.url, email, TEST_PASSWORD).login().open_shift(shop.sentra_id)

    with ThreadPoolExecutor(max_workers=6) as pool:
        return list(pool.map(start, shop.emails))


def sale_request(rng: random.Random, shop: Shop) -> tuple[list[dict], list[dict]]:
    chosen = rng.sample(shop.products, rng.randint(1, min(3, len(shop.products))))
    lines = [{"product_id": pid, "quantity": rng.randint(1, 3)} for pid, _price, _stock in chosen]
    total = sum(line["quantity"] * price for line, (_pid, price, _s) in zip(lines, chosen, strict=True))
    if rng.random() < 0.5:
        payments = [{"method": "cash", "amount": total, "tendered": (total // 50_000 + 1) * 50_000}]
    else:
        payments = [{"method": "qris", "amount": total, "reference": f"QR-{rng.randrange(10**8):08d}"}]
    return lines, payments


def sell_with_retries(counter: Counter, key: str, lines, payments, attempts: int = 3) -> requests.Response:
    """Like the sale screen: a lost answer or a 5xx is retried with the same Idempotency-Key."""
    last: requests.Response | None = None
    for _ in range(attempts):
        try:
            last = counter.sell(key, lines, payments)
        except requests.ConnectionError:
            continue
        if last.status_code < 500:
            return last
    assert last is not None, f"no answer for {key}"
    return last


def buy_online(base_url: str, items: list[tuple[int, int]]) -> tuple[str, requests.Response]:
    """A new buyer puts `items` in the cart, checks out and pays by card. Returns ("paid", page) or
    ("refused", the answer that refused it)."""
    buyer = Buyer(base_url)
    for product_id, quantity in items:
        added = buyer.add(product_id, quantity)
        if added.status_code != 302:
            return "refused", added
    placed = buyer.checkout()
    if placed.status_code != 302:
        return "refused", placed
    paid = buyer.pay(urlsplit(placed.headers["Location"]).path)  # the goods are reserved at "Bayar"
    assert paid.status_code == 200, paid.status_code
    return ("paid" if "Pembayaran berhasil" in paid.text else "refused"), paid


def check_books(stack) -> None:
    with stack.app.app_context():
        problems = verify()
    assert problems == [], "\n".join(map(str, problems))


def sales_of(stack, sentra_id: int, channel: str | None = None) -> dict[str, tuple[int, int, int]]:
    """client_key -> (sale id, number of lines, number of payments) for a Sentra (and channel)."""
    with stack.app.app_context():
        lines = dict(db.session.execute(
            sa.select(SaleLine.sale_id, sa.func.count()).join(Sale).where(Sale.sentra_id == sentra_id)
            .group_by(SaleLine.sale_id)).all())
        payments = dict(db.session.execute(
            sa.select(Payment.sale_id, sa.func.count()).join(Sale).where(Sale.sentra_id == sentra_id)
            .group_by(Payment.sale_id)).all())
        query = sa.select(Sale.client_key, Sale.id).where(Sale.sentra_id == sentra_id)
        if channel is not None:
            query = query.where(Sale.channel == channel)
        sales = db.session.execute(query).all()
    return {key: (sale_id, lines.get(sale_id, 0), payments.get(sale_id, 0)) for key, sale_id in sales}


def stock_of(stack, shop: Shop) -> dict[int, int]:
    with stack.app.app_context():
        return {pid: stock_level(pid, shop.sentra_id) for pid, _price, _stock in shop.products}


def test_counters_sell_concurrently_without_loss_or_duplicates(pg_stack, gunicorn):
    shops = [seed_shop(pg_stack, code, 6, [(15_000, 400), (27_500, 400), (42_000, 400), (99_900, 400)])
             for code in ("LDA", "LDB")]
    counters = [(shop, c) for shop in shops for c in open_counters(gunicorn, shop)]
    sales_per_counter = 8

    def run(index: int) -> list[tuple[str, requests.Response]]:
        shop, counter = counters[index]
        rng = random.Random(index)
        done = []
        for _ in range(sales_per_counter):
            key = str(uuid.uuid4())
            done.append((key, sell_with_retries(counter, key, *sale_request(rng, shop))))
        return done

    rng = random.Random(99)
    orders = [[(pid, rng.randint(1, 2)) for pid, _p, _s in rng.sample(shops[0].products, 2)] for _ in range(4)]

    with ThreadPoolExecutor(max_workers=len(counters) + len(orders)) as pool:
        online = [pool.submit(buy_online, gunicorn.url, items) for items in orders]
        results = [item for batch in pool.map(run, range(len(counters))) for item in batch]
        online = [future.result() for future in online]

    assert len(counters) == 12 and len(results) == 12 * sales_per_counter
    assert [r.status_code for _k, r in results] == [201] * len(results), \
        [(r.status_code, r.text[:200]) for _k, r in results if r.status_code != 201]
    sold: Tally[int] = Tally()
    for _key, response in results:
        for line in response.json()["lines"]:
            sold[line["product_id"]] += line["quantity"]
    assert [outcome for outcome, _page in online] == ["paid"] * len(orders), [p.text[:300] for _o, p in online]
    for items in orders:
        for product_id, quantity in items:
            sold[product_id] += quantity
    assert len({r.json()["id"] for _k, r in results}) == len(results)
    assert len(sales_of(pg_stack, shops[0].sentra_id, "online")) == len(orders)
    for shop in shops:
        mine = {key for key, r in results if r.json()["number"].startswith(("LDA-", "LDB-")[shops.index(shop)])}
        assert set(sales_of(pg_stack, shop.sentra_id, "pos")) == mine  # every answered sale is there, no other
        assert stock_of(pg_stack, shop) == {pid: stock - sold[pid] for pid, _p, stock in shop.products}
    check_books(pg_stack)


def test_last_five_pieces_go_to_exactly_five_buyers_across_counter_and_web(pg_stack, gunicorn):
    shop = seed_shop(pg_stack, "LST", 10, [(50_000, 5)])
    counters = open_counters(gunicorn, shop)
    [(product_id, price, _stock)] = shop.products
    counter_attempts, web_threads, web_attempts = 15, 5, 10
    start = threading.Barrier(len(counters) + web_threads)

    def at_counter(counter: Counter) -> list[requests.Response]:
        start.wait(timeout=60)
        return [sell_with_retries(counter, str(uuid.uuid4()), [{"product_id": product_id, "quantity": 1}],
                                  [{"method": "qris", "amount": price, "reference": "QR-LAST"}])
                for _ in range(counter_attempts)]

    def online(_index: int) -> list[tuple[str, requests.Response]]:
        start.wait(timeout=60)
        return [buy_online(gunicorn.url, [(product_id, 1)]) for _ in range(web_attempts)]

    with ThreadPoolExecutor(max_workers=len(counters) + web_threads) as pool:
        web_futures = [pool.submit(online, i) for i in range(web_threads)]
        answers = [a for batch in pool.map(at_counter, counters) for a in batch]
        web = [item for future in web_futures for item in future.result()]

    assert len(answers) + len(web) == 200
    statuses = Tally(a.status_code for a in answers)
    assert set(statuses) <= {201, 409}, statuses
    refused = [a for a in answers if a.status_code == 409]
    assert all(a.headers["Content-Type"].startswith("application/problem+json") for a in refused)
    assert all("stok" in a.json()["detail"].lower() for a in refused), refused[0].json()
    web_outcomes = Tally(outcome for outcome, _page in web)
    assert set(web_outcomes) <= {"paid", "refused"}, web_outcomes
    # Refused online at the cart, at checkout or at "Bayar" (where the goods are reserved): the
    # buyer reads that nothing is left, and is not charged.
    refused_web = [page for outcome, page in web if outcome == "refused"]
    assert all(page.status_code in (200, 409) and "tersisa 0" in page.text.lower() for page in refused_web)
    assert statuses[201] + web_outcomes["paid"] == 5, (statuses, web_outcomes)
    assert stock_of(pg_stack, shop) == {product_id: 0}
    assert len(sales_of(pg_stack, shop.sentra_id)) == 5
    check_books(pg_stack)


def test_killed_workers_leave_whole_sales_and_retries_complete_them_once(pg_stack, gunicorn):
    shop = seed_shop(pg_stack, "KIL", 6, [(12_000, 1_000), (34_000, 1_000), (56_000, 1_000)])
    counters = open_counters(gunicorn, shop)
    per_counter = 10
    rng = random.Random(42)
    planned = [[(str(uuid.uuid4()), *sale_request(rng, shop)) for _ in range(per_counter)] for _ in counters]
    first_answers: dict[str, int] = {}
    finished = 0
    lock = threading.Lock()
    halfway = threading.Event()
    killed: list[int] = []

    def run(index: int) -> None:
        nonlocal finished
        for key, lines, payments in planned[index]:
            try:
                answer = counters[index].sell(key, lines, payments)
                status = answer.status_code
            except requests.ConnectionError:
                status = 0  # the answer was lost: the kasir does not know whether it went through
            with lock:
                first_answers[key] = status
                finished += 1
                if finished == len(counters) * per_counter // 3:
                    halfway.set()

    def killer() -> None:
        assert halfway.wait(timeout=120)
        booted = gunicorn.booted
        pids = gunicorn.worker_pids()
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
        killed.extend(pids)
        gunicorn.wait_for_workers(booted + len(pids))

    with ThreadPoolExecutor(max_workers=len(counters) + 1) as pool:
        kill = pool.submit(killer)
        list(pool.map(run, range(len(counters))))
        kill.result()

    assert len(killed) == 3
    assert not set(killed) & set(gunicorn.worker_pids())
    outcomes = Tally(first_answers.values())
    print("kill outcomes", outcomes)
    assert set(outcomes) <= {0, 201, 503}, outcomes
    everything = {key: lines for batch in planned for key, lines, _p in batch}
    present = sales_of(pg_stack, shop.sentra_id)
    # Every sale is either whole (all its lines and its payment) or absent.
    for key, (_sale_id, n_lines, n_payments) in present.items():
        assert (n_lines, n_payments) == (len(everything[key]), 1), key
    assert {k for k, s in first_answers.items() if s == 201} <= set(present)
    check_books(pg_stack)

    # The kasir retries every sale with its key: each is completed exactly once.
    for index, counter in enumerate(counters):
        for key, lines, payments in planned[index]:
            answer = sell_with_retries(counter, key, lines, payments)
            assert answer.status_code == 201, (key, answer.text[:300])
            if key in present:
                assert answer.json()["id"] == present[key][0]
                assert answer.headers.get("Idempotent-Replayed") == "true"
    after = sales_of(pg_stack, shop.sentra_id)
    assert set(after) == set(everything)
    assert all((n_lines, n_pay) == (len(everything[k]), 1) for k, (_i, n_lines, n_pay) in after.items())
    sold: Tally[int] = Tally()
    for lines in everything.values():
        for line in lines:
            sold[line["product_id"]] += line["quantity"]
    assert stock_of(pg_stack, shop) == {pid: stock - sold[pid] for pid, _p, stock in shop.products}
    check_books(pg_stack)


def test_database_outage_answers_503_and_recovers_without_restart(pg_stack, gunicorn):
    shop = seed_shop(pg_stack, "OUT", 1, [(20_000, 10)])
    [counter] = open_counters(gunicorn, shop)
    [(product_id, price, _stock)] = shop.products
    body = ([{"product_id": product_id, "quantity": 2}], [{"method": "cash", "amount": 2 * price}])
    workers_before = gunicorn.worker_pids()

    pg_stack.server.stop_fast()
    try:
        health = requests.get(gunicorn.url + "/health", timeout=30)
        assert health.status_code == 503 and health.json()["database"] == "down"
        key = str(uuid.uuid4())
        api = counter.sell(key, *body)
        assert api.status_code == 503, api.text[:300]
        assert api.headers["Content-Type"].startswith("application/problem+json")
        assert "Database sedang tidak dapat dihubungi" in api.json()["detail"]
        page = counter.http.get(gunicorn.url + "/pos/penjualan", timeout=30, headers={"Accept": "text/html"})
        assert page.status_code == 503, page.text[:300]
        assert page.headers["Content-Type"].startswith("text/html")
        assert "Database sedang tidak dapat dihubungi" in page.text
    finally:
        pg_stack.server.start_again()

    assert requests.get(gunicorn.url + "/health", timeout=30).status_code == 200
    again = counter.sell(key, *body)
    assert again.status_code == 201, again.text[:300]
    assert counter.sell(key, *body).json()["id"] == again.json()["id"]
    assert gunicorn.worker_pids() == workers_before  # recovered without restarting anything
    assert stock_of(pg_stack, shop) == {product_id: 8}
    assert len(sales_of(pg_stack, shop.sentra_id)) == 1
    check_books(pg_stack)


def test_flask_ledger_verify_command_on_the_served_database(pg_stack, gunicorn):
    """The operators' command, as a process, with the app's own role, over everything above."""
    import subprocess

    from tests.ops.conftest import BIN, ROOT, _base_env

    result = subprocess.run([str(BIN / "flask"), "ledger", "verify"], cwd=ROOT, capture_output=True, text=True,
                            env=_base_env(pg_stack.workdir, pg_stack.app_url), timeout=120)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "OK: tidak ada masalah" in result.stdout
