"""The strategy's pure steps (策略执行): segment every case, then plan its actions for the day.

Frame in, frame out, local to a case: :func:`segment_cases` matches the decision table under
its hit policy, :func:`segment_days` carries a case's day in its segment from the day before,
:func:`plan_actions` lists the steps of each case's path that fall due today and
:func:`apply_caps` keeps a step's daily cap (by priority, then amount due). The compliance
gate then judges every planned contact (:mod:`cuishou.strategy.service.planning`).

Speed: the table is one ``when/then`` chain over precomputed condition columns (each label
and product a boolean column once), so a table of a dozen rows decides millions of cases a
second (bench/strategy.py).
"""

from __future__ import annotations

from datetime import date

import polars as pl

from cuishou.cases.rules import NO_PLANNED_CALL
from cuishou.strategy.definition import (
    CHANNEL_OF,
    UNGRADED,
    Range,
    Strategy,
    When,
)

#: the columns :func:`segment_cases` reads (one row per open case)
CASE_SCHEMA: dict[str, pl.DataType] = {
    "case_id": pl.Int64(),
    "debtor_id": pl.Int64(),
    "creditor_code": pl.String(),
    "products": pl.List(pl.String()),
    "bucket": pl.String(),
    "dpd": pl.Int64(),
    "risk_grade": pl.String(),
    "labels": pl.List(pl.String()),
    "amount_tier": pl.String(),
    "due_fen": pl.Int64(),
    "days_since_placement": pl.Int64(),
    "days_in_bucket": pl.Int64(),
}
#: the bucket-history movements that put an account in a (new) bucket
BUCKET_MOVES = ("new", "roll_forward", "roll_back", "cure", "reopen")


def open_case_frame(
    cases: pl.DataFrame,
    accounts: pl.DataFrame,
    moved: pl.DataFrame,
    labels: pl.DataFrame,
    day: date,
) -> pl.DataFrame:
    """The open cases as :func:`segment_cases` reads them (``CASE_SCHEMA`` and
    ``creditor_id``), from ``cases`` (``case_id, debtor_id, creditor_id, creditor_code,
    bucket, dpd, risk_grade`` ("" or null: none) ``, amount_tier, due_fen``), their
    ``accounts`` (``case_id, product_code, bucket, placed_on``), ``moved`` (``case_id,
    bucket, since``: each account's last entry into its bucket, ``BUCKET_MOVES`` on or before
    ``day``) and ``labels`` (``case_id, code``). Read from the store
    (:func:`cuishou.strategy.repository.planning.open_cases`) or composed from a lake
    (:mod:`cuishou.engine.after`)."""
    per_case = accounts.group_by("case_id").agg(
        pl.col("product_code").unique().sort().alias("products"),
        pl.col("placed_on").min().alias("_placed_on"),
    )
    in_bucket = (
        cases.select("case_id", "bucket")
        .join(moved, on=["case_id", "bucket"], how="inner")
        .group_by("case_id")
        .agg(pl.col("since").min().alias("_bucket_since"))
    )
    carried = labels.group_by("case_id").agg(pl.col("code").sort().alias("labels"))
    return (
        cases.join(per_case, on="case_id", how="left")
        .join(in_bucket, on="case_id", how="left")
        .join(carried, on="case_id", how="left")
        .with_columns(
            pl.when(pl.col("risk_grade") == "")
            .then(None)
            .otherwise(pl.col("risk_grade"))
            .alias("risk_grade"),
            pl.col("products").fill_null(pl.lit([], dtype=pl.List(pl.String))),
            pl.col("labels").fill_null(pl.lit([], dtype=pl.List(pl.String))),
            (pl.lit(day) - pl.col("_placed_on"))
            .dt.total_days()
            .fill_null(0)
            .alias("days_since_placement"),
            (pl.lit(day) - pl.col("_bucket_since"))
            .dt.total_days()
            .fill_null(0)
            .alias("days_in_bucket"),
        )
        .drop("_placed_on", "_bucket_since")
        .sort("case_id")
    )


#: the columns of a planned action (:func:`plan_actions`, then :func:`apply_caps`)
ACTION_SCHEMA: dict[str, pl.DataType] = {
    "case_id": pl.Int64(),
    "debtor_id": pl.Int64(),
    "segment": pl.String(),
    "step": pl.Int32(),
    "action": pl.String(),
    "channel": pl.String(),
    "template": pl.String(),
    "priority": pl.Int32(),
    "cap": pl.Int64(),
    "due_fen": pl.Int64(),
}
#: the call priority of a case with no call planned today (after every real priority)
NO_CALL_PRIORITY = NO_PLANNED_CALL


