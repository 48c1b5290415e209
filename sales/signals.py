"""Signals sent inside the sale's transaction; `payouts` subscribes to split the proceeds.

`sales` does not import `payouts`: the counter and the shop never need to know how proceeds
are split. Receivers run synchronously and must flush, never commit.
"""

from blinker import Namespace

_signals = Namespace()

#: sender: the `Sale` just recorded (lines and payments flushed)
sale_recorded = _signals.signal("sale-recorded")
#: sender: the `Refund` just recorded (lines flushed)
sale_refunded = _signals.signal("sale-refunded")
#: sender: the online `Sale` whose goods were delivered or picked up (the shop, inside its transaction)
online_sale_delivered = _signals.signal("online-sale-delivered")
