"""The interest cap (4 × LPR at contract date for private lending, a fixed rate, or none)
and the limitation period (3 years)."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cuishou.compliance.interest_cap import (
    DEFAULT_CAP,
    NO_CAP,
    PRIVATE_LENDING_4X_LPR,
    CreditorCaps,
    InterestCap,
    LprHistory,
    cap_rate,
    judge_interest,
    parse_cap,
    shipped_lpr,
)
from cuishou.compliance.limitation import add_years, limitation_of

LPR = shipped_lpr()
FOUR_X = PRIVATE_LENDING_4X_LPR


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
    judged = judge_interest(100_001, Decimal("0.24"), date(2025, 6, 1), LPR, cap=FOUR_X)
    assert judged.above_cap and judged.cap_rate == Decimal("0.12")
    assert (judged.demandable_fen, judged.excess_fen) == (50_001, 50_000)  # 50,000.5 rounds up
    within = judge_interest(80_000, Decimal("0.12"), date(2025, 6, 1), LPR, cap=FOUR_X)
    assert not within.above_cap and within.demandable_fen == 80_000 and within.excess_fen == 0


def test_without_a_rate_or_contract_date_nothing_is_flagged() -> None:
    assert judge_interest(5_000, None, date(2025, 6, 1), LPR, cap=FOUR_X).demandable_fen == 5_000
    assert not judge_interest(5_000, Decimal("0.3"), None, LPR, cap=FOUR_X).above_cap
    with pytest.raises(ValueError, match="negative"):
        judge_interest(-1, Decimal("0.3"), date(2025, 6, 1), LPR, cap=FOUR_X)


# the demo's credit card (18.25% a year, 日息万五) and consumer loans up to 36%
CARD = Decimal("0.1825")


@pytest.mark.parametrize(
    ("cap", "rate", "contract", "above", "demandable", "ceiling"),
    [
        # a licensed lender (the default): no ceiling, everything may be demanded
        (NO_CAP, CARD, date(2025, 6, 1), False, 36_500, None),
        (NO_CAP, Decimal("0.36"), None, False, 36_500, None),
        # a private lender: 4 × LPR at the contract date (12% since 2025-05-20)
        (FOUR_X, CARD, date(2025, 6, 1), True, 24_000, Decimal("0.12")),
        (FOUR_X, CARD, None, False, 36_500, None),  # no contract date, no LPR to judge by
        # a fixed 24%: the card is within it, 36% is not; no contract date is needed
        (InterestCap("fixed", Decimal("0.24")), CARD, None, False, 36_500, Decimal("0.24")),
        (InterestCap("fixed", Decimal("0.24")), Decimal("0.36"), None, True, 24_333,
         Decimal("0.24")),
        (InterestCap("fixed", Decimal("0.24")), Decimal("0.24"), None, False, 36_500,
         Decimal("0.24")),
    ],
)  # fmt: skip
def test_each_kind_of_cap(
    cap: InterestCap,
    rate: Decimal,
    contract: date | None,
    above: bool,
    demandable: int,
    ceiling: Decimal | None,
) -> None:
    judged = judge_interest(36_500, rate, contract, LPR, cap=cap)
    assert (judged.above_cap, judged.demandable_fen, judged.cap_rate) == (
        above,
        demandable,
        ceiling,
    )
    assert judged.excess_fen == 36_500 - demandable


def test_licensed_lenders_are_not_held_to_the_private_lending_cap_by_default() -> None:
    assert DEFAULT_CAP == NO_CAP
    assert CreditorCaps().for_product("credit_card") == NO_CAP


def test_a_product_of_a_creditor_overrides_the_creditors_cap() -> None:
    caps = CreditorCaps(
        default=FOUR_X, products={"consumer_loan": InterestCap("fixed", Decimal("0.24"))}
    )
    assert caps.for_product("consumer_loan") == InterestCap("fixed", Decimal("0.24"))
    assert caps.for_product("credit_card") == FOUR_X


@pytest.mark.parametrize(
    ("text", "cap", "stored"),
    [
        ("private_lending_4x_lpr", FOUR_X, "private_lending_4x_lpr"),
        ("none", NO_CAP, "none"),
        (" NONE ", NO_CAP, "none"),
        ("fixed:24%", InterestCap("fixed", Decimal("0.24")), "fixed:24%"),
        ("fixed:24", InterestCap("fixed", Decimal("0.24")), "fixed:24%"),
        ("fixed: 18.25 %", InterestCap("fixed", Decimal("0.1825")), "fixed:18.25%"),
        ("fixed:36.0%", InterestCap("fixed", Decimal("0.36")), "fixed:36%"),
        ("fixed:100%", InterestCap("fixed", Decimal(1)), "fixed:100%"),
    ],
)
def test_caps_are_typed_and_stored_as_text(text: str, cap: InterestCap, stored: str) -> None:
    assert parse_cap(text) == cap
    assert str(parse_cap(text)) == stored
    assert parse_cap(stored) == cap  # what is stored reads back the same


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("4xlpr", "is not an interest cap: give private_lending_4x_lpr, fixed:<rate>%"),
        ("", "is not an interest cap"),
        ("fixed:", "a fixed cap is a percent a year above 0"),
        ("fixed:0%", "a fixed cap is a percent a year above 0"),
        ("fixed:-5%", "a fixed cap is a percent a year above 0"),
        ("fixed:101%", "at most 100"),
        ("fixed:abc", "a fixed cap is a percent a year above 0"),
        ("fixed:nan", "a fixed cap is a percent a year above 0"),
        ("fixed:24.00001%", "at most 4 decimals"),
    ],
)
def test_a_bad_cap_is_refused_saying_what_is_accepted(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_cap(text)


def test_a_cap_is_whole() -> None:
    with pytest.raises(ValueError, match="a fixed cap has a rate"):
        InterestCap("fixed")
    with pytest.raises(ValueError, match="a fixed cap has a rate"):
        InterestCap("none", Decimal("0.24"))
    with pytest.raises(ValueError, match="above 0%"):
        InterestCap("fixed", Decimal(2))


caps = st.one_of(
    st.just(NO_CAP),
    st.just(FOUR_X),
    st.decimals(min_value="0.0001", max_value="1", places=4).map(lambda r: InterestCap("fixed", r)),
)


@given(
    interest=st.integers(0, 10**12),
    rate=st.decimals(min_value="0", max_value="1", places=6),
    contract=st.one_of(st.none(), st.dates(date(2015, 1, 1), date(2030, 12, 31))),
    cap=caps,
)
def test_the_split_never_creates_or_loses_a_fen(
    interest: int, rate: Decimal, contract: date | None, cap: InterestCap
) -> None:
    judged = judge_interest(interest, rate, contract, LPR, cap=cap)
    assert judged.demandable_fen + judged.excess_fen == interest
    assert 0 <= judged.demandable_fen <= interest
    ceiling = judged.cap_rate
    assert judged.above_cap == (ceiling is not None and rate > ceiling)
    assert parse_cap(str(cap)) == cap


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
