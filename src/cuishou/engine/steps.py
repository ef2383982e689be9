"""The daily cycle's steps (日终跑批): pure Polars frame→frame functions.

Each step takes frames (and plain values such as ``as_of`` or the
:class:`~cuishou.engine.config.CycleConfig`) and returns a new frame; none reads the
store, the clock or the environment. ``engine/io.py`` loads and writes, and
``engine/runner.py`` composes them. Every step is local to a debtor within one
creditor (a case), so the same functions can later run partition-wise.

Frames and their columns
------------------------
accounts (from io)
    ``id, creditor_id, debtor_id, case_id, snapshot_date, snapshot_due_fen,
    overdue_since, installment_fen, owed_fen, status, dpd, bucket, amount_tier, cycle_as_of``
    (``owed_fen`` is what the account owes now by its ledger; ``status``…``cycle_as_of`` are
    what the store holds now, used to write only changes)
future (from io)
    ``account_id, future_fen`` — ledger entries that count only after D (dated later)
payments (from io)
    ``account_id, paid_at`` (aware UTC), ``amount_fen``, ``tz`` (the creditor's zone) —
    non-reversed payments
previous (from io)
    ``account_id, prev_bucket, prev_status, prev_tier, prev_scheme`` — latest bucket
    history row before D
cases (from io)
    ``id, creditor_id, debtor_id, status, opened_on, closed_on, due_fen`` — cases as stored
agreements, installments, waivers (from io)
    running plans ``agreement_id, case_id, decided_at, break_after_days, reinstate_on_break,
    tz``; their ``agreement_id, seq, due_date, amount_fen, paid_fen, status``; the waiver
    standing on each account ``agreement_id, account_id, fee_fen … principal_fen``
existing_alerts (from io)
    ``creditor_id, debtor_id, kind, status, raised_on`` — alerts that may block a new one
    (unresolved, or raised on D)
promises (from io)
    ``id, case_id, amount_fen, due_date, created_at`` (aware UTC), ``tz`` — promises still open

Business dates: a time (a payment's ``paid_at``, a promise's ``created_at``) becomes a date in
the zone of the creditor it belongs to (``tz``), as online (:mod:`cuishou.creditors.service`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import polars as pl

from cuishou.accounts.rules import (
    amount_tier_expr,
    bucket_expr,
    bucket_rank_expr,
    days_past_due_expr,
    movement_expr,
    oldest_unpaid_due_date_expr,
    outstanding_fen_expr,
)
from cuishou.agreements.rules import track_frame
from cuishou.cases.rules import (
    case_change_expr,
    entered_alert_bucket_expr,
    legal_review_due_expr,
)
from cuishou.engine.config import CycleConfig
from cuishou.promises.rules import promise_judgement_expr

MOVEMENTS = (
    "new", "roll_forward", "roll_back", "cure", "settled", "reopen", "rescheme", "retier", "same",
)  # fmt: skip
CASE_KEY = ["creditor_id", "debtor_id"]
ENTERED_ALERT_BUCKET = "entered_m4_plus"
LEGAL_REVIEW = "legal_review_candidate"
BROKEN_PROMISE = "broken_promise"


def local_date_expr(moment: pl.Expr, tz: pl.Expr, zones: Iterable[str]) -> pl.Expr:
    """The business date of an aware time in each row's zone (``tz``, one of ``zones``)."""
    chosen: pl.Expr = pl.lit(None, dtype=pl.Date)
    for name in sorted(set(zones)):
        chosen = (
            pl.when(tz == name).then(moment.dt.convert_time_zone(name).dt.date()).otherwise(chosen)
        )
    return chosen


def _zones(frame: pl.DataFrame) -> list[str]:
    return [str(z) for z in frame.get_column("tz").unique().drop_nulls().to_list()]


