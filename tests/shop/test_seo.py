"""Links shared on WhatsApp preview with photo, name and price; search engines find every public
page and none of the private ones."""

from __future__ import annotations

import json
import re

from tests.factories import SentraFactory
from tests.factories.shop import ShopProductFactory


def test_a_product_page_carries_opengraph_tags_and_a_json_ld_product(client):
    product = ShopProductFactory(stock=3, price=67_000, name="Batik Ciprat Biru", description="Kain katun  2 m.")
    page = client.get(f"/produk/{product.id}").get_data(as_text=True)
    url = f"http://127.0.0.1:5000/produk/{product.id}"
    assert f'<link rel="canonical" href="{url}">' in page
    assert '<meta property="og:title" content="Batik Ciprat Biru · Rp 67.000">' in page
    assert '<meta property="og:description" content="Kain katun 2 m.">' in page
    data = json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S).group(1))
    assert data["@type"] == "Product" and data["name"] == "Batik Ciprat Biru"
    assert data["offers"] == {"@type": "Offer", "price": "67000", "priceCurrency": "IDR", "url": url,
                              "availability": "https://schema.org/InStock",
                              "seller": {"@type": "Organization", "name": product.sentra.name}}


def test_a_product_photo_is_the_preview_image(client, app):
    import io

    from PIL import Image

    from accounts.models import Role
    from core.extensions import db
    from inventory import services
    from tests.factories import UserFactory

    product = ShopProductFactory(stock=1, price=45_000)
    picture = io.BytesIO()
    Image.new("RGB", (300, 300), (10, 120, 60)).save(picture, "PNG")
    photo = services.add_product_photo(UserFactory(role=Role.MANAGER, sentras=[product.sentra]), product,
                                       picture.getvalue(), "foto.png")
    db.session.commit()
    page = client.get(f"/produk/{product.id}").get_data(as_text=True)
    image = f"http://127.0.0.1:5000/inventory/berkas/{photo.file_sha256}.webp"
    assert f'<meta property="og:image" content="{image}">' in page and f'"image": ["{image}"]' in page


def test_the_sitemap_lists_public_pages_only(client):
    shown = ShopProductFactory(stock=1)
    hidden = ShopProductFactory(stock=1, is_published=False)
    closed = ShopProductFactory(stock=1, sentra=SentraFactory(is_active=False))
    body = client.get("/sitemap.xml")
    assert body.mimetype == "application/xml"
    text = body.get_data(as_text=True)
    assert f"/produk/{shown.id}</loc>" in text and f"/sentra/{shown.sentra.code}</loc>" in text
    assert f"/produk/{hidden.id}<" not in text and f"/produk/{closed.id}<" not in text


def test_robots_keeps_crawlers_out_of_private_pages(client):
    text = client.get("/robots.txt").get_data(as_text=True)
    for path in ("/pesanan/", "/checkout", "/staf", "/pos/", "/payouts/"):
        assert f"Disallow: {path}" in text
    assert "Sitemap: http://127.0.0.1:5000/sitemap.xml" in text
