"""Posting to the ledger: sales, refunds, payouts; and balances computed from entries.

The receivers at the bottom are connected by `payouts.init_app` (`connect_receivers`), so every
`record_sale` / `refund_sale` posts its split, and every delivered online sale releases its held
earnings, in the same transaction.
"""

from __future__ import annotations

import weakref
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import cast

import sqlalchemy as sa

from core.db import attach_loaded, dialect_name, insert_rows, upsert_insert, utcnow
from core.errors import ValidationFailed
from core.extensions import db
from payouts.allocation import LineTerms, allocate_line, reverse_components
from payouts.models import (
    AccountKind,
    Component,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    PayoutLine,
    TransactionKind,
)
from sales.signals import online_sale_delivered, sale_recorded, sale_refunded


class UnbalancedPosting(RuntimeError):
    """A posting whose entries do not sum to zero: a programming error, never saved."""


@dataclass(frozen=True)
class AccountRef:
    """A ledger account named by what it is (kind, Sentra/maker, tender), without loading it."""

    kind: AccountKind
    sentra_id: int | None = None
    maker_id: int | None = None
    tender: str = ""

    @property
    def key(self) -> str:
        """The account's natural key, e.g. "maker_payable:m12", "payment_provider_clearing:s3:qris"."""
        parts = [str(self.kind)]
        if self.sentra_id is not None:
            parts.append(f"s{self.sentra_id}")
        if self.maker_id is not None:
            parts.append(f"m{self.maker_id}")
        if self.tender:
            parts.append(str(self.tender))
        return ":".join(parts)


@dataclass
class EntrySpec:
    account: LedgerAccount | AccountRef
    amount: int
    component: Component
    maker_id: int | None = None
    sale_line_id: int | None = None
    refund_line_id: int | None = None
    payout_line_id: int | None = None
    available_at: datetime | None = None


# --- accounts ---------------------------------------------------------------------------------

def account(kind: AccountKind, *, sentra_id: int | None = None, maker_id: int | None = None,
            tender: str = "") -> LedgerAccount:
    """Get or create the account for (kind, Sentra/maker, tender)."""
    ref = AccountRef(kind, sentra_id, maker_id, str(tender))
    key = ref.key
    found = db.session.scalar(sa.select(LedgerAccount).where(LedgerAccount.key == key))
    if found is not None:
        return found
    new = LedgerAccount(key=key, kind=kind, sentra_id=sentra_id, maker_id=maker_id, tender=str(tender))
    try:
        with db.session.begin_nested():
            db.session.add(new)
    except sa.exc.IntegrityError:
        # Another transaction created it first (PostgreSQL); use theirs.
        return db.session.scalars(sa.select(LedgerAccount).where(LedgerAccount.key == key)).one()
    return new


def maker_payable(maker_id: int) -> LedgerAccount:
    return account(AccountKind.MAKER_PAYABLE, maker_id=maker_id)


def tender_ref(sentra_id: int, method: str) -> AccountRef:
    if str(method) == "cash":
        return AccountRef(AccountKind.SENTRA_CASH, sentra_id=sentra_id)
    return AccountRef(AccountKind.PAYMENT_PROVIDER_CLEARING, sentra_id=sentra_id, tender=str(method))


def tender_account(sentra_id: int, method: str) -> LedgerAccount:
    ref = tender_ref(sentra_id, method)
    return account(ref.kind, sentra_id=ref.sentra_id, tender=ref.tender)


