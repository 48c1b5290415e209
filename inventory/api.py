"""JSON for other screens (the POS scanner): look a product up by barcode or SKU."""

from __future__ import annotations

from flask import jsonify, request
from flask_login import current_user

from accounts.access import scoped_sentra_ids, staff_required
from core.errors import NotFound
from inventory import bp, services
from inventory.stock import stock_level
from makers.services import public_maker_name


@bp.get("/api/produk")
@staff_required
def api_product_lookup():
    """`GET /inventory/api/produk?kode=<barcode|SKU>&sentra=<id>` → the product, its price and stock.

    The maker's name is only included when the maker consented to it on receipts.
    """
    code = request.args.get("kode", "")
    product = services.find_product_by_code(code, scoped_sentra_ids(current_user))
    if product is None or not product.is_active:
        raise NotFound(f"Barcode/SKU '{code[:40]}' tidak dikenal di Sentra Anda.", field="kode")
    sentra_id = request.args.get("sentra", product.sentra_id, type=int)
    if not current_user.can_access_sentra(sentra_id):
        sentra_id = product.sentra_id
    return jsonify(
        id=product.id, sku=product.sku, barcode=product.barcode, name=product.name, price=product.price,
        kind=product.kind.value, sentra_id=product.sentra_id,
        stock=stock_level(product.id, sentra_id) if product.is_stock_tracked else None,
        maker_name=public_maker_name(product),
    )
