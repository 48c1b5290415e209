"""Accounts' background job (core/jobs): the nightly clean-up of spent login throttles."""

from __future__ import annotations

from datetime import time

from core.db import utcnow
from core.jobs import job, schedule


@job("accounts.prune_login_throttles", "Bersihkan catatan percobaan masuk yang sudah kedaluwarsa", max_attempts=3)
def prune_login_throttles() -> None:
    from accounts.throttle import prune_login_throttles as prune

    prune(utcnow())


def register_schedules() -> None:
    schedule("accounts.prune_login_throttles", daily_at=time(3, 0))
