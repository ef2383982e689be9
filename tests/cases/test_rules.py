"""Case rules (案件汇总/结案/预警): scalar forms agree with the Polars twins and with the
cycle's case step on random portfolios."""

from __future__ import annotations

from datetime import date

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from cuishou.accounts.rules import DEFAULT_BUCKETS, amount_tier_of, bucket_of
from cuishou.cases.rules import (
    AccountState,
    case_change_expr,
    case_change_of,
    case_rollup_of,
    entered_alert_bucket,
    entered_alert_bucket_expr,
    legal_review_due,
    legal_review_due_expr,
)
from cuishou.engine import steps
from cuishou.engine.config import DEFAULT_CONFIG

AS_OF = date(2026, 11, 2)


def test_rollup_of_a_debtor_with_two_accounts() -> None:
    rollup = case_rollup_of(
        [AccountState(dpd=95, outstanding_fen=100, status="open"),
         AccountState(dpd=0, outstanding_fen=0, status="settled")]
    )  # fmt: skip
    assert rollup.accounts == 2 and rollup.due_fen == 100
    assert rollup.dpd == 95 and rollup.status == "open"
    settled = case_rollup_of([AccountState(0, 0, "settled")])
    assert (settled.dpd, settled.status) == (0, "closed")


@given(
    st.lists(
        st.tuples(
            st.one_of(st.none(), st.sampled_from(["open", "closed"])),
            st.sampled_from(["open", "closed"]),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_case_change_twins_agree(rows: list[tuple[str | None, str]]) -> None:
    frame = pl.DataFrame(rows, schema={"stored": pl.String, "status": pl.String}, orient="row")
    got = frame.select(case_change_expr(pl.col("stored"), pl.col("status"))).to_series()
    assert got.to_list() == [case_change_of(stored_status=a, status=b) for a, b in rows]


@given(
    st.lists(
        st.tuples(
            st.one_of(st.none(), st.integers(0, 7)),
            st.integers(0, 7),
            st.integers(0, 400),
            st.booleans(),
        ),
        min_size=1,
        max_size=30,
    ),
    st.integers(0, 7),
    st.integers(1, 365),
    st.booleans(),
)
def test_alert_condition_twins_agree(
    rows: list[tuple[int | None, int, int, bool]],
    threshold: int,
    legal_dpd: int,
    on_placement: bool,
) -> None:
    frame = pl.DataFrame(
        rows,
        schema={"prev": pl.Int32, "rank": pl.Int32, "dpd": pl.Int32, "rescheme": pl.Boolean},
        orient="row",
    )
    got = frame.select(
        entered_alert_bucket_expr(
            pl.col("prev"),
            pl.col("rank"),
            threshold,
            on_placement=on_placement,
            rescheme=pl.col("rescheme"),
        ).alias("e"),
        legal_review_due_expr(pl.col("dpd"), legal_dpd).alias("l"),
    )
    for (prev, rank, dpd, rescheme), (entered, legal) in zip(rows, got.iter_rows(), strict=True):
        assert entered == entered_alert_bucket(
            prev_rank=prev,
            rank=rank,
            threshold=threshold,
            on_placement=on_placement,
            rescheme=rescheme,
        )
        assert legal == legal_review_due(dpd=dpd, threshold_dpd=legal_dpd)


accounts_strategy = st.lists(
    st.tuples(
        st.integers(1, 6),  # debtor
        st.integers(0, 400),  # dpd today
        st.integers(0, 10_000_000),  # outstanding
        st.one_of(st.none(), st.sampled_from(DEFAULT_BUCKETS.names)),  # previous bucket
        st.sampled_from(["open", "settled"]),  # previous status
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=50, deadline=None)
@given(accounts_strategy, st.sets(st.integers(1, 6)))
def test_the_case_step_agrees_with_the_scalar_rules(
    rows: list[tuple[int, int, int, str | None, str]], closed: set[int]
) -> None:
    # given accounts of up to six debtors, some with a stored (open or closed) case
    moved = pl.DataFrame(
        [
            {
                "creditor_id": 1,
                "debtor_id": debtor,
                "new_dpd": dpd if due else 0,
                "outstanding_fen": due,
                "owed_fen": due,
                "new_status": "open" if due else "settled",
                "prev_bucket": prev,
                "prev_status": prev_status if prev else None,
                "rescheme": False,
            }
            for debtor, dpd, due, prev, prev_status in rows
        ],
        schema={
            "creditor_id": pl.Int64, "debtor_id": pl.Int64, "new_dpd": pl.Int32,
            "outstanding_fen": pl.Int64, "owed_fen": pl.Int64, "new_status": pl.String,
            "prev_bucket": pl.String, "prev_status": pl.String, "rescheme": pl.Boolean,
        },
    )  # fmt: skip
    stored = sorted({d for d, *_ in rows} & (closed | {2, 4}))
    cases = pl.DataFrame(
        {
            "id": [100 + d for d in stored],
            "creditor_id": [1] * len(stored),
            "debtor_id": stored,
            "status": ["closed" if d in closed else "open" for d in stored],
            "opened_on": [date(2026, 1, 1)] * len(stored),
            "closed_on": [date(2026, 2, 1) if d in closed else None for d in stored],
            "due_fen": [0] * len(stored),
        },
        schema={
            "id": pl.Int64, "creditor_id": pl.Int64, "debtor_id": pl.Int64, "status": pl.String,
            "opened_on": pl.Date, "closed_on": pl.Date, "due_fen": pl.Int64,
        },
    )  # fmt: skip
    # when the case and alert steps run
    rollup = steps.case_rollup(moved, cases, AS_OF, DEFAULT_CONFIG)
    alerts = steps.case_alerts(rollup, DEFAULT_CONFIG)
    raised = {(r["debtor_id"], r["kind"]) for r in alerts.iter_rows(named=True)}
    # then every case matches the scalar rules
    threshold = DEFAULT_BUCKETS.rank(DEFAULT_CONFIG.alert_bucket)
    assert rollup.height == len({d for d, *_ in rows})
    for case in rollup.iter_rows(named=True):
        mine = [r for r in rows if r[0] == case["debtor_id"]]
        expected = case_rollup_of(
            [AccountState(dpd if due else 0, due, "open" if due else "settled")
             for _, dpd, due, _, _ in mine]
        )  # fmt: skip
        assert (case["accounts"], case["due_fen"], case["dpd"], case["status"]) == (
            expected.accounts, expected.due_fen, expected.dpd, expected.status,
        )  # fmt: skip
        assert case["bucket"] == bucket_of(expected.dpd)
        assert case["amount_tier"] == amount_tier_of(expected.due_fen)
        stored_status = (
            None if case["debtor_id"] not in stored
            else "closed" if case["debtor_id"] in closed else "open"
        )  # fmt: skip
        assert case["change"] == case_change_of(stored_status=stored_status, status=expected.status)
        if expected.status == "closed":
            assert case["closed_on"] == (date(2026, 2, 1) if stored_status == "closed" else AS_OF)
        else:
            assert case["closed_on"] is None
        seen = [r for r in mine if r[3] is not None]
        prev_rank = (
            max((DEFAULT_BUCKETS.rank(r[3]) for r in seen if r[4] == "open"), default=0)
            if seen
            else None
        )
        assert case["prev_rank"] == prev_rank
        rank = DEFAULT_BUCKETS.rank(case["bucket"])
        assert ((case["debtor_id"], "entered_m4_plus") in raised) == entered_alert_bucket(
            prev_rank=prev_rank, rank=rank, threshold=threshold
        )
        assert ((case["debtor_id"], "legal_review_candidate") in raised) == legal_review_due(
            dpd=expected.dpd, threshold_dpd=180
        )
