"""Background jobs and schedules: an outbox table in our own database, carried to workers by huey.

- **Recorded with the change.** `enqueue` adds a `jobs` row in the current transaction: a committed
  change always has its job, a rolled-back one never does. A `key` makes enqueueing idempotent.
- **Carried by huey.** After the commit the row's id is handed to the queue (a SQLite file for the
  embedded default, the same PostgreSQL for several hosts, or Redis), so a worker starts it at once.
  If the queue is unreachable the row simply waits: every worker hands over due rows at start and
  every minute (`relay`).
- **Run once, at least once.** A worker claims a row with one conditional UPDATE, so a row handed
  over twice (by two hosts, or by the relay) runs once. A worker killed mid-job (SIGKILL) leaves
  the row `running` until its lease ends; then it is claimed and run again. Handlers must therefore
  be idempotent. A handler's database writes commit together with the row's `done`.
- **Retried, then shown.** A failing job is retried with backoff; after its last try it is `failed`
  and staff get an alert.
- **Schedules** (`schedule`): each minute the worker turns every due schedule into a job keyed by its
  slot (`schedule:<name>:<slot>`); the unique key gives one run per slot over all hosts.

Domain packages register handlers with `@job(...)` and schedules with `schedule(...)` in their
`init_app`; core knows no domain.
"""

from core.jobs.registry import job, schedule
from core.jobs.runner import enqueue

__all__ = ["enqueue", "job", "schedule"]
