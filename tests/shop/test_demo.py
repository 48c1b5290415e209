"""The shop's demo loader is idempotent and leaves staff decisions alone."""

from __future__ import annotations

from shop.demo import load_published_products, load_shipping_fees
from tests.factories import SentraFactory
from tests.factories.shop import ShopProductFactory


def test_demo_sets_fees_once_and_publishes_only_on_first_load():
    sentra = SentraFactory(code="TMG")
    product = ShopProductFactory(sentra=sentra, is_published=False)
    assert load_shipping_fees() == 1 and sentra.shipping_fee == 20_000
    assert load_shipping_fees() == 0
    assert load_published_products() == 1 and product.is_published
    product.is_published = False
    ShopProductFactory(sentra=sentra, is_published=True)
    assert load_published_products() == 0 and not product.is_published
