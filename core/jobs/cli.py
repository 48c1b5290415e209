"""`flask jobs worker` (one per host, under systemd), `flask jobs run-due`, `flask jobs status`."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

jobs_cli = AppGroup("jobs", help="Background jobs and schedules.")


@jobs_cli.command("worker")
@click.option("--threads", default=2, show_default=True, help="Jobs run at the same time.")
def worker_command(threads: int) -> None:
    """Run jobs and schedules until stopped (SIGINT lets running jobs finish; SIGTERM stops at once)."""
    from core.jobs.queue import run_worker

    run_worker(current_app._get_current_object(), threads)  # type: ignore[attr-defined]


@jobs_cli.command("run-due")
def run_due_command() -> None:
    """Run every due job now, in this process (without a worker), and the due schedules."""
    from core.jobs.runner import enqueue_due_schedules, run_due_jobs

    enqueue_due_schedules()
    outcomes = run_due_jobs()
    click.echo(f"{len(outcomes)} tugas dijalankan: " + ", ".join(f"#{i} {o}" for i, o in outcomes.items()))


@jobs_cli.command("status")
def status_command() -> None:
    """Job counts by state (pending, running, done, failed, overdue)."""
    from core.jobs.runner import queue_summary

    for state, count in queue_summary().items():
        click.echo(f"{state}: {count}")
