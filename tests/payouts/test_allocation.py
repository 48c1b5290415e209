"""The split of one line: pure functions, including property tests with hypothesis."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.errors import ValidationFailed
from payouts.allocation import LineTerms, allocate_line, reverse_components


def test_percent_split_after_material_and_discount():
    # 2 × 150.000 − 10.000 discount = 290.000; material 2 × 20.000; maker 80 % of 250.000.
    alloc = allocate_line(LineTerms(line_total=290_000, quantity=2, split_mode="percent", maker_share_bps=8_000,
                                    material_cost=20_000, unit_price=150_000, maker_id=7))
    assert (alloc.material, alloc.makers, alloc.sentra) == (40_000, {7: 200_000}, 50_000)


def test_fixed_price_discount_comes_out_of_sentra_share_first():
    terms = dict(quantity=2, split_mode="fixed", maker_price=100_000, material_cost=10_000, unit_price=150_000,
                 maker_id=1)
    full = allocate_line(LineTerms(line_total=300_000, **terms))
    assert (full.material, full.maker_total, full.sentra) == (20_000, 200_000, 80_000)
    discounted = allocate_line(LineTerms(line_total=250_000, **terms))
    assert (discounted.material, discounted.maker_total, discounted.sentra) == (20_000, 200_000, 30_000)
    deep = allocate_line(LineTerms(line_total=150_000, **terms))
    assert (deep.material, deep.maker_total, deep.sentra) == (20_000, 130_000, 0)


def test_material_never_more_than_line_total():
    alloc = allocate_line(LineTerms(line_total=5_000, quantity=1, split_mode="percent", maker_share_bps=9_000,
                                    material_cost=8_000, unit_price=10_000, maker_id=1))
    assert (alloc.material, alloc.maker_total, alloc.sentra) == (5_000, 0, 0)


def test_group_split_by_weight_with_tie_to_lower_maker_id():
    alloc = allocate_line(LineTerms(line_total=10_000, quantity=1, split_mode="percent", maker_share_bps=10_000,
                                    members=[(30, 1), (10, 1), (20, 1)]))
    assert alloc.makers == {10: 3_334, 20: 3_333, 30: 3_333}
    assert list(alloc.makers) == [10, 20, 30]


@pytest.mark.parametrize(("terms", "field"), [
    (dict(split_mode="percent", maker_share_bps=10_001, maker_id=1), "maker_share_bps"),
    (dict(split_mode="fixed", maker_price=200_000, maker_id=1), "maker_price"),
    (dict(split_mode="percent", maker_share_bps=5_000, members=[]), "group"),
    (dict(split_mode="percent", maker_share_bps=5_000, members=[(1, 0), (2, 0)]), "group"),
    (dict(split_mode="percent", maker_share_bps=5_000, material_cost=200_000, maker_id=1), "material_cost"),
])
def test_bad_terms_are_refused_with_a_message(terms, field):
    with pytest.raises(ValidationFailed) as error:
        allocate_line(LineTerms(line_total=150_000, quantity=1, unit_price=150_000, **terms))
    assert field in error.value.errors
    assert error.value.errors[field]


terms_strategy = st.builds(
    lambda qty, price, discount_pct, mode, bps, maker_price_pct, material_pct, members: LineTerms(
        line_total=qty * price - qty * price * discount_pct // 100, quantity=qty, split_mode=mode,
        maker_share_bps=bps, maker_price=price * maker_price_pct // 100, material_cost=price * material_pct // 100,
        unit_price=price, maker_id=None if members else 1, members=members),
    st.integers(1, 50), st.integers(0, 5_000_000), st.integers(0, 100), st.sampled_from(["percent", "fixed"]),
    st.integers(0, 10_000), st.integers(0, 100), st.integers(0, 100),
    st.one_of(st.just([]), st.lists(st.tuples(st.integers(1, 10_000), st.integers(1, 7)), min_size=1, max_size=6,
                                    unique_by=lambda m: m[0])),
)


@settings(max_examples=100, deadline=None)
@given(terms_strategy)
def test_every_split_sums_exactly_to_the_line_total(terms):
    alloc = allocate_line(terms)
    assert sum(alloc.components().values()) == terms.line_total
    assert min(alloc.components().values()) >= 0
    assert alloc.material <= terms.line_total
    if terms.members:
        weights = dict(terms.members)
        total_weight = sum(weights.values())
        for maker_id, share in alloc.makers.items():
            # each member gets their weight's share, off by less than one rupiah
            assert abs(share * total_weight - alloc.maker_total * weights[maker_id]) < total_weight
        assert set(alloc.makers) == set(weights)


@settings(max_examples=100, deadline=None)
@given(terms_strategy, st.lists(st.integers(1, 10), min_size=1, max_size=5))
def test_refunds_in_pieces_reverse_exactly_and_never_beyond(terms, cuts):
    alloc = allocate_line(terms)
    remaining = alloc.components()
    left = terms.line_total
    steps = [left * c // sum(cuts) for c in cuts[:-1]]
    steps.append(left - sum(steps))
    for amount in steps:
        parts = reverse_components(amount, remaining)
        assert sum(parts.values()) == amount
        for k, v in parts.items():
            assert 0 <= v <= remaining[k]
            remaining[k] -= v
    assert all(v == 0 for v in remaining.values())


def test_refund_above_what_remains_is_refused():
    with pytest.raises(ValidationFailed):
        reverse_components(101, {"material": 50, "sentra": 50})
