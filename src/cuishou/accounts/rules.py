"""Delinquency rules: days past due (逾期天数), bucket (账龄), amount tier (金额分层), roll/cure.

Each rule has a scalar form (one account, used online) and a Polars-expression twin
(a million accounts, used by the daily cycle); ``tests/accounts`` proves they agree.

The aging model (see ``docs/adr/0004-aging-model.md``): a creditor's snapshot says,
on its data date, how much is due (``snapshot_due_fen``) and the due date of the
oldest unpaid amount (``overdue_since``, 最早逾期日). When the account is repaid in
monthly installments (``installment_fen`` > 0, 每期应还) each whole installment paid
since the snapshot moves the oldest unpaid due date one month later; otherwise the
whole amount is one due item and only paying it all moves it. Paying everything due
cures the account (DPD 0) and settles it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date

import polars as pl

from cuishou.kit.dates import add_months


@dataclass(frozen=True, slots=True)
class Bucket:
    """One band of a bucket scheme: ``min_dpd <= dpd <= max_dpd`` (``None`` = no upper end)."""

    name: str
    min_dpd: int
    max_dpd: int | None


@dataclass(frozen=True, slots=True)
class BucketScheme:
    """An ordered partition of DPD 0…∞ into named buckets (worse buckets later)."""

    buckets: tuple[Bucket, ...]

    def __post_init__(self) -> None:
        if not self.buckets:
            raise ValueError("a bucket scheme needs at least one bucket")
        if self.buckets[0].min_dpd != 0:
            raise ValueError("the first bucket must start at DPD 0")
        for before, after in zip(self.buckets, self.buckets[1:], strict=False):
            if before.max_dpd is None or after.min_dpd != before.max_dpd + 1:
                raise ValueError(f"bucket {after.name} must start the day after {before.name} ends")
        if self.buckets[-1].max_dpd is not None:
            raise ValueError("the last bucket must be open-ended")
        names = [b.name for b in self.buckets]
        if len(set(names)) != len(names):
            raise ValueError("bucket names must be unique")

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(b.name for b in self.buckets)

    def rank(self, name: str) -> int:
        """Position of a bucket (0 = best); unknown names raise ``ValueError``."""
        return self.names.index(name)

    @property
    def description(self) -> str:
        """``M0 0–0, M1 1–30, …, M7+ 181+`` (for people and for :attr:`version`)."""
        return ", ".join(
            f"{b.name} {b.min_dpd}–{b.max_dpd}"
            if b.max_dpd is not None
            else f"{b.name} {b.min_dpd}+"
            for b in self.buckets
        )

    @property
    def version(self) -> str:
        """A short stable id of the scheme, recorded with each bucket history row: a cycle
        that sees another version re-buckets accounts without calling it a roll."""
        return hashlib.sha256(self.description.encode("utf-8")).hexdigest()[:12]


DEFAULT_BUCKETS = BucketScheme(
    (
        Bucket("M0", 0, 0),
        Bucket("M1", 1, 30),
        Bucket("M2", 31, 60),
        Bucket("M3", 61, 90),
        Bucket("M4", 91, 120),
        Bucket("M5", 121, 150),
        Bucket("M6", 151, 180),
        Bucket("M7+", 181, None),
    )
)


@dataclass(frozen=True, slots=True)
class AmountTiers:
    """金额分层: ``large`` from ``large_from_fen``, ``medium`` from ``medium_from_fen``."""

    large_from_fen: int = 5_000_000  # ¥50,000
    medium_from_fen: int = 500_000  # ¥5,000

    def __post_init__(self) -> None:
        if not 0 <= self.medium_from_fen <= self.large_from_fen:
            raise ValueError("amount tiers need 0 <= medium threshold <= large threshold")


DEFAULT_TIERS = AmountTiers()
TIER_NAMES = ("small", "medium", "large")


@dataclass(frozen=True, slots=True)
class AgingFacts:
    """What the aging rules need about one account."""

    snapshot_due_fen: int
    overdue_since: date | None
    installment_fen: int
    paid_fen: int  # posted since the snapshot date, up to the as-of date


# ----------------------------------------------------------------- scalar forms


def outstanding_fen(facts: AgingFacts) -> int:
    """Amount still due (应还未还): the snapshot's due less payments, never below zero."""
    return max(0, facts.snapshot_due_fen - facts.paid_fen)


#: Installments paid ahead beyond this many months move the oldest unpaid date no further
#: (100 years is past any as-of date, and a 1-fen installment cannot overflow the calendar).
MAX_PREPAID_CYCLES = 1200


