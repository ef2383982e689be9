from decimal import Decimal

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cuishou.kit.errors import InvalidInput
from cuishou.kit.money import (
    format_yuan,
    format_yuan_expr,
    format_yuan_grouped,
    parse_yuan,
    round_fen,
)


@pytest.mark.parametrize(
    ("text", "fen"),
    [
        ("0", 0),
        ("12", 1200),
        ("12.3", 1230),
        ("12.30", 1230),
        ("1,234.56", 123456),
        ("¥1,234.56", 123456),
        ("￥88.01元", 8801),
        ("-5.10", -510),
        (" 7.00 ", 700),
        ("12.340", 1234),  # trailing zero past the fen is still exact
    ],
)
def test_parse_yuan_accepts_bank_spellings(text: str, fen: int) -> None:
    assert parse_yuan(text) == fen


@pytest.mark.parametrize("text", ["12.345", "abc", "", "1.2.3", "12元5角"])
def test_parse_yuan_rejects_with_the_field_named(text: str) -> None:
    with pytest.raises(InvalidInput, match="principal"):
        parse_yuan(text, field="principal")


@given(st.integers(min_value=-(10**13), max_value=10**13))
def test_format_then_parse_is_identity(fen: int) -> None:
    assert parse_yuan(format_yuan(fen)) == fen


def test_grouped_format_for_people() -> None:
    assert format_yuan_grouped(123456789) == "¥1,234,567.89"
    assert format_yuan_grouped(-5) == "-¥0.05"


@pytest.mark.parametrize(
    ("amount", "fen"),
    [(Decimal("0.5"), 1), (Decimal("1.49"), 1), (Decimal("-0.5"), -1), (Decimal("2.5"), 3)],
)
def test_round_fen_is_half_away_from_zero(amount: Decimal, fen: int) -> None:
    assert round_fen(amount) == fen


@settings(deadline=None)  # Polars per example: slow on a busy machine
@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_the_polars_yuan_format_is_the_scalar_one(fen: int) -> None:
    got = pl.select(format_yuan_expr(pl.lit(fen, dtype=pl.Int64))).item()
    assert got == format_yuan(fen)
