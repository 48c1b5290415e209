"""The role check every view uses, with roles named by their value ("admin", "manager", …).

It lives in core so that packages below `accounts` (the Sentra admin pages) can guard their
views too; `accounts.access` builds the named decorators (`staff_required`, …) on it.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import abort
from flask_login import current_user, login_required


def roles_required(*roles: str) -> Callable:
    """Login required, and the user must have one of `roles`; otherwise 403."""

    allowed = frozenset(roles)

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in allowed:
                abort(403)
            return view(*args, **kwargs)

        # Read by the access sweep test (and by outer decorators through functools.wraps).
        wrapped.allowed_roles = allowed  # type: ignore[attr-defined]
        return wrapped

    return decorator
