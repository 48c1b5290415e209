"""Report pages."""

from reports import bp  # noqa: F401
