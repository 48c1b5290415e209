"""Integer rupiah: formatting, parsing what a kasir types, exact allocation, words."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.money import (
    MAX_RUPIAH,
    MoneyParseError,
    allocate,
    apply_bps,
    format_rupiah,
    parse_rupiah,
    round_cash,
    terbilang,
)

SETTINGS = settings(max_examples=100, deadline=None)
amounts = st.integers(min_value=0, max_value=10**13)
weight_lists = st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=12).filter(any)


# --- allocate -----------------------------------------------------------------------------------

@SETTINGS
@given(total=amounts, weights=weight_lists)
def test_allocation_sums_exactly_to_the_total(total, weights):
    assert sum(allocate(total, weights)) == total


@SETTINGS
@given(total=amounts, weights=weight_lists)
def test_allocation_is_never_negative_and_zero_weight_gets_nothing(total, weights):
    parts = allocate(total, weights)
    assert all(part >= 0 for part in parts)
    assert all(part == 0 for part, weight in zip(parts, weights, strict=True) if weight == 0)


@SETTINGS
@given(total=amounts, weights=weight_lists)
def test_allocation_is_deterministic(total, weights):
    assert allocate(total, list(weights)) == allocate(total, list(weights))


@SETTINGS
@given(total=amounts, weights=weight_lists)
def test_allocation_is_proportional_within_one_rupiah(total, weights):
    weight_sum = sum(weights)
    for part, weight in zip(allocate(total, weights), weights, strict=True):
        assert abs(part - Fraction(total * weight, weight_sum)) < 1


@SETTINGS
@given(total=amounts, weight=st.integers(min_value=1, max_value=1000), n=st.integers(min_value=1, max_value=9))
def test_equal_weights_differ_by_at_most_one_rupiah(total, weight, n):
    parts = allocate(total, [weight] * n)
    assert max(parts) - min(parts) <= 1
    # Documented tie-break: the earlier weight (callers order by member id) gets the extra rupiah.
    assert parts == sorted(parts, reverse=True)


def test_allocation_examples():
    assert allocate(10_000, [1, 1, 1]) == [3_334, 3_333, 3_333]
    assert allocate(100, [8_000, 2_000]) == [80, 20]
    assert allocate(0, [1, 2]) == [0, 0]
    assert allocate(5, [0, 1]) == [0, 5]


@pytest.mark.parametrize(("total", "weights"), [(-1, [1]), (10, []), (10, [0, 0]), (10, [1, -1])])
def test_allocation_refuses_nonsense(total, weights):
    with pytest.raises(ValueError):
        allocate(total, weights)


# --- format / parse -------------------------------------------------------------------------------

def test_format_rupiah_examples():
    assert format_rupiah(67_000_000) == "Rp 67.000.000"
    assert format_rupiah(0) == "Rp 0"
    assert format_rupiah(999) == "Rp 999"
    assert format_rupiah(12_400_000) == "Rp 12.400.000"
    assert format_rupiah(-5_000) == "-Rp 5.000"
    assert format_rupiah(67_000, "en") == "IDR 67,000"


@pytest.mark.parametrize("value", [1.5, "1000", True, None])
def test_format_rupiah_refuses_non_integers(value):
    with pytest.raises(TypeError):
        format_rupiah(value)


@SETTINGS
@given(amount=st.integers(min_value=0, max_value=MAX_RUPIAH))
def test_parse_format_round_trip(amount):
    assert parse_rupiah(format_rupiah(amount)) == amount


@SETTINGS
@given(amount=st.integers(min_value=0, max_value=MAX_RUPIAH))
def test_plain_digits_parse_to_themselves(amount):
    assert parse_rupiah(str(amount)) == amount


@SETTINGS
@given(text=st.text(max_size=30))
def test_parser_either_returns_a_non_negative_int_or_explains(text):
    try:
        value = parse_rupiah(text)
    except MoneyParseError as error:
        assert str(error)  # a message for the kasir, never a crash
    else:
        assert isinstance(value, int) and 0 <= value <= MAX_RUPIAH


@pytest.mark.parametrize(("text", "expected"), [
    ("67.000", 67_000),
    ("Rp 67.000", 67_000),
    ("Rp67000", 67_000),
    ("rp. 67.000", 67_000),
    ("IDR 67.000", 67_000),
    ("67000", 67_000),
    ("  67.000  ", 67_000),
    ("67rb", 67_000),
    ("67 rb", 67_000),
    ("67 ribu", 67_000),
    ("67k", 67_000),
    ("1,5jt", 1_500_000),
    ("1,5 jt", 1_500_000),
    ("2 juta", 2_000_000),
    ("2JT", 2_000_000),
    ("12,4 juta", 12_400_000),
    ("1,25rb", 1_250),
    ("67.000.000", 67_000_000),
    ("0", 0),
])
def test_accepted_inputs(text, expected):
    assert parse_rupiah(text) == expected


@pytest.mark.parametrize(("text", "message"), [
    ("", "wajib diisi"),
    ("   ", "wajib diisi"),
    ("Rp", "wajib diisi"),
    (None, "wajib diisi"),
    ("-5000", "tidak boleh negatif"),
    ("Rp -5.000", "tidak boleh negatif"),
    ("-1rb", "tidak boleh negatif"),
    ("1.5", "tidak dikenali"),        # a decimal point or a thousands dot? ambiguous
    ("67,000", "tidak dikenali"),     # English grouping or a decimal comma? ambiguous
    ("67.000,00", "tidak dikenali"),  # sen are not rupiah
    ("1.2345", "tidak dikenali"),
    ("1.000.00", "tidak dikenali"),
    ("67.000rb", "tidak dikenali"),
    ("1,2345jt", "tidak dikenali"),
    ("1,0005rb", "tidak dikenali"),     # below one rupiah
    ("abc", "tidak dikenali"),
    ("rb", "tidak dikenali"),
    ("12abc", "tidak dikenali"),
    ("١٢٣", "tidak dikenali"),        # non-ASCII digits
    ("9" * 19, "terlalu besar"),
])
def test_rejected_inputs_explain_why(text, message):
    with pytest.raises(MoneyParseError, match=message):
        parse_rupiah(text)


# --- bps, cash rounding, words ---------------------------------------------------------------------

def test_apply_bps_and_round_cash():
    assert apply_bps(150_000, 8_000) == 120_000
    assert apply_bps(3, 5_000) == 2  # half up
    assert apply_bps(10_000, 0) == 0 and apply_bps(10_000, 10_000) == 10_000
    with pytest.raises(ValueError):
        apply_bps(100, 10_001)
    assert round_cash(67_049, 100) == 67_000
    assert round_cash(67_050, 100) == 67_100
    assert round_cash(67_049, 1) == 67_049


@pytest.mark.parametrize(("amount", "words"), [
    (0, "nol rupiah"),
    (1, "satu rupiah"),
    (11, "sebelas rupiah"),
    (15, "lima belas rupiah"),
    (100, "seratus rupiah"),
    (1_000, "seribu rupiah"),
    (1_100, "seribu seratus rupiah"),
    (67_000, "enam puluh tujuh ribu rupiah"),
    (150_500, "seratus lima puluh ribu lima ratus rupiah"),
    (1_000_000, "satu juta rupiah"),
    (12_400_000, "dua belas juta empat ratus ribu rupiah"),
    (67_000_000, "enam puluh tujuh juta rupiah"),
    (2_000_000_000, "dua miliar rupiah"),
    (1_000_000_000_000, "satu triliun rupiah"),
])
def test_terbilang(amount, words):
    assert terbilang(amount) == words


@SETTINGS
@given(amount=st.integers(min_value=1, max_value=10**14))
def test_terbilang_is_clean_text(amount):
    words = terbilang(amount)
    assert words.endswith(" rupiah") and "  " not in words and words == words.strip()
