"""The application: the factory (only wiring), CLI groups, demo runner and site-wide routes.

The only package that knows every other one: `DOMAIN_PACKAGES` lists them in layer order
(DESIGN.md), and that one list drives model import, blueprint registration and each package's
`init_app(app)` (its signal receivers, CLI commands and staff-menu entries).
"""

from __future__ import annotations

import importlib
import importlib.util

from flask import Blueprint, Flask

import config as app_config

#: every domain package, lowest layer first (core ← … ← app)
DOMAIN_PACKAGES = ("sentras", "accounts", "makers", "inventory", "sales", "pos", "shop", "payouts", "reports", "ops")

#: the modules that attach routes to a blueprint; nothing else imports a view
ROUTE_MODULES = ("app.views", "sentras.views", "accounts.views", "makers.views", "inventory.views", "inventory.api",
                 "pos.views", "pos.api", "shop.views", "payouts.views", "reports.views")

#: site-wide routes: health check, language switch, staff home, staff alerts
bp = Blueprint("app", __name__)


def create_app(config: type | dict | None = None) -> Flask:
    app = Flask(
        __name__.split(".")[0],
        root_path=str(app_config.BASE_DIR),
        instance_path=str(app_config.INSTANCE_DIR),
        template_folder="templates",
        static_folder="static",
    )
    config_class = app_config.config_from_env()
    if isinstance(config, type):
        config_class = config
    if hasattr(config_class, "check"):
        config_class.check()
    app.config.from_object(config_class)
    if isinstance(config, dict):
        app.config.update(config)
    app_config.INSTANCE_DIR.mkdir(parents=True, exist_ok=True)

    register_extensions(app)
    from core.security import DatabaseIntConverter

    app.url_map.converters["int"] = DatabaseIntConverter  # before the blueprints add their rules
    register_blueprints(app)
    register_packages(app)
    register_unit_of_work(app)
    register_errorhandlers(app)
    register_commands(app)
    return app


def register_extensions(app: Flask) -> None:
    from core.db import configure_engine
    from core.extensions import babel, csrf, db, login_manager, migrate
    from core.i18n import init_i18n, select_locale
    from core.jobs.queue import init_app as init_jobs
    from core.logging import init_logging
    from core.mail import init_app as init_mail
    from core.request_log import init_request_log
    from core.security import init_security
    from core.unit_of_work import may_write

    import_models()
    db.init_app(app)
    with app.app_context():
        configure_engine(db.engine, write_intent=may_write)
    migrate.init_app(app, db, directory=str(app_config.BASE_DIR / "migrations"), render_as_batch=True,
                     compare_type=True)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale,
                   default_translation_directories=str(app_config.BASE_DIR / "translations"))
    login_manager.init_app(app)
    init_i18n(app)
    init_security(app)
    init_request_log(app)
    init_logging(app)
    init_jobs(app)
    init_mail(app)


def import_models() -> None:
    """Import every package's models so metadata (and Alembic) sees all tables."""
    import core.alerts
    import core.audit
    import core.files
    import core.jobs.models  # noqa: F401

    for package in DOMAIN_PACKAGES:
        if importlib.util.find_spec(f"{package}.models") is not None:
            importlib.import_module(f"{package}.models")


def import_routes() -> None:
    """Importing a views (or api) module attaches its routes to its package's blueprint."""
    for module in ROUTE_MODULES:
        importlib.import_module(module)


def register_blueprints(app: Flask) -> None:
    import_routes()
    app.register_blueprint(bp)
    for package in DOMAIN_PACKAGES:
        blueprint = getattr(importlib.import_module(package), "bp", None)
        if blueprint is not None:
            app.register_blueprint(blueprint)


def register_packages(app: Flask) -> None:
    """Each package's own wiring: signal receivers, CLI commands, staff-menu entries."""
    from core.menu import add_menu_item

    for package in DOMAIN_PACKAGES:
        importlib.import_module(package).init_app(app)
    add_menu_item("app.audit_log", "Log audit", "Siapa mengubah apa dan kapan, dengan tautan ke datanya",
                  {"admin", "manager"}, order=95)
    add_menu_item("app.alert_list", "Peringatan",
                  "Uang yang dikembalikan otomatis, pembatalan yang gagal, PIN diblokir", {"admin", "manager"}, order=5)


def register_unit_of_work(app: Flask) -> None:
    from core.unit_of_work import init_app

    init_app(app)  # every view commits once or rolls back as a whole (core/unit_of_work.py)


def register_errorhandlers(app: Flask) -> None:
    from core.errors import register_errorhandlers as register

    register(app)


def register_commands(app: Flask) -> None:
    from app.cli import register_cli

    register_cli(app)
