"""Counter pages."""

from pos import bp  # noqa: F401
