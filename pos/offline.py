"""Offline counter: device codes, syncing sales made without a connection, stock conflicts.

How it fits together (see docs in the README section of issue 9):

- Each browser registers once per Sentra (`register_device`) and gets a short code unique at
  that Sentra; it numbers its offline receipts `<SENTRA>-<DEVICE>-<seq>` itself, so two devices
  never print the same number, and the server stores that number on the sale (`Sale.offline_number`).
- A synced offline sale keeps what the buyer paid: the device's unit prices are recorded as they
  are, and each one that differs from the server's current price is listed for the manager
  (`PriceDifference`) rather than refused — the money is already in the drawer.
- It is booked to the shift it was made in, even if that shift was closed meanwhile (the
  closed shift's stored count/variance stay as counted; its sales list shows the late sale).
- Stock it sold that the server does not have is still recorded: the sale movement takes what
  exists (stock never goes below zero) and the rest becomes a `StockConflict`, which a manager
  resolves with a found-stock adjustment followed by the missing sale movement.

What counts as an offline sale (`record_offline_sale`) — the device's prices and clock are trusted
only for a sale that shows it was made offline on a device of this Sentra:

- **Refused (422 problem+json), nothing written** — the shape is wrong: a provisional number not of
  the form `<SENTRA>-<DEVICE>-<seq>`, a `device_code` that is not the number's, a device code not
  registered at this Sentra (`POST /pos/api/devices`), a time that is not ISO 8601 with a zone, or
  a number already used (409).
- **Recorded as an ordinary online sale** at the server's prices and time (no provisional number,
  no price differences, no stock conflicts; audited as `pos.offline_not_trusted`) — a well-formed
  request whose sale time is missing or later than the request time plus `CLOCK_SKEW` (2 minutes:
  a tablet clock a little fast is normal; a sale "made" in the future was not made offline). Such a
  sale then follows the online rules: open shift, payments equal to the server's total.
- **Accepted offline** — everything else: device prices kept (differences flagged), time kept but
  within [shift opened, now], booked to its shift even if closed.
"""

from __future__ import annotations

import dataclasses
import re
import secrets
from collections import defaultdict
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from accounts.models import User
from core.audit import record_audit
from core.db import utcnow
from core.errors import Conflict, Forbidden, ValidationFailed
from core.extensions import db
from inventory.models import MovementKind, Product, StockLevel, StockMovement
from inventory.stock import move_stock
from makers.models import ConsentPurpose, Maker
from pos.models import PosDevice, PriceDifference, Shift, StockConflict
from sales.models import Channel, Sale
from sales.services import (
    LineRequest,
    OfflineSale,
    PaymentRequest,
    find_sale_by_key,
    is_manager_of,
    record_sale,
)
from sentras.models import Sentra

DEVICE_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
DEVICE_CODE_LENGTH = 4
#: how far a device clock may run ahead of the server's for its sale still to count as offline
CLOCK_SKEW = timedelta(minutes=2)


def register_device(actor: User, sentra: Sentra) -> PosDevice:
    """A new device code for `sentra`, unique there (a clash with an existing code draws again)."""
    for _attempt in range(20):
        code = "".join(secrets.choice(DEVICE_ALPHABET) for _ in range(DEVICE_CODE_LENGTH))
        device = PosDevice(sentra_id=sentra.id, code=code, registered_by_id=actor.id, created_at=utcnow())
        try:
            with db.session.begin_nested():
                db.session.add(device)
                db.session.flush()
        except IntegrityError:
            continue
        record_audit(actor, "pos.device_registered", device, after={"code": code}, sentra_id=sentra.id)
        return device
    raise Conflict("Tidak bisa membuat kode perangkat baru. Coba lagi.")  # pragma: no cover


def offline_number_pattern(sentra: Sentra) -> re.Pattern[str]:
    return re.compile(rf"^{re.escape(sentra.code)}-([A-Z2-7]{{{DEVICE_CODE_LENGTH}}})-(\d{{1,6}})$")


def clamp_sold_at(shift: Shift, sold_at: datetime | None, now: datetime) -> datetime:
    """The device's sale time, kept within [shift opened, now + skew]; a missing time is now."""
    if sold_at is None:
        return now
    if sold_at.tzinfo is None:
        raise ValidationFailed({"sold_at": "Waktu penjualan harus dengan zona waktu (ISO 8601)."})
    # A clock running ahead would put the sale in the future, one behind before its shift opened.
    return min(max(sold_at, shift.opened_at), now)