def in_force(accounts: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """Accounts whose snapshot is dated on or before ``as_of`` (the rest are not yet placed)."""
    return accounts.filter(pl.col("snapshot_date") <= as_of)


def agreement_decisions(
    agreements: pl.DataFrame,
    installments: pl.DataFrame,
    payments: pl.DataFrame,
    accounts: pl.DataFrame,
    as_of: date,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """履约跟踪: every running plan judged against the case's payments since its approval,
    dated (in the creditor's zone) up to ``as_of``.

    Returns the installments whose ``paid_fen`` or ``status`` changed and the plans decided
    today: ``agreement_id, case_id, status`` (completed | broken), ``paid_fen``,
    ``reinstate_on_break``.
    """
    case_payments = (
        payments.join(
            accounts.select(pl.col("id").alias("account_id"), "case_id").drop_nulls("case_id"),
            on="account_id",
            how="inner",
        )
        .join(agreements.select("agreement_id", "case_id", "decided_at"), on="case_id")
        .filter(
            (pl.col("paid_at") >= pl.col("decided_at"))
            & (local_date_expr(pl.col("paid_at"), pl.col("tz"), _zones(payments)) <= as_of)
        )
        .group_by("agreement_id")
        .agg(pl.col("amount_fen").sum().cast(pl.Int64).alias("paid_fen"))
    )
    rows, plans = track_frame(
        installments.select("agreement_id", "seq", "due_date", "amount_fen"),
        case_payments,
        agreements.select("agreement_id", "break_after_days"),
        as_of,
    )
    stored = installments.select(
        "agreement_id", "seq", pl.col("paid_fen").alias("_was_paid"), pl.col("status").alias("_was")
    )
    changed = (
        rows.join(stored, on=["agreement_id", "seq"], how="left")
        .filter((pl.col("paid_fen") != pl.col("_was_paid")) | (pl.col("status") != pl.col("_was")))
        .select("agreement_id", "seq", "paid_fen", "status")
    )
    decided = plans.filter(pl.col("status") != "approved").join(
        agreements.select("agreement_id", "case_id", "reinstate_on_break"), on="agreement_id"
    )
    return changed, decided


def owed_as_of(
    accounts: pl.DataFrame,
    future: pl.DataFrame,
    decided: pl.DataFrame,
    waivers: pl.DataFrame,
) -> pl.DataFrame:
    """Add ``outstanding_fen`` (what each account owes as of D by its ledger, after today's
    plan decisions) and ``paid_fen`` (how much less than its snapshot's due that is).

    Entries dated after D do not count yet. A plan completed today writes off what its
    case's accounts still owe (0); a plan broken today whose terms reinstate the waiver puts
    the waiver back."""
    owed = ["fee_fen", "penalty_fen", "interest_fen", "principal_fen"]
    reinstated = (
        waivers.join(
            decided.filter((pl.col("status") == "broken") & pl.col("reinstate_on_break")).select(
                "agreement_id"
            ),
            on="agreement_id",
        )
        .group_by("account_id")
        .agg((-pl.sum_horizontal(owed)).sum().cast(pl.Int64).alias("reinstated_fen"))
    )
    completed = (
        decided.filter(pl.col("status") == "completed")
        .select("case_id")
        .unique()
        .with_columns(pl.lit(True).alias("_written_off"))
    )
    outstanding = (
        pl.when(pl.col("_written_off"))
        .then(pl.lit(0, dtype=pl.Int64))
        .otherwise(
            pl.max_horizontal(
                pl.col("owed_fen") - pl.col("future_fen") + pl.col("reinstated_fen"), pl.lit(0)
            )
        )
    )
    return (
        accounts.join(future, left_on="id", right_on="account_id", how="left")
        .join(reinstated, left_on="id", right_on="account_id", how="left")
        .join(completed, on="case_id", how="left")
        .with_columns(
            pl.col("future_fen").fill_null(0),
            pl.col("reinstated_fen").fill_null(0),
            pl.col("_written_off").fill_null(False),
        )
        .with_columns(outstanding.cast(pl.Int64).alias("outstanding_fen"))
        .with_columns((pl.col("snapshot_due_fen") - pl.col("outstanding_fen")).alias("paid_fen"))
        .drop("reinstated_fen", "_written_off")
    )


def age(accounts: pl.DataFrame, as_of: date, config: CycleConfig) -> pl.DataFrame:
    """账龄计算: outstanding, oldest unpaid due date, DPD, bucket, amount tier, new status."""
    due, paid = pl.col("snapshot_due_fen"), pl.col("paid_fen")
    return (
        accounts.with_columns(
            outstanding_fen_expr(due, paid).alias("outstanding_fen"),
            oldest_unpaid_due_date_expr(
                due, pl.col("overdue_since"), pl.col("installment_fen"), paid
            ).alias("oldest_unpaid"),
        )
        .with_columns(
            days_past_due_expr(pl.col("oldest_unpaid"), as_of).cast(pl.Int32).alias("new_dpd"),
            amount_tier_expr(pl.col("outstanding_fen"), config.tiers).alias("new_tier"),
            pl.when(pl.col("outstanding_fen") == 0)
            .then(pl.lit("settled"))
            .otherwise(pl.lit("open"))
            .alias("new_status"),
        )
        .with_columns(bucket_expr(pl.col("new_dpd"), config.buckets).alias("new_bucket"))
    )


def movements(aged: pl.DataFrame, previous: pl.DataFrame, config: CycleConfig) -> pl.DataFrame:
    """迁徙/出催 versus the latest recorded state before this date (``movement`` column).

    ``rescheme`` is true where that state was decided under another bucket scheme version:
    the account is re-bucketed (movement ``rescheme``), which is not a roll and raises no
    alert."""
    joined = aged.join(previous, left_on="id", right_on="account_id", how="left").with_columns(
        (pl.col("prev_scheme").is_not_null() & (pl.col("prev_scheme") != config.buckets.version))
        .fill_null(False)
        .alias("rescheme")
    )
    return joined.with_columns(
        movement_expr(
            prev_bucket=pl.col("prev_bucket"),
            prev_status=pl.col("prev_status"),
            prev_tier=pl.col("prev_tier"),
            bucket=pl.col("new_bucket"),
            status=pl.col("new_status"),
            tier=pl.col("new_tier"),
            scheme=config.buckets,
            rescheme=pl.col("rescheme"),
        ).alias("movement")
    )


def history_rows(moved: pl.DataFrame, config: CycleConfig) -> pl.DataFrame:
    """Bucket history rows for date D: only accounts whose movement is not ``same``, with the
    scheme version they were decided under."""
    return moved.filter(pl.col("movement") != "same").select(
        pl.col("id").alias("account_id"),
        pl.col("new_dpd").alias("dpd"),
        pl.col("new_bucket").alias("bucket"),
        pl.col("prev_bucket"),
        pl.col("new_tier").alias("amount_tier"),
        pl.col("outstanding_fen").alias("due_fen"),
        pl.col("new_status").alias("status"),
        pl.col("movement"),
        pl.lit(config.buckets.version).alias("scheme"),
    )


def account_updates(moved: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """Accounts whose stored dpd, bucket, tier, status or cycle date differ from the decision,
    or that are not linked to their case yet (``link``: first cycle to see the account).

    Returns ``id, creditor_id, debtor_id, link, dpd, bucket, amount_tier, status``.
    """
    unlinked = pl.col("case_id").is_null()
    changed = (
        (pl.col("dpd") != pl.col("new_dpd"))
        | (pl.col("bucket") != pl.col("new_bucket"))
        | (pl.col("amount_tier") != pl.col("new_tier"))
        | (pl.col("status") != pl.col("new_status"))
        | pl.col("cycle_as_of").is_null()
        | (pl.col("cycle_as_of") != as_of)
        | unlinked
    )
    return moved.filter(changed).select(
        "id",
        *CASE_KEY,
        unlinked.alias("link"),
        pl.col("new_dpd").alias("dpd"),
        pl.col("new_bucket").alias("bucket"),
        pl.col("new_tier").alias("amount_tier"),
        pl.col("new_status").alias("status"),
    )


def case_rollup(
    moved: pl.DataFrame, cases: pl.DataFrame, as_of: date, config: CycleConfig
) -> pl.DataFrame:
    """案件汇总 (共债): one row per (creditor, debtor) with the case's new state and change.

    ``accounts`` in force, ``due_fen`` = sum outstanding, ``dpd`` = max DPD of open
    accounts, ``bucket``/``amount_tier`` from those, ``status`` closed when every
    account is settled. ``change`` is ``opened`` (no case yet), ``closed``,
    ``reopened`` or null, against the stored case; ``prev_rank`` is the case's bucket
    rank at the previous cycle (worst previously-open account; null on first sight).
    ``due_delta`` is how far the stored amount due is from what the accounts owe now by the
    ledger: the write moves it by that (relatively, so a payment posted meanwhile stays).
    """
    is_open = pl.col("new_status") == "open"
    prev_rank = bucket_rank_expr(pl.col("prev_bucket"), config.buckets)
    rolled = moved.group_by(CASE_KEY).agg(
        pl.len().cast(pl.Int32).alias("accounts"),
        pl.col("outstanding_fen").sum().cast(pl.Int64).alias("due_fen"),
        pl.col("owed_fen").sum().cast(pl.Int64).alias("owed_now"),
        pl.col("new_dpd").filter(is_open).max().fill_null(0).cast(pl.Int32).alias("dpd"),
        is_open.any().alias("any_open"),
        pl.col("prev_bucket").is_not_null().any().alias("seen_before"),
        prev_rank.filter(pl.col("prev_status") == "open").max().fill_null(0).alias("prev_rank"),
        pl.col("rescheme").any().alias("rescheme"),
    )
    stored = cases.select(
        pl.col("id").alias("case_id"),
        *CASE_KEY,
        pl.col("status").alias("stored_status"),
        pl.col("opened_on"),
        pl.col("closed_on").alias("stored_closed_on"),
        pl.col("due_fen").alias("stored_due"),
    )
    joined = rolled.join(stored, on=CASE_KEY, how="left").with_columns(
        (pl.col("owed_now") - pl.col("stored_due").fill_null(0)).alias("due_delta")
    )
    status = pl.when(pl.col("any_open")).then(pl.lit("open")).otherwise(pl.lit("closed"))
    return (
        joined.with_columns(
            bucket_expr(pl.col("dpd"), config.buckets).alias("bucket"),
            amount_tier_expr(pl.col("due_fen"), config.tiers).alias("amount_tier"),
            status.alias("status"),
            pl.col("case_id").is_null().alias("is_new"),
            pl.col("opened_on").fill_null(as_of),
            pl.when(pl.col("seen_before"))
            .then(pl.col("prev_rank"))
            .otherwise(pl.lit(None, dtype=pl.Int32))
            .cast(pl.Int32)
            .alias("prev_rank"),
        )
        .with_columns(
            pl.when(pl.col("status") == "open")
            .then(pl.lit(None, dtype=pl.Date))
            .when(pl.col("stored_status") == "closed")
            .then(pl.col("stored_closed_on"))
            .otherwise(pl.lit(as_of))
            .alias("closed_on"),
            case_change_expr(pl.col("stored_status"), pl.col("status")).alias("change"),
        )
        .drop("any_open", "seen_before", "stored_status", "stored_closed_on", "stored_due")
    )


def case_alerts(rollup: pl.DataFrame, config: CycleConfig) -> pl.DataFrame:
    """预警 candidates needing no contact history: ``entered_m4_plus`` and
    ``legal_review_candidate`` (whether one is already open is the alerts domain's rule,
    applied by the runner with :func:`cuishou.alerts.rules.raisable`).

    ``entered_m4_plus``: the case's bucket rank goes from below ``config.alert_bucket``
    to at or above it versus the previous cycle; on first sight when
    ``config.alert_on_placement``; never when it was re-bucketed under a new scheme.
    ``legal_review_candidate`` (移交法务评估): case DPD beyond ``config.legal_review_dpd``.
    Returns ``creditor_id, debtor_id, kind, reason, dpd, bucket`` (``reason``: ``placed`` or
    ``rolled`` into the alert bucket, ``dpd`` for legal review).
    """
    threshold = config.buckets.rank(config.alert_bucket)
    rank = bucket_rank_expr(pl.col("bucket"), config.buckets)
    entered = rollup.filter(
        entered_alert_bucket_expr(
            pl.col("prev_rank"),
            rank,
            threshold,
            on_placement=config.alert_on_placement,
            rescheme=pl.col("rescheme"),
        )
    ).with_columns(
        pl.lit(ENTERED_ALERT_BUCKET).alias("kind"),
        pl.when(pl.col("prev_rank").is_null())
        .then(pl.lit("placed"))
        .otherwise(pl.lit("rolled"))
        .alias("reason"),
    )
    legal = rollup.filter(
        legal_review_due_expr(pl.col("dpd"), config.legal_review_dpd)
    ).with_columns(pl.lit(LEGAL_REVIEW).alias("kind"), pl.lit("dpd").alias("reason"))
    columns = [*CASE_KEY, "kind", "reason", "dpd", "bucket"]
    return pl.concat([entered.select(columns), legal.select(columns)]).sort([*CASE_KEY, "kind"])


def judge_promises(
    promises: pl.DataFrame,
    accounts: pl.DataFrame,
    payments: pl.DataFrame,
    as_of: date,
    config: CycleConfig,
) -> pl.DataFrame:
    """承诺履约判定: judge open promises against the case's payments.

    A payment counts towards a promise when it is on one of the case's accounts and
    dated (in the creditor's zone) from the day the promise was taken up to its due date
    plus grace, and not after ``as_of``. Returns ``id, case_id, amount_fen, due_date,
    paid_fen, status`` for the promises decided today (``kept``, ``partly_kept`` or
    ``broken``); those still open are left out.
    """
    policy = config.promises
    local = promises.with_columns(
        local_date_expr(pl.col("created_at"), pl.col("tz"), _zones(promises)).alias("created_on"),
        pl.min_horizontal(
            pl.col("due_date") + pl.duration(days=policy.grace_days), pl.lit(as_of)
        ).alias("until"),
    )
    case_payments = payments.join(
        accounts.select(pl.col("id").alias("account_id"), "case_id").drop_nulls("case_id"),
        on="account_id",
        how="inner",
    ).select(
        "case_id",
        local_date_expr(pl.col("paid_at"), pl.col("tz"), _zones(payments)).alias("paid_on"),
        pl.col("amount_fen").alias("paid"),
    )
    paid = (
        local.select("id", "case_id", "created_on", "until")
        .join(case_payments, on="case_id", how="inner")
        .filter(pl.col("paid_on").is_between(pl.col("created_on"), pl.col("until")))
        .group_by("id")
        .agg(pl.col("paid").sum().cast(pl.Int64).alias("paid_fen"))
    )
    judged = local.join(paid, on="id", how="left").with_columns(pl.col("paid_fen").fill_null(0))
    status = promise_judgement_expr(
        pl.col("amount_fen"), pl.col("paid_fen"), pl.col("due_date"), as_of, policy
    )
    return (
        judged.with_columns(status.alias("status"))
        .filter(pl.col("status").is_not_null())
        .select("id", "case_id", "amount_fen", "due_date", "paid_fen", "status")
        .sort("id")
    )


def broken_promise_alerts(judged: pl.DataFrame, rollup: pl.DataFrame) -> pl.DataFrame:
    """A ``broken_promise`` alert (跳票预警) for the team lead of each case with a promise
    judged broken today (one per case). Same columns as :func:`case_alerts`."""
    broken = judged.filter(pl.col("status") == "broken").select("case_id").unique()
    return (
        rollup.filter(pl.col("case_id").is_not_null())
        .join(broken, on="case_id", how="inner")
        .select(
            *CASE_KEY,
            pl.lit(BROKEN_PROMISE).alias("kind"),
            pl.lit("broken").alias("reason"),
            "dpd",
            "bucket",
        )
        .sort(CASE_KEY)
    )


def bucket_counts(moved: pl.DataFrame, config: CycleConfig) -> dict[str, int]:
    """Accounts per bucket; every scheme name present, every account counted once."""
    counts = dict.fromkeys(config.buckets.names, 0)
    for name, n in moved.group_by("new_bucket").len().iter_rows():
        counts[str(name)] = int(n)
    return counts


def movement_counts(moved: pl.DataFrame) -> dict[str, int]:
    """Accounts per movement kind (all kinds present)."""
    counts = dict.fromkeys(MOVEMENTS, 0)
    for name, n in moved.group_by("movement").len().iter_rows():
        counts[str(name)] = int(n)
    return counts