class AccountIds:
    """Ledger account ids by natural key, per database (engine URL), for the life of the process.

    An account is never changed or deleted, so a (key → id) pair once true stays true in the
    database it was read from. It can still be wrong here: the transaction that created the
    account may roll back, and a database may be emptied or restored under a running process
    (the tests do both; so does a restore). So a cached id is never trusted blindly: `post`
    checks every cached pair in the very statement that inserts the ledger transaction (nothing
    is written when one is wrong), then forgets the database's ids and looks them up again.
    """

    def __init__(self) -> None:
        self._ids: dict[str, dict[str, int]] = {}
        self._urls: weakref.WeakKeyDictionary[sa.Engine, str] = weakref.WeakKeyDictionary()

    def _database(self) -> str:
        engine = db.session.get_bind().engine
        url = self._urls.get(engine)
        if url is None:
            url = self._urls[engine] = engine.url.render_as_string(hide_password=True)
        return url

    def cached(self, keys: Iterable[str]) -> dict[str, int]:
        known = self._ids.get(self._database(), {})
        return {key: known[key] for key in keys if key in known}

    def remember(self, ids: dict[str, int]) -> None:
        self._ids.setdefault(self._database(), {}).update(ids)

    def forget(self) -> None:
        self._ids.pop(self._database(), None)

    def fetch(self, refs: Iterable[AccountRef]) -> dict[str, int]:
        """The ids of `refs`' accounts, read in one query; missing accounts are created first."""
        wanted = {ref.key: ref for ref in refs}
        table = LedgerAccount.__table__
        query = sa.select(table.c.key, table.c.id).where(table.c.key.in_(sa.bindparam("keys", expanding=True)))
        found = dict(db.session.execute(query, {"keys": list(wanted)}).tuples().all())
        missing = [ref for key, ref in wanted.items() if key not in found]
        if missing:
            # ON CONFLICT: another transaction may be creating the same account right now; use theirs.
            db.session.execute(upsert_insert(dialect_name(db.session), table).values([
                {"key": ref.key, "kind": ref.kind, "sentra_id": ref.sentra_id, "maker_id": ref.maker_id,
                 "tender": ref.tender, "created_at": utcnow()} for ref in missing
            ]).on_conflict_do_nothing(index_elements=["key"]))
            found.update(db.session.execute(query, {"keys": [ref.key for ref in missing]}).tuples().all())
        self.remember(found)
        return found


#: the process's account ids (see `AccountIds`)
account_ids = AccountIds()


# --- posting ----------------------------------------------------------------------------------

def post(kind: TransactionKind, *, reference: str, client_key: str, actor_id: int | None, sentra_id: int,
         business_date: date, entries: list[EntrySpec], sale_id: int | None = None,
         refund_id: int | None = None, payout_line_id: int | None = None,
         when: datetime | None = None) -> LedgerTransaction:
    """Post one balanced transaction; a second post with the same `client_key` returns the first.

    Two statements: the transaction row (inserted only if `client_key` is new and every cached
    account id is still right, see `AccountIds`) and all its entries in one multi-row INSERT.
    """
    entries = [e for e in entries if e.amount != 0]
    total = sum(e.amount for e in entries)
    if total != 0:
        raise UnbalancedPosting(f"posting {client_key} does not balance: {total}")
    when = when or utcnow()
    refs = {e.account.key: e.account for e in entries if isinstance(e.account, AccountRef)}
    cached = account_ids.cached(refs)
    ids = dict(cached)
    if len(cached) < len(refs):
        ids.update(account_ids.fetch(ref for key, ref in refs.items() if key not in cached))
    txn = LedgerTransaction(kind=kind, reference=reference[:80], client_key=client_key, actor_id=actor_id,
                            sentra_id=sentra_id, business_date=business_date, sale_id=sale_id,
                            refund_id=refund_id, payout_line_id=payout_line_id, created_at=when)
    txn_id = _insert_transaction(txn, cached)
    if txn_id is None:
        existing = db.session.scalar(sa.select(LedgerTransaction).where(LedgerTransaction.client_key == client_key))
        if existing is not None:
            return existing
        # A cached account id is wrong (see AccountIds): nothing was written; look them all up again.
        account_ids.forget()
        ids.update(account_ids.fetch(refs.values()))
        txn_id = _insert_transaction(txn, {})
        if txn_id is None:  # pragma: no cover - the key was checked just above, in this transaction
            raise RuntimeError(f"posting {client_key} could not be inserted")
    txn.id = txn_id
    insert_rows(db.session, LedgerEntry, [
        {"transaction_id": txn_id, "account_id": ids[e.account.key] if isinstance(e.account, AccountRef)
         else e.account.id, "amount": e.amount, "component": e.component, "sentra_id": sentra_id,
         "maker_id": e.maker_id, "sale_id": sale_id, "sale_line_id": e.sale_line_id,
         "refund_line_id": e.refund_line_id, "payout_line_id": e.payout_line_id, "available_at": e.available_at,
         "created_at": when}
        for e in entries
    ])
    attach_loaded(db.session, [txn])
    return txn


