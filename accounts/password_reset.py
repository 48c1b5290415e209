"""Password reset by e-mail for buyers: a signed link that works for an hour and only once.

The token carries the user id and a fingerprint of the current password hash, signed with the app's
secret; setting a new password changes the hash, so a used (or superseded) link is dead at once.
"""

from __future__ import annotations

import hashlib

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from accounts.models import Role, User
from accounts.services import EMAIL, _reset_account_gates, password_problems
from core.audit import record_audit
from core.db import utcnow
from core.errors import ValidationFailed
from core.extensions import db

RESET_MAX_AGE_SECONDS = 3600
_SALT = "buyer-password-reset"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def _fingerprint(user: User) -> str:
    return hashlib.sha256((user.password_hash or "").encode()).hexdigest()[:16]


def reset_token(user: User) -> str:
    return str(_serializer().dumps({"u": user.id, "h": _fingerprint(user)}))


def user_for_reset_token(token: str) -> User | None:
    """The buyer a valid, unexpired and unused token belongs to; None otherwise."""
    try:
        data = _serializer().loads(token, max_age=RESET_MAX_AGE_SECONDS)
    except (SignatureExpired, BadSignature):
        return None
    user = db.session.get(User, data.get("u")) if isinstance(data, dict) else None
    if user is None or user.role != Role.BUYER or not user.is_active or data.get("h") != _fingerprint(user):
        return None
    return user


def buyer_for_email(email: str) -> User | None:
    import sqlalchemy as sa

    return db.session.scalar(sa.select(User).where(sa.func.lower(User.email) == (email or "").strip().lower(),
                                                   User.role == Role.BUYER, User.is_active_account.is_(True)))


def set_password_from_reset(user: User, new_password: str) -> User:
    """The new password (same rules as at registration); ends every session and login wait."""
    if problem := password_problems(new_password or "", (user.name, user.email)):
        raise ValidationFailed({"password": problem})
    user.set_password(new_password)
    user.session_version += 1
    if user.email:
        _reset_account_gates(EMAIL, user.email, utcnow())
    db.session.flush()
    record_audit(user, "user.password_reset_by_email", user)
    return user
