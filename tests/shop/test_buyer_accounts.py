"""Optional buyer accounts: register, log in (with lock-out), see own orders; guests never need one."""

from __future__ import annotations

import sqlalchemy as sa

from accounts.models import LoginAttempt, Role, User
from core.extensions import db
from shop.models import Order
from tests.factories import TEST_PASSWORD, UserFactory
from tests.factories.shop import ShopProductFactory
from tests.shop.helpers import add_to_cart, place_order


def test_register_keeps_the_guest_cart_and_orders_are_listed(client, csrf):
    product = ShopProductFactory(stock=3, name="Selendang Tenun")
    add_to_cart(client, csrf, product, 1)
    response = client.post("/akun/daftar", data={"csrf_token": csrf(), "name": "Rina", "email": "rina@contoh.co.id",
                                                 "password": "Kata-sandi-123", "confirm": "Kata-sandi-123"})
    assert response.status_code == 302
    user = db.session.scalar(sa.select(User).where(User.email == "rina@contoh.co.id"))
    assert user.role == Role.BUYER
    assert "Selendang Tenun" in client.get("/keranjang").get_data(as_text=True)
    order = place_order(client, csrf, [])
    assert order.user_id == user.id
    page = client.get("/akun/pesanan").get_data(as_text=True)
    assert order.number in page


def test_buyer_login_refuses_wrong_passwords_and_staff_accounts(client, csrf):
    UserFactory(role=Role.BUYER, email="budi@contoh.co.id")
    UserFactory(role=Role.KASIR, email="kasir@contoh.co.id")
    bad = client.post("/akun/masuk", data={"csrf_token": csrf(), "email": "budi@contoh.co.id", "password": "salah"})
    assert bad.status_code == 401 and "Data masuk tidak cocok" in bad.get_data(as_text=True)
    staff = client.post("/akun/masuk", data={"csrf_token": csrf(), "email": "kasir@contoh.co.id",
                                             "password": TEST_PASSWORD})
    assert staff.status_code == 401
    assert db.session.scalar(sa.select(sa.func.count(LoginAttempt.id)).where(LoginAttempt.succeeded.is_(False))) == 2
    ok = client.post("/akun/masuk", data={"csrf_token": csrf(), "email": "budi@contoh.co.id",
                                          "password": TEST_PASSWORD})
    assert ok.status_code == 302 and ok.headers["Location"].endswith("/akun/pesanan")


def test_a_buyer_sees_only_their_own_orders(client, csrf, login_as):
    other = UserFactory(role=Role.BUYER, email="lain@contoh.co.id")
    place_order(client, csrf, [(ShopProductFactory(stock=1), 1)])  # a guest order
    mine = UserFactory(role=Role.BUYER, email="saya@contoh.co.id")
    login_as(mine)
    assert "Belum ada pesanan" in client.get("/akun/pesanan").get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Order.id)).where(Order.user_id == other.id)) == 0


def test_orders_page_needs_a_buyer_login(client):
    response = client.get("/akun/pesanan")
    assert response.status_code == 302 and "/akun/masuk" in response.headers["Location"]
