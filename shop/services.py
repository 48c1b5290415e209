"""Storefront queries (catalogue, maker consent) and staff order handling (status, cancel, refund)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any, NamedTuple

import sqlalchemy as sa
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from accounts.models import User
from core.audit import record_audit
from core.db import utcnow
from core.errors import Conflict, DomainError, Forbidden, NotFound, ValidationFailed
from core.extensions import db
from inventory.models import Product, ProductKind, ProductPhoto, StockLevel
from inventory.search import (
    dialect,
    fuzzy_search_available,
    match_parameters,
    matching_products,
    prepare_fuzzy_search,
    search_terms,
)
from makers.models import Consent, ConsentGiver, ConsentPurpose, Maker, MakerGroup
from sales.signals import online_sale_delivered
from sentras.models import Sentra
from shop.checkout import lock_order, payment_in_flight, release
from shop.messages import notify_buyer
from shop.models import (
    FULFILMENT_TRANSITIONS,
    DeliveryMethod,
    Fulfilment,
    FulfilmentStatus,
    Order,
    OrderLine,
    OrderRefund,
    OrderStatus,
    SavedAddress,
)

PER_PAGE = 24
SORTS = {
    #: with a search only (otherwise the newest first)
    "relevan": "Paling sesuai",
    "terbaru": "Terbaru",
    "harga_naik": "Harga terendah",
    "harga_turun": "Harga tertinggi",
    "nama": "Nama A–Z",
}


# -- maker consent -------------------------------------------------------------------------------


def consent_clause(maker_id_column, purpose: ConsentPurpose):
    """SQL: the maker has a valid, unrevoked consent for `purpose` (a guardian's for a minor)."""
    m = aliased(Maker)
    return sa.exists(
        sa.select(Consent.id).join(m, m.id == Consent.maker_id).where(
            Consent.maker_id == maker_id_column, Consent.purpose == purpose, Consent.revoked_at.is_(None),
            sa.or_(m.is_minor.is_(False), Consent.given_by == ConsentGiver.GUARDIAN),
        )
    )


@dataclass
class MakerPublic:
    """What the shop may show about who made a product."""

    name: str | None
    story: str | None
    #: hash of the portrait's thumbnail (core.files), only with a SHOP_PHOTO consent
    photo: str | None
    maker_id: int | None

    @property
    def has_page(self) -> bool:
        return self.maker_id is not None


def maker_public(product: Product) -> MakerPublic:
    maker: Maker | None = product.maker
    if maker is not None and maker.is_active and maker.has_consent(ConsentPurpose.SHOP_NAME):
        return MakerPublic(
            name=maker.public_name,
            story=maker.story if maker.story and maker.has_consent(ConsentPurpose.SHOP_STORY) else None,
            photo=maker.photo_thumb_sha256 if maker.photo_thumb_sha256 and maker.has_consent(ConsentPurpose.SHOP_PHOTO)
            else None,
            maker_id=maker.id,
        )
    group: MakerGroup | None = product.group
    if group is not None:
        return MakerPublic(name=group.name, story=None, photo=None, maker_id=None)
    return MakerPublic(name=None, story=None, photo=None, maker_id=None)


def public_maker_or_404(maker_id: int) -> Maker:
    maker = db.session.get(Maker, maker_id)
    if maker is None or not maker.is_active or not maker.has_consent(ConsentPurpose.SHOP_NAME):
        raise NotFound("Halaman pembuat tidak ditemukan.")
    return maker


# -- catalogue -----------------------------------------------------------------------------------


@dataclass
class CatalogueFilters:
    q: str = ""
    category: str = ""
    sentra_id: int | None = None
    province: str = ""
    price_min: int | None = None
    price_max: int | None = None
    in_stock: bool = False
    sort: str = "terbaru"
    maker_id: int | None = None


def _stock_join():
    return sa.and_(StockLevel.product_id == Product.id, StockLevel.sentra_id == Product.sentra_id)


class Card(NamedTuple):
    """What a product card shows, read with the page's one query (no ORM objects to build)."""

    id: int
    name: str
    price: int
    kind: ProductKind
    sentra_name: str
    province: str
    #: pieces left at the product's Sentra; None for a service (not stock-tracked)
    qty: int | None
    #: hash of the first photo's thumbnail (core.files); None without a photo
    thumb: str | None


@dataclass(frozen=True)
class _Shape:
    """What a catalogue statement looks like (not the values): one statement is built per shape
    and reused, its values bound at execution (`_parameters`)."""

    dialect: str
    #: how many words are searched (0: no search), and whether misspelt
    n_terms: int
    fuzzy: bool
    #: which filters apply
    filters: frozenset[str]
    in_stock: bool
    sort: str
    #: the rows carry the total (a page of the catalogue), or not (the home page's few)
    counted: bool = True


_FILTERS = {  # filter: (the column compared, the comparison)
    "category": lambda value: Product.category == value,
    "sentra_id": lambda value: Product.sentra_id == value,
    "province": lambda value: Sentra.province == value,
    "price_min": lambda value: Product.price >= value,
    "price_max": lambda value: Product.price <= value,
    "maker_id": lambda value: Product.maker_id == value,
}


def _shape(filters: CatalogueFilters, fuzzy: bool, counted: bool = True) -> tuple[_Shape, dict[str, Any]]:
    """The statement's shape and its parameter values for these filters."""
    values: dict[str, Any] = {name: getattr(filters, name) for name in _FILTERS
                              if (getattr(filters, name) is not None if name.startswith("price_")
                                  else getattr(filters, name))}
    terms = search_terms(filters.q[:80]) if filters.q.strip() else []
    name = dialect()
    if terms:
        values.update(match_parameters(terms, dialect=name, fuzzy=fuzzy))
    sort = filters.sort if filters.sort in SORTS and (terms or filters.sort != "relevan") else "terbaru"
    nothing = bool(filters.q.strip()) and not terms  # a search with no words finds nothing
    return _Shape(name, -1 if nothing else len(terms), fuzzy and bool(terms), frozenset(values) & set(_FILTERS),
                  filters.in_stock, sort, counted), values


def _matching(shape: _Shape) -> tuple[sa.Select, sa.CTE | None]:
    """Published products of active Sentras matching the filters (stock joined for filtering), and
    the full-text match of the words joined to them (None without a search)."""
    stmt = (
        sa.select(Product)
        .join(Sentra, Sentra.id == Product.sentra_id)
        .outerjoin(StockLevel, _stock_join())
        .where(Product.is_published.is_(True), Product.is_active.is_(True), Sentra.is_active.is_(True))
    )
    match = None
    if shape.n_terms > 0:
        match = matching_products(shape.n_terms, dialect=shape.dialect, fuzzy=shape.fuzzy)
        stmt = stmt.join(match, match.c.product_id == Product.id)
    elif shape.n_terms < 0:
        stmt = stmt.where(sa.false())
    for name in sorted(shape.filters):
        stmt = stmt.where(_FILTERS[name](sa.bindparam(name)))
    if shape.in_stock:
        stmt = stmt.where(sa.or_(Product.kind == ProductKind.SERVICE, StockLevel.qty > 0))
    return stmt, match


def _order_keys(sort: str, match: sa.CTE | None) -> list[tuple[Any, bool]]:
    """The chosen order as (column, descending) pairs; the id breaks ties."""
    keys: dict[str, list[tuple[Any, bool]]] = {
        "harga_naik": [(Product.price, False), (Product.id, True)],
        "harga_turun": [(Product.price, True), (Product.id, True)],
        "nama": [(Product.name, False), (Product.id, False)],
    }
    if match is not None:
        keys["relevan"] = [(match.c.rank, False), (Product.id, True)]
    return keys.get(sort, [(Product.created_at, True), (Product.id, True)])


def _sorted(columns, keys: list[tuple[Any, bool]]) -> list[Any]:
    return [column.desc() if descending else column.asc() for column, (_key, descending) in zip(columns, keys,
                                                                                               strict=True)]


@functools.lru_cache(maxsize=512)
def _page_statement(shape: _Shape) -> sa.Select:
    if shape.n_terms > 0 and not shape.filters and not shape.in_stock and shape.sort == "relevan":
        # a plain search, best matches first: the index alone counts and ranks what the shop shows
        found = matching_products(shape.n_terms, dialect=shape.dialect, fuzzy=shape.fuzzy)
        keys = [(found.c.rank, False), (found.c.product_id, True)]
        stmt = sa.select(found.c.product_id.label("id"))
    else:
        stmt, match = _matching(shape)
        keys = _order_keys(shape.sort, match)
    total = [sa.func.count().over().label("total")] if shape.counted else []
    page = (stmt.with_only_columns(stmt.selected_columns[0].label("id"),
                                   *(key.label(f"key_{n}") for n, (key, _d) in enumerate(keys)),
                                   *total, maintain_column_froms=True)
            .order_by(*_sorted([key for key, _d in keys], keys))
            .limit(sa.bindparam("page_limit", type_=sa.Integer)).offset(sa.bindparam("page_offset", type_=sa.Integer))
            .subquery("page"))
    thumb = (sa.select(ProductPhoto.thumb_sha256).where(ProductPhoto.product_id == Product.id)
             .order_by(ProductPhoto.position, ProductPhoto.id).limit(1).scalar_subquery())
    return (sa.select(Product.id, Product.name, Product.price, Product.kind, Sentra.name.label("sentra_name"),
                      Sentra.province, StockLevel.qty, thumb.label("thumb"),
                      page.c.total if shape.counted else sa.null().label("total"))
            .select_from(page)
            .join(Product, Product.id == page.c.id)
            .join(Sentra, Sentra.id == Product.sentra_id)
            .outerjoin(StockLevel, _stock_join())
            # the page's products are checked again, whichever way they were chosen
            .where(Product.is_published.is_(True), Product.is_active.is_(True), Sentra.is_active.is_(True))
            .order_by(*_sorted([page.c[f"key_{n}"] for n in range(len(keys))], keys)))


@functools.lru_cache(maxsize=512)
def _count_statement(shape: _Shape) -> sa.Select:
    stmt, _match = _matching(shape)
    return stmt.with_only_columns(sa.func.count(), maintain_column_froms=True)


def catalogue_query(filters: CatalogueFilters, *, limit: int, offset: int = 0, fuzzy: bool = False,
                    counted: bool = True) -> tuple[sa.Select, dict[str, Any]]:
    """One page of the published products of active Sentras matching the filters, in the chosen
    order: the statement and its parameters. Its rows are a `Card`'s columns and the number of
    products that match in all (None unless `counted`: counting reads every match, where the first
    few of the newest are read along an index): one statement whatever the page size, never a
    photo's bytes.

    The page is chosen on narrow rows (ids and sort keys, with the total counted in the same pass);
    only its own rows are then joined to what the cards show. The statement is built once per
    shape of filters (which ones, how many words, the order) and reused with the values bound.

    `q` is looked up in the full-text index (inventory.search: every word, in any order, as the
    start of a word; a maker's name only where they consented); `fuzzy` allows misspelt words
    (PostgreSQL).
    """
    shape, values = _shape(filters, fuzzy, counted)
    return _page_statement(shape), {**values, "page_limit": limit, "page_offset": offset}


def catalogue_count_query(filters: CatalogueFilters, *, fuzzy: bool = False) -> tuple[sa.Select, dict[str, Any]]:
    """How many products match (for a page past the last, where the page's rows cannot say)."""
    shape, values = _shape(filters, fuzzy)
    return _count_statement(shape), values


def _rows(stmt: sa.Executable, values: dict[str, Any] | None = None) -> sa.CursorResult:
    """Plain rows of a Core statement on the session's connection (in its transaction): no ORM
    result processing, which cost a catalogue page about a millisecond."""
    return db.session.connection().execute(stmt, values or {})


def _cards(rows) -> tuple[list[Card], int | None]:
    """The cards of `catalogue_query`'s rows, and the total they carry (None without rows)."""
    rows = rows.all()
    cards = [Card(row.id, row.name, row.price, row.kind, row.sentra_name, row.province,
                  None if row.kind == ProductKind.SERVICE else row.qty or 0, row.thumb) for row in rows]
    return cards, (rows[0].total if rows else None)


class CataloguePage(Pagination):
    """A page of the catalogue: `items` are `Card`s. `similar`: the words of the search found
    nothing as typed, and these are the products with words like them."""

    similar: bool = False
    #: the total the page's rows carried (None when there were none)
    _total: int | None = None

    def _query_items(self) -> list[Any]:
        filters, fuzzy = self._query_args["filters"], self._query_args["fuzzy"]
        stmt, values = catalogue_query(filters, limit=self.per_page, offset=self._query_offset, fuzzy=fuzzy)
        cards, self._total = _cards(_rows(stmt, values))
        return cards

    def _query_count(self) -> int:
        if self._total is not None:
            return self._total
        if self.page == 1:  # nothing on the first page: nothing at all
            return 0
        stmt, values = catalogue_count_query(self._query_args["filters"], fuzzy=self._query_args["fuzzy"])
        return int(_rows(stmt, values).scalar() or 0)


def search_catalogue(filters: CatalogueFilters, page: int = 1, per_page: int = PER_PAGE) -> CataloguePage:
    """A page of the catalogue. When the words of `q` find nothing, PostgreSQL looks again
    allowing misspellings (`similar`)."""
    pagination = CataloguePage(page=page, per_page=per_page, error_out=False, filters=filters, fuzzy=False)
    if not pagination.total and search_terms(filters.q) and fuzzy_search_available():
        prepare_fuzzy_search()
        pagination = CataloguePage(page=page, per_page=per_page, error_out=False, filters=filters, fuzzy=True)
        pagination.similar = bool(pagination.total)
    return pagination


@functools.cache
def _choices_statement() -> sa.CompoundSelect:
    """The published products' categories and the active Sentras, in one statement: rows of
    (category, None, None, None) and (None, Sentra id, name, province)."""
    published = sa.and_(Product.is_published.is_(True), Product.is_active.is_(True))
    # The categories one after the other along the category index (a "loose index scan"): one
    # probe per category, not a read of every product (PostgreSQL has no skip scan for DISTINCT).
    first = (sa.select(sa.func.min(Product.category).label("category")).where(published)
             .cte("categories", recursive=True))
    categories = first.union_all(
        sa.select(sa.select(sa.func.min(Product.category)).where(published, Product.category > first.c.category)
                  .scalar_subquery())
        .where(first.c.category.is_not(None)))
    return sa.union_all(
        sa.select(categories.c.category, sa.null().cast(sa.Integer).label("sentra_id"),
                  sa.null().cast(sa.String).label("sentra_name"), sa.null().cast(sa.String).label("province"))
        .where(categories.c.category.is_not(None)),
        sa.select(sa.null().cast(sa.String), Sentra.id, Sentra.name, Sentra.province)
        .where(Sentra.is_active.is_(True)),
    ).order_by("category", "sentra_name")


def filter_choices() -> dict:
    """Categories, Sentras (id, name) and provinces for the catalogue's filter form."""
    rows = _rows(_choices_statement()).all()
    categories = [row.category for row in rows if row.category is not None]
    sentras = [SimpleNamespace(id=row.sentra_id, name=row.sentra_name, province=row.province)
               for row in rows if row.category is None]
    return {"categories": categories, "sentras": sentras, "provinces": sorted({s.province for s in sentras})}


def featured_products(limit: int = 8) -> list[Card]:
    stmt, values = catalogue_query(CatalogueFilters(in_stock=True), limit=limit, counted=False)
    return _cards(_rows(stmt, values))[0]


# -- staff: order handling -----------------------------------------------------------------------


#: what "open" means in the staff queue: paid and not yet handed over
OPEN_STATUSES = (FulfilmentStatus.PAID, FulfilmentStatus.READY, FulfilmentStatus.SHIPPED)


def fulfilment_queue(sentra_ids: set[int] | None, status: str = "open", query: str = "", *,
                     oldest_first: bool = False) -> sa.Select:
    """Staff's order queue: by status, searched by order number, buyer name, phone or e-mail, newest
    first (or oldest first, to work the backlog in order)."""
    stmt = sa.select(Fulfilment).join(Order, Order.id == Fulfilment.order_id)
    if sentra_ids is not None:
        stmt = stmt.where(Fulfilment.sentra_id.in_(sentra_ids or {-1}))
    if status == "open":
        stmt = stmt.where(Fulfilment.status.in_(OPEN_STATUSES))
    elif status == "unpaid":
        stmt = stmt.where(Fulfilment.status == FulfilmentStatus.PENDING)
    elif status in FulfilmentStatus.__members__.values():
        stmt = stmt.where(Fulfilment.status == FulfilmentStatus(status))
    words = (query or "").strip()[:80]
    if words:
        like = "%" + words.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        digits = "".join(ch for ch in words if ch.isdigit())
        matches: list[sa.ColumnElement[bool]] = [
            Order.number.ilike(like, escape="\\"), Order.buyer_name.ilike(like, escape="\\"),
            Order.buyer_email.ilike(like, escape="\\")]
        if len(digits) >= 4:
            phone = sa.func.replace(sa.func.replace(Order.buyer_phone, "-", ""), " ", "")
            matches.append(phone.contains(digits[-9:]))
        stmt = stmt.where(sa.or_(*matches))
    order = (Order.created_at.asc(), Fulfilment.id.asc()) if oldest_first else (Order.created_at.desc(),
                                                                                 Fulfilment.id.desc())
    return stmt.order_by(*order)


def open_order_count(sentra_ids: set[int] | None) -> int:
    """Paid online orders waiting for staff (for the staff home)."""
    stmt = sa.select(sa.func.count()).select_from(Fulfilment).where(Fulfilment.status.in_(OPEN_STATUSES))
    if sentra_ids is not None:
        stmt = stmt.where(Fulfilment.sentra_id.in_(sentra_ids or {-1}))
    return int(db.session.scalar(stmt) or 0)


def _move(actor: User, fulfilment: Fulfilment, to: FulfilmentStatus, **changes) -> None:
    before = fulfilment.status
    if to not in FULFILMENT_TRANSITIONS[before]:
        raise Conflict(f"Status pesanan tidak bisa diubah dari '{before.label}' ke '{to.label}'.")
    result = db.session.execute(
        sa.update(Fulfilment).where(Fulfilment.id == fulfilment.id, Fulfilment.status == before)
        .values(status=to, **changes).execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("Pesanan ini baru saja diubah oleh orang lain. Muat ulang halaman.")
    db.session.refresh(fulfilment)
    record_audit(actor, f"fulfilment.{to.value}", fulfilment,
                 before={"status": str(before)}, after={"status": str(to), **changes})


def mark_ready(actor: User, fulfilment: Fulfilment) -> None:
    if fulfilment.order.delivery != DeliveryMethod.PICKUP:
        raise Conflict("Pesanan ini dikirim, bukan diambil. Tandai 'Dikirim' dengan nomor resi.")
    _move(actor, fulfilment, FulfilmentStatus.READY, ready_at=utcnow())
    notify_buyer(fulfilment.order, "ready", fulfilment=fulfilment)


def mark_shipped(actor: User, fulfilment: Fulfilment, tracking_number: str) -> None:
    tracking_number = (tracking_number or "").strip()
    if fulfilment.order.delivery != DeliveryMethod.DELIVERY:
        raise Conflict("Pesanan ini diambil di Sentra, bukan dikirim.")
    if not tracking_number:
        raise ValidationFailed({"tracking_number": "Nomor resi wajib diisi."})
    _move(actor, fulfilment, FulfilmentStatus.SHIPPED, shipped_at=utcnow(), tracking_number=tracking_number[:80])
    notify_buyer(fulfilment.order, "shipped", fulfilment=fulfilment)


def mark_completed(actor: User, fulfilment: Fulfilment) -> None:
    """Picked up or delivered: the order is done, and the makers' online earnings become payable."""
    _move(actor, fulfilment, FulfilmentStatus.COMPLETED, completed_at=utcnow())
    notify_buyer(fulfilment.order, "completed", fulfilment=fulfilment)
    if fulfilment.sale_id is not None:
        online_sale_delivered.send(fulfilment.sale)  # payouts releases the held earnings


def release_unconfirmed_deliveries(now: datetime | None = None) -> int:
    """Makers are paid for goods shipped their Sentra's `online_release_days` ago (default 14) that
    staff never marked delivered: the held online earnings become payable (the order stays
    "shipped"). Looks back a week past each deadline, so a missed night is caught up; releasing
    twice changes nothing."""
    now = now or utcnow()
    shipped = db.session.scalars(
        sa.select(Fulfilment).join(Sentra, Sentra.id == Fulfilment.sentra_id)
        .where(Fulfilment.status == FulfilmentStatus.SHIPPED, Fulfilment.sale_id.is_not(None),
               Fulfilment.shipped_at <= now - timedelta(days=1), Fulfilment.shipped_at > now - timedelta(days=128))
        .order_by(Fulfilment.id))
    released = 0
    for fulfilment in shipped:
        assert fulfilment.shipped_at is not None  # selected by it
        deadline = fulfilment.shipped_at + timedelta(days=fulfilment.sentra.online_release_days)
        if not deadline <= now < deadline + timedelta(days=7):
            continue
        entries = sum(result or 0 for _receiver, result in online_sale_delivered.send(fulfilment.sale, when=now))
        if entries:
            released += 1
            record_audit(None, "fulfilment.earnings_released_unconfirmed", fulfilment, sentra_id=fulfilment.sentra_id,
                         after={"shipped_at": str(fulfilment.shipped_at), "ledger_entries": entries})
    db.session.flush()
    return released


def check_cancellable(order: Order, reason: str) -> str:
    """The cleaned reason, if staff may cancel this order now (before anything is asked of Stripe):
    unpaid, and no payment in flight (`payment_in_flight`)."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed({"reason": "Alasan pembatalan wajib diisi."})
    if order.status != OrderStatus.PENDING:
        raise Conflict("Hanya pesanan yang belum dibayar yang bisa dibatalkan. Untuk pesanan dibayar, "
                       "gunakan pengembalian dana.")
    if payment_in_flight(order):
        # Stripe may be charging right now (maybe with no intent id on record yet to cancel there).
        raise Conflict("Pembayaran pesanan ini sedang diproses. Tunggu beberapa menit sampai hasilnya masuk, "
                       "lalu coba batalkan lagi.")
    return reason


def cancel_order(actor: User, order: Order, reason: str) -> Order:
    """Cancel an unpaid order and give its held stock back.

    The caller first cancels the order's open PaymentIntents at Stripe (`open_intents`), so no
    payment can still arrive for it; an intent that turned out paid is booked instead.
    """
    reason = check_cancellable(order, reason)
    order = lock_order(order.id)
    check_cancellable(order, reason)
    release(order, f"Pesanan {order.number} dibatalkan: {reason}")
    result = db.session.execute(
        sa.update(Order).where(Order.id == order.id, Order.status == OrderStatus.PENDING)
        .values(status=OrderStatus.CANCELLED, cancelled_at=utcnow(), cancel_reason=reason[:200])
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("Pesanan ini baru saja dibayar atau diubah. Muat ulang halaman.")
    db.session.refresh(order)
    for fulfilment in order.fulfilments:
        fulfilment.status = FulfilmentStatus.CANCELLED
    record_audit(actor, "order.cancelled", order, before={"status": "pending"},
                 after={"status": "cancelled", "reason": reason})
    db.session.flush()
    notify_buyer(order, "cancelled")
    return order


# -- staff: refunds ------------------------------------------------------------------------------


def plan_refund(actor: User, fulfilment: Fulfilment, *, lines: dict[int, int], include_shipping: bool,
                reason: str, client_key: str | None, restock: bool = True) -> OrderRefund:
    """Step 1 of a refund: validate and store it as pending (the same key returns the same refund)."""
    existing = db.session.scalar(sa.select(OrderRefund).where(OrderRefund.client_key == client_key))
    if existing is not None:
        if existing.fulfilment_id != fulfilment.id:
            raise DomainError("Kunci pengembalian ini sudah dipakai untuk pesanan lain.")
        return existing
    if not client_key or len(client_key) > 80:
        raise DomainError("Formulir tidak lengkap. Muat ulang halaman.")
    if fulfilment.sale_id is None or fulfilment.status not in (
            FulfilmentStatus.PAID, FulfilmentStatus.READY, FulfilmentStatus.SHIPPED, FulfilmentStatus.COMPLETED):
        raise Conflict("Hanya pesanan yang sudah dibayar yang bisa dikembalikan dananya.")
    if db.session.scalar(sa.select(OrderRefund.id).where(OrderRefund.fulfilment_id == fulfilment.id,
                                                         OrderRefund.status == "pending")):
        raise Conflict("Masih ada pengembalian dana yang belum selesai untuk pesanan ini. Selesaikan dulu.")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed({"reason": "Alasan pengembalian wajib diisi."})
    by_id = {line.id: line for line in fulfilment.lines}
    chosen: dict[str, int] = {}
    amount = 0
    for line_id, qty in lines.items():
        if qty <= 0:
            continue
        line = by_id.get(line_id)
        if line is None:
            raise NotFound("Baris pesanan tidak ditemukan.")
        left = line.quantity - line.refunded_qty
        if qty > left:
            raise ValidationFailed({"lines": f"{line.product_name}: paling banyak {left} lagi yang bisa "
                                             "dikembalikan."})
        chosen[str(line_id)] = qty
        amount += _refund_line_amount(line, qty)
    shipping = fulfilment.shipping_fee if include_shipping and not _shipping_refunded(fulfilment) else 0
    amount += shipping
    if not chosen and not shipping:
        raise ValidationFailed({"lines": "Pilih minimal satu barang yang dikembalikan."})
    if amount > fulfilment.refundable_amount:
        raise Conflict("Nilai pengembalian melebihi sisa yang sudah dibayar.")
    refund = OrderRefund(fulfilment_id=fulfilment.id, client_key=client_key, amount=amount,
                         include_shipping=bool(shipping), lines=chosen, reason=reason[:200], status="pending",
                         restock=restock, created_by_id=actor.id)
    db.session.add(refund)
    db.session.flush()
    record_audit(actor, "order_refund.requested", refund, sentra_id=fulfilment.sentra_id,
                 after={"amount": amount, "lines": chosen, "shipping": shipping, "reason": reason,
                        "restock": restock})
    return refund


def _sale_line_for(order_line: OrderLine):
    sale = order_line.fulfilment.sale
    return next((sl for sl in sale.lines if sl.product_id == order_line.product_id
                 and sl.service_date == order_line.service_date), None) if sale else None


def _refund_line_amount(line: OrderLine, qty: int) -> int:
    """The same rule as `refund_sale`: the last pieces take what is left of the line total."""
    from sales.models import RefundLine

    if qty == line.quantity - line.refunded_qty:
        sale_line = _sale_line_for(line)
        done = db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(RefundLine.amount), 0))
                                 .where(RefundLine.sale_line_id == sale_line.id)) if sale_line else 0
        return line.line_total - int(done or 0)
    return line.line_total * qty // line.quantity


def _shipping_refunded(fulfilment: Fulfilment) -> bool:
    return bool(db.session.scalar(sa.select(OrderRefund.id).where(
        OrderRefund.fulfilment_id == fulfilment.id, OrderRefund.include_shipping.is_(True),
        OrderRefund.status == "succeeded")))


def complete_refund(actor: User, refund: OrderRefund, stripe_refund_id: str) -> OrderRefund:
    """Step 3: Stripe has refunded; book it with `refund_sale` (stock back, makers' share reversed)."""
    from sales.models import PaymentMethod
    from sales.services import refund_sale

    refund = db.session.execute(sa.select(OrderRefund).where(OrderRefund.id == refund.id).with_for_update()
                                .execution_options(populate_existing=True)).scalar_one()
    if refund.status == "succeeded":
        return refund
    fulfilment = refund.fulfilment
    sale = fulfilment.sale
    assert sale is not None  # only a paid (sold) fulfilment is refunded
    if refund.lines:
        sale_lines = []
        for line in fulfilment.lines:
            qty = refund.lines.get(str(line.id), 0)
            if qty:
                sale_lines.append((_sale_line_for(line).id, qty))
        sale_refund = refund_sale(actor, sale, lines=sale_lines, method=PaymentMethod.STRIPE,
                                  reason=refund.reason, client_key=f"shop-refund-{refund.client_key}"[:80],
                                  approver=actor, restock=refund.restock, reference=stripe_refund_id)
        refund.sale_refund_id = sale_refund.id
        for line in fulfilment.lines:
            line.refunded_qty += refund.lines.get(str(line.id), 0)
    refund.stripe_refund_id = stripe_refund_id
    refund.status = "succeeded"
    fulfilment.refunded_amount += refund.amount
    everything_back = all(line.refunded_qty == line.quantity for line in fulfilment.lines) and (
        fulfilment.shipping_fee == 0 or refund.include_shipping or _shipping_refunded(fulfilment))
    if everything_back and fulfilment.status != FulfilmentStatus.REFUNDED:
        _move(actor, fulfilment, FulfilmentStatus.REFUNDED)
    record_audit(actor, "order_refund.completed", refund, sentra_id=fulfilment.sentra_id,
                 after={"amount": refund.amount, "stripe_refund": stripe_refund_id})
    db.session.flush()
    notify_buyer(fulfilment.order, "refund_completed", refund=refund, fulfilment=fulfilment)
    return refund


def require_manager_for_refund(actor: User, fulfilment: Fulfilment) -> None:
    from sales.services import is_manager_of

    if not is_manager_of(actor, fulfilment.sentra_id):
        raise Forbidden("Pengembalian dana hanya oleh manajer Sentra ini.")


# -- buyer accounts --------------------------------------------------------------------------------


def register_buyer(name: str, email: str, password: str) -> User:
    """A buyer account (e-mail + password); the same rules as staff passwords."""
    from accounts.models import Role
    from accounts.services import create_user

    return create_user(None, name=name, role=Role.BUYER, email=email, password=password)


def authenticate_buyer(email: str, password: str, remote_addr: str, device_cookie: str | None = None, *,
                       now: datetime | None = None) -> User:
    """The buyer for these credentials, throttled like staff logins (accounts.services).

    Failures are recorded; commit them even on error.
    """
    from accounts.models import Role
    from accounts.services import authenticate_by_email

    return authenticate_by_email(email, password, remote_addr, accept=lambda u: u.role == Role.BUYER,
                                 device_cookie=device_cookie, now=now)


def remember_address(user: User, phone: str, address: str) -> SavedAddress:
    """Keep the phone and address of this order for the buyer's next checkout (once per pair)."""
    phone, address = (phone or "").strip()[:20], (address or "").strip()
    query = sa.select(SavedAddress).where(SavedAddress.user_id == user.id, SavedAddress.phone == phone,
                                          SavedAddress.address == address)
    saved = db.session.scalar(query)
    if saved is None:
        try:
            with db.session.begin_nested():
                saved = SavedAddress(user_id=user.id, phone=phone, address=address, last_used_at=utcnow())
                db.session.add(saved)
                db.session.flush()
        except IntegrityError:  # the same pair saved by a concurrent checkout
            saved = db.session.scalars(query).one()
    saved.last_used_at = utcnow()
    db.session.flush()
    return saved


def saved_addresses(user: User, limit: int = 5) -> list[SavedAddress]:
    """The buyer's saved phones and addresses, most recently used first."""
    return list(db.session.scalars(sa.select(SavedAddress).where(SavedAddress.user_id == user.id)
                                   .order_by(SavedAddress.last_used_at.desc(), SavedAddress.id.desc()).limit(limit)))


def buyer_orders(user: User) -> list[Order]:
    return list(db.session.scalars(sa.select(Order).where(Order.user_id == user.id)
                                   .order_by(Order.created_at.desc()).limit(100)))
