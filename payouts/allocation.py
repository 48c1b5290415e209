"""Split one sale line's money exactly: material recovered, maker share(s), Sentra share.

Pure functions on integers; no database. The rules (documented for the Balai and tested):

1. **Material first.** The Sentra recovers `material_cost × quantity`, never more than the line
   total (after discount).
2. **Percent split** (`maker_share_bps`): the maker gets `maker_share_bps` of what is left
   (line total − material), rounded half up (`core.money.apply_bps`). A discount therefore
   lowers maker and Sentra shares in proportion — both bear it.
3. **Fixed maker price** (`maker_price` per unit): the maker gets
   `min(maker_price × quantity, line total − material)`. A discount comes out of the Sentra's
   share first and only reaches the maker when the Sentra's share is used up.
4. The Sentra keeps the rest, so `material + maker share + Sentra share == line total`, always.
5. **Groups (KUBE / co-makers):** the maker share is split among members by `share_weight` with
   `core.money.allocate` (largest remainder). Members are ordered by `maker_id` and a tie in the
   remainder goes to the lower `maker_id` (the documented tie-break), so the result is
   deterministic and every member's parts sum exactly to the group's share.

Bad terms (a share above 100 %, a maker price above the unit price, a group with no members or
zero total weight) raise `ValidationFailed` with an Indonesian message; nothing is posted.

Refunds: `reverse_components` splits a refunded amount over what is still un-reversed of the
original allocation, proportionally and exactly, so a full refund reverses every part exactly and
no part is ever reversed beyond what it received.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from core.errors import ValidationFailed
from core.money import BPS_WHOLE, allocate, apply_bps

PERCENT = "percent"
FIXED = "fixed"


@dataclass(frozen=True)
class LineTerms:
    """The snapshot on a sale line that decides the split."""

    line_total: int
    quantity: int
    split_mode: str
    maker_share_bps: int = 0
    maker_price: int = 0
    material_cost: int = 0
    unit_price: int | None = None
    #: an individual maker, or
    maker_id: int | None = None
    #: a group's members as (maker_id, share_weight)
    members: Sequence[tuple[int, int]] = ()


@dataclass(frozen=True)
class Allocation:
    line_total: int
    material: int
    maker_total: int
    sentra: int
    #: maker_id → share, ordered by maker_id
    makers: dict[int, int] = field(default_factory=dict)

    def components(self) -> dict[str, int]:
        """Keys "material", "sentra" and "maker:<id>"; values sum to the line total."""
        parts = {"material": self.material, "sentra": self.sentra}
        parts.update({f"maker:{maker_id}": amount for maker_id, amount in self.makers.items()})
        return parts


def validate_terms(terms: LineTerms) -> None:
    errors: dict[str, str] = {}
    mode = str(terms.split_mode)
    if terms.quantity <= 0:
        errors["quantity"] = "Jumlah barang harus lebih dari nol."
    if terms.line_total < 0:
        errors["line_total"] = "Total baris tidak boleh negatif."
    if mode not in (PERCENT, FIXED):
        errors["split_mode"] = "Cara bagi hasil tidak dikenal."
    if not 0 <= terms.maker_share_bps <= BPS_WHOLE:
        errors["maker_share_bps"] = "Bagian pembuat harus antara 0% dan 100%."
    if terms.maker_price < 0:
        errors["maker_price"] = "Harga pembuat tidak boleh negatif."
    if terms.material_cost < 0:
        errors["material_cost"] = "Biaya bahan tidak boleh negatif."
    if terms.unit_price is not None:
        if mode == FIXED and terms.maker_price > terms.unit_price:
            errors["maker_price"] = "Harga untuk pembuat melebihi harga jual."
        if terms.material_cost > terms.unit_price:
            errors["material_cost"] = "Biaya bahan melebihi harga jual."
    if terms.maker_id is None:
        if not terms.members:
            errors["group"] = "Kelompok belum punya anggota; bagi hasil tidak bisa dihitung."
        elif any(weight < 0 for _m, weight in terms.members) or sum(w for _m, w in terms.members) <= 0:
            errors["group"] = "Bobot bagi hasil anggota kelompok harus lebih dari nol."
        elif len({m for m, _w in terms.members}) != len(terms.members):
            errors["group"] = "Anggota kelompok tercatat dua kali."
    elif terms.members:
        errors["group"] = "Baris hanya boleh milik satu pembuat atau satu kelompok."
    if errors:
        raise ValidationFailed(errors)


def allocate_line(terms: LineTerms) -> Allocation:
    """The exact split of one line (see the module docstring for the rules)."""
    validate_terms(terms)
    total = terms.line_total
    material = min(terms.material_cost * terms.quantity, total)
    rest = total - material
    if str(terms.split_mode) == PERCENT:
        maker_total = apply_bps(rest, terms.maker_share_bps)
    else:
        maker_total = min(terms.maker_price * terms.quantity, rest)
    sentra = rest - maker_total
    if terms.maker_id is not None:
        makers = {terms.maker_id: maker_total}
    else:
        members = sorted(terms.members)
        parts = allocate(maker_total, [weight for _m, weight in members])
        makers = {maker_id: part for (maker_id, _w), part in zip(members, parts, strict=True)}
    allocation = Allocation(line_total=total, material=material, maker_total=maker_total, sentra=sentra,
                            makers=makers)
    assert sum(allocation.components().values()) == total
    return allocation


def reverse_components(amount: int, remaining: Mapping[str, int]) -> dict[str, int]:
    """Split a refunded `amount` over the still un-reversed parts `remaining`, exactly.

    Proportional by largest remainder in the order given (callers pass a stable order); each
    part gets at most what remains of it, and refunding everything that remains reverses every
    part exactly.
    """
    keys = list(remaining)
    left = sum(remaining.values())
    if amount < 0 or any(v < 0 for v in remaining.values()):
        raise ValueError("amounts must not be negative")
    if amount > left:
        raise ValidationFailed({"amount": "Jumlah pengembalian melebihi sisa nilai baris penjualan."})
    if amount == 0 or left == 0:
        return dict.fromkeys(keys, 0)
    parts = allocate(amount, [remaining[k] for k in keys])
    return dict(zip(keys, parts, strict=True))
