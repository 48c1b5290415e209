"""The online shop: carts, orders split into one fulfilment per Sentra, payment attempts,
webhook events (processed once by id) and refunds.

Money is integer rupiah everywhere here; Stripe's minor units exist only in `stripe_gateway`.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import UTCDateTime, enum_column, utcnow
from core.extensions import Model

if TYPE_CHECKING:
    from inventory.models import Product
    from sales.models import Sale
    from sentras.models import Sentra


class Cart(Model):
    """A server-side cart: a guest's is found by the token in their session, a buyer's by user."""

    __tablename__ = "shop_carts"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(sa.String(43), unique=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    items: Mapped[list[CartItem]] = relationship(back_populates="cart", order_by="CartItem.id",
                                                 cascade="all, delete-orphan")


class CartItem(Model):
    __tablename__ = "shop_cart_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    cart_id: Mapped[int] = mapped_column(sa.ForeignKey("shop_carts.id"), index=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("products.id"), index=True)
    quantity: Mapped[int] = mapped_column(sa.Integer)
    #: services/tickets: the day the ticket is for
    service_date: Mapped[date | None] = mapped_column(sa.Date)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    cart: Mapped[Cart] = relationship(back_populates="items")
    product: Mapped[Product] = relationship()

    __table_args__ = (sa.CheckConstraint("quantity > 0", name="quantity_positive"),)


class OrderStatus(enum.StrEnum):
    PENDING = "pending"
    PAID = "paid"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return {"pending": "Menunggu pembayaran", "paid": "Dibayar", "cancelled": "Dibatalkan"}[self.value]


class DeliveryMethod(enum.StrEnum):
    PICKUP = "pickup"
    DELIVERY = "delivery"

    @property
    def label(self) -> str:
        return {"pickup": "Ambil di Sentra", "delivery": "Dikirim ke alamat"}[self.value]


class FulfilmentStatus(enum.StrEnum):
    PENDING = "pending"
    PAID = "paid"
    READY = "ready"
    SHIPPED = "shipped"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"

    @property
    def label(self) -> str:
        return {"pending": "Menunggu pembayaran", "paid": "Dibayar", "ready": "Siap diambil",
                "shipped": "Dikirim", "completed": "Selesai", "cancelled": "Dibatalkan",
                "refunded": "Dikembalikan"}[self.value]


#: staff may move a fulfilment only along these edges (status never goes backwards)
FULFILMENT_TRANSITIONS: dict[FulfilmentStatus, set[FulfilmentStatus]] = {
    FulfilmentStatus.PENDING: {FulfilmentStatus.PAID, FulfilmentStatus.CANCELLED},
    FulfilmentStatus.PAID: {FulfilmentStatus.READY, FulfilmentStatus.SHIPPED, FulfilmentStatus.REFUNDED},
    FulfilmentStatus.READY: {FulfilmentStatus.COMPLETED, FulfilmentStatus.REFUNDED},
    FulfilmentStatus.SHIPPED: {FulfilmentStatus.COMPLETED, FulfilmentStatus.REFUNDED},
    FulfilmentStatus.COMPLETED: {FulfilmentStatus.REFUNDED},
    FulfilmentStatus.CANCELLED: set(),
    FulfilmentStatus.REFUNDED: set(),
}


class Order(Model):
    __tablename__ = "shop_orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: readable: WEB-<YYYYMMDD>-<id>
    number: Mapped[str] = mapped_column(sa.String(40), unique=True)
    #: unguessable token for the buyer's status link (no login needed)
    token: Mapped[str] = mapped_column(sa.String(43), unique=True)
    status: Mapped[OrderStatus] = mapped_column(enum_column(OrderStatus), default=OrderStatus.PENDING, index=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    buyer_name: Mapped[str] = mapped_column(sa.String(120))
    buyer_phone: Mapped[str] = mapped_column(sa.String(20))
    buyer_email: Mapped[str] = mapped_column(sa.String(254))
    #: the language the buyer shopped in: their messages are written in it
    buyer_locale: Mapped[str] = mapped_column(sa.String(8), default="id", server_default="id")
    delivery: Mapped[DeliveryMethod] = mapped_column(enum_column(DeliveryMethod))
    address: Mapped[str] = mapped_column(sa.Text, default="")
    subtotal: Mapped[int] = mapped_column(sa.BigInteger)
    shipping_total: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    total: Mapped[int] = mapped_column(sa.BigInteger)
    #: RESERVATION movements are currently holding this order's goods
    stock_held: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    #: the hold ends at this time unless paid (RESERVATION_MINUTES after "Bayar")
    hold_until: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    #: the PaymentIntent that paid the order (set exactly once)
    paid_intent_id: Mapped[str | None] = mapped_column(sa.String(80), unique=True)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancel_reason: Mapped[str] = mapped_column(sa.String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    fulfilments: Mapped[list[Fulfilment]] = relationship(back_populates="order", order_by="Fulfilment.id")
    attempts: Mapped[list[PaymentAttempt]] = relationship(back_populates="order", order_by="PaymentAttempt.id")

    @property
    def refunded_amount(self) -> int:
        """What staff gave back of this order (goods and shipping), over all its Sentras."""
        return sum(f.refunded_amount for f in self.fulfilments)

    @property
    def net_total(self) -> int:
        """What the buyer paid and kept paying for: the total less refunds."""
        return self.total - self.refunded_amount

    __table_args__ = (
        sa.CheckConstraint("subtotal >= 0 AND shipping_total >= 0", name="amounts_non_negative"),
        sa.CheckConstraint("total = subtotal + shipping_total", name="total_is_subtotal_plus_shipping"),
    )

    @property
    def is_payable(self) -> bool:
        return self.status == OrderStatus.PENDING


class Fulfilment(Model):
    """The part of an order one Sentra sends or hands over; becomes its own `Sale` when paid."""

    __tablename__ = "shop_fulfilments"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("shop_orders.id"), index=True)
    sentra_id: Mapped[int] = mapped_column(sa.ForeignKey("sentras.id"), index=True)
    status: Mapped[FulfilmentStatus] = mapped_column(enum_column(FulfilmentStatus), default=FulfilmentStatus.PENDING,
                                                     index=True)
    subtotal: Mapped[int] = mapped_column(sa.BigInteger)
    shipping_fee: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    total: Mapped[int] = mapped_column(sa.BigInteger)
    sale_id: Mapped[int | None] = mapped_column(sa.ForeignKey("sales.id"), unique=True)
    tracking_number: Mapped[str] = mapped_column(sa.String(80), default="")
    #: rupiah returned to the buyer so far (goods and shipping)
    refunded_amount: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    ready_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    shipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    order: Mapped[Order] = relationship(back_populates="fulfilments")
    sentra: Mapped[Sentra] = relationship()
    sale: Mapped[Sale | None] = relationship()
    lines: Mapped[list[OrderLine]] = relationship(back_populates="fulfilment", order_by="OrderLine.id")

    __table_args__ = (
        sa.CheckConstraint("total = subtotal + shipping_fee", name="total_is_subtotal_plus_shipping"),
        sa.CheckConstraint("refunded_amount >= 0 AND refunded_amount <= total", name="refunded_in_range"),
    )

    @property
    def reservation_reference(self) -> str:
        """The stock-movement reference of this fulfilment's reservation (record_sale converts it)."""
        return f"order:{self.id}"

    @property
    def refundable_amount(self) -> int:
        return self.total - self.refunded_amount