def _insert_transaction(txn: LedgerTransaction, checked: dict[str, int]) -> int | None:
    """INSERT the transaction row unless its client key is taken or a `checked` (key → id) pair is
    not in `ledger_accounts`: the new id, or None when nothing was inserted."""
    db.session.flush()  # an ORM-made account or refund line the entries refer to goes in first
    params = {column.key: getattr(txn, column.key) for column in _TXN_COLUMNS}
    params["ids"] = list(checked.values())
    params["pairs"] = [(account_id, key) for key, account_id in checked.items()]
    params["n_pairs"] = len(checked)
    return db.session.connection().execute(_NEW_TRANSACTION, params).scalar()


_transactions = cast(sa.Table, LedgerTransaction.__table__)
_accounts = cast(sa.Table, LedgerAccount.__table__)
_TXN_COLUMNS = [c for c in _transactions.columns if c is not _transactions.c.id]
#: INSERT ... SELECT <the values> WHERE <the key is new> AND <every cached account pair is right>
_NEW_TRANSACTION = (
    sa.insert(_transactions)
    .from_select(
        [c.key for c in _TXN_COLUMNS],
        sa.select(*[sa.bindparam(c.key, type_=c.type) for c in _TXN_COLUMNS]).where(
            ~sa.exists().where(_transactions.c.client_key == sa.bindparam("client_key")),
            sa.select(sa.func.count()).select_from(_accounts)
            .where(_accounts.c.id.in_(sa.bindparam("ids", expanding=True)),  # by primary key, then the pair
                   sa.tuple_(_accounts.c.id, _accounts.c.key).in_(sa.bindparam("pairs", expanding=True)))
            .scalar_subquery() == sa.bindparam("n_pairs"),
        ),
    )
    .returning(_transactions.c.id)
)


def line_terms(line, members: list[tuple[int, int]] | None = None) -> LineTerms:
    """The split terms snapshotted on a `SaleLine` (members: the group's, ordered by maker id)."""
    if line.group_id is not None and members is None:
        members = group_members(line.group_id)
    return LineTerms(
        line_total=line.line_total, quantity=line.quantity, split_mode=str(line.split_mode),
        maker_share_bps=line.maker_share_bps, maker_price=line.maker_price, material_cost=line.material_cost,
        unit_price=line.unit_price, maker_id=line.maker_id, members=tuple(members or ()),
    )


def group_members(group_id: int) -> list[tuple[int, int]]:
    return groups_members({group_id}).get(group_id, [])


def groups_members(group_ids: set[int]) -> dict[int, list[tuple[int, int]]]:
    """Each group's members as (maker_id, share_weight), ordered by maker id; one query for all."""
    from makers.models import MakerGroupMember

    rows = db.session.execute(
        sa.select(MakerGroupMember.group_id, MakerGroupMember.maker_id, MakerGroupMember.share_weight)
        .where(MakerGroupMember.group_id.in_(group_ids)).order_by(MakerGroupMember.maker_id)
    ).all()
    members: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for group_id, maker_id, weight in rows:
        members[group_id].append((maker_id, weight))
    return dict(members)


