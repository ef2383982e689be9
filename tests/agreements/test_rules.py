"""Agreement rules (还款协议): schedules add up to the fen, waivers, kinds, tracking, the
approval matrix and the cumulative waiver it judges."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from itertools import pairwise

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cuishou.agreements.approval import (
    LEVELS,
    ApprovalMatrix,
    Cumulative,
    Limit,
    StandingWaiver,
    cumulative,
    default_matrix,
    level_of,
    may_approve,
    parse_matrix,
    required_level,
)
from cuishou.agreements.rules import (
    AgreementProblem,
    Installment,
    Owed,
    Terms,
    Waived,
    quote,
    split_evenly,
    track,
    track_frame,
)
from cuishou.kit.dates import add_months
from cuishou.kit.errors import ConfigError

TODAY = date(2026, 11, 1)
OWED = Owed(fee=5_000, penalty=12_000, interest=86_050, principal=1_200_000)

fen = st.integers(min_value=0, max_value=10**9)
owed_amounts = st.builds(Owed, fee=fen, penalty=fen, interest=fen, principal=fen).filter(
    lambda o: o.total > 40
)


@given(total=st.integers(min_value=0, max_value=10**12), parts=st.integers(1, 36))
def test_an_even_split_adds_up_and_differs_by_at_most_a_fen(total: int, parts: int) -> None:
    amounts = split_evenly(total, parts)
    assert sum(amounts) == total and len(amounts) == parts
    assert max(amounts) - min(amounts) <= 1


@given(
    owed=owed_amounts,
    parts=st.integers(2, 36),
    down_share=st.integers(0, 50),
    waive_share=st.integers(0, 50),
    first=st.integers(0, 60),
)
def test_installments_sum_to_the_agreed_amount(
    owed: Owed, parts: int, down_share: int, waive_share: int, first: int
) -> None:
    waived = Waived(penalty=owed.penalty * waive_share // 100)
    agreed = owed.total - waived.total
    down = agreed * down_share // 100 if agreed - agreed * down_share // 100 >= parts else 0
    terms = Terms(
        kind="installments",
        first_due=TODAY + timedelta(days=first),
        installments=parts,
        down_payment_fen=down,
        waived=waived,
    )
    q = quote(owed, terms, today=TODAY)
    assert sum(i.amount_fen for i in q.schedule) == q.agreed_fen == agreed
    assert q.agreed_fen + q.waived.total == owed.total
    assert [i.due_date for i in q.schedule] == sorted(i.due_date for i in q.schedule)
    assert len(q.schedule) == parts + (1 if down else 0)


@given(owed=owed_amounts, discount=st.integers(1, 9_999))
def test_a_settlement_discount_is_taken_penalty_first_and_adds_up(
    owed: Owed, discount: int
) -> None:
    terms = Terms(kind="settlement", first_due=TODAY, discount_bp=discount)
    try:
        q = quote(owed, terms, today=TODAY)
    except AgreementProblem as exc:
        assert "nothing would be left" in str(exc)
        return
    assert q.waived.penalty <= owed.penalty and q.waived.principal <= owed.principal
    assert q.waived.interest == 0 or q.waived.penalty == owed.penalty
    assert q.waived.principal == 0 or q.waived.fee == owed.fee
    assert [i.amount_fen for i in q.schedule] == [q.agreed_fen]
    assert q.agreed_fen + q.waived.total == owed.total


def test_a_30_percent_settlement_of_the_example_account() -> None:
    q = quote(OWED, Terms(kind="settlement", first_due=TODAY, discount_bp=3_000), today=TODAY)
    # 30% of 13,030.50 = 3,909.15: penalty 120, interest 860.50, fee 50, principal 2,878.65
    assert q.waived == Waived(fee=5_000, penalty=12_000, interest=86_050, principal=287_865)
    assert q.agreed_fen == 1_303_050 - 390_915
    assert q.waiver_share_bp == 3_000


@pytest.mark.parametrize(
    ("terms", "message"),
    [
        (Terms(kind="installments", first_due=TODAY, installments=1), "at least 2"),
        (Terms(kind="installments", first_due=TODAY - timedelta(days=1), installments=3), "past"),
        (Terms(kind="installments", first_due=TODAY + timedelta(days=61), installments=3), "60"),
        (Terms(kind="deferral", first_due=TODAY), "later day"),
        (Terms(kind="deferral", first_due=TODAY + timedelta(days=9), installments=2), "paid once"),
        (Terms(kind="deferral", first_due=TODAY + timedelta(days=9), waived=Waived(fee=1)),
         "no waiver"),
        (Terms(kind="waiver", first_due=TODAY), "waives something"),
        (Terms(kind="waiver", first_due=TODAY, waived=Waived(penalty=12_001)), "more than"),
        (Terms(kind="settlement", first_due=TODAY), "discount"),
        (Terms(kind="installments", first_due=TODAY, installments=2, discount_bp=5), "discount"),
        (Terms(kind="installments", first_due=TODAY, installments=2,
               down_payment_fen=1_303_050), "down_payment"),
        (Terms(kind="swap", first_due=TODAY), "kind must be"),
    ],
)  # fmt: skip
def test_terms_that_make_no_agreement_are_refused(terms: Terms, message: str) -> None:
    with pytest.raises(AgreementProblem, match=message):
        quote(OWED, terms, today=TODAY)


def test_months_keep_the_day_or_take_the_months_last() -> None:
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)
    assert add_months(date(2026, 12, 15), 1) == date(2027, 1, 15)


SCHEDULE = [
    Installment(0, date(2026, 11, 10), 30_000),
    Installment(1, date(2026, 12, 10), 50_000),
    Installment(2, date(2027, 1, 10), 50_000),
]


@pytest.mark.parametrize(
    ("paid", "as_of", "statuses", "plan"),
    [
        (0, date(2026, 11, 10), ["due", "due", "due"], "approved"),
        (0, date(2026, 11, 11), ["missed", "due", "due"], "approved"),
        (0, date(2026, 12, 10), ["missed", "due", "due"], "approved"),  # 30 days: not yet
        (0, date(2026, 12, 11), ["missed", "missed", "due"], "broken"),
        (30_000, date(2026, 12, 11), ["paid", "missed", "due"], "approved"),
        (79_999, date(2027, 1, 9), ["paid", "missed", "due"], "approved"),  # one fen short
        (79_999, date(2027, 1, 10), ["paid", "missed", "due"], "broken"),
        (130_000, date(2026, 11, 1), ["paid", "paid", "paid"], "completed"),
        (200_000, date(2027, 6, 1), ["paid", "paid", "paid"], "completed"),
    ],
)
def test_tracking_golden(paid: int, as_of: date, statuses: list[str], plan: str) -> None:
    state = track(SCHEDULE, paid, as_of=as_of, break_after_days=30)
    assert [s.status for s in state.installments] == statuses
    assert state.status == plan
    assert sum(s.paid_fen for s in state.installments) == min(paid, 130_000)


def test_the_shipped_matrix_needs_higher_levels_for_larger_waivers() -> None:
    matrix = default_matrix()
    assert required_level(matrix, waived_fen=0, share_bp=0) == "collector"
    assert required_level(matrix, waived_fen=100_000, share_bp=1_000) == "team_lead"
    assert required_level(matrix, waived_fen=600_000, share_bp=1_000) == "manager"  # amount
    assert required_level(matrix, waived_fen=100_000, share_bp=3_000) == "manager"  # share
    assert required_level(matrix, waived_fen=6_000_000, share_bp=3_000) == "creditor"
    assert required_level(matrix, waived_fen=100, share_bp=6_000) == "creditor"


def test_who_acts_at_which_level() -> None:
    assert may_approve("team_lead", "collector") and may_approve("team_lead", "team_lead")
    assert not may_approve("team_lead", "manager")
    assert may_approve("manager", "creditor")  # recording the creditor's consent
    assert not may_approve("compliance", "collector")


def test_a_matrix_is_data_and_is_checked() -> None:
    matrix = parse_matrix(
        {"levels": [{"level": "team_lead", "max_share": "10%", "max_amount": "100"},
                    {"level": "manager"}]},
        source="test",
    )  # fmt: skip
    assert matrix.limits[0] == Limit("team_lead", 1_000, 10_000)
    with pytest.raises(ConfigError, match="no limit"):
        parse_matrix({"levels": [{"level": "manager", "max_share": "5%"}]}, source="t")
    with pytest.raises(ConfigError, match="in that order"):
        parse_matrix({"levels": [{"level": "manager"}, {"level": "team_lead"}]}, source="t")
    with pytest.raises(ValueError, match="non-empty"):
        ApprovalMatrix(())


plans_strategy = st.lists(
    st.tuples(
        st.lists(st.integers(1, 90_000), min_size=1, max_size=6),  # installment amounts
        st.integers(0, 400_000),  # paid towards the plan
        st.integers(0, 40),  # break_after_days
    ),
    min_size=1,
    max_size=8,
)


@settings(deadline=None)  # Polars frames per example: slow on a busy machine, not wrong
@given(plans_strategy, st.dates(min_value=date(2026, 10, 1), max_value=date(2027, 6, 1)))
def test_tracking_every_plan_at_once_agrees_with_tracking_one(
    plans: list[tuple[list[int], int, int]], as_of: date
) -> None:
    rows, paid, settings = [], [], []
    for agreement_id, (amounts, paid_fen, days) in enumerate(plans, start=1):
        for seq, amount in enumerate(amounts):
            rows.append((agreement_id, seq, add_months(date(2026, 11, 10), seq), amount))
        paid.append((agreement_id, paid_fen))
        settings.append((agreement_id, days))
    frame = pl.DataFrame(
        rows,
        schema={"agreement_id": pl.Int64, "seq": pl.Int32, "due_date": pl.Date,
                "amount_fen": pl.Int64},
        orient="row",
    )  # fmt: skip
    paid_frame = pl.DataFrame(
        paid, schema={"agreement_id": pl.Int64, "paid_fen": pl.Int64}, orient="row"
    )
    plan_frame = pl.DataFrame(
        settings, schema={"agreement_id": pl.Int64, "break_after_days": pl.Int64}, orient="row"
    )
    installments, decided = track_frame(frame, paid_frame, plan_frame, as_of)
    for agreement_id, (amounts, paid_fen, days) in enumerate(plans, start=1):
        schedule = [
            Installment(seq, add_months(date(2026, 11, 10), seq), amount)
            for seq, amount in enumerate(amounts)
        ]
        expected = track(schedule, paid_fen, as_of=as_of, break_after_days=days)
        got = installments.filter(pl.col("agreement_id") == agreement_id).sort("seq")
        assert [(r["paid_fen"], r["status"]) for r in got.iter_rows(named=True)] == [
            (s.paid_fen, s.status) for s in expected.installments
        ]
        plan = decided.filter(pl.col("agreement_id") == agreement_id).row(0, named=True)
        assert plan["status"] == expected.status


# --- the cumulative waiver (累计减免) -----------------------------------------------------


def test_the_shipped_matrix_counts_waivers_over_the_case_life() -> None:
    assert default_matrix().window_days is None


def test_the_window_is_data_and_is_checked() -> None:
    limits = {"levels": [{"level": "manager"}]}
    assert parse_matrix({**limits, "window_days": 90}, source="t").window_days == 90
    assert parse_matrix({**limits, "window_days": None}, source="t").window_days is None
    for bad in (0, -5, "90", 1.5, True):
        with pytest.raises(ConfigError, match="window_days"):
            parse_matrix({**limits, "window_days": bad}, source="t")


def test_earlier_waivers_count_within_the_window_and_the_amended_plan_does_not() -> None:
    matrix = replace(default_matrix(), window_days=30)
    standing = [
        StandingWaiver(1, TODAY - timedelta(days=31), 100_000),  # aged out
        StandingWaiver(2, TODAY - timedelta(days=30), 200_000),  # the window's first day
        StandingWaiver(3, TODAY - timedelta(days=2), 300_000),  # being amended
        StandingWaiver(4, TODAY - timedelta(days=1), 0),  # reinstated in full
    ]
    figures = cumulative(
        matrix, this_fen=50_000, owed_fen=1_000_000, standing=standing, today=TODAY, amends_id=3
    )
    assert figures == Cumulative(
        this_fen=50_000,
        earlier_fen=200_000,
        waived_fen=250_000,
        base_fen=1_200_000,
        share_bp=2_084,
        since=TODAY - timedelta(days=30),
    )  # 250,000 ÷ 1,200,000 = 20.83…%, rounded up
    life = cumulative(default_matrix(), this_fen=50_000, owed_fen=1_000_000,
                      standing=standing, today=TODAY)  # fmt: skip
    assert (life.earlier_fen, life.since) == (600_000, None)
    assert level_of(default_matrix(), life) == "manager"  # 650,000 > 5,000.00


@settings(max_examples=200)
@given(
    owed=st.integers(1_000, 10**9),
    parts=st.lists(st.integers(1, 10**7), min_size=1, max_size=6),
)
def test_splitting_a_waiver_never_lowers_the_level_it_needs(owed: int, parts: list[int]) -> None:
    """However a waiver is split into requests approved one after another (each kept), the
    last request needs the level the whole would have needed asked for at once."""
    whole = sum(parts)
    if whole >= owed:
        return
    matrix = default_matrix()
    at_once = cumulative(matrix, this_fen=whole, owed_fen=owed, standing=[], today=TODAY)
    standing: list[StandingWaiver] = []
    left = owed
    levels = []
    for i, part in enumerate(parts):
        figures = cumulative(matrix, this_fen=part, owed_fen=left, standing=standing, today=TODAY)
        levels.append(level_of(matrix, figures))
        standing.append(StandingWaiver(i + 1, TODAY, part))
        left -= part
    assert (figures.waived_fen, figures.base_fen, figures.share_bp) == (
        at_once.waived_fen, at_once.base_fen, at_once.share_bp,
    )  # fmt: skip
    assert levels[-1] == level_of(matrix, at_once)
    # and the levels never fall as the parts add up
    assert all(LEVELS.index(a) <= LEVELS.index(b) for a, b in pairwise(levels))
