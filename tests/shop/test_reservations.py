"""Stock holds: never oversell online, lapsed holds come back, online and counter compete fairly."""

from __future__ import annotations

import threading
import uuid
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from core.db import utcnow
from core.errors import OutOfStock
from core.extensions import db
from inventory.models import MovementKind, StockMovement
from inventory.stock import movements_sum, stock_level
from pos.models import Shift
from sales.models import Channel, PaymentMethod
from sales.services import LineRequest, PaymentRequest, record_sale
from shop.cart import add_item, new_cart
from shop.checkout import BuyerDetails, create_order, lock_order, start_attempt
from shop.models import DeliveryMethod, Order, OrderStatus
from tests.factories import UserFactory
from tests.factories.shop import ShopProductFactory, TicketFactory
from tests.shop.helpers import add_to_cart, fresh, place_order

DETAILS = BuyerDetails(name="Pembeli", phone="081200000000", email="p@contoh.co.id", delivery=DeliveryMethod.PICKUP)


def make_order(product, quantity=1, service_date=None) -> Order:
    cart = new_cart()
    add_item(cart, product.id, quantity, service_date)
    order = create_order(None, cart, DETAILS)
    db.session.commit()
    return order


def press_bayar_concurrently(app, order_ids: list[int]) -> list[str]:
    db.session.commit()  # the test thread must not hold SQLite's write lock while buyers race
    barrier = threading.Barrier(len(order_ids))
    results: list[str] = []

    def buyer(order_id: int) -> None:
        with app.app_context():
            barrier.wait()
            try:
                start_attempt(lock_order(order_id), str(uuid.uuid4()), "pm_card_visa")
                db.session.commit()
                results.append("held")
            except OutOfStock:
                db.session.rollback()
                results.append("out")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=buyer, args=(oid,)) for oid in order_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.committed  # buyers race in threads
def test_concurrent_buyers_for_the_last_pieces_never_oversell(app):
    product = ShopProductFactory(stock=3)
    order_ids = [make_order(product).id for _ in range(8)]
    results = press_bayar_concurrently(app, order_ids)
    assert sorted(results) == ["held"] * 3 + ["out"] * 5
    assert stock_level(product.id, product.sentra_id) == 0 == movements_sum(product.id, product.sentra_id)
    held = db.session.scalar(sa.select(sa.func.count(Order.id)).where(Order.stock_held.is_(True)))
    assert held == 3


@pytest.mark.committed  # buyers race in threads
def test_concurrent_buyers_for_the_last_tickets_of_a_day_never_overbook(app):
    ticket = TicketFactory(daily_capacity=2)
    day = date.today() + timedelta(days=3)
    order_ids = [make_order(ticket, 1, day).id for _ in range(5)]
    results = press_bayar_concurrently(app, order_ids)
    assert sorted(results) == ["held"] * 2 + ["out"] * 3


def test_an_expired_hold_returns_to_stock_by_the_cli_command(app, runner):
    product = ShopProductFactory(stock=2)
    order = make_order(product, 2)
    start_attempt(order, str(uuid.uuid4()), "pm_card_visa")
    order.hold_until = utcnow() - timedelta(minutes=1)
    db.session.commit()
    assert stock_level(product.id, product.sentra_id) == 0

    result = runner.invoke(args=["shop", "expire-reservations"])
    assert result.exit_code == 0, result.output
    assert "1 pesanan dilepas" in result.output
    db.session.expire_all()
    assert stock_level(product.id, product.sentra_id) == 2 == movements_sum(product.id, product.sentra_id)
    order = fresh(order)
    assert order.status == OrderStatus.PENDING and not order.stock_held  # still payable
    kinds = db.session.scalars(sa.select(StockMovement.kind).order_by(StockMovement.id)).all()
    assert kinds == [MovementKind.INTAKE, MovementKind.RESERVATION, MovementKind.RELEASE]
    # Running it again changes nothing.
    assert "0 pesanan dilepas" in runner.invoke(args=["shop", "expire-reservations"]).output


def test_an_expired_hold_is_released_lazily_when_the_order_is_viewed(client, csrf):
    product = ShopProductFactory(stock=1)
    order = place_order(client, csrf, [(product, 1)])
    start_attempt(order, str(uuid.uuid4()), "pm_card_visa")
    order.hold_until = utcnow() - timedelta(seconds=1)
    db.session.commit()
    page = client.get(f"/pesanan/{order.token}").get_data(as_text=True)
    assert "waktu pemesanan stok habis" in page
    assert stock_level(product.id, product.sentra_id) == 1


def _open_shift(product):
    kasir = UserFactory(sentras=[product.sentra])
    shift = Shift(sentra_id=product.sentra_id, cashier_id=kasir.id, opening_float=0)
    db.session.add(shift)
    db.session.commit()
    return kasir, shift


def _counter_sale(kasir, shift, product):
    return record_sale(kasir, product.sentra, channel=Channel.POS, shift=shift,
                       lines=[LineRequest(product_id=product.id, quantity=1)],
                       payments=[PaymentRequest(method=PaymentMethod.CASH, amount=product.price)],
                       client_key=str(uuid.uuid4()))