class OrderLine(Model):
    __tablename__ = "shop_order_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    fulfilment_id: Mapped[int] = mapped_column(sa.ForeignKey("shop_fulfilments.id"), index=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("products.id"), index=True)
    product_name: Mapped[str] = mapped_column(sa.String(160))
    sku: Mapped[str] = mapped_column(sa.String(40))
    is_stock_tracked: Mapped[bool] = mapped_column(sa.Boolean)
    unit_price: Mapped[int] = mapped_column(sa.BigInteger)
    quantity: Mapped[int] = mapped_column(sa.Integer)
    line_total: Mapped[int] = mapped_column(sa.BigInteger)
    service_date: Mapped[date | None] = mapped_column(sa.Date, index=True)
    refunded_qty: Mapped[int] = mapped_column(sa.Integer, default=0)

    fulfilment: Mapped[Fulfilment] = relationship(back_populates="lines")
    product: Mapped[Product] = relationship()

    __table_args__ = (
        sa.CheckConstraint("quantity > 0", name="quantity_positive"),
        sa.CheckConstraint("line_total = quantity * unit_price", name="line_total_exact"),
        sa.CheckConstraint("refunded_qty >= 0 AND refunded_qty <= quantity", name="refunded_qty_range"),
    )


class PaymentAttempt(Model):
    """One press of "Bayar": one PaymentIntent, created with its own idempotency key."""

    __tablename__ = "shop_payment_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("shop_orders.id"), index=True)
    idempotency_key: Mapped[str] = mapped_column(sa.String(80), unique=True)
    payment_intent_id: Mapped[str | None] = mapped_column(sa.String(80), index=True)
    #: Stripe's PaymentIntent status, or "error" when Stripe could not be reached
    status: Mapped[str] = mapped_column(sa.String(40), default="created")
    amount: Mapped[int] = mapped_column(sa.BigInteger)
    payment_method: Mapped[str] = mapped_column(sa.String(80), default="")
    #: the key Stripe sees on PaymentIntent create: order + amount + try number + payment method, so
    #: a retry of a try whose answer was lost, with the same method, sends the same key (and Stripe
    #: answers with the same intent); another method is another intent (checkout.intent_key)
    stripe_idempotency_key: Mapped[str | None] = mapped_column(sa.String(80))
    message: Mapped[str] = mapped_column(sa.String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    order: Mapped[Order] = relationship(back_populates="attempts")


class WebhookEvent(Model):
    """Every verified Stripe event, stored once by id: a redelivery finds its row and stops."""

    __tablename__ = "shop_webhook_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(sa.String(80), unique=True)
    event_type: Mapped[str] = mapped_column(sa.String(80))
    payment_intent_id: Mapped[str] = mapped_column(sa.String(80), default="", index=True)
    order_id: Mapped[int | None] = mapped_column(sa.ForeignKey("shop_orders.id"), index=True)
    #: what processing did: fulfilled, already_paid, unknown_order, amount_mismatch, ignored, …
    outcome: Mapped[str] = mapped_column(sa.String(60), default="")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OrderRefund(Model):
    """A staff refund of (part of) one fulfilment; Stripe first, then `refund_sale`, by one key."""

    __tablename__ = "shop_order_refunds"

    id: Mapped[int] = mapped_column(primary_key=True)
    fulfilment_id: Mapped[int] = mapped_column(sa.ForeignKey("shop_fulfilments.id"), index=True)
    client_key: Mapped[str] = mapped_column(sa.String(80), unique=True)
    amount: Mapped[int] = mapped_column(sa.BigInteger)
    include_shipping: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    #: the goods come back sound and go back on the shelf (False: damaged, written off)
    restock: Mapped[bool] = mapped_column(sa.Boolean, default=True, server_default=sa.true())
    #: {order_line_id: quantity}
    lines: Mapped[dict] = mapped_column(sa.JSON)
    reason: Mapped[str] = mapped_column(sa.String(200))
    #: pending (Stripe not yet confirmed) → succeeded
    status: Mapped[str] = mapped_column(sa.String(20), default="pending")
    stripe_refund_id: Mapped[str | None] = mapped_column(sa.String(80), unique=True)
    sale_refund_id: Mapped[int | None] = mapped_column(sa.ForeignKey("refunds.id"))
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    fulfilment: Mapped[Fulfilment] = relationship()

    __table_args__ = (sa.CheckConstraint("amount > 0", name="amount_positive"),)


class PaymentRefund(Model):
    """Money that arrived where it must not stay (an intent for a cancelled order, a wrong amount,
    a second charge, an order that cannot be booked), given back in full, once per intent.

    Stored (pending) in the webhook's transaction, then sent to Stripe with the same key after
    commit; a redelivered event finds a pending row and finishes it, never a second refund.
    """

    __tablename__ = "shop_payment_refunds"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("shop_orders.id"), index=True)
    payment_intent_id: Mapped[str] = mapped_column(sa.String(80), index=True)
    #: the Stripe idempotency key, one per intent: auto-refund-<intent id>
    idempotency_key: Mapped[str] = mapped_column(sa.String(80), unique=True)
    #: why: order_cancelled, amount_mismatch, duplicate_payment, unfulfillable
    kind: Mapped[str] = mapped_column(sa.String(40))
    #: rupiah charged (NULL when the intent was not in whole IDR); the refund is always in full
    amount: Mapped[int | None] = mapped_column(sa.BigInteger)
    currency: Mapped[str] = mapped_column(sa.String(3), default="idr")
    #: pending (not yet confirmed by Stripe) → succeeded
    status: Mapped[str] = mapped_column(sa.String(20), default="pending")
    stripe_refund_id: Mapped[str | None] = mapped_column(sa.String(80), unique=True)
    #: a delivery is sending it to Stripe since then (another waits until it is stale)
    attempted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    message: Mapped[str] = mapped_column(sa.String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    refunded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    order: Mapped[Order] = relationship()

    __table_args__ = (sa.CheckConstraint("amount IS NULL OR amount >= 0", name="amount_non_negative"),)

    @property
    def kind_label(self) -> str:
        return {"order_cancelled": "pembayaran untuk pesanan yang sudah dibatalkan",
                "amount_mismatch": "jumlah atau mata uang tidak sesuai pesanan",
                "duplicate_payment": "pembayaran ganda",
                "unfulfillable": "pesanan tidak dapat diproses"}.get(self.kind, self.kind)


class SavedAddress(Model):
    """A buyer's phone and delivery address from an earlier order, offered again at checkout.

    Kept per account (never on the user row: a phone there is a maker's login)."""

    __tablename__ = "shop_saved_addresses"
    __table_args__ = (sa.UniqueConstraint("user_id", "phone", "address", name="one_per_phone_and_address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    phone: Mapped[str] = mapped_column(sa.String(20))
    #: empty for a pickup order (only the phone is remembered)
    address: Mapped[str] = mapped_column(sa.Text, default="")
    last_used_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
