"""Property: whatever the cart and tender mix, recorded amounts are exact and consistent."""

from __future__ import annotations

import uuid

from hypothesis import given, settings
from hypothesis import strategies as st

from core.extensions import db
from core.money import round_cash
from inventory.stock import movements_sum, stock_level
from sales.models import Channel, PaymentMethod
from sales.services import LineRequest, PaymentRequest, record_sale
from tests.factories import ProductFactory
from tests.factories.sales import counter_setup, stock_in

UNIT = 100


def test_amounts_are_exact():
    sentra, kasir, manager, product, ticket, shift = counter_setup(stock=0)
    odd = ProductFactory(sentra=sentra, price=12_345, maker=product.maker)
    products = [product, ticket, odd]
    for p in (product, odd):
        stock_in(p, 2_000)

    @settings(max_examples=60, deadline=None)
    @given(
        cart=st.lists(st.tuples(st.integers(0, 2), st.integers(1, 3), st.integers(0, 100)), min_size=1, max_size=4),
        non_cash_share=st.integers(0, 100),
        method=st.sampled_from([PaymentMethod.QRIS, PaymentMethod.CARD, PaymentMethod.TRANSFER]),
        extra_cash=st.integers(0, 60_000),
    )
    def check(cart, non_cash_share, method, extra_cash):
        lines = []
        for index, qty, discount_pct in cart:
            item = products[index]
            lines.append(LineRequest(item.id, qty, discount=item.price * qty * discount_pct // 100))
        total = sum(products[i].price * q for i, q, _ in cart) - sum(ln.discount for ln in lines)
        payments = []
        non_cash = total * non_cash_share // 100
        if total - non_cash > 0 and round_cash(total - non_cash, UNIT) == 0:
            non_cash = total  # a cash part that rounds to Rp 0 is not tendered: the card pays it all
        if non_cash:
            payments.append(PaymentRequest(method, non_cash, reference="REF-1"))
        if total - non_cash > 0:
            cash = round_cash(total - non_cash, UNIT)
            payments.append(PaymentRequest(PaymentMethod.CASH, cash, tendered=cash + extra_cash))
        if not payments:  # a wholly discounted cart has nothing to pay: not a counter sale
            return
        before = {p.id: stock_level(p.id, sentra.id) for p in products if p.is_stock_tracked}
        sale = record_sale(kasir, sentra, channel=Channel.POS, lines=lines, payments=payments,
                           client_key=str(uuid.uuid4()), shift=shift, discount_approver=manager)
        db.session.commit()
        assert sale.total == total == sale.subtotal - sale.discount_total
        assert sum(ln.line_total for ln in sale.lines) == sale.total
        assert sum(p.amount for p in sale.payments) == sale.total + sale.rounding
        assert abs(sale.rounding) <= UNIT // 2
        has_cash = any(p.method == PaymentMethod.CASH for p in sale.payments)
        if not has_cash:
            assert sale.rounding == 0
        assert sum(p.change for p in sale.payments) == (extra_cash if has_cash else 0)
        for item in products:
            if item.is_stock_tracked:
                sold = sum(q for i, q, _ in cart if products[i].id == item.id)
                assert stock_level(item.id, sentra.id) == before[item.id] - sold == movements_sum(item.id, sentra.id)

    check()