def hold_until(sale) -> datetime | None:
    """Counter sales: `hold_days` after the sale. Online: held (NULL) until delivered/picked up."""
    if str(sale.channel) == "online":
        return None
    return (sale.created_at or utcnow()) + timedelta(days=sale.sentra.hold_days or 0)


def post_sale(sale, actor_id: int | None = None) -> LedgerTransaction:
    """Split every line of `sale` and post it (idempotent per sale).

    Reads nothing it does not have to: the lines and payments are the sale's own, a group's members
    come in one query for all the sale's groups, the accounts by id from `account_ids`.
    """
    available_at = hold_until(sale)
    sentra_id = sale.sentra_id
    materials = AccountRef(AccountKind.MATERIALS_RECOVERED, sentra_id=sentra_id)
    revenue = AccountRef(AccountKind.SENTRA_REVENUE, sentra_id=sentra_id)
    groups = {line.group_id for line in sale.lines if line.group_id is not None}
    members = groups_members(groups) if groups else {}
    entries: list[EntrySpec] = []
    line_sum = 0
    for line in sale.lines:
        terms = line_terms(line, members.get(line.group_id, []) if line.group_id is not None else None)
        alloc = allocate_line(terms)
        line_sum += alloc.line_total
        entries.append(EntrySpec(materials, -alloc.material, Component.MATERIAL, sale_line_id=line.id))
        entries.append(EntrySpec(revenue, -alloc.sentra, Component.SENTRA, sale_line_id=line.id))
        for maker_id, share in alloc.makers.items():
            entries.append(EntrySpec(AccountRef(AccountKind.MAKER_PAYABLE, maker_id=maker_id), -share,
                                     Component.MAKER, maker_id=maker_id, sale_line_id=line.id,
                                     available_at=available_at))
    if line_sum != sale.total:
        raise ValidationFailed({"total": "Total penjualan tidak sama dengan jumlah baris."})
    paid = 0
    for payment in sale.payments:
        entries.append(EntrySpec(tender_ref(sentra_id, payment.method), payment.amount, Component.TENDER))
        paid += payment.amount
    if sale.rounding:
        entries.append(EntrySpec(AccountRef(AccountKind.ROUNDING, sentra_id=sentra_id), -sale.rounding,
                                 Component.ROUNDING))
    unpaid = sale.total + (sale.rounding or 0) - paid
    if unpaid:
        entries.append(EntrySpec(AccountRef(AccountKind.RECEIVABLE, sentra_id=sentra_id), unpaid,
                                 Component.RECEIVABLE))
    return post(TransactionKind.SALE, reference=f"sale:{sale.number}", client_key=f"sale:{sale.id}",
                actor_id=actor_id or sale.cashier_id, sentra_id=sentra_id, business_date=sale.business_date,
                entries=entries, sale_id=sale.id, when=sale.created_at)


def _component_key(entry: LedgerEntry) -> str:
    if entry.component == Component.MAKER:
        return f"maker:{entry.maker_id}"
    return str(entry.component)


