"""Pure promise rule (承诺还款)."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from cuishou.promises.rules import MAX_PROMISE_DAYS, promise_problem

TODAY = date(2026, 11, 1)


@given(
    amount=st.integers(min_value=-100, max_value=2_000_000),
    days=st.integers(min_value=-5, max_value=40),
    due=st.integers(min_value=0, max_value=1_000_000),
)
def test_a_promise_is_valid_exactly_when_positive_within_due_and_within_30_days(
    amount: int, days: int, due: int
) -> None:
    problem = promise_problem(
        amount_fen=amount,
        due_date=TODAY + timedelta(days=days),
        today=TODAY,
        case_due_fen=due,
        case_status="open",
    )
    valid = 0 < amount <= due and 0 <= days <= MAX_PROMISE_DAYS
    assert (problem is None) == valid


def test_no_promise_on_a_closed_case() -> None:
    assert promise_problem(
        amount_fen=100, due_date=TODAY, today=TODAY, case_due_fen=1000, case_status="closed"
    )
