"""What search engines and link previews see: page meta and OpenGraph tags, JSON-LD `Product`,
`/robots.txt` and `/sitemap.xml`. A link shared on WhatsApp shows the photo, name and price.

Only public things are listed: published products of active Sentras and the Sentras' pages; order
pages (secret links), staff, counter and maker pages are kept out (`robots.txt`).
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app, url_for

from core.extensions import db
from core.money import format_rupiah
from inventory.models import Product
from sentras.models import Sentra

#: never crawled: secret order links, the cart and checkout, every staff and maker area
PRIVATE_PATHS = ("/pesanan/", "/keranjang", "/checkout", "/akun/", "/accounts/", "/staf", "/pos/", "/inventory/",
                 "/payouts/", "/reports/", "/sentras/", "/stripe/", "/metrics")


def absolute(path: str) -> str:
    return current_app.config.get("PUBLIC_BASE_URL", "").rstrip("/") + path


@dataclass(frozen=True)
class PageMeta:
    title: str
    description: str
    url: str
    image: str | None = None
    kind: str = "website"
    json_ld: dict | None = None


def product_meta(product: Product, photo_path: str | None, available: int | None) -> PageMeta:
    """Meta, OpenGraph and JSON-LD for a product page (`photo_path`: the first photo's URL path)."""
    url = absolute(url_for("shop.product_detail", product_id=product.id))
    description = " ".join((product.description or "").split())[:200] or \
        f"{product.name} — {format_rupiah(product.price)}, karya penerima manfaat {product.sentra.name}"
    image = absolute(photo_path) if photo_path else None
    in_stock = available is None or available > 0
    offer = {"@type": "Offer", "price": str(product.price), "priceCurrency": "IDR", "url": url,
             "availability": "https://schema.org/" + ("InStock" if in_stock else "OutOfStock"),
             "seller": {"@type": "Organization", "name": product.sentra.name}}
    json_ld: dict[str, object] = {
        "@context": "https://schema.org", "@type": "Product", "name": product.name, "sku": product.sku,
        "description": description, "category": product.category or None, "offers": offer,
        "brand": {"@type": "Brand", "name": "Sentra Kreasi ATENSI"}}
    if image:
        json_ld["image"] = [image]
    return PageMeta(f"{product.name} · {format_rupiah(product.price)}", description, url, image, "product",
                    {k: v for k, v in json_ld.items() if v is not None})


def sitemap_urls() -> list[str]:
    """Every public page worth finding: home, catalogue, each Sentra, each published product."""
    urls = [absolute(url_for("shop.home")), absolute(url_for("shop.catalogue"))]
    sentras = db.session.scalars(sa.select(Sentra.code).where(Sentra.is_active.is_(True)).order_by(Sentra.code))
    urls += [absolute(url_for("shop.sentra_detail", code=code)) for code in sentras]
    products = db.session.scalars(
        sa.select(Product.id).join(Sentra, Sentra.id == Product.sentra_id)
        .where(Product.is_published.is_(True), Product.is_active.is_(True), Sentra.is_active.is_(True))
        .order_by(Product.id))
    urls += [absolute(url_for("shop.product_detail", product_id=pid)) for pid in products]
    return urls


def robots_txt() -> str:
    lines = ["User-agent: *", *(f"Disallow: {path}" for path in PRIVATE_PATHS), "",
             f"Sitemap: {absolute(url_for('shop.sitemap'))}", ""]
    return "\n".join(lines)
