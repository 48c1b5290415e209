import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inventory.barcodes import ean13_check_digit, ean13_from_number, is_valid_ean13, random_in_store_code


def test_known_ean13_check_digits():
    assert ean13_check_digit("400638133393") == "1"  # 4006381333931, a well-known example
    assert is_valid_ean13("4006381333931")
    assert not is_valid_ean13("4006381333932")
    assert not is_valid_ean13("400638133393")
    assert not is_valid_ean13("40063813339a1")


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=0, max_value=10**11 - 1))
def test_generated_codes_are_valid_in_store_codes(number):
    code = ean13_from_number(number)
    assert len(code) == 13 and code.startswith("2") and is_valid_ean13(code)


def test_random_in_store_code_is_valid():
    for _ in range(50):
        code = random_in_store_code()
        assert code.startswith("2") and is_valid_ean13(code)


def test_check_digit_rejects_wrong_length():
    with pytest.raises(ValueError):
        ean13_check_digit("123")
