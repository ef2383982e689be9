"""Promise-to-pay rules (承诺还款): what a valid promise is, and how it is judged. Pure.

A promise is judged against the case's real (non-reversed) payments made from the day
it was taken up to its due date plus a grace period (宽限期):

* ``kept`` (已履约) as soon as those payments reach the amount less the tolerance;
* once the due date plus grace has passed: ``partly_kept`` (部分履约) when something
  was paid, ``broken`` (跳票) when nothing was.

Until then it stays ``open``. :func:`judge_promise` is the scalar form and
:func:`promise_judgement_expr` its Polars twin for the daily cycle; the tolerance is
whole basis points, so both compare integers and no rounding is involved.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import polars as pl

from cuishou.kit.money import format_yuan

STATUSES: dict[str, tuple[str, str]] = {
    "open": ("待履约", "open"),
    "kept": ("已履约", "kept"),
    "partly_kept": ("部分履约", "partly kept"),
    "broken": ("跳票", "broken"),
}
#: a promise must fall due within this many days (承诺期限) unless configured otherwise
MAX_PROMISE_DAYS = 30
BASIS_POINTS = 10_000


@dataclass(frozen=True, slots=True)
class PromisePolicy:
    """How promises are taken and judged (configurable per deployment)."""

    #: the due date must be within this many days of the day it is taken
    max_days: int = MAX_PROMISE_DAYS
    #: the smallest amount a promise may be for, in fen
    min_amount_fen: int = 1
    #: days after the due date before a short promise is judged partly kept or broken
    grace_days: int = 3
    #: a promise short by at most this share (basis points: 500 = 5%) counts as kept
    kept_tolerance_bp: int = 0

    def __post_init__(self) -> None:
        if self.max_days < 0 or self.grace_days < 0:
            raise ValueError("max_days and grace_days must not be negative")
        if self.min_amount_fen < 1:
            raise ValueError("min_amount_fen must be at least 1 fen")
        if not 0 <= self.kept_tolerance_bp < BASIS_POINTS:
            raise ValueError("kept_tolerance_bp must be from 0 to 9999")


DEFAULT_POLICY = PromisePolicy()


def promise_problem(
    *,
    amount_fen: int,
    due_date: date,
    today: date,
    case_due_fen: int,
    case_status: str,
    policy: PromisePolicy = DEFAULT_POLICY,
) -> str | None:
    """Why a promise cannot be taken, or ``None``. ``today`` is the debtor's local date."""
    if case_status != "open":
        return "the case is closed; there is nothing to promise"
    if amount_fen <= 0:
        return "amount: a promise must be more than 0.00"
    if amount_fen < policy.min_amount_fen:
        return f"amount: a promise must be at least {format_yuan(policy.min_amount_fen)}"
    if amount_fen > case_due_fen:
        return "amount: a promise cannot be more than the case's total due"
    if due_date < today:
        return f"due_date: {due_date.isoformat()} is in the past"
    if due_date > today + timedelta(days=policy.max_days):
        return f"due_date: a promise must fall due within {policy.max_days} days"
    return None


def reminder_date(*, due_date: date, today: date) -> date:
    """A reminder goes out the day before the due date (today if that has passed)."""
    return max(due_date - timedelta(days=1), today)


def reminder_date_expr(due_date: pl.Expr, today: pl.Expr) -> pl.Expr:
    """Polars twin of :func:`reminder_date`."""
    return pl.max_horizontal(due_date - pl.duration(days=1), today)


def counting_until(due_date: date, policy: PromisePolicy = DEFAULT_POLICY) -> date:
    """The last day whose payments count towards a promise (due date plus grace)."""
    return due_date + timedelta(days=policy.grace_days)


def judge_promise(
    *,
    amount_fen: int,
    paid_fen: int,
    due_date: date,
    as_of: date,
    policy: PromisePolicy = DEFAULT_POLICY,
) -> str | None:
    """The promise's judgement as of ``as_of``, or ``None`` while it is still open.

    ``paid_fen`` is what the case paid from the day the promise was taken up to
    ``min(as_of, counting_until(due_date))``.
    """
    shortfall_allowed = amount_fen * policy.kept_tolerance_bp
    if paid_fen * BASIS_POINTS + shortfall_allowed >= amount_fen * BASIS_POINTS:
        return "kept"
    if as_of <= counting_until(due_date, policy):
        return None
    return "partly_kept" if paid_fen > 0 else "broken"


def promise_judgement_expr(
    amount_fen: pl.Expr,
    paid_fen: pl.Expr,
    due_date: pl.Expr,
    as_of: date,
    policy: PromisePolicy = DEFAULT_POLICY,
) -> pl.Expr:
    """Polars twin of :func:`judge_promise`: ``kept``, ``partly_kept``, ``broken`` or null."""
    kept = paid_fen * BASIS_POINTS + amount_fen * policy.kept_tolerance_bp >= (
        amount_fen * BASIS_POINTS
    )
    passed = (due_date + pl.duration(days=policy.grace_days)) < pl.lit(as_of)
    return (
        pl.when(kept)
        .then(pl.lit("kept"))
        .when(~passed)
        .then(pl.lit(None, dtype=pl.String))
        .when(paid_fen > 0)
        .then(pl.lit("partly_kept"))
        .otherwise(pl.lit("broken"))
    )
