"""CLI commands: `flask demo load`, `flask users create-admin`."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from core.extensions import db

demo_cli = AppGroup("demo", help="Demo data for local use.")
users_cli = AppGroup("users", help="User accounts.")


@demo_cli.command("load")
def demo_load() -> None:
    """Load the demo Sentras, users, makers and goods (idempotent)."""
    from core.demo import load_demo_data

    try:
        summary = load_demo_data()
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    for name, count in summary.items():
        click.echo(f"{name}: {count} new")


@users_cli.command("create-admin")
@click.option("--email", prompt=True)
@click.option("--name", prompt=True)
@click.password_option()
def users_create_admin(email: str, name: str, password: str) -> None:
    """Create an admin account."""
    from accounts.models import Role
    from accounts.services import create_user
    from core.errors import ValidationFailed

    try:
        user = create_user(None, name=name, role=Role.ADMIN, email=email, password=password)
        db.session.commit()
    except ValidationFailed as error:
        db.session.rollback()
        raise click.ClickException("; ".join(error.errors.values())) from None
    click.echo(f"Admin dibuat: {user.email}")


def register_cli(app: Flask) -> None:
    app.cli.add_command(demo_cli)
    app.cli.add_command(users_cli)
