"""The server-side cart: guests keep a token in their session, buyers keep theirs by account.

Quantities are checked against today's stock (goods) or the day's remaining capacity
(services/tickets) whenever they change; the cart never reserves anything — "Bayar" does.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from core.errors import DomainError, NotFound, OutOfStock, ValidationFailed
from core.extensions import db
from inventory.models import Product
from inventory.stock import stock_level
from sales.models import RefundLine, SaleLine
from sentras.models import Sentra
from shop.models import Cart, CartItem, Fulfilment, Order, OrderLine, OrderStatus

MAX_QUANTITY = 99


@dataclass
class CartLine:
    item: CartItem
    product: Product
    unit_price: int
    line_total: int
    available: int | None  # pieces / tickets left; None = unlimited
    problem: str = ""


@dataclass
class CartGroup:
    """The part of the cart one Sentra fulfils."""

    sentra: Sentra
    lines: list[CartLine]

    @property
    def subtotal(self) -> int:
        return sum(line.line_total for line in self.lines)


def new_cart(user_id: int | None = None) -> Cart:
    cart = Cart(token=secrets.token_urlsafe(32), user_id=user_id)
    db.session.add(cart)
    db.session.flush()
    return cart


def find_cart(token: str | None, user_id: int | None) -> Cart | None:
    if user_id is not None:
        cart = db.session.scalar(sa.select(Cart).where(Cart.user_id == user_id).order_by(Cart.id.desc()).limit(1))
        if cart is not None:
            return cart
    if token:
        return db.session.scalar(sa.select(Cart).where(Cart.token == token, Cart.user_id.is_(None)))
    return None


def sellable_product(product_id: int) -> Product:
    product = db.session.get(Product, product_id)
    if product is None or not product.is_published or not product.is_active or not product.sentra.is_active:
        raise NotFound("Produk tidak ditemukan atau sudah tidak dijual.")
    return product


def tickets_taken(product_id: int, service_date: date) -> int:
    """Tickets sold (all channels, net of refunds) plus held by unpaid online orders for that day."""
    sold = db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(SaleLine.quantity), 0))
        .where(SaleLine.product_id == product_id, SaleLine.service_date == service_date)
    ) or 0
    refunded = db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(RefundLine.quantity), 0))
        .join(SaleLine, SaleLine.id == RefundLine.sale_line_id)
        .where(SaleLine.product_id == product_id, SaleLine.service_date == service_date)
    ) or 0
    held = db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(OrderLine.quantity), 0))
        .join(Fulfilment, Fulfilment.id == OrderLine.fulfilment_id)
        .join(Order, Order.id == Fulfilment.order_id)
        .where(OrderLine.product_id == product_id, OrderLine.service_date == service_date,
               Order.status == OrderStatus.PENDING, Order.stock_held.is_(True))
    ) or 0
    return int(sold) - int(refunded) + int(held)


def available_quantity(product: Product, service_date: date | None = None) -> int | None:
    """Pieces left (goods) or tickets left on `service_date` (services); None = unlimited."""
    if product.is_stock_tracked:
        return stock_level(product.id, product.sentra_id)
    if product.daily_capacity is None or service_date is None:
        return None
    return max(product.daily_capacity - tickets_taken(product.id, service_date), 0)


def _check_quantity(product: Product, quantity: int, service_date: date | None) -> None:
    if quantity <= 0 or quantity > MAX_QUANTITY:
        raise ValidationFailed({"quantity": f"Jumlah harus antara 1 dan {MAX_QUANTITY}."})
    if not product.is_stock_tracked:
        if service_date is None:
            raise ValidationFailed({"service_date": "Pilih tanggal kunjungan."})
        if service_date < _today(product):
            raise ValidationFailed({"service_date": "Tanggal kunjungan sudah lewat. Pilih tanggal lain."})
    left = available_quantity(product, service_date)
    if left is not None and quantity > left:
        if product.is_stock_tracked:
            raise OutOfStock(f"Stok {product.name} tersisa {left}.", product_id=product.id, available=left)
        raise OutOfStock(f"Kuota {product.name} pada tanggal itu tersisa {left}.", product_id=product.id,
                         available=left)


def _today(product: Product) -> date:
    return product.sentra.local_date()


def add_item(cart: Cart, product_id: int, quantity: int, service_date: date | None = None) -> CartItem:
    product = sellable_product(product_id)
    if product.is_stock_tracked:
        service_date = None
    item = next((i for i in cart.items if i.product_id == product.id and i.service_date == service_date), None)
    new_quantity = quantity + (item.quantity if item else 0)
    _check_quantity(product, new_quantity, service_date)
    if item is None:
        item = CartItem(product_id=product.id, quantity=new_quantity, service_date=service_date)
        cart.items.append(item)
    else:
        item.quantity = new_quantity
    db.session.flush()
    return item


def update_item(cart: Cart, item_id: int, quantity: int) -> None:
    item = next((i for i in cart.items if i.id == item_id), None)
    if item is None:
        raise NotFound("Barang ini tidak ada di keranjang Anda.")
    if quantity <= 0:
        cart.items.remove(item)
        db.session.flush()
        return
    _check_quantity(item.product, quantity, item.service_date)
    item.quantity = quantity
    db.session.flush()


def remove_item(cart: Cart, item_id: int) -> None:
    item = next((i for i in cart.items if i.id == item_id), None)
    if item is not None:
        cart.items.remove(item)
        db.session.flush()


def clear(cart: Cart) -> None:
    cart.items.clear()
    db.session.flush()


def merge_carts(guest: Cart, user_cart: Cart) -> None:
    """At login: the guest's items join the buyer's cart (quantities added, capped at what is left)."""
    for item in list(guest.items):
        try:
            add_item(user_cart, item.product_id, item.quantity, item.service_date)
        except DomainError:
            continue  # sold out or no longer sold: the line is dropped, the rest merges
    guest.items.clear()
    db.session.flush()


def cart_groups(cart: Cart | None) -> list[CartGroup]:
    """Lines grouped per Sentra, with prices from the product (never from the browser)."""
    if cart is None:
        return []
    groups: dict[int, CartGroup] = {}
    for item in cart.items:
        product = item.product
        problem = ""
        if not product.is_published or not product.is_active:
            problem = "Produk ini sudah tidak dijual; hapus dari keranjang."
        left = available_quantity(product, item.service_date)
        if not problem and left is not None and item.quantity > left:
            problem = f"Tersisa {left}; kurangi jumlahnya."
        line = CartLine(item=item, product=product, unit_price=product.price,
                        line_total=product.price * item.quantity, available=left, problem=problem)
        groups.setdefault(product.sentra_id, CartGroup(sentra=product.sentra, lines=[])).lines.append(line)
    return sorted(groups.values(), key=lambda g: g.sentra.name)


def item_count(cart: Cart | None) -> int:
    return sum(i.quantity for i in cart.items) if cart else 0