def oldest_unpaid_due_date(facts: AgingFacts) -> date | None:
    """Due date of the oldest amount still unpaid; ``None`` when nothing is due."""
    if facts.overdue_since is None or outstanding_fen(facts) == 0:
        return None
    if facts.installment_fen > 0:
        cycles = min(max(0, facts.paid_fen) // facts.installment_fen, MAX_PREPAID_CYCLES)
        return add_months(facts.overdue_since, cycles)
    return facts.overdue_since


def days_past_due(facts: AgingFacts, as_of: date) -> int:
    """逾期天数 — days from the oldest unpaid due date to ``as_of``; never negative."""
    oldest = oldest_unpaid_due_date(facts)
    if oldest is None:
        return 0
    return max(0, (as_of - oldest).days)


def bucket_of(dpd: int, scheme: BucketScheme = DEFAULT_BUCKETS) -> str:
    """账龄 — the bucket whose band holds ``dpd``."""
    if dpd < 0:
        raise ValueError(f"DPD cannot be negative: {dpd}")
    for bucket in scheme.buckets:
        if bucket.max_dpd is None or dpd <= bucket.max_dpd:
            return bucket.name
    raise AssertionError("unreachable: the last bucket is open-ended")  # pragma: no cover


def amount_tier_of(due_fen: int, tiers: AmountTiers = DEFAULT_TIERS) -> str:
    """金额分层 — ``large`` / ``medium`` / ``small`` by amount due."""
    if due_fen >= tiers.large_from_fen:
        return "large"
    if due_fen >= tiers.medium_from_fen:
        return "medium"
    return "small"


def movement_of(
    *,
    prev_bucket: str | None,
    prev_status: str | None,
    prev_tier: str | None,
    bucket: str,
    status: str,
    tier: str,
    scheme: BucketScheme = DEFAULT_BUCKETS,
    rescheme: bool = False,
) -> str:
    """How an account moved since its previous recorded state (迁徙/出催).

    ``new`` (first seen), ``settled``, ``reopen``, ``rescheme`` (the bucket scheme changed
    since that state: re-bucketed, not a roll), ``roll_forward`` (worse bucket),
    ``cure`` (back to the first bucket), ``roll_back`` (better, still delinquent),
    ``retier`` (same bucket, other amount tier) or ``same``.
    """
    if prev_bucket is None:
        return "new"
    if status == "settled" and prev_status != "settled":
        return "settled"
    if prev_status == "settled" and status != "settled":
        return "reopen"
    if rescheme:
        return "rescheme"
    before, now = scheme.rank(prev_bucket), scheme.rank(bucket)
    if now > before:
        return "roll_forward"
    if now < before:
        return "cure" if now == 0 else "roll_back"
    if tier != prev_tier:
        return "retier"
    return "same"


# ----------------------------------------------------------------- Polars twins


def outstanding_fen_expr(snapshot_due: pl.Expr, paid: pl.Expr) -> pl.Expr:
    return pl.max_horizontal(snapshot_due - paid, pl.lit(0, dtype=pl.Int64))


def oldest_unpaid_due_date_expr(
    snapshot_due: pl.Expr, overdue_since: pl.Expr, installment: pl.Expr, paid: pl.Expr
) -> pl.Expr:
    cycles = (
        pl.when(installment > 0)
        .then(pl.min_horizontal(pl.max_horizontal(paid, 0) // installment, MAX_PREPAID_CYCLES))
        .otherwise(0)
    )
    moved = overdue_since.dt.offset_by(pl.format("{}mo", cycles))
    return (
        pl.when(overdue_since.is_null() | (outstanding_fen_expr(snapshot_due, paid) == 0))
        .then(pl.lit(None, dtype=pl.Date))
        .when(installment > 0)
        .then(moved)
        .otherwise(overdue_since)
    )


def days_past_due_expr(oldest_unpaid: pl.Expr, as_of: date) -> pl.Expr:
    days = (pl.lit(as_of, dtype=pl.Date) - oldest_unpaid).dt.total_days()
    return pl.when(oldest_unpaid.is_null()).then(0).otherwise(pl.max_horizontal(days, 0))


def bucket_expr(dpd: pl.Expr, scheme: BucketScheme = DEFAULT_BUCKETS) -> pl.Expr:
    last = scheme.buckets[-1]
    chain: pl.Expr = pl.lit(last.name)
    for bucket in reversed(scheme.buckets[:-1]):
        assert bucket.max_dpd is not None
        chain = pl.when(dpd <= bucket.max_dpd).then(pl.lit(bucket.name)).otherwise(chain)
    return chain


def bucket_rank_expr(bucket: pl.Expr, scheme: BucketScheme = DEFAULT_BUCKETS) -> pl.Expr:
    mapping = {name: rank for rank, name in enumerate(scheme.names)}
    return bucket.cast(pl.String).replace_strict(mapping, default=None, return_dtype=pl.Int32)


def amount_tier_expr(due: pl.Expr, tiers: AmountTiers = DEFAULT_TIERS) -> pl.Expr:
    return (
        pl.when(due >= tiers.large_from_fen)
        .then(pl.lit("large"))
        .when(due >= tiers.medium_from_fen)
        .then(pl.lit("medium"))
        .otherwise(pl.lit("small"))
    )


def movement_expr(
    *,
    prev_bucket: pl.Expr,
    prev_status: pl.Expr,
    prev_tier: pl.Expr,
    bucket: pl.Expr,
    status: pl.Expr,
    tier: pl.Expr,
    scheme: BucketScheme = DEFAULT_BUCKETS,
    rescheme: pl.Expr | None = None,
) -> pl.Expr:
    before = bucket_rank_expr(prev_bucket, scheme)
    now = bucket_rank_expr(bucket, scheme)
    changed = pl.lit(False) if rescheme is None else rescheme.fill_null(False)
    return (
        pl.when(prev_bucket.is_null())
        .then(pl.lit("new"))
        .when((status == "settled") & (prev_status != "settled"))
        .then(pl.lit("settled"))
        .when((prev_status == "settled") & (status != "settled"))
        .then(pl.lit("reopen"))
        .when(changed)
        .then(pl.lit("rescheme"))
        .when(now > before)
        .then(pl.lit("roll_forward"))
        .when((now < before) & (now == 0))
        .then(pl.lit("cure"))
        .when(now < before)
        .then(pl.lit("roll_back"))
        .when(tier != prev_tier)
        .then(pl.lit("retier"))
        .otherwise(pl.lit("same"))
    )
