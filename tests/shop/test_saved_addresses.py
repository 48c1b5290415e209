"""A buyer with an account finds their phone and delivery addresses filled in at the next checkout."""

from __future__ import annotations

import re

from core.extensions import db
from shop.services import register_buyer, saved_addresses
from tests.factories.shop import ShopProductFactory
from tests.shop.helpers import place_order

PASSWORD = "Kopi-tubruk-Temanggung-88"
HOME = "Jl. Pemuda 10, Magelang 56111"
OFFICE = "Balai Kartini, Jl. Ahmad Yani 5, Temanggung"


def _field(page: str, name: str) -> str:
    if name == "address":
        return re.search(r'<textarea[^>]*name="address"[^>]*>([^<]*)</textarea>', page).group(1).strip()
    return re.search(rf'name="{name}"[^>]*value="([^"]*)"', page).group(1)


def test_the_next_checkout_offers_the_phone_and_address_of_the_last_order(client, csrf, login_as):
    buyer = register_buyer("Rina Wulandari", "rina@contoh.co.id", PASSWORD)
    db.session.commit()
    login_as(buyer)
    product = ShopProductFactory(stock=5, price=45_000)
    place_order(client, csrf, [(product, 1)], name="Rina Wulandari", email="rina@contoh.co.id",
                phone="0812-1111-2222", delivery="delivery", address=HOME)
    client.post(f"/produk/{product.id}/keranjang", data={"csrf_token": csrf(), "quantity": "1"})
    page = client.get("/checkout").get_data(as_text=True)
    assert _field(page, "phone") == "0812-1111-2222" and _field(page, "address") == HOME
    assert '<input checked id="delivery-1" name="delivery" required type="radio" value="delivery">' in page


def test_several_addresses_are_kept_once_each_newest_first_and_one_can_be_picked(client, csrf, login_as):
    buyer = register_buyer("Rina Wulandari", "rina@contoh.co.id", PASSWORD)
    db.session.commit()
    login_as(buyer)
    product = ShopProductFactory(stock=9, price=45_000)
    for address in (HOME, OFFICE, HOME):
        place_order(client, csrf, [(product, 1)], name="Rina Wulandari", email="rina@contoh.co.id",
                    phone="081211112222", delivery="delivery", address=address)
    assert [a.address for a in saved_addresses(buyer)] == [HOME, OFFICE]
    office = saved_addresses(buyer)[1]
    client.post(f"/produk/{product.id}/keranjang", data={"csrf_token": csrf(), "quantity": "1"})
    page = client.get(f"/checkout?alamat={office.id}").get_data(as_text=True)
    assert "Alamat tersimpan" in page and _field(page, "address") == OFFICE


def test_a_guest_checkout_saves_nothing_and_another_buyers_address_is_never_offered(client, csrf, login_as):
    product = ShopProductFactory(stock=9, price=45_000)
    place_order(client, csrf, [(product, 1)], delivery="delivery", address=HOME)  # a guest
    other = register_buyer("Budi Santoso", "budi@contoh.co.id", PASSWORD)
    rina = register_buyer("Rina Wulandari", "rina@contoh.co.id", PASSWORD)
    db.session.commit()
    login_as(other)
    place_order(client, csrf, [(product, 1)], name="Budi", email="budi@contoh.co.id", phone="081299998888",
                delivery="delivery", address=OFFICE)
    budi_address = saved_addresses(other)[0]
    assert saved_addresses(rina) == []
    login_as(rina)
    client.post(f"/produk/{product.id}/keranjang", data={"csrf_token": csrf(), "quantity": "1"})
    page = client.get(f"/checkout?alamat={budi_address.id}").get_data(as_text=True)
    assert OFFICE not in page and "081299998888" not in page
