"""Maker rules: makers and their payout details, consent, public names, groups (KUBE).

Every function takes the acting user and plain values, adds and flushes, never commits, and
raises `ValidationFailed` (field → Indonesian message).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any, Protocol

import sqlalchemy as sa

from accounts.models import Role, User
from core.audit import record_audit
from core.db import utcnow
from core.errors import ValidationFailed
from core.extensions import db
from core.files import ImportCounts
from core.images import import_legacy_image, save_image
from core.parsing import int_or_none, text_value
from makers.models import (
    Cluster,
    Consent,
    ConsentGiver,
    ConsentPurpose,
    GroupKind,
    Maker,
    MakerGroup,
    MakerGroupMember,
    PayoutMethod,
    Program,
)
from sentras.models import Sentra


class MadeByMakerOrGroup(Protocol):
    """Anything made by one maker or one group (a product, an intake)."""

    @property
    def maker(self) -> Maker | None: ...

    @property
    def group(self) -> MakerGroup | None: ...


def _has_products(maker: Maker) -> bool:
    # inventory is downstream of makers: look at its table through the metadata, not an import
    products = db.metadata.tables.get("products")
    return products is not None and db.session.scalar(
        sa.select(products.c.id).where(products.c.maker_id == maker.id).limit(1)) is not None


MAKER_FIELDS = ("sentra_id", "name", "public_name", "cluster", "program", "phone", "birth_date", "is_minor",
                "guardian_name", "guardian_relation", "story", "payout_method", "bank_name", "account_number",
                "account_holder", "ewallet_provider", "ewallet_number")
PAYOUT_FIELDS = ("payout_method", "bank_name", "account_number", "account_holder", "ewallet_provider",
                 "ewallet_number")


def _age_on(birth: date, today: date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def _maker_values(actor, data: Mapping[str, Any]) -> dict[str, Any]:
    from accounts.services import normalise_phone

    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    sentra_id = int_or_none(data.get("sentra_id"))
    if sentra_id is None or db.session.get(Sentra, sentra_id) is None:
        errors["sentra_id"] = "Pilih Sentra."
    elif actor is not None and not actor.can_access_sentra(sentra_id):
        errors["sentra_id"] = "Anda tidak bertugas di Sentra ini."
    values["sentra_id"] = sentra_id
    values["name"] = text_value(data, "name")
    if not values["name"]:
        errors["name"] = "Nama lengkap wajib diisi."
    values["public_name"] = text_value(data, "public_name") or values["name"].split(" ")[0]
    try:
        values["cluster"] = Cluster(data.get("cluster") or "")  # "" is no member: ValueError as for None
    except ValueError:
        errors["cluster"] = "Pilih klaster."
    try:
        values["program"] = Program(data.get("program") or "")
    except ValueError:
        errors["program"] = "Pilih program."
    phone = text_value(data, "phone")
    if phone:
        try:
            phone = normalise_phone(phone)
        except ValueError as exc:
            errors["phone"] = str(exc)
    values["phone"] = phone or None
    birth = data.get("birth_date")
    if birth in ("", None):
        birth = None
    elif not isinstance(birth, date):
        errors["birth_date"] = "Tanggal lahir tidak valid."
        birth = None
    today = utcnow().date()
    if birth is not None and (birth > today or birth.year < 1900):
        errors["birth_date"] = "Tanggal lahir tidak masuk akal."
    values["birth_date"] = birth
    is_minor = bool(data.get("is_minor")) or (birth is not None and _age_on(birth, today) < 18)
    values["is_minor"] = is_minor
    values["guardian_name"] = text_value(data, "guardian_name")
    values["guardian_relation"] = text_value(data, "guardian_relation")
    if is_minor and not values["guardian_name"]:
        errors["guardian_name"] = "Pembuat di bawah 18 tahun: nama wali/pendamping wajib diisi."
    values["story"] = text_value(data, "story")
    try:
        method = PayoutMethod(data.get("payout_method") or PayoutMethod.CASH)
    except ValueError:
        errors["payout_method"] = "Pilih cara pembayaran."
        method = PayoutMethod.CASH
    values["payout_method"] = method
    for key in PAYOUT_FIELDS[1:]:
        values[key] = text_value(data, key)
    if method == PayoutMethod.BANK:
        if not values["bank_name"]:
            errors["bank_name"] = "Nama bank wajib diisi untuk transfer bank."
        if not re.fullmatch(r"\d{5,20}", values["account_number"].replace(" ", "").replace("-", "")):
            errors["account_number"] = "Nomor rekening harus 5–20 angka."
        else:
            values["account_number"] = values["account_number"].replace(" ", "").replace("-", "")
        if not values["account_holder"]:
            errors["account_holder"] = "Nama pemilik rekening wajib diisi."
    elif method == PayoutMethod.EWALLET:
        if not values["ewallet_provider"]:
            errors["ewallet_provider"] = "Nama dompet digital wajib diisi (mis. GoPay, OVO, DANA)."
        try:
            values["ewallet_number"] = normalise_phone(values["ewallet_number"])
        except ValueError:
            errors["ewallet_number"] = "Nomor dompet digital harus nomor HP yang valid."
    if errors:
        raise ValidationFailed(errors)
    return values


def create_maker(actor, data: Mapping[str, Any]) -> Maker:
    values = _maker_values(actor, data)
    maker = Maker(**values)
    db.session.add(maker)
    db.session.flush()
    record_audit(actor, "maker.create", maker, after={k: values[k] for k in ("name", "cluster", "program")})
    return maker


def update_maker(actor, maker: Maker, data: Mapping[str, Any]) -> Maker:
    values = _maker_values(actor, data)
    if values["sentra_id"] != maker.sentra_id and (
            _has_products(maker)
            or db.session.scalar(sa.select(MakerGroupMember.group_id)
                                 .where(MakerGroupMember.maker_id == maker.id).limit(1))):
        raise ValidationFailed({"sentra_id": "Pembuat yang sudah punya produk atau kelompok tidak bisa pindah Sentra."})
    before = {key: getattr(maker, key) for key in values}
    for key, value in values.items():
        setattr(maker, key, value)
    db.session.flush()
    changed = [k for k in values if before[k] != values[k]]
    if changed:
        # payout details are sensitive: keep before/after of exactly what changed
        record_audit(actor, "maker.update", maker, before={k: before[k] for k in changed},
                     after={k: values[k] for k in changed})
    return maker


def record_consent(actor, maker: Maker, purpose: ConsentPurpose | str, given_by: ConsentGiver | str,
                   given_by_name: str) -> Consent:
    """Record that the maker (or, for a minor, the guardian) agreed to one use of their data."""
    errors: dict[str, str] = {}
    try:
        purpose = ConsentPurpose(purpose)
    except ValueError:
        errors["purpose"] = "Pilih penggunaan data yang disetujui."
    try:
        given_by = ConsentGiver(given_by)
    except ValueError:
        errors["given_by"] = "Pilih siapa yang memberi izin."
    else:
        if maker.is_minor and given_by != ConsentGiver.GUARDIAN:
            errors["given_by"] = "Pembuat masih di bawah umur: izin harus diberikan oleh wali/pendamping."
    given_by_name = (given_by_name or "").strip()
    if not given_by_name:
        errors["given_by_name"] = "Tulis nama orang yang memberi izin."
    if not errors and maker.has_consent(ConsentPurpose(purpose)):
        errors["purpose"] = "Izin ini sudah tercatat dan masih berlaku."
    if errors:
        raise ValidationFailed(errors)
    assert isinstance(purpose, ConsentPurpose) and isinstance(given_by, ConsentGiver)  # converted above
    consent = Consent(maker=maker, purpose=purpose, given_by=given_by, given_by_name=given_by_name,
                      recorded_by_id=actor.id, recorded_at=utcnow())
    db.session.add(consent)
    db.session.flush()
    record_audit(actor, "consent.record", consent, sentra_id=maker.sentra_id,
                 after={"maker_id": maker.id, "purpose": purpose.value, "given_by": given_by.value,
                        "given_by_name": given_by_name})
    return consent


def revoke_consent(actor, consent: Consent) -> Consent:
    """Withdraw a consent: from now on `maker.has_consent` is False, so the name disappears at once."""
    if consent.revoked_at is not None:
        raise ValidationFailed({"consent": "Izin ini sudah dicabut."})
    consent.revoked_at = utcnow()
    consent.revoked_by_id = actor.id
    db.session.flush()
    # Names are read through has_consent at render time; make sure no stale list is kept around.
    db.session.expire(consent.maker, ["consents"])
    record_audit(actor, "consent.revoke", consent, sentra_id=consent.maker.sentra_id,
                 before={"revoked_at": None}, after={"maker_id": consent.maker_id,
                                                     "purpose": consent.purpose.value,
                                                     "revoked_at": consent.revoked_at})
    return consent


def set_maker_photo(actor, maker: Maker, data: bytes, filename: str | None = None) -> Maker:
    """A portrait of the maker, stored in the database; shown publicly only while a SHOP_PHOTO
    consent is valid. The portrait it replaces stays stored (and is no longer served)."""
    saved = save_image(data, field="photo", filename=filename)
    before = maker.photo_sha256
    maker.photo_sha256, maker.photo_thumb_sha256 = saved.full.sha256, saved.thumb.sha256
    db.session.flush()
    record_audit(actor, "maker.photo", maker, before={"photo": before}, after={"photo": saved.full.sha256})
    return maker


def import_legacy_portraits(folder: Path) -> ImportCounts:
    """Move maker portraits still on disk (`legacy_photo_path` under `folder`, the old UPLOAD_DIR)
    into the database; idempotent, the files on disk are not touched. A portrait replaced since
    the move is not brought back."""
    counts = ImportCounts()
    makers = db.session.scalars(sa.select(Maker).where(Maker.legacy_photo_path.is_not(None)).order_by(Maker.id))
    for maker in makers:
        if maker.photo_sha256 is not None:
            counts.already += 1
            continue
        saved = import_legacy_image(folder, maker.legacy_photo_path)
        if saved is None:
            counts.missing += 1
            continue
        maker.photo_sha256, maker.photo_thumb_sha256 = saved.full.sha256, saved.thumb.sha256
        counts.moved += 1
    db.session.flush()
    return counts


def public_maker_name(product: MadeByMakerOrGroup, purpose: ConsentPurpose = ConsentPurpose.RECEIPT_NAME) -> str | None:
    """The name that may be shown for this product's maker for `purpose`, or None without consent.

    A group (KUBE) is shown by its group name; a person only with a valid consent (a guardian's
    for a minor). Call it at render time: nothing is cached.
    """
    if product.group is not None:
        return product.group.name
    maker = product.maker
    if maker is not None and maker.has_consent(purpose):
        return maker.public_name
    return None


# --- Groups ------------------------------------------------------------------------------------

def _group_members(sentra_id: int | None, members: Sequence[tuple[Any, Any]]) -> list[tuple[Maker, int]]:
    errors: dict[str, str] = {}
    result: list[tuple[Maker, int]] = []
    seen: set[int] = set()
    rows = [(m, w) for m, w in members if not (m in (None, "") and w in (None, ""))]
    if not rows:
        raise ValidationFailed({"members": "Kelompok harus punya minimal satu anggota."})
    for maker_id, weight in rows:
        maker_id_int = int_or_none(maker_id)
        weight_int = int_or_none(weight)
        maker = db.session.get(Maker, maker_id_int) if maker_id_int is not None else None
        if maker is None:
            errors["members"] = "Pilih anggota dari daftar pembuat."
            continue
        if maker.id in seen:
            errors["members"] = f"{maker.name} tercantum lebih dari sekali."
            continue
        if maker.sentra_id != sentra_id:
            errors["members"] = f"{maker.name} bukan pembuat di Sentra kelompok ini."
            continue
        if weight_int is None or not 1 <= weight_int <= 1000:
            errors["members"] = "Bobot bagian harus bilangan bulat 1–1000 untuk setiap anggota."
            continue
        seen.add(maker.id)
        result.append((maker, weight_int))
    if errors:
        raise ValidationFailed(errors)
    return result


def _group_header(actor, data: Mapping[str, Any]) -> dict[str, Any]:
    errors: dict[str, str] = {}
    sentra_id = int_or_none(data.get("sentra_id"))
    if sentra_id is None or db.session.get(Sentra, sentra_id) is None:
        errors["sentra_id"] = "Pilih Sentra."
    elif not actor.can_access_sentra(sentra_id):
        errors["sentra_id"] = "Anda tidak bertugas di Sentra ini."
    name = text_value(data, "name")
    if not name:
        errors["name"] = "Nama kelompok wajib diisi."
    try:
        kind = GroupKind(data.get("kind") or GroupKind.KUBE)
    except ValueError:
        errors["kind"] = "Pilih jenis kelompok."
        kind = GroupKind.KUBE
    if errors:
        raise ValidationFailed(errors)
    return {"sentra_id": sentra_id, "name": name, "kind": kind}


def create_group(actor, data: Mapping[str, Any], members: Sequence[tuple[Any, Any]]) -> MakerGroup:
    """A KUBE or co-makers: at least one member, positive integer weights, no duplicates, one Sentra."""
    header = _group_header(actor, data)
    checked = _group_members(header["sentra_id"], members)
    group = MakerGroup(**header)
    group.members = [MakerGroupMember(maker=maker, share_weight=weight) for maker, weight in checked]
    db.session.add(group)
    db.session.flush()
    record_audit(actor, "group.create", group, after={
        "name": group.name, "members": {str(m.id): w for m, w in checked}})
    return group


def update_group(actor, group: MakerGroup, data: Mapping[str, Any],
                 members: Sequence[tuple[Any, Any]]) -> MakerGroup:
    header = _group_header(actor, data)
    if header["sentra_id"] != group.sentra_id:
        raise ValidationFailed({"sentra_id": "Sentra kelompok tidak bisa dipindah."})
    checked = _group_members(group.sentra_id, members)
    before = {"name": group.name, "members": {str(m.maker_id): m.share_weight for m in group.members}}
    group.name = header["name"]
    group.kind = header["kind"]
    wanted = {maker.id: weight for maker, weight in checked}
    for member in list(group.members):
        if member.maker_id not in wanted:
            group.members.remove(member)
        else:
            member.share_weight = wanted.pop(member.maker_id)
    db.session.flush()
    for maker, _weight in checked:
        if maker.id in wanted:
            group.members.append(MakerGroupMember(maker=maker, share_weight=wanted[maker.id]))
    db.session.flush()
    after = {"name": group.name, "members": {str(m.maker_id): m.share_weight for m in group.members}}
    if before != after:
        record_audit(actor, "group.update", group, before=before, after=after)
    return group


# --- Maker logins ------------------------------------------------------------------------------

def create_maker_login(actor, *, name: str, phone: str | None, pin: str | None, maker_id: int | None) -> User:
    """A maker's login (phone + PIN) for an existing maker without one; the PIN must not be guessable."""
    from accounts.services import maker_pin_problems, normalise_phone

    errors: dict[str, str] = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = "Nama wajib diisi."
    try:
        phone = normalise_phone(phone or "")
    except ValueError as exc:
        errors["phone"] = str(exc)
    maker = db.session.get(Maker, maker_id) if maker_id is not None else None
    if problem := maker_pin_problems(pin or "", maker, phone):
        errors["pin"] = problem
    if maker is None:
        errors["maker_id"] = "Pilih data pembuat (PM) yang sudah terdaftar."
    elif db.session.scalar(sa.select(User.id).where(User.maker_id == maker_id)):
        errors["maker_id"] = "Pembuat ini sudah punya akun."
    if phone and "phone" not in errors and db.session.scalar(sa.select(User.id).where(User.phone == phone)):
        errors["phone"] = "Nomor HP ini sudah dipakai akun lain."
    if errors:
        raise ValidationFailed(errors)
    assert pin is not None  # checked above
    user = User(name=name, role=Role.MAKER, email=None, phone=phone, maker_id=maker_id)
    user.set_pin(pin)
    db.session.add(user)
    db.session.flush()
    record_audit(actor, "user.create", user, after={"name": name, "role": Role.MAKER.value, "email": None,
                                                     "phone": phone, "sentras": []})
    return user