def record_offline_sale(
    actor: User,
    shift: Shift,
    *,
    lines: list[LineRequest],
    payments: list[PaymentRequest],
    client_key: str,
    offline_number: str,
    sold_at: datetime | None,
    device_code: str | None = None,
) -> Sale:
    """Record (or replay) a sale the device made offline; flags price differences and shortfalls."""
    existing = find_sale_by_key(client_key)
    sentra = shift.sentra
    if existing is not None:
        return record_sale(actor, sentra, channel=Channel.POS, lines=lines, payments=payments,
                           client_key=client_key, shift=shift)  # the replay answer, or 422
    match = offline_number_pattern(sentra).match(offline_number or "")
    if match is None:
        raise ValidationFailed({"offline_number": f"Nomor struk offline harus berbentuk {sentra.code}-XXXX-123."})
    if device_code not in (None, "", match.group(1)):
        raise ValidationFailed({"device_code": "Kode perangkat tidak cocok dengan nomor struk offline."})
    device = db.session.scalar(
        sa.select(PosDevice).where(PosDevice.sentra_id == sentra.id, PosDevice.code == match.group(1))
    )
    if device is None:
        raise ValidationFailed({"offline_number": "Kode perangkat pada nomor struk offline tidak terdaftar."})
    taken = db.session.scalar(
        sa.select(Sale.number).where(Sale.sentra_id == sentra.id, Sale.offline_number == offline_number)
    )
    if taken is not None:
        raise Conflict(f"Nomor struk offline {offline_number} sudah dipakai penjualan {taken}.")
    now = utcnow()
    if sold_at is not None and sold_at.tzinfo is None:
        raise ValidationFailed({"sold_at": "Waktu penjualan harus dengan zona waktu (ISO 8601)."})
    if sold_at is None or sold_at > now + CLOCK_SKEW:
        return _record_as_online(actor, shift, lines=lines, payments=payments, client_key=client_key,
                                 offline_number=offline_number, sold_at=sold_at, device=device)
    when = clamp_sold_at(shift, sold_at, now)
    sale = record_sale(actor, sentra, channel=Channel.POS, lines=lines, payments=payments, client_key=client_key,
                       shift=shift, offline=OfflineSale(number=offline_number, sold_at=when))
    if sale.offline_number != offline_number:  # a concurrent request with this key won: its answer
        return sale
    _flag_price_differences(sale)
    _flag_shortfalls(sale)
    db.session.flush()
    return sale


def _record_as_online(actor: User, shift: Shift, *, lines: list[LineRequest], payments: list[PaymentRequest],
                      client_key: str, offline_number: str, sold_at: datetime | None, device: PosDevice) -> Sale:
    """Not shown to be an offline sale: an ordinary counter sale now, at the server's prices."""
    online_lines = [dataclasses.replace(ln, unit_price=None) for ln in lines]
    sale = record_sale(actor, shift.sentra, channel=Channel.POS, lines=online_lines, payments=payments,
                       client_key=client_key, shift=shift)
    record_audit(actor, "pos.offline_not_trusted", sale, sentra_id=sale.sentra_id,
                 after={"sale": sale.number, "offline_number": offline_number, "device": device.code,
                        "sold_at": sold_at.isoformat() if sold_at else None,
                        "reason": "no sale time" if sold_at is None else "sale time after the request"})
    return sale


def _flag_price_differences(sale: Sale) -> None:
    for line in sale.lines:
        if line.unit_price != line.product.price:
            db.session.add(PriceDifference(
                sentra_id=sale.sentra_id, sale_id=sale.id, sale_line_id=line.id, product_id=line.product_id,
                paid_price=line.unit_price, server_price=line.product.price, created_at=utcnow(),
            ))


def moved_for_sale(sale: Sale) -> dict[int, int]:
    """Pieces per product the stock ledger took for this sale (SALE movements minus adjustments)."""
    rows = db.session.execute(
        sa.select(StockMovement.product_id, sa.func.sum(StockMovement.qty_delta))
        .where(StockMovement.reference == f"sale:{sale.id}", StockMovement.kind == MovementKind.SALE)
        .group_by(StockMovement.product_id)
    ).all()
    return {product_id: -int(total) for product_id, total in rows}


def _flag_shortfalls(sale: Sale) -> None:
    sold: dict[int, int] = defaultdict(int)
    for line in sale.lines:
        if line.is_stock_tracked:
            sold[line.product_id] += line.quantity
    moved = moved_for_sale(sale)
    for product_id in sorted(sold):
        missing = sold[product_id] - moved.get(product_id, 0)
        if missing > 0:
            conflict = StockConflict(sentra_id=sale.sentra_id, sale_id=sale.id, product_id=product_id,
                                     missing_qty=missing, created_at=utcnow())
            db.session.add(conflict)
            db.session.flush()
            record_audit(None, "pos.stock_conflict", conflict, sentra_id=sale.sentra_id,
                         after={"sale": sale.number, "offline_number": sale.offline_number,
                                "product_id": product_id, "missing_qty": missing})


