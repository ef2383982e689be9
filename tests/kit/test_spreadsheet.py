"""CSV cells are neutralised against formula injection, one rule in two forms."""

from __future__ import annotations

import re

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cuishou.kit.spreadsheet import (
    FORMULA_STARTS,
    excel_plain,
    excel_plain_expr,
    excel_safe,
    excel_safe_expr,
    excel_safe_frame,
)

# text that often starts with what matters: formula characters, quotes, signs, digits
texts = st.text(alphabet=st.sampled_from("=+-@\t\r'0123456789.eE ab张|!(")) | st.text()


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("=1+1", "'=1+1"),
        ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("'=1", "''=1"),  # already quoted by someone: one more, so reading takes one away
        ("-5.00", "-5.00"),  # a negative amount is a number, never a formula
        ("+8613812345678", "+8613812345678"),
        ("-1e5", "-1e5"),
        ("张伟", "张伟"),
        (" =1", " =1"),  # a leading space: shown as text already
        ("", ""),
        ("'abc", "'abc"),
    ],
)
def test_cells_a_spreadsheet_would_run_get_a_quote(value: str, shown: str) -> None:
    assert excel_safe(value) == shown
    assert excel_plain(shown) == value


def test_values_that_are_not_text_are_left_alone() -> None:
    assert [excel_safe(v) for v in (5, -5, None, 1.5)] == [5, -5, None, 1.5]


@given(texts)
def test_what_is_written_never_starts_a_formula(value: str) -> None:
    shown = excel_safe(value)
    assert isinstance(shown, str)
    if shown and shown[0] in FORMULA_STARTS:  # only a plain number may keep its sign
        assert re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", shown, re.ASCII)


@given(texts)
def test_reading_takes_away_exactly_what_writing_added(value: str) -> None:
    assert excel_plain(excel_safe(value)) == value


@given(st.lists(st.none() | texts, max_size=30))
def test_the_scalar_and_polars_forms_agree(values: list[str | None]) -> None:
    column = pl.Series("v", values, dtype=pl.String)
    safe = pl.select(excel_safe_expr(pl.lit(column))).to_series().to_list()
    assert safe == [excel_safe(v) for v in values]
    plain = pl.select(excel_plain_expr(pl.lit(column))).to_series().to_list()
    assert plain == [None if v is None else excel_plain(v) for v in values]


def test_a_frame_has_every_text_column_neutralised() -> None:
    frame = pl.DataFrame({"row": [2, 3], "name": ["=cmd", "张伟"], "amount": ["-5.00", "@x"]})
    assert excel_safe_frame(frame).rows() == [(2, "'=cmd", "-5.00"), (3, "张伟", "'@x")]
