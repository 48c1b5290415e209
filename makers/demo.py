"""Demo makers (with consents), a KUBE group and two maker logins; idempotent (looked up by name)."""

from __future__ import annotations

import sqlalchemy as sa

from accounts.models import User
from core.extensions import db
from makers import services
from makers.models import ConsentGiver, ConsentPurpose, Maker, MakerGroup
from sentras.models import Sentra

ADMIN_EMAIL = "admin@sentra.test"

#: (Sentra code, name, public name, cluster, program, phone, extra)
MAKERS: list[tuple[str, str, str, str, str, str | None, dict[str, object]]] = [
    ("TMG", "Sri Rahayu", "Bu Sri", "disabilitas", "atensi", "081234560001",
     {"story": "Belajar membatik ciprat di Balai Kartini sejak 2023; motif kesukaannya bunga kopi."}),
    ("TMG", "Wahyu Nugroho", "Mas Wahyu", "disabilitas", "atensi", "081234560002",
     {"payout_method": "bank", "bank_name": "BRI", "account_number": "0021017654321",
      "account_holder": "Wahyu Nugroho"}),
    ("TMG", "Siti Aminah", "Bu Siti", "disabilitas", "kube", "081234560003", {}),
    ("TMG", "Joko Susilo", "Pak Joko", "disabilitas", "kube", "081234560004", {}),
    ("TMG", "Rina Marlina", "Mbak Rina", "disabilitas", "kube", "081234560005",
     {"payout_method": "ewallet", "ewallet_provider": "DANA", "ewallet_number": "081234560005"}),
    ("TMG", "Tri Handayani", "Bu Tri", "lanjut_usia", "kube", "081234560006", {}),
    ("TMG", "Dimas Pratama", "Dimas", "anak", "atensi", None,
     {"is_minor": True, "guardian_name": "Endang Pratiwi", "guardian_relation": "Ibu",
      "story": "Cerita ini tidak boleh tampil tanpa izin wali."}),
    ("BKS", "Bambang Setiawan", "Pak Bambang", "napza", "atensi", "081234560008",
     {"story": "Mengelola dapur kafe Pangudi Luhur setelah pulih."}),
    ("BKS", "Yuni Astuti", "Bu Yuni", "lanjut_usia", "pkh", "081234560009", {}),
    ("BKS", "Hendra Gunawan", "Pak Hendra", "napza", "prokus", "081234560010", {}),
    ("BKS", "Ratna Sari", "Mbak Ratna", "tuna_sosial", "pkh", "081234560011", {}),
    ("JKT", "Maria Ulfa", "Kak Maria", "tuna_sosial", "atensi", "081234560012", {}),
    ("JKT", "Andi Saputra", "Mas Andi", "napza", "prokus", "081234560013", {}),
    ("MKS", "Nurhayati Daeng Sikki", "Daeng Nur", "disabilitas", "pkh", "081234560014",
     {"story": "Penenun sarung sutra Gowa dengan motif turun-temurun."}),
    ("MKS", "Muhammad Arif", "Pak Arif", "lanjut_usia", "prokus", "081234560015", {}),
]

#: makers who did NOT give consent (besides the minor, whose guardian gave none)
NO_CONSENT = {"Joko Susilo", "Dimas Pratama"}

GROUP = ("TMG", "KUBE Ciprat Lestari", [("Siti Aminah", 2), ("Joko Susilo", 1), ("Rina Marlina", 1),
                                        ("Tri Handayani", 2)])

#: demo maker logins (phone + PIN) — local use only, printed in the README
MAKER_LOGINS = [("Sri Rahayu", "081234560001", "482916"), ("Yuni Astuti", "081234560009", "735204")]


def _admin() -> User:
    user = db.session.scalar(sa.select(User).where(User.email == ADMIN_EMAIL))
    if user is None:
        raise RuntimeError("makers.demo needs accounts.demo (the demo admin) to run first")
    return user


def _sentras() -> dict[str, Sentra]:
    return {s.code: s for s in db.session.scalars(sa.select(Sentra))}


def load_makers() -> int:
    admin, sentras, created = _admin(), _sentras(), 0
    for code, name, public_name, cluster, program, phone, extra in MAKERS:
        sentra = sentras.get(code)
        if sentra is None:
            continue
        maker = db.session.scalar(sa.select(Maker).where(Maker.sentra_id == sentra.id, Maker.name == name))
        if maker is None:
            maker = services.create_maker(admin, {"sentra_id": sentra.id, "name": name, "public_name": public_name,
                                                  "cluster": cluster, "program": program, "phone": phone or "",
                                                  **extra})
            created += 1
        if not maker.consents and name not in NO_CONSENT:
            for purpose in ConsentPurpose:
                services.record_consent(admin, maker, purpose, ConsentGiver.MAKER, name)
    db.session.flush()
    return created


def _maker(name: str) -> Maker | None:
    return db.session.scalar(sa.select(Maker).where(Maker.name == name))


def load_groups() -> int:
    code, name, members = GROUP
    sentra = _sentras().get(code)
    if sentra is None or db.session.scalar(sa.select(MakerGroup.id).where(MakerGroup.name == name)):
        return 0
    services.create_group(_admin(), {"sentra_id": sentra.id, "name": name, "kind": "kube"},
                          [(_loaded_maker(member).id, weight) for member, weight in members])
    return 1


def _loaded_maker(name: str) -> Maker:
    maker = _maker(name)
    assert maker is not None, f"demo maker {name} is loaded first"
    return maker


def load_maker_logins() -> int:
    from accounts.services import normalise_phone

    created = 0
    for name, phone, pin in MAKER_LOGINS:
        maker = _maker(name)
        if maker is None or db.session.scalar(sa.select(User.id).where(
                sa.or_(User.maker_id == maker.id, User.phone == normalise_phone(phone)))):
            continue
        services.create_maker_login(None, name=name, phone=phone, pin=pin, maker_id=maker.id)
        created += 1
    return created


LOADERS = [
    ("makers", load_makers),
    ("maker groups", load_groups),
    ("maker logins", load_maker_logins),
]
