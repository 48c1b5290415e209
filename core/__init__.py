"""Application factory: only wiring (config, extensions, blueprints, error handlers, commands)."""

from __future__ import annotations

from flask import Blueprint, Flask

import config as app_config

#: site-wide routes: health check, language switch, staff home
bp = Blueprint("core", __name__)


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
    register_unit_of_work(app)
    register_errorhandlers(app)
    register_commands(app)
    return app


def register_extensions(app: Flask) -> None:
    from core.db import configure_engine
    from core.extensions import babel, csrf, db, login_manager, migrate
    from core.i18n import init_i18n, select_locale
    from core.request_log import init_request_log
    from core.security import init_security

    import_models()
    db.init_app(app)
    with app.app_context():
        configure_engine(db.engine)
    migrate.init_app(app, db, directory=str(app_config.BASE_DIR / "migrations"), render_as_batch=True,
                     compare_type=True)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale,
                   default_translation_directories=str(app_config.BASE_DIR / "translations"))
    login_manager.init_app(app)
    init_i18n(app)
    init_security(app)
    init_request_log(app)
    __import__("shop.stripe_gateway").stripe_gateway.init_app(app)  # the Stripe gateway, on app.extensions


def import_models() -> None:
    """Import every package's models so metadata (and Alembic) sees all tables."""
    import accounts.models  # noqa: F401
    import core.alerts
    import core.audit  # noqa: F401
    import inventory.models  # noqa: F401
    import makers.models  # noqa: F401
    import payouts.models  # noqa: F401
    import pos.models  # noqa: F401
    import sales.models  # noqa: F401
    import sentras.models  # noqa: F401
    import shop.models  # noqa: F401


def register_blueprints(app: Flask) -> None:
    import importlib
    import importlib.util

    # Importing a package's views (and api) module attaches its routes to the package's blueprint.
    for package in ("core", "sentras", "accounts", "makers", "inventory", "pos", "shop", "payouts", "reports"):
        for module in ("views", "api"):
            if importlib.util.find_spec(f"{package}.{module}") is not None:
                importlib.import_module(f"{package}.{module}")
        app.register_blueprint(importlib.import_module(package).bp)


def register_unit_of_work(app: Flask) -> None:
    from core.unit_of_work import init_app

    init_app(app)  # every view commits once or rolls back as a whole (core/unit_of_work.py)


def register_errorhandlers(app: Flask) -> None:
    from core.errors import register_errorhandlers as register

    register(app)


def register_commands(app: Flask) -> None:
    from core.cli import register_cli

    register_cli(app)
