"""The stock ledger: every change is a `StockMovement`, and the cached `StockLevel` moves with it.

Stock leaves by one conditional statement (`qty = qty - n WHERE qty >= n`), so two counters and an
online buyer can never take the same last piece; `CHECK (qty >= 0)` backs it up. The level row is
updated first and created only when there was none (stock coming in for the first time). All
functions flush and never commit: the caller's transaction makes the sale/intake atomic.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import cast

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from core.db import dialect_name, insert_rows, upsert_insert
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


_levels = cast(sa.Table, StockLevel.__table__)
_this_level = (_levels.c.product_id == sa.bindparam("p")) & (_levels.c.sentra_id == sa.bindparam("s"))
#: take `n` pieces only if they are there: rowcount 0 means not enough (or no level row at all)
_TAKE = sa.update(_levels).where(_this_level, _levels.c.qty >= sa.bindparam("n")).values(
    qty=_levels.c.qty - sa.bindparam("n"))
_ADD = sa.update(_levels).where(_this_level).values(qty=_levels.c.qty + sa.bindparam("n"))


def _delta(product: Product, kind: MovementKind, qty: int) -> int:
    """The signed change `kind` makes to the level; refuses services and non-positive quantities."""
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
    return delta


def _change_level(product: Product, sentra_id: int, delta: int) -> None:
    """Move the cached level by `delta`: the UPDATE first, a new level row only if there was none."""
    connection = db.session.connection()
    params = {"p": product.id, "s": sentra_id, "n": abs(delta)}
    if delta < 0:
        if connection.execute(_TAKE, params).rowcount != 1:
            left = stock_level(product.id, sentra_id)
            raise OutOfStock(
                f"Stok {product.name} tidak cukup: diminta {-delta}, tersisa {left}.",
                product_id=product.id, available=left,
            )
    elif connection.execute(_ADD, params).rowcount != 1:
        # The first stock of this product here (a concurrent first intake may have made the row since).
        connection.execute(_first_stock(dialect_name(db.session)),
                           {"product_id": product.id, "sentra_id": sentra_id, "qty": delta, "n": delta})


@functools.cache
def _first_stock(dialect: str):
    return upsert_insert(dialect, _levels).on_conflict_do_update(
        index_elements=["product_id", "sentra_id"], set_={"qty": _levels.c.qty + sa.bindparam("n")})


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
    delta = _delta(product, kind, qty)
    _change_level(product, sentra_id, delta)
    movement = StockMovement(
        product_id=product.id, sentra_id=sentra_id, kind=kind, qty_delta=delta, reference=reference,
        reason=reason, user_id=getattr(actor, "id", None), client_key=client_key, is_discrepancy=is_discrepancy,
    )
    db.session.add(movement)
    db.session.flush()
    return movement


def move_stock_many(
    actor,
    sentra_id: int,
    kind: MovementKind,
    quantities: Sequence[tuple[Product, int]],
    *,
    reference: str = "",
    reason: str = "",
    client_key: str | None = None,
) -> None:
    """`move_stock` for several products at once (the goods of one sale), each product once.

    The levels change by one conditional UPDATE per product in product-id order, so two sales never
    deadlock on each other's rows; then all the movements go in with one multi-row INSERT. Raises
    `OutOfStock` for the first product short of stock (the caller's transaction rolls back).
    """
    moves = sorted(((product, _delta(product, kind, qty)) for product, qty in quantities), key=lambda m: m[0].id)
    for product, delta in moves:
        _change_level(product, sentra_id, delta)
    user_id = getattr(actor, "id", None)
    insert_rows(db.session, StockMovement, [
        {"product_id": product.id, "sentra_id": sentra_id, "kind": kind, "qty_delta": delta, "reference": reference,
         "reason": reason, "user_id": user_id, "client_key": client_key, "is_discrepancy": False}
        for product, delta in moves
    ])


def movements_sum(product_id: int, sentra_id: int) -> int:
    """Stock recomputed from the ledger; equals `stock_level` unless something is badly wrong."""
    total = db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(StockMovement.qty_delta), 0)).where(
            StockMovement.product_id == product_id, StockMovement.sentra_id == sentra_id
        )
    )
    return int(total or 0)  # never None: coalesce
