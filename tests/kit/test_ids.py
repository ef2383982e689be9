from datetime import date

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cuishou.kit.ids import (
    birth_date_of,
    gender_of,
    id_check_digit,
    id_check_digit_expr,
    id_number_problem,
    mobile_problem,
    normalize_mobile,
)

# The worked example of GB 11643-1999 (annex): 11010519491231002X.
GB_EXAMPLE = "11010519491231002X"


def test_standard_example_is_valid() -> None:
    assert id_number_problem(GB_EXAMPLE) is None
    assert birth_date_of(GB_EXAMPLE) == date(1949, 12, 31)
    assert gender_of(GB_EXAMPLE) == "F"


def test_lower_case_x_is_accepted() -> None:
    assert id_number_problem(GB_EXAMPLE.lower()) is None


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("110105194912310021", "check digit is 1, expected X"),
        ("11010519491231002", "18 characters"),
        ("1101051949123100AX", "17 digits"),
        ("990105194912310028", "region code 99"),
        ("110105194913310020", "not a real date"),
    ],
)
def test_invalid_id_numbers_say_why(value: str, fragment: str) -> None:
    problem = id_number_problem(value)
    assert problem is not None and fragment in problem


def test_birth_date_in_the_future_is_rejected() -> None:
    first17 = "11010520300101001"
    assert "out of range" in (
        id_number_problem(first17 + id_check_digit(first17), as_of=date(2026, 1, 1)) or ""
    )


@given(
    st.from_regex(
        r"(11|31|44|51)\d{4}(19[5-9]\d|200\d)(0[1-9]|1[0-2])(0[1-9]|1\d|2[0-8])\d{3}",
        fullmatch=True,
    )
)
def test_any_first17_with_its_check_digit_is_valid(first17: str) -> None:
    assert id_number_problem(first17 + id_check_digit(first17)) is None


@given(
    st.from_regex(
        r"(11|31|44|51)\d{4}19[5-9]\d(0[1-9]|1[0-2])(0[1-9]|1\d|2[0-8])\d{3}", fullmatch=True
    ),
    st.sampled_from("0123456789X"),
)
def test_a_wrong_check_digit_is_always_caught(first17: str, digit: str) -> None:
    if digit != id_check_digit(first17):
        assert id_number_problem(first17 + digit) is not None


@pytest.mark.parametrize(
    "value", ["13812345678", "+86 138 1234 5678", "19912345678", "8613812345678"]
)
def test_valid_mobiles(value: str) -> None:
    assert mobile_problem(value) is None


@pytest.mark.parametrize("value", ["12812345678", "1381234567", "138123456789", "0755-1234567", ""])
def test_invalid_mobiles(value: str) -> None:
    assert mobile_problem(value) is not None


def test_normalize_mobile_strips_country_code_and_separators() -> None:
    assert normalize_mobile("+86-138-1234-5678") == "13812345678"


@given(st.text(alphabet="0123456789", min_size=17, max_size=17))
def test_the_polars_check_digit_is_the_scalar_one(first17: str) -> None:
    got = pl.select(id_check_digit_expr(pl.lit(first17))).item()
    assert got == id_check_digit(first17)
