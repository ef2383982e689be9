from datetime import UTC, date, datetime

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cuishou.kit.clock import ensure_aware, parse_date, to_utc, zone
from cuishou.kit.dates import add_months, parse_date_text
from cuishou.kit.errors import InvalidInput
from cuishou.kit.masking import (
    mask_address,
    mask_id_number,
    mask_mobile,
    mask_mobile_expr,
    mask_name,
)


@pytest.mark.parametrize(
    "text",
    ["2026-03-05", "2026/3/5", "2026.03.05", "20260305", "2026年3月5日", "2026-03-05 00:00:00"],
)
def test_bank_date_spellings(text: str) -> None:
    assert parse_date_text(text) == date(2026, 3, 5)


@pytest.mark.parametrize("text", ["2026-02-30", "05/03/2026", "yesterday", ""])
def test_not_dates(text: str) -> None:
    assert parse_date_text(text) is None


def test_parse_date_names_the_field() -> None:
    with pytest.raises(InvalidInput, match="overdue_since"):
        parse_date("2026-13-01", field="overdue_since")


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2026, 1, 31), 2, date(2026, 3, 31)),
        (date(2026, 11, 15), 3, date(2027, 2, 15)),
        (date(2026, 3, 31), -1, date(2026, 2, 28)),
    ],
)
def test_add_months_clamps_to_month_end(start: date, months: int, expected: date) -> None:
    assert add_months(start, months) == expected


@given(st.dates(min_value=date(1950, 1, 1), max_value=date(2090, 1, 1)), st.integers(0, 120))
def test_add_months_moves_exactly_that_many_months(start: date, months: int) -> None:
    moved = add_months(start, months)
    assert (moved.year * 12 + moved.month) - (start.year * 12 + start.month) == months
    assert moved.day <= start.day


def test_naive_times_are_taken_as_shanghai_and_stored_utc() -> None:
    local = datetime(2026, 11, 3, 9, 30)  # noqa: DTZ001 - a bank file's wall-clock time
    assert to_utc(local) == datetime(2026, 11, 3, 1, 30, tzinfo=UTC)
    assert ensure_aware(local).utcoffset() is not None


def test_unknown_zone_is_a_clear_error() -> None:
    with pytest.raises(InvalidInput, match="Mars/Olympus"):
        zone("Mars/Olympus")


def test_masks() -> None:
    assert mask_mobile("13812341234") == "138****1234"
    assert mask_id_number("110101199003071234") == "110***********1234"
    assert mask_name("张三丰") == "张**"
    assert mask_address("广东省深圳市南山区科技园路1号") == "广东省深圳市****"


@given(st.lists(st.text(alphabet="0123456789+-", max_size=20), max_size=30))
def test_the_polars_mobile_mask_is_the_scalar_one(values: list[str]) -> None:
    frame = pl.DataFrame({"value": values}, schema={"value": pl.String})
    masked = frame.select(mask_mobile_expr(pl.col("value")).alias("masked"))["masked"].to_list()
    assert masked == [mask_mobile(v) for v in values]
