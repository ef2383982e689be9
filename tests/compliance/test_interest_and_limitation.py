"""The interest cap (4 × LPR at contract date) and the limitation period (3 years)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cuishou.compliance.interest_cap import LprHistory, cap_rate, judge_interest, shipped_lpr
from cuishou.compliance.limitation import add_years, limitation_of

LPR = shipped_lpr()


@pytest.mark.parametrize(
    ("contract", "cap"),
    [
        (date(2025, 5, 20), Decimal("0.12")),  # 4 × 3.00% since 2025-05-20
        (date(2025, 5, 19), Decimal("0.124")),  # 4 × 3.10% the day before
        (date(2020, 4, 20), Decimal("0.154")),  # 4 × 3.85%
        (date(2018, 1, 1), Decimal("0.17")),  # before the reform: the first LPR, 4.25%
        (date(2026, 11, 25), Decimal("0.12")),
    ],
)
def test_cap_is_four_times_the_lpr_at_the_contract_date(contract: date, cap: Decimal) -> None:
    assert cap_rate(contract, LPR) == cap


def test_interest_above_the_cap_is_flagged_and_only_the_capped_share_is_demandable() -> None:
    # 24% on a 2025-06 contract: the cap is 12%, so half the interest may be demanded
    judged = judge_interest(100_001, Decimal("0.24"), date(2025, 6, 1), LPR)
    assert judged.above_cap and judged.cap_rate == Decimal("0.12")
    assert (judged.demandable_fen, judged.excess_fen) == (50_001, 50_000)  # 50,000.5 rounds up
    within = judge_interest(80_000, Decimal("0.12"), date(2025, 6, 1), LPR)
    assert not within.above_cap and within.demandable_fen == 80_000 and within.excess_fen == 0


def test_without_a_rate_or_contract_date_nothing_is_flagged() -> None:
    assert judge_interest(5_000, None, date(2025, 6, 1), LPR).demandable_fen == 5_000
    assert not judge_interest(5_000, Decimal("0.3"), None, LPR).above_cap
    with pytest.raises(ValueError, match="negative"):
        judge_interest(-1, Decimal("0.3"), date(2025, 6, 1), LPR)


@given(
    interest=st.integers(0, 10**12),
    rate=st.decimals(min_value="0", max_value="1", places=6),
    contract=st.dates(date(2015, 1, 1), date(2030, 12, 31)),
)
def test_the_split_never_creates_or_loses_a_fen(
    interest: int, rate: Decimal, contract: date
) -> None:
    judged = judge_interest(interest, rate, contract, LPR)
    assert judged.demandable_fen + judged.excess_fen == interest
    assert 0 <= judged.demandable_fen <= interest
    assert judged.above_cap == (rate > judged.cap_rate)


def test_a_bad_lpr_history_is_refused() -> None:
    with pytest.raises(ValueError, match="ascending"):
        LprHistory((date(2020, 2, 1), date(2020, 1, 1)), (Decimal(4), Decimal(3)))
    with pytest.raises(ValueError, match="one rate"):
        LprHistory((), ())


def test_three_years_from_default_interrupted_by_each_demand() -> None:
    default = date(2022, 3, 1)
    plain = limitation_of(default, [], date(2025, 2, 28))
    assert plain.expires_on == date(2025, 3, 1) and not plain.time_barred and plain.days_left == 1
    assert limitation_of(default, [], date(2025, 3, 1)).time_barred
    # a demand restarts the three years
    demanded = limitation_of(default, [date(2024, 6, 10), date(2023, 1, 5)], date(2026, 1, 1))
    assert demanded.last_interruption == date(2024, 6, 10)
    assert demanded.expires_on == date(2027, 6, 10) and not demanded.time_barred
    # a demand after the period ran out does not revive the debt; future demands don't count
    late = limitation_of(default, [date(2025, 6, 1)], date(2026, 1, 1))
    assert late.time_barred and late.last_interruption is None
    future = limitation_of(default, [date(2026, 6, 1)], date(2026, 1, 1))
    assert future.last_interruption is None


def test_leap_day_defaults() -> None:
    assert add_years(date(2024, 2, 29), 3) == date(2027, 2, 28)
    assert limitation_of(date(2024, 2, 29), [], date(2027, 2, 28)).time_barred


@given(
    default=st.dates(date(2015, 1, 1), date(2026, 1, 1)),
    gaps=st.lists(st.integers(1, 2000), max_size=6),
    as_of_days=st.integers(0, 6000),
)
def test_limitation_properties(default: date, gaps: list[int], as_of_days: int) -> None:
    demands = []
    day = default
    for gap in gaps:
        day = day + timedelta(days=gap)
        demands.append(day)
    as_of = default + timedelta(days=as_of_days)
    result = limitation_of(default, demands, as_of)
    # the period never ends before three years after the default, nor later than three
    # years after the last demand made by as_of
    assert result.expires_on >= add_years(default, 3)
    made = [d for d in demands if d <= as_of]
    assert result.expires_on <= add_years(max([default, *made]), 3)
    assert result.time_barred == (as_of >= result.expires_on)
