"""Drive the shop through its HTTP routes like a buyer would."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from core.extensions import db
from shop.models import Order

BUYER = {"name": "Sari Pembeli", "phone": "081234567890", "email": "sari@contoh.co.id", "delivery": "pickup",
         "address": ""}


def add_to_cart(client, csrf, product, quantity=1, service_date=None):
    data = {"csrf_token": csrf(), "quantity": str(quantity)}
    if service_date:
        data["service_date"] = service_date.isoformat()
    return client.post(f"/produk/{product.id}/keranjang", data=data)


def place_order(client, csrf, products, **buyer) -> Order:
    """Cart → checkout → an unpaid order; returns it (fresh from the database)."""
    for product, quantity in products:
        response = add_to_cart(client, csrf, product, quantity)
        assert response.status_code == 302, response.get_data(as_text=True)
    response = client.post("/checkout", data={"csrf_token": csrf(), **BUYER, **buyer})
    assert response.status_code == 302, response.get_data(as_text=True)
    token = response.headers["Location"].rsplit("/", 1)[-1]
    db.session.expire_all()
    return db.session.scalar(sa.select(Order).where(Order.token == token))


def pay(client, csrf, order, method="pm_card_visa", attempt_key=None):
    return client.post(f"/pesanan/{order.token}/bayar", data={
        "csrf_token": csrf(), "attempt_key": attempt_key or str(uuid.uuid4()), "payment_method": method,
    })


def fresh(obj):
    db.session.expire_all()
    return db.session.get(type(obj), obj.id)


def paid_and_refunded_one(client, csrf, login_as, stripe_local, product, quantity: int, reason: str, **refund_form):
    """Order `quantity` × `product`, pay by test card, then a manager of its Sentra refunds one piece
    through the staff page; returns the (fresh) order."""
    import uuid

    from accounts.models import Role
    from tests.factories import UserFactory

    order = place_order(client, csrf, [(product, quantity)])
    pay(client, csrf, order)
    order = fresh(order)
    stripe_local.gate.wait_for(order.paid_intent_id, "payment_intent.succeeded")
    fulfilment, line = order.fulfilments[0], order.fulfilments[0].lines[0]
    login_as(UserFactory(role=Role.MANAGER, sentras=[product.sentra]))
    client.post(f"/staf/pesanan/{fulfilment.id}/kembalikan-dana", data={
        "csrf_token": csrf(), "client_key": str(uuid.uuid4()), "reason": reason, f"qty_{line.id}": "1",
        **refund_form})
    return fresh(order)
