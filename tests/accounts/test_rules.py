"""Aging rules (逾期天数/账龄/金额分层/迁徙): properties, scalar ≡ Polars, golden dates."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cuishou.accounts.rules import (
    DEFAULT_BUCKETS,
    DEFAULT_TIERS,
    AgingFacts,
    AmountTiers,
    Bucket,
    BucketScheme,
    amount_tier_expr,
    amount_tier_of,
    bucket_expr,
    bucket_of,
    days_past_due,
    days_past_due_expr,
    movement_expr,
    movement_of,
    oldest_unpaid_due_date,
    oldest_unpaid_due_date_expr,
    outstanding_fen,
    outstanding_fen_expr,
)

dates = st.dates(min_value=date(2000, 1, 1), max_value=date(2035, 12, 31))
# month ends are where installment arithmetic goes wrong: draw them often
month_ends = st.sampled_from(
    [date(2026, 1, 31), date(2026, 3, 31), date(2027, 8, 31), date(2028, 1, 31), date(2026, 5, 30)]
)


@st.composite
def aging_facts(draw: st.DrawFn) -> AgingFacts:
    due = draw(st.integers(min_value=0, max_value=10**10))
    installment = draw(st.one_of(st.just(0), st.integers(min_value=1, max_value=max(1, due))))
    return AgingFacts(
        snapshot_due_fen=due,
        overdue_since=draw(st.one_of(st.none(), dates, month_ends)),
        installment_fen=installment,
        paid_fen=draw(st.integers(min_value=0, max_value=2 * due + 1)),
    )


@st.composite
def bucket_schemes(draw: st.DrawFn) -> BucketScheme:
    widths = draw(st.lists(st.integers(min_value=1, max_value=60), min_size=0, max_size=8))
    buckets, start = [], 0
    for index, width in enumerate(widths):
        buckets.append(Bucket(f"B{index}", start, start + width - 1))
        start += width
    buckets.append(Bucket("LAST", start, None))
    return BucketScheme(tuple(buckets))


# ------------------------------------------------------------------ properties


def test_a_tiny_installment_paid_far_ahead_does_not_overflow_the_calendar() -> None:
    # found by Hypothesis: 96,000 one-fen installments paid → year 10000
    facts = AgingFacts(
        snapshot_due_fen=10**10,
        overdue_since=date(2000, 1, 1),
        installment_fen=1,
        paid_fen=96_000,
    )
    assert oldest_unpaid_due_date(facts) == date(2100, 1, 1)
    assert days_past_due(facts, date(2035, 12, 31)) == 0
    frame = pl.DataFrame(
        {"due": [10**10], "since": [date(2000, 1, 1)], "inst": [1], "paid": [96_000]}
    )
    oldest = frame.select(
        oldest_unpaid_due_date_expr(pl.col("due"), pl.col("since"), pl.col("inst"), pl.col("paid"))
    ).item()
    assert oldest == date(2100, 1, 1)


@given(aging_facts(), dates)
def test_dpd_is_never_negative(facts: AgingFacts, as_of: date) -> None:
    assert days_past_due(facts, as_of) >= 0


@given(aging_facts(), dates, st.integers(min_value=0, max_value=10**6))
def test_paying_everything_due_cures(facts: AgingFacts, as_of: date, extra: int) -> None:
    # given a payment covering every overdue amount (and maybe more)
    paid = AgingFacts(
        snapshot_due_fen=facts.snapshot_due_fen,
        overdue_since=facts.overdue_since,
        installment_fen=facts.installment_fen,
        paid_fen=facts.snapshot_due_fen + extra,
    )
    # then nothing is outstanding, DPD is 0 and the bucket is the current one
    assert outstanding_fen(paid) == 0
    assert oldest_unpaid_due_date(paid) is None
    assert days_past_due(paid, as_of) == 0
    assert bucket_of(days_past_due(paid, as_of)) == "M0"


@given(bucket_schemes(), st.integers(min_value=0, max_value=100_000))
def test_buckets_partition_the_dpd_range(scheme: BucketScheme, dpd: int) -> None:
    holding = [
        b for b in scheme.buckets if b.min_dpd <= dpd and (b.max_dpd is None or dpd <= b.max_dpd)
    ]
    assert len(holding) == 1
    assert bucket_of(dpd, scheme) == holding[0].name
    # contiguous: each bucket starts the day after the previous one ends
    for before, after in zip(scheme.buckets, scheme.buckets[1:], strict=False):
        assert before.max_dpd is not None and after.min_dpd == before.max_dpd + 1


def test_default_bucket_bands_are_the_industry_ones() -> None:
    assert [bucket_of(d) for d in (0, 1, 30, 31, 60, 61, 90, 91, 120, 121, 150, 151, 180, 181)] == [
        "M0", "M1", "M1", "M2", "M2", "M3", "M3", "M4", "M4", "M5", "M5", "M6", "M6", "M7+",
    ]  # fmt: skip
    with pytest.raises(ValueError, match="negative"):
        bucket_of(-1)


@pytest.mark.parametrize(
    "buckets",
    [
        (Bucket("A", 1, 5), Bucket("B", 6, None)),  # does not start at 0
        (Bucket("A", 0, 5), Bucket("B", 7, None)),  # gap
        (Bucket("A", 0, 5), Bucket("B", 5, None)),  # overlap
        (Bucket("A", 0, 5), Bucket("B", 6, 9)),  # closed end
        (Bucket("A", 0, 5), Bucket("A", 6, None)),  # duplicate name
    ],
)
def test_a_scheme_that_does_not_partition_is_rejected(buckets: tuple[Bucket, ...]) -> None:
    with pytest.raises(ValueError):
        BucketScheme(buckets)


# ------------------------------------------------------------------ scalar ≡ Polars


@settings(max_examples=60, deadline=None)
@given(
    st.lists(aging_facts(), min_size=1, max_size=40),
    dates,
    bucket_schemes(),
    st.integers(min_value=0, max_value=10**8),
    st.integers(min_value=0, max_value=10**8),
)
def test_scalar_and_polars_aging_agree_row_by_row(
    facts: list[AgingFacts], as_of: date, scheme: BucketScheme, t1: int, t2: int
) -> None:
    tiers = AmountTiers(large_from_fen=max(t1, t2), medium_from_fen=min(t1, t2))
    frame = pl.DataFrame(
        {
            "due": [f.snapshot_due_fen for f in facts],
            "since": [f.overdue_since for f in facts],
            "inst": [f.installment_fen for f in facts],
            "paid": [f.paid_fen for f in facts],
        },
        schema={"due": pl.Int64, "since": pl.Date, "inst": pl.Int64, "paid": pl.Int64},
    )
    due, paid = pl.col("due"), pl.col("paid")
    out = (
        frame.with_columns(
            outstanding_fen_expr(due, paid).alias("outstanding"),
            oldest_unpaid_due_date_expr(due, pl.col("since"), pl.col("inst"), paid).alias("oldest"),
        )
        .with_columns(
            days_past_due_expr(pl.col("oldest"), as_of).alias("dpd"),
            amount_tier_expr(pl.col("outstanding"), tiers).alias("tier"),
        )
        .with_columns(bucket_expr(pl.col("dpd"), scheme).alias("bucket"))
    )
    for f, row in zip(facts, out.iter_rows(named=True), strict=True):
        dpd = days_past_due(f, as_of)
        assert row["outstanding"] == outstanding_fen(f)
        assert row["oldest"] == oldest_unpaid_due_date(f)
        assert row["dpd"] == dpd
        assert row["bucket"] == bucket_of(dpd, scheme)
        assert row["tier"] == amount_tier_of(outstanding_fen(f), tiers)


statuses = st.sampled_from(["open", "settled"])
tier_names = st.sampled_from(["small", "medium", "large"])


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.one_of(st.none(), st.sampled_from(DEFAULT_BUCKETS.names)),
            statuses,
            tier_names,
            st.sampled_from(DEFAULT_BUCKETS.names),
            statuses,
            tier_names,
            st.booleans(),
        ),
        min_size=1,
        max_size=60,
    )
)
def test_scalar_and_polars_movement_agree(
    rows: list[tuple[str | None, str, str, str, str, str, bool]],
) -> None:
    # a row without a previous bucket has no previous status or tier either
    cleaned = [(pb, None if pb is None else ps, None if pb is None else pt, b, s, t, r)
               for pb, ps, pt, b, s, t, r in rows]  # fmt: skip
    frame = pl.DataFrame(
        cleaned,
        schema={**dict.fromkeys(["pb", "ps", "pt", "b", "s", "t"], pl.String), "r": pl.Boolean},
        orient="row",
    )
    got = frame.select(
        movement_expr(
            prev_bucket=pl.col("pb"),
            prev_status=pl.col("ps"),
            prev_tier=pl.col("pt"),
            bucket=pl.col("b"),
            status=pl.col("s"),
            tier=pl.col("t"),
            rescheme=pl.col("r"),
        )
    ).to_series()
    for (pb, ps, pt, b, s, t, r), movement in zip(cleaned, got, strict=True):
        expected = movement_of(
            prev_bucket=pb, prev_status=ps, prev_tier=pt, bucket=b, status=s, tier=t, rescheme=r
        )
        assert movement == expected


def test_movement_kinds() -> None:
    def move(pb: str | None, ps: str | None, b: str, s: str = "open", pt: str = "small") -> str:
        return movement_of(
            prev_bucket=pb, prev_status=ps, prev_tier=pt, bucket=b, status=s, tier="small"
        )

    assert move(None, None, "M3") == "new"
    assert move("M3", "open", "M4") == "roll_forward"
    assert move("M4", "open", "M2") == "roll_back"
    assert move("M4", "open", "M0") == "cure"
    assert move("M4", "open", "M0", "settled") == "settled"
    assert move("M0", "settled", "M1") == "reopen"
    assert move("M2", "open", "M2", pt="large") == "retier"
    assert move("M2", "open", "M2") == "same"
    rescheme = movement_of(
        prev_bucket="X3", prev_status="open", prev_tier="small", bucket="M4", status="open",
        tier="small", rescheme=True,
    )  # fmt: skip
    assert rescheme == "rescheme"


def test_a_scheme_has_a_stable_version_that_changes_with_its_bands() -> None:
    assert DEFAULT_BUCKETS.description.startswith("M0 0–0, M1 1–30")
    assert DEFAULT_BUCKETS.version == BucketScheme(DEFAULT_BUCKETS.buckets).version
    shifted = BucketScheme((Bucket("C", 0, 0), Bucket("X1", 1, 29), Bucket("X2+", 30, None)))
    assert shifted.version != DEFAULT_BUCKETS.version and len(shifted.version) == 12


def test_tiers() -> None:
    assert amount_tier_of(DEFAULT_TIERS.large_from_fen) == "large"
    assert amount_tier_of(DEFAULT_TIERS.large_from_fen - 1) == "medium"
    assert amount_tier_of(DEFAULT_TIERS.medium_from_fen) == "medium"
    assert amount_tier_of(0) == "small"


# ------------------------------------------------------------------ golden dates
# overdue since 2026-01-31, three installments of ¥1,000.00 due, snapshot on 2026-03-01.
# Each whole installment paid moves the oldest unpaid due date one month on, clamped
# to the month's end (01-31 → 02-28 → 03-31); a partial installment moves nothing.

GOLDEN = [
    # paid (fen), as-of, expected oldest unpaid, expected DPD, bucket
    (0, date(2026, 3, 1), date(2026, 1, 31), 29, "M1"),
    (0, date(2026, 3, 3), date(2026, 1, 31), 31, "M2"),
    (100_000, date(2026, 3, 10), date(2026, 2, 28), 10, "M1"),  # clamped to Feb's end
    (150_000, date(2026, 3, 10), date(2026, 2, 28), 10, "M1"),  # half an installment: no move
    (200_000, date(2026, 4, 15), date(2026, 3, 31), 15, "M1"),  # Jan 31 + 2 months
    (299_999, date(2026, 4, 15), date(2026, 3, 31), 15, "M1"),  # one fen short of payoff
    (300_000, date(2026, 4, 15), None, 0, "M0"),  # paid off: cured
    (100_000, date(2026, 2, 27), date(2026, 2, 28), 0, "M0"),  # next due not yet reached
]


@pytest.mark.parametrize(("paid", "as_of", "oldest", "dpd", "bucket"), GOLDEN)
def test_golden_dpd_through_partial_payments_and_cure(
    paid: int, as_of: date, oldest: date | None, dpd: int, bucket: str
) -> None:
    facts = AgingFacts(
        snapshot_due_fen=300_000,
        overdue_since=date(2026, 1, 31),
        installment_fen=100_000,
        paid_fen=paid,
    )
    assert oldest_unpaid_due_date(facts) == oldest
    assert days_past_due(facts, as_of) == dpd
    assert bucket_of(days_past_due(facts, as_of)) == bucket
    # and the Polars twin says the same
    frame = pl.DataFrame(
        {"due": [300_000], "since": [date(2026, 1, 31)], "inst": [100_000], "paid": [paid]}
    )
    row = frame.select(
        days_past_due_expr(
            oldest_unpaid_due_date_expr(
                pl.col("due"), pl.col("since"), pl.col("inst"), pl.col("paid")
            ),
            as_of,
        ).alias("dpd")
    ).row(0)
    assert row == (dpd,)


def test_golden_lump_sum_partial_payment_does_not_move_the_due_date() -> None:
    facts = AgingFacts(
        snapshot_due_fen=300_000,
        overdue_since=date(2026, 1, 31),
        installment_fen=0,
        paid_fen=299_999,
    )
    assert days_past_due(facts, date(2026, 3, 1)) == 29


def test_golden_leap_year_clamp() -> None:
    facts = AgingFacts(
        snapshot_due_fen=300_000,
        overdue_since=date(2028, 1, 31),
        installment_fen=100_000,
        paid_fen=100_000,
    )
    assert oldest_unpaid_due_date(facts) == date(2028, 2, 29)


def test_golden_cure_then_new_snapshot_reopens() -> None:
    # given the account paid off on 2026-04-15 (settled, M0)
    cured = AgingFacts(300_000, date(2026, 1, 31), 100_000, paid_fen=300_000)
    assert days_past_due(cured, date(2026, 4, 15)) == 0
    # when the creditor sends a new snapshot on 2026-05-10: ¥1,000.00 overdue since 04-30
    reopened = AgingFacts(100_000, date(2026, 4, 30), 100_000, paid_fen=0)
    dpd = days_past_due(reopened, date(2026, 5, 20))
    # then it is delinquent again and the movement is a reopen
    assert dpd == 20 and bucket_of(dpd) == "M1"
    assert (
        movement_of(
            prev_bucket="M0", prev_status="settled", prev_tier="small",
            bucket=bucket_of(dpd), status="open", tier="small",
        )
        == "reopen"
    )  # fmt: skip


def test_dpd_counts_calendar_days() -> None:
    facts = AgingFacts(100, date(2026, 9, 1), 0, 0)
    assert days_past_due(facts, date(2026, 9, 1) + timedelta(days=91)) == 91
