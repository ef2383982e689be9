from decimal import Decimal

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cuishou.kit.errors import InvalidInput
from cuishou.kit.money import (
    AmountRefused,
    format_yuan,
    format_yuan_expr,
    format_yuan_grouped,
    parse_percent_bp,
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
        ("\u3000¥12,345,678.9元\u00a0", 1_234_567_890),
        ("000000012345.67", 1_234_567),  # zero-padded fixed-width exports
        (Decimal("12.300"), 1230),
        (12.5, 1250),
        (7, 700),
    ],
)
def test_parse_yuan_accepts_bank_spellings(text: str | Decimal | float, fen: int) -> None:
    assert parse_yuan(text) == fen


@pytest.mark.parametrize(
    "text",
    ["12.345", "abc", "", "1.2.3", "12元5角", "+5", "12.", ".5", "¥ 12", "- 5", "¥-5", "1 000"],
)
def test_parse_yuan_rejects_with_the_field_named(text: str) -> None:
    with pytest.raises(InvalidInput, match="principal"):
        parse_yuan(text, field="principal")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("1,00", "grouping"),  # was 100.00
        ("1,0000", "grouping"),
        ("12,34,567", "grouping"),
        ("1，000", "grouping"),  # the full-width comma is punctuation, not a separator
        (",123", "grouping"),
        ("0,123", "grouping"),
        ("١٢", "digits"),  # Arabic-Indic digits were read as 12
        ("𝟗", "digits"),  # a mathematical digit was read as 9
        ("１２", "digits"),  # full-width digits
        ("12RMB", "syntax"),  # RMB was dropped wherever it stood
        ("1RMB2", "syntax"),
        ("1e5", "syntax"),
        ("1_000", "syntax"),
        ("12345678901234567", "too_long"),
        ("12.3456", "decimals"),
    ],
)
def test_lenient_spellings_are_refused_with_what_is_wrong(text: str, problem: str) -> None:
    with pytest.raises(AmountRefused) as refused:
        parse_yuan(text, field="amount")
    assert refused.value.problem == problem
    assert refused.value.message.startswith(f"amount: {text!r} ")


@given(st.integers(min_value=-(10**17) + 1, max_value=10**17 - 1))
def test_the_grouped_format_for_people_parses_back(fen: int) -> None:
    assert parse_yuan(format_yuan_grouped(fen)) == fen


@pytest.mark.parametrize(
    ("text", "bp"), [("5", 500), ("5%", 500), ("12.5％", 1250), (" 0.01% ", 1), ("-3", -300)]
)
def test_percentages_are_basis_points(text: str, bp: int) -> None:
    assert parse_percent_bp(text, field="discount") == bp


@pytest.mark.parametrize("text", ["¥5", "1,0", "٥", "5.123", "5%%", "five", "", "1e1"])
def test_a_percentage_is_only_digits(text: str) -> None:
    with pytest.raises(InvalidInput, match=r"discount: .* is not a percentage"):
        parse_percent_bp(text, field="discount")


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
