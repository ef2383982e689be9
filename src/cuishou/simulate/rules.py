"""Simulation rules (仿真规则): the simulated days, the baseline workforce, the day's files. Pure.

* :func:`simulated_days` — ``--as-of`` is the first simulated business day; by default
  the history ends yesterday (the creditor's business dates are calendar dates: the
  daily cycle runs every day, as collection floors work every day).
* :func:`plan_calls` — the baseline workforce: each collector works their queue (the
  real ``my_queue`` order) top down within their daily capacity and working hours; a
  case reached lately (``rest_days``) or with a promise not yet due is skipped; after
  ``third_party_after_failed`` failed calls in a row a named third party is called too.
* :func:`split_payments` — a case's payment spread over its accounts oldest first, never
  more than an account owes.
* :func:`dialer_rows` / :func:`payment_rows` — the day's dialer result file and payments
  file, in the import formats (``docs/import-format.md``).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import polars as pl

from cuishou.kit.errors import InvalidInput
from cuishou.kit.money import format_yuan_expr

#: the columns of a dialer result file, in order (``cuishou contacts import``)
DIALER_COLUMNS = (
    "creditor_code", "account_no", "call_id", "number", "started_at", "duration", "result",
    "agent", "promise_amount", "promise_date",
)  # fmt: skip
PAYMENT_FILE_COLUMNS = ("creditor_code", "account_no", "amount", "paid_at", "reference", "channel")
MAX_DAYS = 366


def simulated_days(*, days: int, first: date | None, today: date) -> list[date]:
    """The business days to simulate: ``days`` days from ``first``, or ending yesterday.

    A simulated day must be over before it is simulated: the last one is before ``today``.
    """
    if not 1 <= days <= MAX_DAYS:
        raise InvalidInput(f"--days must be from 1 to {MAX_DAYS}, got {days}", field="days")
    start = first if first is not None else today - timedelta(days=days)
    last = start + timedelta(days=days - 1)
    if last >= today:
        raise InvalidInput(
            f"--as-of {start} with --days {days} ends on {last}, which is not over yet "
            f"(today is {today}); the last simulated day must be before today",
            field="as_of",
        )
    return [start + timedelta(days=i) for i in range(days)]


def local_moment(day: date, minute_of_day: float, zone: ZoneInfo) -> datetime:
    """An aware time on ``day`` at ``minute_of_day`` minutes after local midnight."""
    whole = int(minute_of_day)
    return datetime.combine(day, time(whole // 60, whole % 60), tzinfo=zone)


QUEUE_SCHEMA: dict[str, pl.DataType] = {
    "collector": pl.String(),
    "collector_no": pl.Int64(),
    "position": pl.Int64(),
    "case_id": pl.Int64(),
    "debtor_id": pl.Int64(),
    "mobile_point_id": pl.Int64(),
    "mobile": pl.String(),
    "third_party_point_id": pl.Int64(),
    "third_party": pl.String(),
    "last_rpc_on": pl.Date(),
    "failed_run": pl.Int64(),
    "promise_pending": pl.Boolean(),
}


def plan_calls(
    queue: pl.DataFrame,
    *,
    day: date,
    calls_per_day: int,
    start_minute: int,
    end_minute: int,
    rest_days: int,
    third_party_after_failed: int,
) -> pl.DataFrame:
    """The day's calls of the baseline workforce, in each collector's queue order.

    ``queue`` (:data:`QUEUE_SCHEMA`): each collector's queue, ``position`` from 0 at the top,
    with the case's debtor mobile and one named third party (either may be null), the day
    of its last right-party contact, its run of failed calls and whether a promise is
    pending (not yet due). Returns one row per call: the queue columns plus ``attempt``
    (the debtor's call number of the day), ``third_party_call``, ``point_id``, ``number``,
    ``minute`` (minutes after local midnight) and ``slot`` (the collector's call number).
    """
    rested = pl.col("last_rpc_on").is_not_null() & (
        pl.col("last_rpc_on") > pl.lit(day - timedelta(days=rest_days + 1))
    )
    wanted = queue.filter(
        ~rested
        & ~pl.col("promise_pending")
        & (pl.col("mobile").is_not_null() | pl.col("third_party").is_not_null())
    )
    reach_third = pl.col("third_party").is_not_null() & (
        (pl.col("failed_run") >= third_party_after_failed) | pl.col("mobile").is_null()
    )
    wanted = wanted.with_columns(
        pl.col("mobile").is_not_null().cast(pl.Int64).alias("_own"),
        reach_third.cast(pl.Int64).alias("_third"),
    ).sort("collector_no", "position")
    wanted = wanted.with_columns(
        (pl.col("_own") + pl.col("_third")).cum_sum().over("collector_no").alias("_used")
    ).filter(pl.col("_used") <= calls_per_day)
    own = wanted.filter(pl.col("_own") == 1).with_columns(
        pl.lit(False).alias("third_party_call"),
        pl.col("mobile_point_id").alias("point_id"),
        pl.col("mobile").alias("number"),
        (pl.col("_used") - pl.col("_own") - pl.col("_third")).alias("slot"),
    )
    third = wanted.filter(pl.col("_third") == 1).with_columns(
        pl.lit(True).alias("third_party_call"),
        pl.col("third_party_point_id").alias("point_id"),
        pl.col("third_party").alias("number"),
        (pl.col("_used") - 1).alias("slot"),
    )
    spacing = (end_minute - start_minute) / calls_per_day
    calls = pl.concat([own, third]).sort("collector_no", "slot")
    return calls.with_columns(
        pl.col("third_party_call").cast(pl.Int64).alias("attempt"),
        (start_minute + pl.col("slot") * spacing).alias("minute"),
    ).drop("_own", "_third", "_used")


def split_payments(payments: pl.DataFrame, accounts: pl.DataFrame) -> pl.DataFrame:
    """Spread each case's payment over its accounts in ``order`` (oldest first), each
    part at most what the account owes.

    ``payments``: ``case_id, amount_fen`` (at most the case's total owed); ``accounts``:
    ``case_id, account_no, owed_fen, order``. Returns ``case_id, account_no, amount_fen``
    for the parts above zero.
    """
    joined = payments.join(accounts, on="case_id").sort("case_id", "order")
    before = pl.col("owed_fen").cum_sum().over("case_id") - pl.col("owed_fen")
    part = pl.min_horizontal(
        pl.max_horizontal(pl.col("amount_fen") - before, pl.lit(0)), pl.col("owed_fen")
    )
    return (
        joined.with_columns(part.alias("amount_fen"))
        .filter(pl.col("amount_fen") > 0)
        .select("case_id", "account_no", "amount_fen")
    )


def dialer_rows(calls: pl.DataFrame, *, day: date, seed: int) -> pl.DataFrame:
    """The dialer result file of a day (columns :data:`DIALER_COLUMNS`, all text).

    ``calls``: ``creditor_code, account_no, case_id, slot, collector, number, minute,
    duration, outcome, promise_fen, promise_days``; ``call_id`` is unique per seed, day,
    collector and slot, so a re-import of the file changes nothing.
    """
    started = pl.lit(datetime.combine(day, time(0))) + pl.duration(
        seconds=(pl.col("minute") * 60).round(0).cast(pl.Int64)
    )
    promised = pl.col("promise_fen") > 0
    return calls.sort("collector", "slot").select(
        pl.col("creditor_code"),
        pl.col("account_no"),
        pl.format("SIM{}-{}-{}-{}", pl.lit(seed), pl.lit(day.strftime("%Y%m%d")),
                  pl.col("collector"), pl.col("slot")).alias("call_id"),
        pl.col("number"),
        started.dt.strftime("%Y-%m-%d %H:%M:%S").alias("started_at"),
        pl.col("duration").cast(pl.String),
        pl.col("outcome").alias("result"),
        pl.col("collector").alias("agent"),
        pl.when(promised).then(format_yuan_expr(pl.col("promise_fen"))).alias("promise_amount"),
        pl.when(promised)
        .then((pl.lit(day) + pl.duration(days=pl.col("promise_days"))).dt.strftime("%Y-%m-%d"))
        .alias("promise_date"),
    )  # fmt: skip


def payment_rows(parts: pl.DataFrame, *, day: date, seed: int) -> pl.DataFrame:
    """The payments file of a day (columns :data:`PAYMENT_FILE_COLUMNS`, all text).

    ``parts``: ``creditor_code, case_id, account_no, amount_fen, minute``; the reference
    is unique per seed, day and account."""
    paid_at = pl.lit(datetime.combine(day, time(0))) + pl.duration(
        seconds=(pl.col("minute") * 60).round(0).cast(pl.Int64)
    )
    return parts.sort("case_id", "account_no").select(
        pl.col("creditor_code"),
        pl.col("account_no"),
        format_yuan_expr(pl.col("amount_fen")).alias("amount"),
        paid_at.dt.strftime("%Y-%m-%d %H:%M:%S").alias("paid_at"),
        pl.format("SIMPAY{}-{}-{}", pl.lit(seed), pl.lit(day.strftime("%Y%m%d")),
                  pl.col("account_no")).alias("reference"),
        pl.lit("simulated").alias("channel"),
    )  # fmt: skip
