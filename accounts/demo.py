"""Demo users, one per role (local use only; credentials printed in the README)."""

from __future__ import annotations

import sqlalchemy as sa

from accounts.models import Role, User
from core.extensions import db
from sentras.models import Sentra

DEMO_PASSWORD = "sentra-demo-2026"
STAFF = [
    ("admin@sentra.test", "Admin Pusat", Role.ADMIN, []),
    ("manajer.tmg@sentra.test", "Sri Wahyuni (Manajer TMG)", Role.MANAGER, ["TMG"]),
    ("kasir.tmg@sentra.test", "Budi Santoso (Kasir TMG)", Role.KASIR, ["TMG"]),
    ("manajer.bks@sentra.test", "Dewi Lestari (Manajer BKS)", Role.MANAGER, ["BKS"]),
    ("kasir.bks@sentra.test", "Agus Pratama (Kasir BKS)", Role.KASIR, ["BKS"]),
]


def load_staff() -> int:
    created = 0
    for email, name, role, codes in STAFF:
        if db.session.scalar(sa.select(User.id).where(User.email == email)) is not None:
            continue
        user = User(name=name, role=role, email=email)
        user.set_password(DEMO_PASSWORD)
        user.sentras = list(db.session.scalars(sa.select(Sentra).where(Sentra.code.in_(codes))))
        db.session.add(user)
        created += 1
    db.session.flush()
    return created


LOADERS = [("staff users", load_staff)]
