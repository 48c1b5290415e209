"""What the buyer is told, and when: one message per order event — received, paid, ready for pickup,
shipped, delivered or picked up, refunded, cancelled — in the buyer's language (chosen at checkout).

Each goes by e-mail through the job queue (`core.mail.send_mail`, a plain-text and an HTML part),
keyed so the same event never mails twice; staff can send the same text by WhatsApp from the
order page (`whatsapp_link`). Bodies hold the order's secret link and are never logged.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import quote

from flask import current_app, has_request_context, render_template
from flask_babel import force_locale
from flask_babel import gettext as _

from core.mail import send_mail
from shop.models import Fulfilment, FulfilmentStatus, Order, OrderStatus

#: the subject of each message kind (rendered in the buyer's language)
SUBJECTS = {
    "confirmation": lambda o: _("Pesanan %(number)s diterima", number=o.number),
    "paid": lambda o: _("Pembayaran pesanan %(number)s diterima", number=o.number),
    "ready": lambda o: _("Pesanan %(number)s siap diambil", number=o.number),
    "shipped": lambda o: _("Pesanan %(number)s sudah dikirim", number=o.number),
    "completed": lambda o: _("Pesanan %(number)s sudah Anda terima", number=o.number),
    "refunded": lambda o: _("Dana pesanan %(number)s dikembalikan", number=o.number),
    "refund_completed": lambda o: _("Dana pesanan %(number)s dikembalikan", number=o.number),
    "cancelled": lambda o: _("Pesanan %(number)s dibatalkan", number=o.number),
}
_URL = re.compile(r"(https?://\S+)")


@dataclass(frozen=True)
class BuyerMessage:
    subject: str
    text: str
    html: str


def compose(order: Order, kind: str, **context) -> BuyerMessage:
    """The message of `kind` for this order, in the buyer's language (in a request, a job or a CLI
    command alike)."""
    with _links_outside_requests(), force_locale(order.buyer_locale or "id"):
        text = render_template(f"shop/email/{kind}.txt", order=order, **context).strip() + "\n"
        subject = SUBJECTS[kind](order)
        paragraphs = [p.strip() for p in text.split("\n\n") if p.strip()]
        html = render_template("shop/email/_message.html", subject=subject,
                               paragraphs=[_URL.split(p) for p in paragraphs])
    return BuyerMessage(subject, text, html)


@contextmanager
def _links_outside_requests() -> Iterator[None]:
    """The messages link to the order page: `url_for` needs a request to build that path (the
    template puts PUBLIC_BASE_URL in front), which a job or CLI command does not have."""
    if has_request_context():
        yield
    else:
        with current_app.test_request_context():
            yield


def notify_buyer(order: Order, kind: str, **context) -> str:
    """Queue the buyer's e-mail (sent by a job once this transaction commits). One message per
    order, kind and event (a fulfilment, a refund), however often the same event is reported."""
    message = compose(order, kind, **context)
    event = context.get("refund") or context.get("fulfilment")
    key = f"order:{order.id}:{kind}" + (f":{type(event).__name__}:{event.id}" if event is not None else "")
    send_mail(order.buyer_email, message.subject, message.text, html=message.html, key=key)
    return message.text


def whatsapp_number(phone: str) -> str | None:
    """`0812-3456-7890` → `6281234567890` (wa.me wants the international form without +)."""
    digits = re.sub(r"\D", "", phone or "")
    if digits.startswith("0"):
        digits = "62" + digits[1:]
    return digits if 10 <= len(digits) <= 15 and digits.startswith("62") else None


#: the message a fulfilment's current status calls for
STATUS_MESSAGE = {FulfilmentStatus.PAID: "paid", FulfilmentStatus.READY: "ready",
                  FulfilmentStatus.SHIPPED: "shipped", FulfilmentStatus.COMPLETED: "completed",
                  FulfilmentStatus.REFUNDED: "refund_completed", FulfilmentStatus.CANCELLED: "cancelled"}


def whatsapp_link(fulfilment: Fulfilment) -> str | None:
    """A click-to-chat link to the buyer with the message for where their order stands, or None
    when the phone number cannot be used or there is nothing to say yet."""
    order = fulfilment.order
    kind = STATUS_MESSAGE.get(fulfilment.status)
    if order.status == OrderStatus.PENDING:
        kind = "confirmation"
    number = whatsapp_number(order.buyer_phone)
    if kind is None or number is None or kind == "refund_completed":
        return None
    text = compose(order, kind, fulfilment=fulfilment).text
    return f"https://wa.me/{number}?text={quote(text)}"
