"""CLI commands: `flask demo load`, `flask users create-admin`, `flask db-backup`, `flask db-restore`,
`flask ledger verify`, `flask files import-uploads`."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from core.extensions import db
from core.jobs.cli import jobs_cli
from core.unit_of_work import transactional

demo_cli = AppGroup("demo", help="Demo data for local use.")
users_cli = AppGroup("users", help="User accounts.")
ledger_cli = AppGroup("ledger", help="Stock and money ledger checks.")
files_cli = AppGroup("files", help="Photos and scans stored in the database.")


@demo_cli.command("load")
@transactional
def demo_load() -> None:
    """Load the demo Sentras, users, makers and goods (idempotent)."""
    from app.demo import load_demo_data

    summary = load_demo_data()
    for name, count in summary.items():
        click.echo(f"{name}: {count} new")


@users_cli.command("create-admin")
@click.option("--email", prompt=True)
@click.option("--name", prompt=True)
@click.password_option()
@transactional
def users_create_admin(email: str, name: str, password: str) -> None:
    """Create an admin account."""
    from accounts.models import Role
    from accounts.services import create_user
    from core.errors import ValidationFailed

    try:
        user = create_user(None, name=name, role=Role.ADMIN, email=email, password=password)
    except ValidationFailed as error:
        raise click.ClickException("; ".join(error.errors.values())) from None
    click.echo(f"Admin dibuat: {user.email}")


@click.command("db-backup")
@click.option("--output", type=click.Path(path_type=Path), default=None,
              help="File to write (default: instance/backups/sentra-<UTC time>.sqlite3|dump).")
def db_backup(output: Path | None) -> None:
    """Back up the database (SQLite online backup or pg_dump)."""
    from core.backup import backup_database, default_backup_path

    url = current_app.config["SQLALCHEMY_DATABASE_URI"]
    target = output or default_backup_path(Path(current_app.instance_path) / "backups", db.engine.dialect.name)
    click.echo(f"Cadangan ditulis: {backup_database(url, target)}")


@click.command("db-restore")
@click.argument("source", type=click.Path(exists=True, path_type=Path))
@click.confirmation_option(prompt="Ganti seluruh isi database dengan cadangan ini?")
def db_restore(source: Path) -> None:
    """Restore the database from a backup made by `flask db-backup` (stop the app first)."""
    from core.backup import restore_database

    db.session.remove()
    db.engine.dispose()
    restore_database(current_app.config["SQLALCHEMY_DATABASE_URI"], source)
    click.echo("Database dipulihkan.")


@users_cli.command("set-password")
@click.option("--email", prompt=True)
@click.password_option()
@transactional
def users_set_password(email: str, password: str) -> None:
    """Set a staff user's password (also unlocks the account and ends its sessions)."""
    import sqlalchemy as sa

    from accounts.models import User
    from accounts.services import reset_staff_password
    from core.errors import ValidationFailed

    user = db.session.scalar(sa.select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise click.ClickException(f"Tidak ada akun dengan e-mail {email}.")
    try:
        reset_staff_password(None, user, password)
    except ValidationFailed as error:
        raise click.ClickException("; ".join(error.errors.values())) from None
    click.echo(f"Kata sandi diganti: {user.email}")


@ledger_cli.command("verify")
@transactional
def ledger_verify() -> None:
    """Recompute stock, postings, balances, payments and refunds; exit 1 on any problem."""
    from ops.integrity import counts, verify

    problems = verify()
    for problem in problems:
        click.echo(str(problem))
    checked = ", ".join(f"{name} {count}" for name, count in counts().items())
    if problems:
        click.echo(f"{len(problems)} masalah ditemukan ({checked}).", err=True)
        raise SystemExit(1)
    click.echo(f"OK: tidak ada masalah ({checked}).")


@files_cli.command("import-uploads")
@transactional
def files_import_uploads() -> None:
    """Move photos, portraits and slip scans from UPLOAD_DIR into the database (once; safe to repeat)."""
    from core.files import legacy_upload_dir
    from inventory.services import import_legacy_photos
    from makers.services import import_legacy_portraits
    from payouts.services import import_legacy_slips

    folder = legacy_upload_dir()
    click.echo(f"Membaca berkas lama dari {folder}")
    for label, importer in (("Foto produk", import_legacy_photos), ("Foto pembuat", import_legacy_portraits),
                            ("Bukti pencairan bertanda tangan", import_legacy_slips)):
        counts = importer(folder)
        click.echo(f"{label}: {counts.moved} dipindahkan ke database, {counts.already} sudah di database, "
                   f"{counts.missing} berkasnya tidak ditemukan atau rusak.")
    click.echo(f"Berkas di {folder} tidak dihapus: hapus sendiri setelah cadangan database berikutnya "
               "(flask db-backup) dipastikan berisi foto dan bukti.")


def register_cli(app: Flask) -> None:
    app.cli.add_command(demo_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(ledger_cli)
    app.cli.add_command(files_cli)
    app.cli.add_command(db_backup)
    app.cli.add_command(jobs_cli)
    app.cli.add_command(db_restore)