def test_a_piece_held_online_cannot_be_sold_at_the_counter(app):
    product = ShopProductFactory(stock=1, price=100_000)
    kasir, shift = _open_shift(product)
    order = make_order(product)
    start_attempt(order, str(uuid.uuid4()), "pm_card_visa")
    db.session.commit()
    with pytest.raises(OutOfStock):
        _counter_sale(kasir, shift, product)
    db.session.rollback()
    assert stock_level(product.id, product.sentra_id) == 0


def test_a_piece_sold_at_the_counter_cannot_be_held_online(app):
    product = ShopProductFactory(stock=1, price=100_000)
    kasir, shift = _open_shift(product)
    order = make_order(product)
    _counter_sale(kasir, shift, product)
    db.session.commit()
    with pytest.raises(OutOfStock):
        start_attempt(fresh(order), str(uuid.uuid4()), "pm_card_visa")
    db.session.rollback()
    assert not fresh(order).stock_held


@pytest.mark.committed  # buyers race in threads
def test_counter_and_online_race_for_the_last_piece_one_wins(app):
    product = ShopProductFactory(stock=1, price=100_000)
    kasir, shift = _open_shift(product)
    order_id = make_order(product).id
    db.session.commit()
    barrier = threading.Barrier(2)
    results = []

    def online():
        with app.app_context():
            barrier.wait()
            try:
                start_attempt(lock_order(order_id), str(uuid.uuid4()), "pm_card_visa")
                db.session.commit()
                results.append("online")
            except OutOfStock:
                db.session.rollback()
            finally:
                db.session.remove()

    def counter():
        with app.app_context():
            barrier.wait()
            try:
                _counter_sale(db.session.merge(kasir), db.session.merge(shift), db.session.merge(product))
                db.session.commit()
                results.append("counter")
            except OutOfStock:
                db.session.rollback()
            finally:
                db.session.remove()

    threads = [threading.Thread(target=online), threading.Thread(target=counter)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 1
    assert stock_level(product.id, product.sentra_id) == 0 == movements_sum(product.id, product.sentra_id)


def test_the_cart_refuses_more_than_is_left_and_tampered_prices_are_ignored(client, csrf):
    product = ShopProductFactory(stock=2, price=150_000)
    response = add_to_cart(client, csrf, product, 3)
    assert response.status_code == 409 and "tersisa 2" in response.get_data(as_text=True)
    add_to_cart(client, csrf, product, 1)
    response = client.post("/checkout", data={
        "csrf_token": csrf(), "name": "Tukang Ubah", "phone": "081299999999", "email": "x@contoh.co.id",
        "delivery": "pickup", "price": "1", "total": "1", "unit_price": "1", "quantity": "99"})
    assert response.status_code == 302
    order = db.session.scalar(sa.select(Order))
    assert order.total == 150_000 and order.fulfilments[0].lines[0].quantity == 1


def test_delivery_adds_the_flat_shipping_fee_of_each_sentra(client, csrf):
    from tests.factories import SentraFactory

    a, b = SentraFactory(shipping_fee=20_000), SentraFactory(shipping_fee=35_000)
    order = place_order(client, csrf, [(ShopProductFactory(sentra=a, stock=1, price=100_000), 1),
                                       (ShopProductFactory(sentra=b, stock=1, price=50_000), 1)],
                        delivery="delivery", address="Jl. Merdeka No. 1, Temanggung 56211")
    assert (order.subtotal, order.shipping_total, order.total) == (150_000, 55_000, 205_000)
    assert sorted(f.total for f in order.fulfilments) == [85_000, 120_000]


def test_orders_left_unpaid_for_two_days_are_cancelled(app, runner):
    product = ShopProductFactory(stock=1)
    old, recent = make_order(product), make_order(product)
    old.created_at = utcnow() - timedelta(hours=49)
    db.session.commit()
    runner.invoke(args=["shop", "expire-reservations"])
    assert fresh(old).status == OrderStatus.CANCELLED and "otomatis" in fresh(old).cancel_reason
    assert fresh(recent).status == OrderStatus.PENDING


def test_bayar_is_refused_when_a_product_was_withdrawn_or_repriced(client, csrf):
    from core.errors import Conflict

    product = ShopProductFactory(stock=2, price=50_000)
    order = make_order(product)
    product.price = 55_000
    db.session.commit()
    with pytest.raises(Conflict, match="Harga"):
        start_attempt(fresh(order), str(uuid.uuid4()), "pm_card_visa")
    db.session.rollback()
    product.price, product.is_active = 50_000, False
    db.session.commit()
    with pytest.raises(Conflict, match="tidak dijual"):
        start_attempt(fresh(order), str(uuid.uuid4()), "pm_card_visa")
    db.session.rollback()
    assert stock_level(product.id, product.sentra_id) == 2


def test_a_second_bayar_waits_for_an_attempt_in_flight_unless_it_is_stale(app):
    from core.errors import Conflict

    product = ShopProductFactory(stock=2)
    order = make_order(product)
    first, _ = start_attempt(order, str(uuid.uuid4()), "pm_card_visa")
    db.session.commit()
    with pytest.raises(Conflict, match="masih diproses"):
        start_attempt(fresh(order), str(uuid.uuid4()), "pm_card_visa")
    db.session.rollback()
    first = fresh(first)
    first.updated_at = utcnow() - timedelta(minutes=5)
    db.session.commit()
    _second, is_new = start_attempt(fresh(order), str(uuid.uuid4()), "pm_card_visa")
    assert is_new and fresh(first).status == "error"
    assert stock_level(product.id, product.sentra_id) == 1  # still one hold, not two