def post_refund(refund, actor_id: int | None = None) -> LedgerTransaction:
    """Reverse the original split of each refunded line, proportionally and exactly."""
    sale = refund.sale
    sentra_id = sale.sentra_id
    now = refund.created_at or utcnow()
    entries: list[EntrySpec] = []
    accounts: dict[str, LedgerAccount] = {}
    holds: dict[str, datetime | None] = {}
    lines_sum = 0
    for refund_line in refund.lines:
        rows = db.session.scalars(
            sa.select(LedgerEntry).where(LedgerEntry.sale_line_id == refund_line.sale_line_id,
                                         LedgerEntry.component.in_([Component.MATERIAL, Component.SENTRA,
                                                                    Component.MAKER]))
            .order_by(LedgerEntry.id)
        ).all()
        remaining: dict[str, int] = defaultdict(int)
        for row in rows:
            key = _component_key(row)
            remaining[key] -= row.amount  # credits (negative) add, earlier reversals subtract
            accounts.setdefault(key, row.account)
            if row.amount < 0 and row.component == Component.MAKER:
                holds[key] = row.available_at
        if not rows:
            raise ValidationFailed({"sale_line": "Baris penjualan ini belum tercatat di buku besar."})
        ordered = {k: remaining[k] for k in sorted(remaining, key=_reverse_order)}
        parts = reverse_components(refund_line.amount, ordered)
        for key, amount in parts.items():
            maker_id = int(key.split(":")[1]) if key.startswith("maker:") else None
            available_at = None
            if maker_id is not None:
                held = holds.get(key)
                available_at = None if held is None else max(held, now)
            entries.append(EntrySpec(accounts[key], amount,
                                     Component.MAKER if maker_id else Component(key), maker_id=maker_id,
                                     sale_line_id=refund_line.sale_line_id, refund_line_id=refund_line.id,
                                     available_at=available_at))
        lines_sum += refund_line.amount
    entries.append(EntrySpec(tender_account(sentra_id, refund.method), -refund.amount, Component.TENDER))
    if refund.amount != lines_sum:
        entries.append(EntrySpec(account(AccountKind.ROUNDING, sentra_id=sentra_id), refund.amount - lines_sum,
                                 Component.ROUNDING))
    return post(TransactionKind.REFUND, reference=f"refund:{sale.number}:{refund.id}",
                client_key=f"refund:{refund.id}", actor_id=actor_id or refund.created_by_id, sentra_id=sentra_id,
                business_date=sale.sentra.local_date(now), entries=entries, sale_id=sale.id,
                refund_id=refund.id, when=now)


def _reverse_order(key: str) -> tuple[int, int]:
    # Stable order for the largest-remainder tie-break: material, Sentra, then makers by id.
    if key == "material":
        return (0, 0)
    if key == "sentra":
        return (1, 0)
    return (2, int(key.split(":")[1]))


def release_online_hold(sale, when: datetime | None = None) -> int:
    """An online order was delivered or picked up: its makers' earnings become payable at `when`.

    The shop calls this once the goods are handed over. Sets `available_at` on the sale's held
    maker entries (only those still NULL: calling it twice changes nothing). Returns the number
    of entries released. Flushes, does not commit.
    """
    when = when or utcnow()
    db.session.flush()
    result = db.session.execute(
        sa.update(LedgerEntry)
        .where(LedgerEntry.sale_id == sale.id, LedgerEntry.component == Component.MAKER,
               LedgerEntry.available_at.is_(None))
        .values(available_at=when)
        .execution_options(synchronize_session=False)
    )
    db.session.expire_all()
    return result.rowcount or 0  # type: ignore[attr-defined]


# --- balances ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class MakerBalance:
    maker_id: int
    #: payable now: available earnings − refunds − payouts (negative = clawback to recover)
    payable: int
    #: earnings still in the hold period (or waiting for delivery)
    held: int
    #: all payouts made
    paid: int
    earned: int
    refunded: int

    @property
    def total(self) -> int:
        """earned − refunded − paid == payable + held."""
        return self.payable + self.held


def _balance_query(now: datetime, sentra_id: int | None = None):
    # One pass over the maker entries, no join: a maker entry of a sale is a credit (negative), of a
    # refund a debit (positive); payouts are their own component.
    e = LedgerEntry
    is_available = sa.and_(e.available_at.is_not(None), e.available_at <= now)
    is_maker = e.component == Component.MAKER
    query = (
        sa.select(
            e.maker_id,
            sa.func.coalesce(sa.func.sum(sa.case((is_available, -e.amount), else_=0)), 0),
            sa.func.coalesce(sa.func.sum(sa.case((is_available, 0), else_=-e.amount)), 0),
            sa.func.coalesce(sa.func.sum(sa.case((e.component == Component.PAYOUT, e.amount), else_=0)), 0),
            sa.func.coalesce(sa.func.sum(sa.case((sa.and_(is_maker, e.amount < 0), -e.amount), else_=0)), 0),
            sa.func.coalesce(sa.func.sum(sa.case((sa.and_(is_maker, e.amount > 0), e.amount), else_=0)), 0),
        )
        .where(e.maker_id.is_not(None))
        .group_by(e.maker_id)
    )
    if sentra_id is not None:
        query = query.where(e.sentra_id == sentra_id)
    return query


