"""The stock ledger: every change is a `StockMovement`, and the cached `StockLevel` moves with it.

Stock leaves by one conditional statement (`qty = qty - n WHERE qty >= n`), so two counters and an
online buyer can never take the same last piece; `CHECK (qty >= 0)` backs it up. All functions
flush and never commit: the caller's transaction makes the sale/intake atomic.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from core.errors import DomainError, OutOfStock
from core.extensions import db
from inventory.models import MovementKind, Product, StockLevel, StockMovement

OUTBOUND = {MovementKind.SALE, MovementKind.TRANSFER_OUT, MovementKind.RESERVATION}
INBOUND = {MovementKind.INTAKE, MovementKind.RETURN, MovementKind.TRANSFER_IN, MovementKind.RELEASE}


def stock_level(product_id: int, sentra_id: int) -> int:
    qty = db.session.scalar(
        sa.select(StockLevel.qty).where(StockLevel.product_id == product_id, StockLevel.sentra_id == sentra_id)
    )
    return qty or 0


def _ensure_level_row(product_id: int, sentra_id: int) -> None:
    dialect = db.session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    db.session.execute(
        insert(StockLevel).values(product_id=product_id, sentra_id=sentra_id, qty=0).on_conflict_do_nothing()
    )


def move_stock(
    actor,
    product: Product,
    sentra_id: int,
    kind: MovementKind,
    qty: int,
    *,
    reference: str = "",
    reason: str = "",
    client_key: str | None = None,
    is_discrepancy: bool = False,
) -> StockMovement:
    """Record one movement of `qty` pieces (positive) in the direction `kind` implies.

    ADJUSTMENT takes a signed `qty` (the counted difference). Raises `OutOfStock` (409, with what is
    left) if the stock would go below zero. Services/tickets are not stock-tracked: refused here.
    """
    if not product.is_stock_tracked:
        raise DomainError(f"{product.name} adalah layanan/tiket dan tidak memakai stok.")
    if kind == MovementKind.ADJUSTMENT:
        delta = qty
    elif kind in OUTBOUND:
        delta = -qty
    elif kind in INBOUND:
        delta = qty
    else:  # pragma: no cover - every kind is listed above
        raise ValueError(kind)
    if (kind != MovementKind.ADJUSTMENT and qty <= 0) or delta == 0:
        raise DomainError("Jumlah harus lebih dari 0.", field="qty")

    _ensure_level_row(product.id, sentra_id)
    level_filter = (StockLevel.product_id == product.id) & (StockLevel.sentra_id == sentra_id)
    if delta < 0:
        result = db.session.execute(
            sa.update(StockLevel)
            .where(level_filter, StockLevel.qty >= -delta)
            .values(qty=StockLevel.qty + delta)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            left = stock_level(product.id, sentra_id)
            raise OutOfStock(
                f"Stok {product.name} tidak cukup: diminta {-delta}, tersisa {left}.",
                product_id=product.id, available=left,
            )
    else:
        db.session.execute(
            sa.update(StockLevel).where(level_filter).values(qty=StockLevel.qty + delta)
            .execution_options(synchronize_session=False)
        )
    movement = StockMovement(
        product_id=product.id, sentra_id=sentra_id, kind=kind, qty_delta=delta, reference=reference,
        reason=reason, user_id=getattr(actor, "id", None), client_key=client_key, is_discrepancy=is_discrepancy,
    )
    db.session.add(movement)
    db.session.flush()
    return movement


def movements_sum(product_id: int, sentra_id: int) -> int:
    """Stock recomputed from the ledger; equals `stock_level` unless something is badly wrong."""
    total = db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(StockMovement.qty_delta), 0)).where(
            StockMovement.product_id == product_id, StockMovement.sentra_id == sentra_id
        )
    )
    return int(total or 0)  # never None: coalesce