def resolve_conflict(actor: User, conflict: StockConflict, note: str = "") -> StockConflict:
    """A manager confirms the pieces left the shop: found-stock adjustment, then the missing sale.

    Both movements carry the conflict as their reference, so the product's ledger explains itself:
    +n "found at sync" (a flagged discrepancy), −n "sold offline in <sale>". Idempotent: an already
    resolved conflict is returned unchanged.
    """
    if not is_manager_of(actor, conflict.sentra_id):
        raise Forbidden("Hanya manajer Sentra ini yang dapat menyelesaikan konflik stok.")
    note = (note or "").strip()
    if len(note) > 200:
        raise ValidationFailed({"note": "Catatan terlalu panjang (maks. 200 karakter)."})
    # Lock the conflict row so two managers pressing at once adjust only once.
    claimed = db.session.execute(
        sa.update(StockConflict).where(StockConflict.id == conflict.id, StockConflict.resolved_at.is_(None))
        .values(resolved_at=utcnow(), resolved_by_id=actor.id, note=note)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(conflict)
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return conflict
    sale, product = conflict.sale, conflict.product
    key = f"stock-conflict:{conflict.id}"
    adjustment = move_stock(
        actor, product, conflict.sentra_id, MovementKind.ADJUSTMENT, conflict.missing_qty,
        reference=key, reason=f"Ditemukan saat sinkron offline {sale.offline_number or sale.number}"[:200],
        client_key=key, is_discrepancy=True,
    )
    move_stock(actor, product, conflict.sentra_id, MovementKind.SALE, conflict.missing_qty,
               reference=f"sale:{sale.id}", reason=f"{sale.number} (konflik stok offline)", client_key=key)
    conflict.adjustment_id = adjustment.id
    record_audit(actor, "pos.stock_conflict_resolved", conflict, sentra_id=conflict.sentra_id,
                 before={"resolved": False},
                 after={"resolved": True, "sale": sale.number, "product_id": product.id,
                        "adjustment": conflict.missing_qty, "note": note})
    db.session.flush()
    return conflict


def conflicts_for(sentra_ids: set[int] | None, *, open_only: bool = True) -> list[StockConflict]:
    query = sa.select(StockConflict).order_by(StockConflict.created_at, StockConflict.id)
    if sentra_ids is not None:
        query = query.where(StockConflict.sentra_id.in_(sentra_ids or {-1}))
    if open_only:
        query = query.where(StockConflict.resolved_at.is_(None))
    return list(db.session.scalars(query.limit(500)))


def price_differences_for(sentra_ids: set[int] | None) -> list[PriceDifference]:
    query = sa.select(PriceDifference).order_by(PriceDifference.id.desc())
    if sentra_ids is not None:
        query = query.where(PriceDifference.sentra_id.in_(sentra_ids or {-1}))
    return list(db.session.scalars(query.limit(200)))


def catalogue(sentra: Sentra) -> dict:
    """What the counter needs offline: active products, prices, a stock snapshot, receipt credits.

    Makers appear only by the name they consented to print on receipts (or their group's name);
    nothing else about them leaves the server.
    """
    rows = db.session.execute(
        sa.select(Product, StockLevel.qty)
        .outerjoin(StockLevel, (StockLevel.product_id == Product.id) & (StockLevel.sentra_id == sentra.id))
        .where(Product.sentra_id == sentra.id, Product.is_active.is_(True))
        .options(selectinload(Product.maker).selectinload(Maker.consents), selectinload(Product.group))
        .order_by(Product.name)
    ).all()
    products = []
    for product, qty in rows:
        credit = None
        if product.group is not None:
            credit = product.group.name
        elif product.maker is not None and product.maker.has_consent(ConsentPurpose.RECEIPT_NAME):
            credit = product.maker.public_name
        products.append({
            "id": product.id, "sku": product.sku, "barcode": product.barcode, "name": product.name,
            "category": product.category, "price": product.price, "kind": str(product.kind),
            "stock": (qty or 0) if product.is_stock_tracked else None, "credit": credit,
        })
    return {
        "sentra": {"id": sentra.id, "code": sentra.code, "name": sentra.name, "timezone": sentra.timezone,
                   "address": sentra.address or sentra.city, "receipt_header": sentra.receipt_header,
                   "receipt_footer": sentra.receipt_footer},
        "products": products,
        "generated_at": utcnow().isoformat(),
    }

