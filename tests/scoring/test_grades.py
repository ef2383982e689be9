"""Grades A–D: cut-offs by share and by points; the scalar and Polars forms agree."""

from __future__ import annotations

import math

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cuishou.kit.errors import InvalidInput
from cuishou.scoring.grades import (
    GradeCutoffs,
    cutoffs_by_points,
    cutoffs_by_share,
    grade_expr,
    grade_of,
)

scores = st.one_of(
    st.none(),
    st.just(math.nan),
    st.floats(min_value=300, max_value=900, allow_nan=False),
    st.sampled_from([500.0, 550.0, 600.0]),  # exactly on the cut-offs below
)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(scores, min_size=1, max_size=50),
    st.lists(st.floats(min_value=300, max_value=900), min_size=3, max_size=3),
)
def test_grade_of_and_grade_expr_agree(values: list[float | None], cuts: list[float]) -> None:
    a, b, c = sorted(cuts, reverse=True)
    cutoffs = cutoffs_by_points(a, b, c)
    frame = pl.DataFrame({"score": values}, schema={"score": pl.Float64})
    assert frame.select(grade_expr("score", cutoffs))["risk_grade"].to_list() == [
        grade_of(v, cutoffs) for v in values
    ]


@settings(max_examples=50, deadline=None)
@given(st.lists(scores, min_size=1, max_size=50))
def test_the_two_forms_agree_on_the_fixed_cut_offs_and_their_boundaries(
    values: list[float | None],
) -> None:
    cutoffs = cutoffs_by_points(600, 550, 500)
    frame = pl.DataFrame({"s": values}, schema={"s": pl.Float64})
    assert frame.select(grade_expr(pl.col("s"), cutoffs))["risk_grade"].to_list() == [
        grade_of(v, cutoffs) for v in values
    ]


def test_a_score_on_a_cut_off_takes_the_better_grade() -> None:
    cutoffs = cutoffs_by_points(600, 550, 500)
    assert [grade_of(s, cutoffs) for s in (600, 599.9, 550, 500, 499.9, None)] == [
        "A",
        "B",
        "B",
        "C",
        "D",
        None,
    ]


def test_default_shares_give_20_30_30_20_best_to_worst() -> None:
    values = [float(v) for v in range(1000, 0, -10)]  # 100 distinct scores
    cutoffs = cutoffs_by_share(values)
    assert cutoffs == GradeCutoffs(a=810.0, b=510.0, c=210.0)
    grades = pl.DataFrame({"s": values}).select(grade_expr("s", cutoffs))["risk_grade"]
    assert grades.value_counts(name="n").sort("risk_grade")["n"].to_list() == [20, 30, 30, 20]


def test_shares_can_be_configured_and_missing_scores_are_left_out() -> None:
    values: list[float | None] = [float(v) for v in range(10)] + [None, math.nan]
    cutoffs = cutoffs_by_share(values, shares=(0.1, 0.1, 0.3, 0.5))
    assert (cutoffs.a, cutoffs.b, cutoffs.c) == (9.0, 8.0, 5.0)


def test_bad_cut_offs_and_shares_get_clear_errors() -> None:
    with pytest.raises(InvalidInput, match="fall from A to C"):
        cutoffs_by_points(500, 550, 400)
    with pytest.raises(InvalidInput, match="add up to 1"):
        cutoffs_by_share([1.0, 2.0], shares=(0.5, 0.3, 0.3, 0.2))
    with pytest.raises(InvalidInput, match="4 shares"):
        cutoffs_by_share([1.0, 2.0], shares=(0.5, 0.5))
    with pytest.raises(InvalidInput, match="no scores"):
        cutoffs_by_share([None])
