"""Sale numbers `<CODE>-<YYYYMMDD>-<NNNN>`, issued by the server per Sentra per local day."""

from __future__ import annotations

from datetime import date
from typing import cast

import sqlalchemy as sa

from core.db import insert_on_conflict
from core.extensions import db
from sales.models import SaleNumberCounter


def next_sequence(sentra_id: int, business_date: date) -> int:
    """Take the next number for (Sentra, day) in the current transaction.

    One upsert statement (`INSERT ... ON CONFLICT DO UPDATE ... RETURNING`): on PostgreSQL the
    counter row stays locked until commit, so concurrent sales queue; on SQLite `BEGIN IMMEDIATE`
    already serialises writers. A rollback returns the number, so there are no gaps.
    """
    params = {"sentra_id": sentra_id, "business_date": business_date, "last_number": 1}
    return int(db.session.connection().execute(_TAKE_NUMBER, params).scalar_one())


_TAKE_NUMBER = insert_on_conflict(
    cast(sa.Table, SaleNumberCounter.__table__),
    "(sentra_id, business_date) DO UPDATE SET last_number = sale_number_counters.last_number + 1",
    returning="last_number",
)


def give_back(sentra_id: int, business_date: date) -> None:
    """Return the number `next_sequence` just took, as a rollback would (numbers stay gap-free).

    Only right in the same transaction, before anything else can take a number: the counter row is
    still held by it (row lock on PostgreSQL, the write lock on SQLite).
    """
    db.session.execute(
        sa.update(SaleNumberCounter)
        .where(SaleNumberCounter.sentra_id == sentra_id, SaleNumberCounter.business_date == business_date)
        .values(last_number=SaleNumberCounter.last_number - 1)
        .execution_options(synchronize_session=False)
    )


def format_number(code: str, business_date: date, sequence: int) -> str:
    return f"{code}-{business_date:%Y%m%d}-{sequence:04d}"


def issue_number(sentra, business_date: date) -> str:
    return format_number(sentra.code, business_date, next_sequence(sentra.id, business_date))

