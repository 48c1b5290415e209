"""Authorisation helpers used by every view: a role check and a Sentra scope.

Someone else's object answers 404, not 403, so ids cannot be probed.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from flask import abort, request
from flask_login import current_user

from accounts.models import Role, User
from core.access import roles_required as core_roles_required
from core.extensions import db
from sentras.models import Sentra


def roles_required(*roles: Role) -> Callable:
    """Login required, and the user must have one of `roles`; otherwise 403."""
    return core_roles_required(*(Role(r) for r in roles))


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


def scope_to_user(query, column):
    """`query` limited to rows whose `column` (a sentra id) the current user may see."""
    ids = scoped_sentra_ids(current_user)
    return query if ids is None else query.where(column.in_(ids))


def my_sentras() -> list[Sentra]:
    """The active Sentras the current user works at (admins: all), by code."""
    return list(db.session.scalars(scope_to_user(sa.select(Sentra).where(Sentra.is_active.is_(True)), Sentra.id)
                                   .order_by(Sentra.code)))


def current_sentra() -> Sentra:
    """The Sentra a page works on: `?sentra=<id>` (checked: 404 otherwise) or the user's first one."""
    raw = request.values.get("sentra", type=int)
    if raw is not None:
        require_sentra_access(current_user, raw)
        sentra = db.session.get(Sentra, raw)
        if sentra is None:
            abort(404)
        return sentra
    sentras = my_sentras()
    if not sentras:
        abort(404)
    return sentras[0]


def get_scoped_or_404(model, ident: int):
    """A row with a `sentra_id` by primary key; 404 when missing or at another Sentra."""
    obj = db.session.get(model, ident)
    if obj is None:
        abort(404)
    require_sentra_access(current_user, obj.sentra_id)
    return obj
