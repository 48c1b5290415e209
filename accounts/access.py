"""Authorisation helpers used by every view: a role check and a Sentra scope.

Someone else's object answers 404, not 403, so ids cannot be probed.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import abort
from flask_login import current_user, login_required

from accounts.models import Role, User


def roles_required(*roles: Role) -> Callable:
    """Login required, and the user must have one of `roles`; otherwise 403."""

    allowed = frozenset(Role(r) for r in roles)

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


staff_required = roles_required(Role.ADMIN, Role.MANAGER, Role.KASIR)
manager_required = roles_required(Role.ADMIN, Role.MANAGER)
admin_required = roles_required(Role.ADMIN)
maker_required = roles_required(Role.MAKER)


def require_sentra_access(user: User, sentra_id: int | None) -> None:
    """404 unless `user` may act for this Sentra (admins: every Sentra)."""
    if sentra_id is None or not user.can_access_sentra(sentra_id):
        abort(404)


def require_own_maker(user: User, maker_id: int | None) -> None:
    """A maker only ever sees their own records: 404 for anyone else's."""
    if user.role != Role.MAKER or maker_id is None or user.maker_id != maker_id:
        abort(404)


def scoped_sentra_ids(user: User) -> set[int] | None:
    """Sentra ids a staff user may see; None means all (admin)."""
    if user.role == Role.ADMIN:
        return None
    return user.sentra_ids
