"""The simulated days, the baseline workforce's plan and the payment split."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cuishou.kit.errors import InvalidInput
from cuishou.simulate.rules import QUEUE_SCHEMA, plan_calls, simulated_days, split_payments

DAY = date(2026, 10, 20)


def test_the_default_history_ends_yesterday() -> None:
    days = simulated_days(days=30, first=None, today=date(2026, 11, 1))
    assert days[0] == date(2026, 10, 2) and days[-1] == date(2026, 10, 31) and len(days) == 30


def test_a_day_not_over_yet_is_refused() -> None:
    with pytest.raises(InvalidInput, match="not over yet"):
        simulated_days(days=3, first=date(2026, 10, 30), today=date(2026, 11, 1))
    with pytest.raises(InvalidInput, match="--days"):
        simulated_days(days=0, first=None, today=date(2026, 11, 1))


def _queue(rows: list[dict[str, object]]) -> pl.DataFrame:
    base: dict[str, object] = {
        "collector": "c1", "collector_no": 0, "debtor_id": 1, "mobile_point_id": 1,
        "mobile": "13800000000", "third_party_point_id": None, "third_party": None,
        "last_rpc_on": None, "failed_run": 0, "promise_pending": False,
    }  # fmt: skip
    filled = [{**base, "position": i, "case_id": 100 + i, **row} for i, row in enumerate(rows)]
    return pl.DataFrame(filled, schema=QUEUE_SCHEMA)


def _plan(queue: pl.DataFrame, calls_per_day: int = 85) -> pl.DataFrame:
    return plan_calls(
        queue, day=DAY, calls_per_day=calls_per_day, start_minute=540, end_minute=1080,
        rest_days=3, third_party_after_failed=3,
    )  # fmt: skip


def test_a_collector_works_the_queue_top_down_within_capacity() -> None:
    calls = _plan(_queue([{} for _ in range(10)]), calls_per_day=4)
    assert calls["case_id"].to_list() == [100, 101, 102, 103]
    assert calls["slot"].to_list() == [0, 1, 2, 3]
    minutes = calls["minute"].to_list()
    assert minutes[0] == 540 and all(540 <= m < 1080 for m in minutes)
    assert minutes == sorted(minutes)


def test_reached_lately_and_promised_cases_are_skipped() -> None:
    queue = _queue(
        [
            {"last_rpc_on": DAY - timedelta(days=1)},  # reached yesterday: resting
            {"promise_pending": True},  # a promise not yet due
            {"last_rpc_on": DAY - timedelta(days=4)},  # rested long enough
            {"mobile": None},  # nothing to dial
        ]
    )
    assert _plan(queue)["case_id"].to_list() == [102]


def test_a_third_party_is_called_after_three_failed_calls() -> None:
    queue = _queue(
        [
            {"failed_run": 2, "third_party": "13900000001", "third_party_point_id": 7},
            {"failed_run": 3, "third_party": "13900000002", "third_party_point_id": 8},
        ]
    )
    calls = _plan(queue)
    assert calls.select("case_id", "third_party_call", "attempt").rows() == [
        (100, False, 0),
        (101, False, 0),
        (101, True, 1),
    ]
    # the pair counts twice against capacity: with 2 calls only the first case … and then
    # the second case does not fit
    assert _plan(queue, calls_per_day=2)["case_id"].to_list() == [100]


@settings(max_examples=60, deadline=None)
@given(
    owed=st.lists(st.integers(1, 10**9), min_size=1, max_size=5),
    share=st.floats(0, 1),
)
def test_a_payment_is_split_oldest_first_never_above_what_an_account_owes(
    owed: list[int], share: float
) -> None:
    total = sum(owed)
    amount = max(1, int(total * share))
    accounts = pl.DataFrame(
        {
            "case_id": [1] * len(owed),
            "account_no": [f"A{i}" for i in range(len(owed))],
            "owed_fen": owed,
            "order": list(range(len(owed))),
        }
    )
    parts = split_payments(pl.DataFrame({"case_id": [1], "amount_fen": [amount]}), accounts)
    assert parts["amount_fen"].sum() == amount
    by_account = dict(zip(accounts["account_no"], owed, strict=True))
    assert all(a <= by_account[n] for n, a in parts.select("account_no", "amount_fen").rows())
    # oldest first: every account before the last one paid is paid in full
    paid = parts["account_no"].to_list()
    assert paid == [f"A{i}" for i in range(len(paid))]
    assert all(a == by_account[n] for n, a in parts.select("account_no", "amount_fen").rows()[:-1])
