"""Sale numbers `<CODE>-<YYYYMMDD>-<NNNN>`, issued by the server per Sentra per local day."""

from __future__ import annotations

from datetime import date

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from core.extensions import db
from sales.models import SaleNumberCounter


def next_sequence(sentra_id: int, business_date: date) -> int:
    """Take the next number for (Sentra, day) in the current transaction.

    One upsert statement (`INSERT ... ON CONFLICT DO UPDATE ... RETURNING`): on PostgreSQL the
    counter row stays locked until commit, so concurrent sales queue; on SQLite `BEGIN IMMEDIATE`
    already serialises writers. A rollback returns the number, so there are no gaps.
    """
    dialect = db.session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = (
        insert(SaleNumberCounter)
        .values(sentra_id=sentra_id, business_date=business_date, last_number=1)
        .on_conflict_do_update(
            index_elements=["sentra_id", "business_date"],
            set_={"last_number": SaleNumberCounter.last_number + 1},
        )
        .returning(SaleNumberCounter.last_number)
    )
    return int(db.session.execute(stmt).scalar_one())


def format_number(code: str, business_date: date, sequence: int) -> str:
    return f"{code}-{business_date:%Y%m%d}-{sequence:04d}"


def issue_number(sentra, business_date: date) -> str:
    return format_number(sentra.code, business_date, next_sequence(sentra.id, business_date))