def _range(column: str, bounds: Range) -> pl.Expr:
    col = pl.col(column)
    if bounds.min is not None and bounds.max is not None:
        return col.is_between(bounds.min, bounds.max, closed="both")
    if bounds.min is not None:
        return col >= bounds.min
    return col <= bounds.max


def _flag(kind: str, value: str) -> str:
    return f"_{kind}:{value}"


def _row_expr(when: When) -> pl.Expr:
    """All of a row's conditions (``True`` for a row with none); null counts as no match."""
    parts: list[pl.Expr] = []
    for name, value in when.conditions():
        if isinstance(value, Range):
            parts.append(_range(name, value))
        elif name == "labels_any":
            parts.append(pl.any_horizontal(pl.col(_flag("label", v)) for v in value))
        elif name == "labels_all":
            parts.append(pl.all_horizontal(pl.col(_flag("label", v)) for v in value))
        elif name == "labels_none":
            parts.append(~pl.any_horizontal(pl.col(_flag("label", v)) for v in value))
        elif name == "product":
            parts.append(pl.any_horizontal(pl.col(_flag("product", v)) for v in value))
        elif name == "creditor":
            parts.append(pl.col("creditor_code").is_in(list(value)))
        else:  # bucket, risk_grade, amount_tier
            parts.append(pl.col(name).is_in(list(value)))
    if not parts:
        return pl.lit(True)
    return pl.all_horizontal(parts).fill_null(False)


def _flags(strategy: Strategy) -> list[pl.Expr]:
    """A boolean column per label and product the table names, computed once."""
    labels: set[str] = set()
    products: set[str] = set()
    for rule in strategy.rules:
        for name, value in rule.when.conditions():
            if name.startswith("labels_"):
                labels.update(value)
            elif name == "product":
                products.update(value)
    return [
        *(pl.col("labels").list.contains(v).fill_null(False).alias(_flag("label", v))
          for v in sorted(labels)),
        *(pl.col("products").list.contains(v).fill_null(False).alias(_flag("product", v))
          for v in sorted(products)),
    ]  # fmt: skip


def segment_cases(strategy: Strategy, cases: pl.DataFrame) -> pl.DataFrame:
    """Add ``segment`` (null: no row matched, or a conflict), ``rule_no`` (1-based row of
    the table that decided) and ``conflict`` (``unique`` policy: several rows matched).

    A case with no grade yet matches ``risk_grade: [none]``.
    """
    missing = [c for c in CASE_SCHEMA if c not in cases.columns]
    if missing:
        raise ValueError(f"segment_cases needs the columns {', '.join(missing)}")
    flags = _flags(strategy)
    frame = cases.lazy().with_columns(pl.col("risk_grade").fill_null(UNGRADED))
    if flags:
        frame = frame.with_columns(flags)
    rows = [_row_expr(rule.when) for rule in strategy.rules]
    if strategy.hit_policy == "first":
        # the last matching row first, so the first matching row is applied last and wins
        chosen: pl.Expr = pl.lit(None, dtype=pl.Int32)
        for number in range(len(rows), 0, -1):
            hit = pl.lit(number, dtype=pl.Int32)
            chosen = pl.when(rows[number - 1]).then(hit).otherwise(chosen)
        decided = frame.with_columns(
            chosen.alias("rule_no"),
            pl.lit(False).alias("conflict"),
        )
    else:
        hits = pl.sum_horizontal(r.cast(pl.Int32) for r in rows)
        single = pl.sum_horizontal(
            r.cast(pl.Int32) * number for number, r in enumerate(rows, start=1)
        )
        decided = frame.with_columns(
            pl.when(hits == 1).then(single.cast(pl.Int32)).otherwise(None).alias("rule_no"),
            (hits > 1).alias("conflict"),
        )
    names = pl.Series(
        "segment", [None] + [rule.segment for rule in strategy.rules], dtype=pl.String
    )
    return (
        decided.with_columns(
            pl.col("rule_no")
            .fill_null(0)
            .replace_strict(list(range(len(names))), names.to_list(), return_dtype=pl.String)
            .alias("segment")
        )
        .select(*cases.columns, "segment", "rule_no", "conflict")
        .collect()
    )


