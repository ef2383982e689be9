"""PSI: hand-checked numeric and categorical examples, missing and unseen values."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cuishou.kit.errors import InvalidInput
from cuishou.scoring.drift import (
    EPSILON,
    PSI_ALERT_THRESHOLD,
    PsiReference,
    drifted,
    feature_psi,
    psi,
    psi_against,
    reference_of,
    references_of,
)


def test_numeric_psi_cuts_on_the_reference_quantiles() -> None:
    reference = pl.Series("score", [float(v) for v in range(1, 11)])
    # two bins: the median of 1…10 is 5.5; reference 5 | 5, current 8 | 2
    current = pl.Series("score", [1.0] * 8 + [10.0] * 2)
    expected = (0.8 - 0.5) * math.log(0.8 / 0.5) + (0.2 - 0.5) * math.log(0.2 / 0.5)
    assert expected == pytest.approx(0.415888, abs=1e-6)
    assert psi(reference, current, bins=2) == pytest.approx(expected)
    assert drifted(psi(reference, current, bins=2))


def test_a_value_on_an_edge_falls_in_the_lower_bin() -> None:
    ref = reference_of(pl.Series([1, 2, 3, 4]), bins=2)  # median 2.5
    assert ref.edges == (2.5,)
    assert psi(pl.Series([1, 2, 3, 4]), pl.Series([2.5, 2.5, 3.0, 4.0]), bins=2) == 0.0


def test_categorical_psi_has_a_bin_for_unseen_categories_and_eps_for_empty_bins() -> None:
    reference = pl.Series("product", ["a", "a", "b", "b"])
    current = pl.Series("product", ["a", "a", "a", "c"])
    # bins a, b, unseen, missing: reference .5 .5 0 0; current .75 0 .25 0
    e = EPSILON
    expected = (
        (0.75 - 0.5) * math.log(0.75 / 0.5)
        + (e - 0.5) * math.log(e / 0.5)
        + (0.25 - e) * math.log(0.25 / e)
    )
    assert expected == pytest.approx(6.31434, abs=1e-4)
    assert psi(reference, current) == pytest.approx(expected)


def test_missing_values_have_their_own_bin() -> None:
    reference = pl.Series("age", [30, 40, None, None], dtype=pl.Int64)
    same = pl.Series("age", [31, 41, None, None], dtype=pl.Int64)
    fewer_missing = pl.Series("age", [31, 41, 35, None], dtype=pl.Int64)
    assert psi(reference, same, bins=2) == 0.0
    # bins ≤35, >35, missing: reference .25 .25 .5; current .5 .25 .25
    expected = 0.25 * math.log(2) + (-0.25) * math.log(0.5)
    assert psi(reference, fewer_missing, bins=2) == pytest.approx(expected)
    with_infinity = pl.Series("ratio", [1.0, 2.0, float("inf"), None])
    assert reference_of(with_infinity, bins=2).shares == (0.25, 0.25, 0.5)
    flags = pl.Series("hold", [True, False, None, False])
    assert psi(flags, flags) == 0.0


def test_the_same_population_is_stable_and_a_shifted_one_drifts() -> None:
    rng = np.random.default_rng(7)
    reference = pl.Series(rng.normal(600, 50, 20_000))
    assert psi(reference, pl.Series(rng.normal(600, 50, 20_000))) < 0.01
    shifted = psi(reference, pl.Series(rng.normal(640, 50, 20_000)))
    assert shifted > PSI_ALERT_THRESHOLD
    assert not drifted(0.25) and drifted(0.2501)


def test_feature_psi_from_stored_profiles_round_trips_through_plain_data() -> None:
    train = pl.DataFrame({"dpd": [0, 5, 30, 60, 90, 120], "product": ["x", "y"] * 3})
    today = pl.DataFrame({"dpd": [0, 5, 30, 60, 90, 120], "product": ["x", "x", "x"] * 2})
    profiles = references_of(train, ["dpd", "product"], bins=3)
    stored = {c: PsiReference.from_dict(p.to_dict()) for c, p in profiles.items()}
    values = feature_psi(stored, today)
    assert values["dpd"] == 0.0
    assert values["product"] == pytest.approx(
        0.5 * math.log(1 / 0.5) + (EPSILON - 0.5) * math.log(EPSILON / 0.5)
    )
    with pytest.raises(InvalidInput, match="no column"):
        feature_psi(stored, today.drop("dpd"))
    with pytest.raises(InvalidInput, match="non-empty"):
        psi(pl.Series([1.0, 2.0]), pl.Series([], dtype=pl.Float64))


@settings(max_examples=100, deadline=None)
@given(
    reference=st.lists(st.integers(-50, 50), min_size=1, max_size=60),
    current=st.lists(st.one_of(st.none(), st.integers(-80, 80)), min_size=1, max_size=60),
)
def test_an_integer_column_drifts_as_the_same_values_as_floats(
    reference: list[int], current: list[int | None]
) -> None:
    # given a reference profile and an integer column (binned through a lookup table)
    profile = reference_of(pl.Series(reference, dtype=pl.Int64))
    column = pl.Series(current, dtype=pl.Int64)
    if column.null_count() == column.len():
        return
    # then its PSI is that of the same values as floats (a binary search per value)
    assert psi_against(profile, column) == psi_against(profile, column.cast(pl.Float64))
