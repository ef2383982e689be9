"""Case-level rules (案件): rollup of a debtor's accounts (共债), case status change, alerts.

A case is one debtor within one creditor and aggregates all their accounts in force:
its amount due is the sum outstanding, its DPD the worst DPD of its open accounts,
and it is closed (结案) once every account is settled. Two alerts need no contact
history: entering the alert bucket (default M4, 入M4+) and becoming a legal review
candidate (移交法务评估) beyond a DPD threshold. Whether an alert of a kind is already
open is the alerts domain's rule (:mod:`cuishou.alerts.rules`), not repeated here.

Scalar forms for one case (used online) with Polars-expression twins used by
``engine/steps.py``; ``tests/cases`` proves they agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl


@dataclass(frozen=True, slots=True)
class AccountState:
    """One account's decided state for the day."""

    dpd: int
    outstanding_fen: int
    status: str  # open | settled


@dataclass(frozen=True, slots=True)
class CaseRollup:
    accounts: int
    due_fen: int
    dpd: int
    status: str  # open | closed


def case_rollup_of(accounts: Sequence[AccountState]) -> CaseRollup:
    """案件汇总: count, sum outstanding, worst DPD of open accounts, open/closed."""
    open_dpds = [a.dpd for a in accounts if a.status == "open"]
    return CaseRollup(
        accounts=len(accounts),
        due_fen=sum(a.outstanding_fen for a in accounts),
        dpd=max(open_dpds, default=0),
        status="open" if open_dpds else "closed",
    )


def case_change_of(*, stored_status: str | None, status: str) -> str | None:
    """``opened`` (no case yet), ``closed`` (结案), ``reopened`` or ``None`` (no change)."""
    if stored_status is None:
        return "opened"
    if status == "closed" and stored_status != "closed":
        return "closed"
    if status == "open" and stored_status == "closed":
        return "reopened"
    return None


def entered_alert_bucket(
    *,
    prev_rank: int | None,
    rank: int,
    threshold: int,
    on_placement: bool = True,
    rescheme: bool = False,
) -> bool:
    """入M4+: the case's bucket rank crossed up to ``threshold`` since the previous cycle.

    On first sight (``prev_rank`` is ``None``: a new placement) a case already at or above
    the threshold enters the team lead's late-stage book too, when ``on_placement``
    (docs/adr/0015). Never when the bucket scheme changed since the previous state
    (``rescheme``): the case was re-bucketed, it did not roll.
    """
    if rescheme:
        return False
    if prev_rank is None:
        return on_placement and rank >= threshold
    return prev_rank < threshold <= rank


def legal_review_due(*, dpd: int, threshold_dpd: int) -> bool:
    """移交法务评估 candidate: beyond ``threshold_dpd`` days past due."""
    return dpd > threshold_dpd


# ----------------------------------------------------------------- Polars twins


def case_change_expr(stored_status: pl.Expr, status: pl.Expr) -> pl.Expr:
    return (
        pl.when(stored_status.is_null())
        .then(pl.lit("opened"))
        .when((status == "closed") & (stored_status != "closed"))
        .then(pl.lit("closed"))
        .when((status == "open") & (stored_status == "closed"))
        .then(pl.lit("reopened"))
        .otherwise(pl.lit(None, dtype=pl.String))
    )


def entered_alert_bucket_expr(
    prev_rank: pl.Expr,
    rank: pl.Expr,
    threshold: int,
    *,
    on_placement: bool = True,
    rescheme: pl.Expr | None = None,
) -> pl.Expr:
    crossed = prev_rank.is_not_null() & (prev_rank < threshold) & (rank >= threshold)
    placed = prev_rank.is_null() & (rank >= threshold) & pl.lit(on_placement)
    entered = (crossed | placed).fill_null(False)
    return entered if rescheme is None else entered & ~rescheme.fill_null(False)


def legal_review_due_expr(dpd: pl.Expr, threshold_dpd: int) -> pl.Expr:
    return dpd > threshold_dpd


# ------------------------------------------------------------- work queue order


#: the call priority of a case the strategy plans no call for today (after every priority)
NO_PLANNED_CALL = 99


@dataclass(frozen=True, slots=True)
class QueueFacts:
    """What orders a collector's work queue (工作队列) for one case."""

    case_id: int
    callback_due: bool  # a scheduled callback (预约回呼) falls due today or earlier
    promise_due: bool  # an open promise (承诺还款) falls due today or earlier
    bucket_rank: int  # 0 = best bucket; unknown buckets rank -1
    due_fen: int
    #: the strategy's best priority (1 first) of the calls it plans for the case today
    call_priority: int = NO_PLANNED_CALL


def queue_priority_key(facts: QueueFacts) -> tuple[int, int, int, int, int, int]:
    """Sort key, best first: the strategy's call priority for today, then callbacks due,
    promises due, worse bucket, larger amount due.

    The case id breaks ties so the order is total and stable. The repository orders the
    queue in SQL by the same key; ``tests/web`` checks they agree.
    """
    return (
        facts.call_priority,
        0 if facts.callback_due else 1,
        0 if facts.promise_due else 1,
        -facts.bucket_rank,
        -facts.due_fen,
        facts.case_id,
    )
