"""Shared building blocks that know no domain: extensions, db helpers, money, errors, audit log,
staff alerts, PDF rendering, i18n, the unit of work, security, uploads, files in the database, exports, mail,
the staff menu.

The application factory lives in `app` (`app.create_app`).
"""
