"""Pure promise rule (承诺还款)."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cuishou.promises.rules import (
    MAX_PROMISE_DAYS,
    PromisePolicy,
    judge_promise,
    promise_judgement_expr,
    promise_problem,
    reminder_date,
)

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


# --- judging (履约判定) -------------------------------------------------------------------

DUE = date(2026, 11, 10)
POLICY = PromisePolicy(grace_days=3, kept_tolerance_bp=500)  # 5% short still counts as kept

# golden table: (amount, paid, as_of) -> judgement, due 11-10, grace 3 days (counts to 11-13)
GOLDEN = [
    (100_000, 0, date(2026, 11, 9), None),  # before the due date, nothing yet: open
    (100_000, 0, date(2026, 11, 13), None),  # last grace day: still open
    (100_000, 0, date(2026, 11, 14), "broken"),  # grace over, nothing paid: 跳票
    (100_000, 100_000, date(2026, 11, 2), "kept"),  # paid in full early: kept at once
    (100_000, 95_000, date(2026, 11, 5), "kept"),  # 5% short: within tolerance
    (100_000, 94_999, date(2026, 11, 13), None),  # one fen beyond tolerance, in grace: open
    (100_000, 94_999, date(2026, 11, 14), "partly_kept"),
    (100_000, 1, date(2026, 11, 20), "partly_kept"),  # anything paid is partly kept
    (100_000, 250_000, date(2026, 11, 20), "kept"),  # paid more than promised
]


@pytest.mark.parametrize(("amount", "paid", "as_of", "expected"), GOLDEN)
def test_promise_judgement_golden(
    amount: int, paid: int, as_of: date, expected: str | None
) -> None:
    assert (
        judge_promise(amount_fen=amount, paid_fen=paid, due_date=DUE, as_of=as_of, policy=POLICY)
        == expected
    )


def test_the_default_policy_has_no_tolerance() -> None:
    late = date(2026, 11, 30)
    assert judge_promise(amount_fen=100, paid_fen=99, due_date=DUE, as_of=late) == "partly_kept"
    assert judge_promise(amount_fen=100, paid_fen=100, due_date=DUE, as_of=late) == "kept"


policies = st.builds(
    PromisePolicy,
    grace_days=st.integers(min_value=0, max_value=10),
    kept_tolerance_bp=st.integers(min_value=0, max_value=9_999),
)
judgement_rows = st.lists(
    st.tuples(
        st.integers(min_value=1, max_value=10**11),
        st.integers(min_value=0, max_value=2 * 10**11),
        st.integers(min_value=-40, max_value=40),
    ),
    min_size=1,
    max_size=30,
)


@given(rows=judgement_rows, policy=policies)
def test_the_polars_twin_judges_as_the_scalar_rule(
    rows: list[tuple[int, int, int]], policy: PromisePolicy
) -> None:
    frame = pl.DataFrame(
        {
            "amount_fen": [r[0] for r in rows],
            "paid_fen": [r[1] for r in rows],
            "due_date": [DUE + timedelta(days=r[2]) for r in rows],
        },
        schema={"amount_fen": pl.Int64, "paid_fen": pl.Int64, "due_date": pl.Date},
    )
    got = frame.select(
        promise_judgement_expr(
            pl.col("amount_fen"), pl.col("paid_fen"), pl.col("due_date"), DUE, policy
        )
    ).to_series()
    expected = [
        judge_promise(
            amount_fen=a, paid_fen=p, due_date=DUE + timedelta(days=d), as_of=DUE, policy=policy
        )
        for a, p, d in rows
    ]
    assert got.to_list() == expected


@given(amount=st.integers(min_value=1, max_value=10**11), paid=st.integers(0, 10**11))
def test_paying_more_never_makes_a_judgement_worse(amount: int, paid: int) -> None:
    rank = {None: -1, "broken": 0, "partly_kept": 1, "kept": 2}
    late = date(2026, 12, 31)
    before = judge_promise(amount_fen=amount, paid_fen=paid, due_date=DUE, as_of=late)
    after = judge_promise(amount_fen=amount, paid_fen=paid + 1, due_date=DUE, as_of=late)
    assert rank[after] >= rank[before]


def test_the_minimum_amount_and_horizon_are_configurable() -> None:
    policy = PromisePolicy(max_days=7, min_amount_fen=10_000)
    args = {"today": TODAY, "case_due_fen": 1_000_000, "case_status": "open", "policy": policy}
    assert promise_problem(amount_fen=9_999, due_date=TODAY, **args) == (  # type: ignore[arg-type]
        "amount: a promise must be at least 100.00"
    )
    late = TODAY + timedelta(days=8)
    assert promise_problem(amount_fen=10_000, due_date=late, **args) == (  # type: ignore[arg-type]
        "due_date: a promise must fall due within 7 days"
    )
    assert promise_problem(amount_fen=10_000, due_date=late - timedelta(days=1), **args) is None  # type: ignore[arg-type]


def test_the_reminder_is_the_day_before_unless_that_has_passed() -> None:
    assert reminder_date(due_date=date(2026, 11, 10), today=TODAY) == date(2026, 11, 9)
    assert reminder_date(due_date=TODAY, today=TODAY) == TODAY


@pytest.mark.parametrize(
    "policy", [{"grace_days": -1}, {"kept_tolerance_bp": 10_000}, {"min_amount_fen": 0}]
)
def test_a_nonsense_policy_is_refused(policy: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        PromisePolicy(**policy)
