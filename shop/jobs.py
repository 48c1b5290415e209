"""The shop's background jobs and their schedules (core/jobs)."""

from __future__ import annotations

from datetime import time, timedelta

from core.jobs import job, schedule


@job("shop.expire_reservations", "Lepas stok pesanan yang tidak dibayar", max_attempts=3, lease_seconds=240)
def expire_reservations() -> None:
    from shop.checkout import expire_reservations as expire

    expire()


@job("shop.send_refunds", "Kirim ulang pengembalian dana otomatis yang tertunda", max_attempts=3, lease_seconds=600)
def send_pending_refunds() -> None:
    from shop.refunds import retry_pending_refunds

    retry_pending_refunds()


@job("shop.release_unconfirmed_deliveries", "Bayarkan hasil pesanan terkirim yang belum ditandai selesai")
def release_unconfirmed_deliveries() -> None:
    from shop.services import release_unconfirmed_deliveries as release

    release()


def register_schedules() -> None:
    schedule("shop.expire_reservations", every=timedelta(minutes=1))
    schedule("shop.send_refunds", every=timedelta(minutes=5))
    schedule("shop.release_unconfirmed_deliveries", daily_at=time(1, 0))
