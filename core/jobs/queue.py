"""The transport: a huey queue that carries job ids to the workers, and the worker itself.

Where the queue lives (`JOB_QUEUE_URL`; empty means "next to the database"):
- SQLite database → a SQLite file beside it (`<database>.queue`): the embedded default, one host;
- PostgreSQL → huey's tables in the same database: every host shares it, nothing more to run;
- `redis://…` → a Redis server; `memory://` → in-process only (tests that run jobs by hand).

The queue only carries ids: the truth is the `jobs` table, so losing a queued message (a worker
killed, a queue wiped) loses no job — the relay hands the row over again.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Flask, current_app
from huey import Huey, MemoryHuey, PostgresHuey, RedisHuey, SqliteHuey, crontab
from sqlalchemy.engine import make_url

log = logging.getLogger("sentra.jobs")
_building = threading.Lock()


@dataclass
class JobQueue:
    huey: Huey
    run_task: Any

    def submit(self, job_id: int, eta: datetime | None = None) -> None:
        if eta is not None:
            self.run_task.schedule(args=(job_id,), eta=eta)
        else:
            self.run_task(job_id)

    def pending(self) -> int:
        return int(self.huey.pending_count())


#: huey's own tables on PostgreSQL (created by the migrations, unknown to the models)
TABLE_PREFIX = "job_queue"


def not_a_queue_table(name: str | None, type_: str, parent_names: dict) -> bool:
    """Alembic's `include_name`: leave huey's tables out of the model comparison."""
    return not (type_ == "table" and (name or "").startswith(TABLE_PREFIX + "_"))


def queue_url(config: dict) -> str:
    """The queue's URL: `JOB_QUEUE_URL`, or derived from the database's."""
    if config.get("JOB_QUEUE_URL"):
        return str(config["JOB_QUEUE_URL"])
    database = make_url(config["SQLALCHEMY_DATABASE_URI"])
    if database.get_backend_name() == "sqlite":
        return f"sqlite:///{database.database}.queue" if database.database else "memory://"
    return database.set(drivername="postgresql").render_as_string(hide_password=False)


def make_huey(url: str) -> Huey:
    """A huey for `url`; `utc=True` so schedules are in UTC like every time in the app."""
    if url.startswith("memory://"):
        return MemoryHuey("sentra", utc=True, results=False)
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisHuey("sentra", url=url, utc=True, results=False)
    if url.startswith("sqlite:///"):
        return SqliteHuey("sentra", filename=url.removeprefix("sqlite:///"), utc=True, results=False)
    if url.startswith(("postgresql://", "postgres://")):
        # its tables come from the migrations (the app's database role may not CREATE)
        return PostgresHuey("sentra", dsn=url, utc=True, results=False, table_prefix=TABLE_PREFIX,
                            create_tables=False)
    raise ValueError("JOB_QUEUE_URL must start with sqlite:///, postgresql://, redis:// or memory://")


def init_app(app: Flask) -> None:
    """The queue is built on first use, not here: an app must start while its queue is unreachable."""
    app.extensions["job_queue"] = None


def _build(app: Flask) -> JobQueue:
    """The app's huey and its two tasks: run one job, and the minute tick."""
    huey = make_huey(queue_url(app.config))

    @huey.task(name="sentra.run_job")
    def run_job(job_id: int) -> None:
        from core.jobs.runner import execute

        with app.app_context():
            execute(job_id)

    @huey.periodic_task(crontab(), name="sentra.tick")
    def tick() -> None:
        from core.jobs.runner import tick as run_tick

        with app.app_context():
            run_tick()

    return JobQueue(huey, run_job)


def job_queue(app: Flask | None = None) -> JobQueue:
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    with _building:
        if app.extensions.get("job_queue") is None:
            app.extensions["job_queue"] = _build(app)
    return app.extensions["job_queue"]


def run_worker(app: Flask, workers: int) -> None:
    """Run a huey consumer (threads) until SIGINT (graceful) or SIGTERM: first one tick (schedules that came due
    while no worker ran, rows the queue lost), then jobs as they come and the tick every minute."""
    from core.jobs.runner import tick

    with app.app_context():
        tick()
    consumer = job_queue(app).huey.create_consumer(
        workers=workers, worker_type="thread", periodic=True, max_delay=2.0, check_worker_health=True)
    log.info("job worker started: %s thread(s)", workers)
    consumer.run()
