"""The shop's background jobs and their schedules (core/jobs)."""

from __future__ import annotations

from datetime import time, timedelta

from core.jobs import job, schedule


@job("shop.expire_reservations", "Lepas stok pesanan yang tidak dibayar", max_attempts=3, lease_seconds=240)
def expire_reservations() -> None:
    from shop.checkout import expire_reservations as expire

    expire()


@job("shop.release_unconfirmed_deliveries", "Bayarkan hasil pesanan terkirim yang belum ditandai selesai")
def release_unconfirmed_deliveries() -> None:
    from shop.services import release_unconfirmed_deliveries as release

    release()


def register_schedules() -> None:
    schedule("shop.expire_reservations", every=timedelta(minutes=1))
    schedule("shop.release_unconfirmed_deliveries", daily_at=time(1, 0))