def maker_balance(maker_id: int, *, sentra_id: int | None = None, now: datetime | None = None) -> MakerBalance:
    now = now or utcnow()
    row = db.session.execute(_balance_query(now, sentra_id).where(LedgerEntry.maker_id == maker_id)).first()
    if row is None:
        return MakerBalance(maker_id, 0, 0, 0, 0, 0)
    return MakerBalance(maker_id, *(int(v) for v in row[1:]))


def all_maker_balances(*, sentra_id: int | None = None, now: datetime | None = None) -> dict[int, MakerBalance]:
    now = now or utcnow()
    return {row[0]: MakerBalance(row[0], *(int(v) for v in row[1:]))
            for row in db.session.execute(_balance_query(now, sentra_id))}


def ledger_total() -> int:
    """Sum of every entry ever posted: always zero."""
    return int(db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(LedgerEntry.amount), 0))) or 0)


def unpaid_entries_query(maker_id: int, sentra_id: int, up_to: datetime):
    """A maker's payable entries at a Sentra, available by `up_to`, not yet in a live payout."""
    from payouts.models import PayoutItem

    linked = sa.select(PayoutItem.entry_id).where(PayoutItem.live_marker.is_not(None))
    return (
        sa.select(LedgerEntry)
        .where(LedgerEntry.maker_id == maker_id, LedgerEntry.sentra_id == sentra_id,
               LedgerEntry.component == Component.MAKER, LedgerEntry.available_at.is_not(None),
               LedgerEntry.available_at <= up_to, LedgerEntry.id.not_in(linked))
        .order_by(LedgerEntry.id)
    )


def post_payout(line: PayoutLine, actor_id: int, when: datetime) -> LedgerTransaction:
    """Debit the maker's payable, credit the payout account (cash box, bank, e-wallet or savings)."""
    run = line.run
    if str(line.method) == "savings":
        credit = account(AccountKind.MAKER_SAVINGS, maker_id=line.maker_id)
    else:
        credit = account(AccountKind.PAYOUT_OUT, sentra_id=run.sentra_id, tender=str(line.method))
    entries = [
        EntrySpec(maker_payable(line.maker_id), line.amount, Component.PAYOUT, maker_id=line.maker_id,
                  payout_line_id=line.id, available_at=when),
        EntrySpec(credit, -line.amount, Component.PAYOUT, payout_line_id=line.id),
    ]
    return post(TransactionKind.PAYOUT, reference=f"payout:{run.id}:{line.id}", client_key=f"payout-line:{line.id}",
                actor_id=actor_id, sentra_id=run.sentra_id, business_date=run.sentra.local_date(when),
                entries=entries, payout_line_id=line.id, when=when)


# --- signal receivers -------------------------------------------------------------------------

def _on_sale_recorded(sale, **_extra) -> None:
    post_sale(sale)


def _on_sale_refunded(refund, **_extra) -> None:
    post_refund(refund)


def _on_online_sale_delivered(sale, when: datetime | None = None, **_extra) -> int:
    return release_online_hold(sale, when)


def connect_receivers() -> None:
    """Called by `payouts.init_app`; connecting the same receiver twice is a no-op."""
    # weak=False: module-level functions, but be explicit that they live as long as the app.
    sale_recorded.connect(_on_sale_recorded, weak=False)
    sale_refunded.connect(_on_sale_refunded, weak=False)
    online_sale_delivered.connect(_on_online_sale_delivered, weak=False)
