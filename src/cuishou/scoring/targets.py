"""Targets (训练标签): what happened to a case in the 30 days after D, pure Polars.

Training pairs the features of the cases open at D (:func:`cuishou.scoring.features.
build_features`) with what happened in (D, D + 30], read as of D + 30
(:func:`cuishou.scoring.repository.targets_at`):

``pay_30d``
    payments dated in (D, D + 30], not reversed by D + 30, adding up to at least 10 % of what
    the case owed at D (``owed_fen`` of the features);
``cure_30d``
    at D + 30 the case's DPD is 0 or it owes nothing (settled);
``roll_30d``
    at D + 30 the case is in a worse bucket than at D;
``keep_promise``
    per promise open at D: judged kept by D + 30 (false when judged partly kept or broken;
    null when still not judged at D + 30).
"""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

from cuishou.engine.steps import local_date_expr
from cuishou.scoring.config import FeatureConfig
from cuishou.scoring.features import FeatureFrames, account_state, case_state

#: the days after D the targets look at
HORIZON = 30
#: ``pay_30d``: the share of what was owed at D that counts as a payment (10 %)
PAY_SHARE_PERCENT = 10

CASE_TARGETS_SCHEMA: dict[str, pl.DataType] = {
    "case_id": pl.Int64(),
    "as_of": pl.Date(),
    "pay_30d": pl.Boolean(),
    "cure_30d": pl.Boolean(),
    "roll_30d": pl.Boolean(),
}
PROMISE_TARGETS_SCHEMA: dict[str, pl.DataType] = {
    "promise_id": pl.Int64(),
    "case_id": pl.Int64(),
    "as_of": pl.Date(),
    "keep_promise": pl.Boolean(),
}


def build_targets(
    features: pl.DataFrame,
    later: FeatureFrames,
    as_of: date,
    *,
    horizon: int = HORIZON,
    config: FeatureConfig | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The case targets and the promise targets of the cases in ``features`` (built at
    ``as_of``), from ``later``: the frames as known at the end of ``as_of + horizon``."""
    config = config or FeatureConfig()
    end = as_of + timedelta(days=horizon)
    zones = [str(z) for z in later.cases.get_column("tz").unique().drop_nulls().to_list()]
    at_d = features.select("case_id", "owed_fen", "bucket_rank")
    accounts = account_state(later, end, config).join(
        later.cases.select("case_id", "tz"), on="case_id", how="inner"
    )
    state = case_state(later, end, config, accounts).select(
        "case_id", "is_open", pl.col("dpd").alias("_dpd"), pl.col("bucket_rank").alias("_rank")
    )
    paid = (
        later.payments.join(accounts.select("account_id", "case_id", "tz"), on="account_id")
        .with_columns(
            local_date_expr(pl.col("paid_at"), pl.col("tz"), zones).alias("_paid_on"),
            local_date_expr(pl.col("reversed_at"), pl.col("tz"), zones).alias("_reversed_on"),
        )
        .filter(
            (pl.col("_paid_on") > as_of)
            & (pl.col("_paid_on") <= end)
            & (pl.col("_reversed_on").is_null() | (pl.col("_reversed_on") > end))
        )
        .group_by("case_id")
        .agg(pl.col("amount_fen").sum().cast(pl.Int64).alias("_paid"))
    )
    cases = (
        at_d.join(state, on="case_id", how="left")
        .join(paid, on="case_id", how="left")
        .select(
            "case_id",
            pl.lit(as_of, dtype=pl.Date).alias("as_of"),
            (
                (pl.col("_paid").fill_null(0) > 0)
                & (pl.col("_paid").fill_null(0) * 100 >= pl.col("owed_fen") * PAY_SHARE_PERCENT)
            ).alias("pay_30d"),
            (~pl.col("is_open").fill_null(False) | (pl.col("_dpd").fill_null(0) == 0)).alias(
                "cure_30d"
            ),
            (pl.col("_rank").fill_null(0) > pl.col("bucket_rank")).alias("roll_30d"),
        )
        .sort("case_id")
    )
    promises = (
        later.promises.join(at_d.select("case_id"), on="case_id", how="semi")
        .join(later.cases.select("case_id", "tz"), on="case_id", how="inner")
        .with_columns(local_date_expr(pl.col("created_at"), pl.col("tz"), zones).alias("_taken"))
        .filter(
            (pl.col("_taken") <= as_of)
            & (pl.col("judged_on").is_null() | (pl.col("judged_on") > as_of))
        )
        .select(
            "promise_id",
            "case_id",
            pl.lit(as_of, dtype=pl.Date).alias("as_of"),
            pl.when(pl.col("judged_on").is_not_null() & (pl.col("judged_on") <= end))
            .then(pl.col("status") == "kept")
            .otherwise(pl.lit(None, dtype=pl.Boolean))
            .alias("keep_promise"),
        )
        .sort("promise_id")
    )
    return (
        cases.select(pl.col(c).cast(t) for c, t in CASE_TARGETS_SCHEMA.items()),
        promises.select(pl.col(c).cast(t) for c, t in PROMISE_TARGETS_SCHEMA.items()),
    )
