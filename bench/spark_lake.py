"""A synthetic Parquet lake for the daily cycle (``cuishou.engine.lake.LAKE_TABLES``).

Vectorised (NumPy), so 10 million accounts take seconds: the second day of a portfolio —
accounts with a realistic DPD mix and co-debt (≈1.3 accounts per debtor), two creditors in
different zones, payments around the date, ledger entries dated later, the previous cycle's
states (some under an older bucket scheme), stored cases (some closed), open alerts, open
promises, and running plans with their installments and waivers. Used by ``bench/spark.py``
and, at a small size, by the Spark equivalence tests.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from cuishou.engine.config import DEFAULT_CONFIG
from cuishou.engine.lake import LAKE_TABLES, conform, write_tables

SNAPSHOT = date(2026, 11, 1)
LAST_CYCLE = date(2026, 11, 1)
AS_OF = date(2026, 11, 2)
ZONES = ("Asia/Shanghai", "Asia/Urumqi")


def synthetic_lake(accounts: int, seed: int = 7) -> dict[str, pl.DataFrame]:
    """The lake's tables for ``accounts`` accounts (ids from 1)."""
    rng = np.random.default_rng(seed)
    n = accounts
    debtors = max(1, int(n / 1.3))
    owner = np.concatenate([np.arange(1, debtors + 1), rng.integers(1, debtors + 1, n - debtors)])
    creditor = np.where(owner % 7 == 0, 2, 1)  # creditor 2 (Urumqi) holds every 7th debtor
    due = (rng.lognormal(9.6, 1.0, n) * 100).astype(np.int64) + 1
    centres = rng.choice(
        [1, 15, 45, 75, 100, 135, 165, 250, 600],
        p=[0.2, 0.2, 0.15, 0.12, 0.1, 0.07, 0.05, 0.06, 0.05],
        size=n,
    )
    age = np.maximum(1, centres + rng.integers(-10, 10, n))
    installment = np.where(rng.random(n) < 0.33, np.maximum(due // 6, 1), 0)
    ids = np.arange(1, n + 1)
    # the previous cycle linked most accounts to their case; a few arrive today (no case yet)
    keys = pl.DataFrame({"creditor_id": creditor, "debtor_id": owner}).unique(maintain_order=True)
    keys = keys.with_row_index("case_id", offset=1).with_columns(pl.col("case_id").cast(pl.Int64))
    new_today = rng.random(n) < 0.03
    base = (
        pl.DataFrame(
            {
                "id": ids,
                "creditor_id": creditor,
                "debtor_id": owner,
                "snapshot_due_fen": due,
                "age": age,
                "installment_fen": installment,
                "owed_fen": np.where(rng.random(n) < 0.05, 0, due),
                "new_today": new_today,
            }
        )
        .with_columns(
            pl.lit(SNAPSHOT).alias("snapshot_date"),
            (pl.lit(SNAPSHOT) - pl.duration(days=pl.col("age"))).alias("overdue_since"),
        )
        .join(keys, on=["creditor_id", "debtor_id"], how="left", maintain_order="left")
    )
    scheme = DEFAULT_CONFIG.buckets
    names = list(scheme.names)
    bucket_index = np.clip(age // 30 + 1, 0, len(names) - 1)
    accounts_frame = base.with_columns(
        pl.when(pl.col("new_today")).then(None).otherwise(pl.col("case_id")).alias("case_id"),
        pl.lit("open").alias("status"),
        pl.Series((age - 1).clip(0), dtype=pl.Int32).alias("dpd"),
        pl.Series([names[i] for i in bucket_index]).alias("bucket"),
        pl.lit("small").alias("amount_tier"),
        pl.when(pl.col("new_today"))
        .then(None)
        .otherwise(pl.lit(LAST_CYCLE))
        .cast(pl.Date)
        .alias("cycle_as_of"),
    )
    seen = accounts_frame.filter(~pl.col("new_today"))
    tz = pl.when(pl.col("creditor_id") == 2).then(pl.lit(ZONES[1])).otherwise(pl.lit(ZONES[0]))
    # payments on a fifth of the accounts, around midnight of the date in either zone
    payers = rng.choice(ids, size=n // 5, replace=False)
    start = datetime.combine(SNAPSHOT, datetime.min.time(), tzinfo=UTC)
    payments = (
        pl.DataFrame(
            {
                "account_id": payers,
                "seconds": rng.integers(10 * 3600, 50 * 3600, len(payers)),
                "amount_fen": np.maximum(due[payers - 1] // rng.integers(1, 8, len(payers)), 1),
            }
        )
        .with_columns((pl.lit(start) + pl.duration(seconds=pl.col("seconds"))).alias("paid_at"))
        .join(
            accounts_frame.select(pl.col("id").alias("account_id"), "creditor_id"),
            on="account_id",
        )
    )
    payments = payments.with_columns(tz.alias("tz"))
    ledger = pl.DataFrame(
        {
            "account_id": payers[: len(payers) // 4],
            "amount_fen": -np.ones(len(payers) // 4, dtype=np.int64) * 100,
        }
    ).with_columns(pl.lit(AS_OF + timedelta(days=3)).alias("effective_on"))
    previous = seen.select(
        pl.col("id").alias("account_id"),
        pl.col("bucket").alias("prev_bucket"),
        pl.lit("open").alias("prev_status"),
        pl.lit("small").alias("prev_tier"),
        pl.when(pl.col("id") % 50 == 0)
        .then(pl.lit("old-scheme"))
        .otherwise(pl.lit(scheme.version))
        .alias("prev_scheme"),
    )
    cases = (
        seen.group_by("case_id", "creditor_id", "debtor_id")
        .agg(pl.col("owed_fen").sum().alias("due_fen"), pl.col("dpd").max())
        .select(
            pl.col("case_id").alias("id"),
            "creditor_id",
            "debtor_id",
            pl.when(pl.col("case_id") % 40 == 0)
            .then(pl.lit("closed"))
            .otherwise(pl.lit("open"))
            .alias("status"),
            pl.lit(SNAPSHOT - timedelta(days=30)).alias("opened_on"),
            pl.when(pl.col("case_id") % 40 == 0)
            .then(pl.lit(LAST_CYCLE))
            .otherwise(None)
            .cast(pl.Date)
            .alias("closed_on"),
            (pl.col("due_fen") + (pl.col("case_id") % 3) * 100).alias("due_fen"),
        )
        .sort("id")
    )
    alerts = cases.filter(pl.col("id") % 9 == 0).select(
        "creditor_id",
        "debtor_id",
        pl.when(pl.col("id") % 2 == 0)
        .then(pl.lit("legal_review_candidate"))
        .otherwise(pl.lit("entered_m4_plus"))
        .alias("kind"),
        pl.when(pl.col("id") % 4 == 0)
        .then(pl.lit("resolved"))
        .otherwise(pl.lit("open"))
        .alias("status"),
        pl.lit(LAST_CYCLE).alias("raised_on"),
    )
    case_tz = cases.select("id", "creditor_id").with_columns(tz.alias("tz"))
    promised = case_tz.filter(pl.col("id") % 6 == 0)
    promises = promised.select(
        pl.col("id").alias("case_id"),
        "tz",
    ).with_row_index("id", offset=1)
    k = promises.height
    promises = promises.select(
        pl.col("id").cast(pl.Int64),
        "case_id",
        pl.Series(rng.integers(10_000, 500_000, k), dtype=pl.Int64).alias("amount_fen"),
        (pl.lit(SNAPSHOT) + pl.duration(days=pl.Series(rng.integers(-6, 3, k)))).alias("due_date"),
        (pl.lit(start) - pl.duration(hours=pl.Series(rng.integers(0, 200, k)))).alias("created_at"),
        "tz",
    )
    planned = case_tz.filter(pl.col("id") % 11 == 0)
    agreements = planned.select(
        pl.col("id").alias("agreement_id"),
        pl.col("id").alias("case_id"),
        pl.lit(start - timedelta(days=20)).alias("decided_at"),
        pl.lit(5, dtype=pl.Int64).alias("break_after_days"),
        (pl.col("id") % 2 == 0).alias("reinstate_on_break"),
        "tz",
    )
    installments = pl.concat(
        agreements.select(
            "agreement_id",
            pl.lit(seq, dtype=pl.Int32).alias("seq"),
            pl.lit(SNAPSHOT + timedelta(days=10 * seq - 25)).alias("due_date"),
            ((pl.col("agreement_id") % 5 + 1) * 20_000).alias("amount_fen"),
            pl.lit(0, dtype=pl.Int64).alias("paid_fen"),
            pl.lit("pending").alias("status"),
        )
        for seq in (1, 2, 3)
    )
    waivers = (
        seen.join(agreements.select("agreement_id", "case_id"), on="case_id")
        .select(
            "agreement_id",
            pl.col("id").alias("account_id"),
            pl.lit(0, dtype=pl.Int64).alias("fee_fen"),
            pl.lit(-500, dtype=pl.Int64).alias("penalty_fen"),
            pl.lit(-1000, dtype=pl.Int64).alias("interest_fen"),
            pl.lit(0, dtype=pl.Int64).alias("principal_fen"),
        )
        .sort("agreement_id", "account_id")
    )
    frames = {
        "accounts": accounts_frame,
        "payments": payments,
        "ledger": ledger,
        "previous": previous.filter(pl.col("account_id") % 5 == 0),
        "previous_last": previous.filter(pl.col("account_id") % 5 != 0),
        "cases": cases,
        "alerts": alerts,
        "promises": promises,
        "agreements": agreements,
        "installments": installments,
        "waivers": waivers,
        "cycle_runs": pl.DataFrame({"as_of": [SNAPSHOT - timedelta(days=1), LAST_CYCLE]}),
    }
    return {name: conform(frames[name], schema, name=name) for name, schema in LAKE_TABLES.items()}


def write_synthetic_lake(
    out: Path, accounts: int, seed: int = 7, *, buckets: int | None = None
) -> dict[str, int]:
    """The synthetic lake at ``out``: bucketed by ``debtor_id % buckets`` as
    ``cuishou lake export`` writes it, or (``None``) as a data platform might, unbucketed."""
    tables = synthetic_lake(accounts, seed)
    write_tables(out, tables, buckets=buckets)
    return {name: frame.height for name, frame in tables.items()}
