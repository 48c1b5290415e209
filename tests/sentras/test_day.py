"""A Sentra's day is in its own time zone: `local_date` and `day_bounds` (UTC)."""

from datetime import UTC, date, datetime

from sentras.models import Sentra


def test_local_date_follows_the_sentras_zone():
    moment = datetime(2026, 11, 23, 16, 30, tzinfo=UTC)  # 23:30 WIB, 00:30 WITA, 01:30 WIT
    assert Sentra(timezone="Asia/Jakarta").local_date(moment) == date(2026, 11, 23)
    assert Sentra(timezone="Asia/Makassar").local_date(moment) == date(2026, 11, 24)
    assert Sentra(timezone="Asia/Jayapura").local_date(moment) == date(2026, 11, 24)


def test_day_bounds_are_utc_and_one_day_long():
    start, end = Sentra(timezone="Asia/Makassar").day_bounds(date(2026, 11, 24))
    assert start == datetime(2026, 11, 23, 16, 0, tzinfo=UTC)
    assert end == datetime(2026, 11, 24, 16, 0, tzinfo=UTC)
    assert start.utcoffset() is not None and start.utcoffset().total_seconds() == 0