def segment_days(
    segmented: pl.DataFrame, previous: pl.DataFrame, *, today: date, version_id: int
) -> pl.DataFrame:
    """Add ``since`` (the day the case entered its segment) and ``segment_day`` (0 that
    day), and ``changed`` (a new segment today: none before, another segment, or another
    strategy version's segment).

    ``previous``: ``case_id, segment, since, version_id`` as the store holds them.
    """
    before = previous.select(
        "case_id",
        pl.col("segment").alias("_prev_segment"),
        pl.col("since").alias("_prev_since"),
        pl.col("version_id").alias("_prev_version"),
    )
    same = (
        (pl.col("_prev_segment") == pl.col("segment"))
        & (pl.col("_prev_version") == version_id)
        & (pl.col("_prev_since") <= today)
    ).fill_null(False)
    return (
        segmented.join(before, on="case_id", how="left")
        .with_columns(
            pl.when(same).then(pl.col("_prev_since")).otherwise(pl.lit(today)).alias("since"),
            (~same & pl.col("segment").is_not_null()).alias("changed"),
        )
        .with_columns((pl.lit(today) - pl.col("since")).dt.total_days().alias("segment_day"))
        .drop("_prev_segment", "_prev_since", "_prev_version")
    )


def steps_frame(strategy: Strategy) -> pl.DataFrame:
    """Every step of every path, one row each (``last`` null: no end)."""
    rows = [
        {
            "segment": segment.code,
            "step": number,
            "action": step.action,
            "channel": CHANNEL_OF.get(step.action),
            "template": step.template,
            "priority": step.priority,
            "cap": step.cap,
            "_first": step.first,
            "_last": step.last,
            "_every": step.step,
        }
        for segment in strategy.segments
        for number, step in enumerate(segment.path)
    ]
    schema = {
        "segment": pl.String, "step": pl.Int32, "action": pl.String, "channel": pl.String,
        "template": pl.String, "priority": pl.Int32, "cap": pl.Int64, "_first": pl.Int64,
        "_last": pl.Int64, "_every": pl.Int64,
    }  # fmt: skip
    return pl.DataFrame(rows, schema=schema, orient="row")


def plan_actions(strategy: Strategy, segmented: pl.DataFrame) -> pl.DataFrame:
    """Today's planned actions (:data:`ACTION_SCHEMA`): each step of a case's path whose
    schedule falls on its ``segment_day``. ``hold`` steps plan nothing to do but are kept,
    so the case page shows the path holds it. (One filter per step: a path has a handful of
    steps, and this beats joining every case to every step of its path.)"""
    base = segmented.lazy().select("case_id", "debtor_id", "segment", "segment_day", "due_fen")
    day = pl.col("segment_day")
    parts = []
    for segment in strategy.segments:
        for number, step in enumerate(segment.path):
            due = (day >= step.first) & ((day - step.first) % step.step == 0)
            if step.last is not None:
                due = due & (day <= step.last)
            parts.append(
                base.filter((pl.col("segment") == segment.code) & due).select(
                    "case_id", "debtor_id", "segment",
                    pl.lit(number, dtype=pl.Int32).alias("step"),
                    pl.lit(step.action, dtype=pl.String).alias("action"),
                    pl.lit(CHANNEL_OF.get(step.action), dtype=pl.String).alias("channel"),
                    pl.lit(step.template, dtype=pl.String).alias("template"),
                    pl.lit(step.priority, dtype=pl.Int32).alias("priority"),
                    pl.lit(step.cap, dtype=pl.Int64).alias("cap"),
                    "due_fen",
                )
            )  # fmt: skip
    if not parts:
        return pl.DataFrame(schema=ACTION_SCHEMA)
    return pl.concat(pl.collect_all(parts)).select(
        *[pl.col(c).cast(t) for c, t in ACTION_SCHEMA.items()]
    )


def apply_caps(actions: pl.DataFrame) -> pl.DataFrame:
    """Add ``capped``: beyond the step's daily cap in its segment, taking cases by call
    priority (1 first; none last), then the largest amount due, then case id."""
    limited = actions.filter(pl.col("cap").is_not_null())
    if limited.height == 0:
        return actions.with_columns(pl.lit(False).alias("capped"))
    over = (
        limited.select("case_id", "segment", "step", "cap", "due_fen",
                       pl.col("priority").fill_null(NO_CALL_PRIORITY).alias("_p"))
        .sort("_p", "due_fen", "case_id", descending=[False, True, False])
        .with_columns(pl.int_range(1, pl.len() + 1).over("segment", "step").alias("_rank"))
        .filter(pl.col("_rank") > pl.col("cap"))
        .select("case_id", "step", pl.lit(True).alias("capped"))
    )  # fmt: skip
    return actions.join(over, on=["case_id", "step"], how="left").with_columns(
        pl.col("capped").fill_null(False)
    )


def call_priority(actions: pl.DataFrame) -> pl.DataFrame:
    """``case_id, call_priority``: the best priority of the case's calls planned today."""
    return (
        actions.filter(pl.col("action").is_in(["call", "ivr"]))
        .group_by("case_id")
        .agg(pl.col("priority").min().fill_null(NO_CALL_PRIORITY).alias("call_priority"))
    )
