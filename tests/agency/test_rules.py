"""The agency rules, pure: selection, recall, commission rates and statement lines."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cuishou.agency.rules import (
    Candidate,
    Move,
    PlacedFacts,
    RateRow,
    RecallThresholds,
    SelectionRule,
    commission_of,
    parse_month,
    period_end,
    rate_for,
    recall_reason,
    recalled_on,
    select,
    selects,
    statement_lines,
    totals,
)

CASE = Candidate(
    case_id=1, creditor="BANK", bucket="M4", dpd=100, amount_tier="large", due_fen=5_000_000,
    grade="C", products=frozenset({"credit_card"}),
)  # fmt: skip


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        (SelectionRule(), True),
        (SelectionRule(buckets=("M4",)), True),
        (SelectionRule(buckets=("M5",)), False),
        (SelectionRule(min_dpd=101), False),
        (SelectionRule(max_dpd=99), False),
        (SelectionRule(min_dpd=100, max_dpd=100), True),
        (SelectionRule(tiers=("small",)), False),
        (SelectionRule(min_due_fen=5_000_001), False),
        (SelectionRule(max_due_fen=4_999_999), False),
        (SelectionRule(products=("consumer_loan",)), False),
        (SelectionRule(products=("credit_card",)), True),
        (SelectionRule(creditor="OTHER"), False),
        (SelectionRule(grades=("A", "B")), False),
        (SelectionRule(grades=("C",)), True),
    ],
)
def test_each_filter_of_a_rule_file_holds(rule: SelectionRule, expected: bool) -> None:
    assert selects(rule, CASE) is expected


def test_an_ungraded_case_is_not_selected_by_grade() -> None:
    ungraded = Candidate(**{**{f: getattr(CASE, f) for f in CASE.__slots__}, "grade": None})
    assert not selects(SelectionRule(grades=("C",)), ungraded)


def test_selection_takes_the_largest_amounts_first_up_to_the_limit() -> None:
    cases = [
        Candidate(case_id=i, creditor="B", bucket="M4", dpd=100, amount_tier="small",
                  due_fen=due, grade=None, products=frozenset())
        for i, due in ((1, 10), (2, 30), (3, 20))
    ]  # fmt: skip
    assert [c.case_id for c in select(SelectionRule(limit=2), cases)] == [2, 3]


def test_a_period_of_90_days_ends_on_its_90th_day() -> None:
    assert period_end(date(2026, 11, 1), 90) == date(2027, 1, 29)
    with pytest.raises(ValueError, match="days"):
        period_end(date(2026, 11, 1), 0)


FACTS = PlacedFacts(
    placed_on=date(2026, 11, 1), ends_on=date(2026, 11, 30), violations=0, complaints=0,
    placement_recovery_rate=Decimal("0.10"),
)  # fmt: skip
STRICT = RecallThresholds(performance_after_days=10, min_recovery_rate=Decimal("0.05"))


def test_a_placed_case_in_good_standing_stays() -> None:
    assert recall_reason(FACTS, date(2026, 11, 20), STRICT) is None


def test_the_period_end_recalls_the_day_after_its_last_day() -> None:
    assert recall_reason(FACTS, date(2026, 11, 30), STRICT) is None
    assert recall_reason(FACTS, date(2026, 12, 1), STRICT) == "period_end"
    # a cycle run late still dates the recall the day after the period
    assert recalled_on("period_end", FACTS.ends_on, date(2026, 12, 5)) == date(2026, 12, 1)
    assert recalled_on("complaint", FACTS.ends_on, date(2026, 11, 5)) == date(2026, 11, 5)


def test_a_violation_or_a_complaint_recalls_early_unless_switched_off() -> None:
    bad = PlacedFacts(**{**{f: getattr(FACTS, f) for f in FACTS.__slots__}, "violations": 1})
    assert recall_reason(bad, date(2026, 11, 2), STRICT) == "compliance_violation"
    assert recall_reason(bad, date(2026, 11, 2), RecallThresholds(on_violation=False)) is None
    sore = PlacedFacts(**{**{f: getattr(FACTS, f) for f in FACTS.__slots__}, "complaints": 1})
    assert recall_reason(sore, date(2026, 11, 2), STRICT) == "complaint"
    assert recall_reason(sore, date(2026, 11, 2), RecallThresholds(on_complaint=False)) is None


def test_poor_performance_recalls_only_after_n_days() -> None:
    poor = PlacedFacts(
        **{**{f: getattr(FACTS, f) for f in FACTS.__slots__},
           "placement_recovery_rate": Decimal("0.01")}
    )  # fmt: skip
    assert recall_reason(poor, date(2026, 11, 10), STRICT) is None  # day 9
    assert recall_reason(poor, date(2026, 11, 11), STRICT) == "performance"  # day 10
    no_threshold = RecallThresholds(min_recovery_rate=None, performance_after_days=0)
    assert recall_reason(poor, date(2026, 11, 11), no_threshold) is None


SCHEDULE = (
    RateRow(rate=Decimal("0.15"), buckets=("M4",), tiers=("large",)),
    RateRow(rate=Decimal("0.18"), buckets=("M4",), max_age=60),
    RateRow(rate=Decimal("0.20"), buckets=("M4",)),
    RateRow(rate=Decimal("0.30"), buckets=("M7+",)),
)


@pytest.mark.parametrize(
    ("bucket", "tier", "age", "rate"),
    [
        ("M4", "large", 0, "0.15"),
        ("M4", "small", 60, "0.18"),
        ("M4", "small", 61, "0.20"),
        ("M7+", "small", 5, "0.30"),
        ("M2", "small", 5, "0"),
    ],
)
def test_the_first_matching_schedule_row_gives_the_rate(
    bucket: str, tier: str, age: int, rate: str
) -> None:
    assert rate_for(SCHEDULE, bucket, tier, age) == Decimal(rate)


def test_commission_rounds_half_away_from_zero() -> None:
    assert commission_of(1_005, Decimal("0.1")) == 101  # 100.5 → 101
    assert commission_of(-1_005, Decimal("0.1")) == -101


@pytest.mark.parametrize("bad", ["2026-13", "2026-1", "26-11", "2026/11", "二〇二六-11", ""])
def test_a_month_that_is_not_yyyy_mm_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="not a month"):
        parse_month(bad)


def test_a_month_is_its_first_and_last_day() -> None:
    assert parse_month("2028-02") == (date(2028, 2, 1), date(2028, 2, 29))


def _move(entry: int, kind: str, day: date, cash: int, reference: str = "P1") -> Move:
    return Move(
        entry_id=entry, kind=kind, account_id=7, reference=reference, effective_on=day,
        cash_fen=cash, placement_case_id=1, case_id=1, bucket="M4", tier="small",
        placed_on=date(2026, 10, 1),
    )  # fmt: skip


def test_a_reversal_in_the_same_statement_nets_the_payment_out() -> None:
    moves = [_move(1, "payment", date(2026, 11, 3), 10_000),
             _move(2, "reversal", date(2026, 11, 9), -10_000)]  # fmt: skip
    lines = statement_lines(
        moves, last_day=date(2026, 11, 30), closed=frozenset(), closed_rates={}, schedule=SCHEDULE
    )
    assert [line.kind for line in lines] == ["payment", "reversal"]
    assert totals(lines).collected_fen == 0 and totals(lines).commission_fen == 0


def test_a_reversal_of_a_closed_payment_is_a_clawback_at_the_rate_paid() -> None:
    moves = [_move(1, "payment", date(2026, 11, 3), 10_000),
             _move(2, "reversal", date(2026, 12, 2), -10_000)]  # fmt: skip
    lines = statement_lines(
        moves, last_day=date(2026, 12, 31), closed=frozenset({1}),
        closed_rates={(7, "P1"): Decimal("0.25")}, schedule=SCHEDULE,
    )  # fmt: skip
    assert [(line.kind, line.rate, line.commission_fen) for line in lines] == [
        ("clawback", Decimal("0.25"), -2_500)
    ]
    assert totals(lines).clawback_fen == -2_500


def test_a_statement_leaves_out_what_is_after_its_month() -> None:
    moves = [_move(1, "payment", date(2026, 11, 3), 10_000),
             _move(2, "payment", date(2026, 12, 1), 5_000, "P2")]  # fmt: skip
    lines = statement_lines(
        moves, last_day=date(2026, 11, 30), closed=frozenset(), closed_rates={}, schedule=SCHEDULE
    )
    assert [line.entry_id for line in lines] == [1]
    # the payment is 33 days into the placement: M4, small, under 60 days → 18%
    assert lines[0].rate == Decimal("0.18") and lines[0].commission_fen == 1_800


@given(
    st.lists(st.tuples(st.integers(1, 90), st.integers(1, 10_000_000), st.booleans()), max_size=20)
)
def test_statement_totals_are_the_sum_of_the_moves(paid: list[tuple[int, int, bool]]) -> None:
    start = date(2026, 10, 1)
    moves: list[Move] = []
    for i, (day, cash, reversed_) in enumerate(paid):
        moves.append(_move(2 * i + 1, "payment", start + timedelta(days=day), cash, f"P{i}"))
        if reversed_:
            moves.append(_move(2 * i + 2, "reversal", start + timedelta(days=day), -cash, f"P{i}"))
    lines = statement_lines(
        moves, last_day=date(2027, 1, 31), closed=frozenset(), closed_rates={}, schedule=SCHEDULE
    )
    assert totals(lines).collected_fen == sum(m.cash_fen for m in moves)
    assert totals(lines).commission_fen == sum(line.commission_fen for line in lines)
