"""What jobs exist (`@job`) and when the scheduled ones run (`schedule`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

F = TypeVar("F", bound=Callable[..., Any])

#: seconds to wait before each retry (the last value repeats)
DEFAULT_BACKOFF = (30, 120, 600, 1800, 3600)


@dataclass(frozen=True)
class JobType:
    name: str
    handler: Callable[..., Any]
    #: the Indonesian name staff see in an alert
    label: str
    max_attempts: int = 5
    backoff: tuple[int, ...] = DEFAULT_BACKOFF
    #: how long one run may take before its worker is presumed dead
    lease_seconds: int = 300

    def retry_delay(self, attempts: int) -> timedelta:
        return timedelta(seconds=self.backoff[min(attempts, len(self.backoff)) - 1])


@dataclass(frozen=True)
class Schedule:
    job_name: str
    #: run once per interval (slots counted from the epoch) …
    every: timedelta | None = None
    #: … or once a day, at or after this local time
    daily_at: time | None = None

    def slot(self, now: datetime, zone: ZoneInfo) -> str | None:
        """The slot `now` falls in, or None when the daily run is not yet due today."""
        if self.every is not None:
            return str(int(now.timestamp() // self.every.total_seconds()))
        assert self.daily_at is not None
        local = now.astimezone(zone)
        return local.date().isoformat() if local.time() >= self.daily_at else None


JOB_TYPES: dict[str, JobType] = {}
SCHEDULES: dict[str, Schedule] = {}


def job(name: str, label: str, *, max_attempts: int = 5, backoff: tuple[int, ...] = DEFAULT_BACKOFF,
        lease_seconds: int = 300) -> Callable[[F], F]:
    """Register `handler(**payload)` as the job `name`. It must be idempotent (at-least-once)."""

    def register(handler: F) -> F:
        JOB_TYPES[name] = JobType(name, handler, label, max_attempts, backoff, lease_seconds)
        return handler

    return register


def schedule(job_name: str, *, every: timedelta | None = None, daily_at: time | None = None) -> None:
    """Run the (payload-less) job `job_name` every interval or daily at a local time."""
    if (every is None) == (daily_at is None):
        raise ValueError("give exactly one of every= or daily_at=")
    SCHEDULES[job_name] = Schedule(job_name, every, daily_at)
