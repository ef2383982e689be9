"""Judging planned contacts in bulk (计划触达的合规预判): the gate before the day begins.

The strategy plans the day's calls, messages and visits for every open case; each goes
through the gate here before anyone acts on it. For each planned contact the gate gives the
window of the day in which it is allowed (:func:`cuishou.compliance.rules.contact_window`:
the hours that hold in every zone the debtor may be in) and the first instant of that window
it would allow the contact given the history known now
(:func:`cuishou.compliance.rules.earliest_allowed_frame`, the frame twin of ``check``'s
search): ``planned`` from the window's start, ``moved`` later in the window (a quiet period
after a conversation, a 7-day call cap), or ``dropped`` with the rules that refuse it
(a suspension, an opt-out, a daily cap, no hours that day).

The history is every stored contact with the debtor in the 31 days before the window (as
the scalar gate reads it); the holds are those in force at the window's start.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import polars as pl

from cuishou.compliance import repository as repo
from cuishou.compliance.logged import WINDOW, debtor_zones, holds_at
from cuishou.compliance.pack import load_pack
from cuishou.compliance.rules import earliest_allowed_frame, plan_windows
from cuishou.store.bulk import Bulk

#: the planned contacts :func:`judge_planned` reads
PLANNED_SCHEMA: dict[str, pl.DataType] = {
    "candidate_id": pl.Int64(),
    "case_id": pl.Int64(),
    "debtor_id": pl.Int64(),
    "channel": pl.String(),
    "contact_point_id": pl.Int64(),
    "pack": pl.String(),
}
#: what :func:`judge_planned` returns for each planned contact
JUDGED_SCHEMA: dict[str, pl.DataType] = {
    "candidate_id": pl.Int64(),
    "window_start": pl.Datetime("us", "UTC"),
    "window_end": pl.Datetime("us", "UTC"),
    "status": pl.String(),
    "rule_ids": pl.List(pl.String()),
}
#: field visits go in pairs (两人同行): the plan asks the gate for the pack's minimum
VISIT_COLLECTORS = 2


def _party(owner: pl.Expr) -> pl.Expr:
    return pl.when(owner == "third_party").then(pl.lit("third_party")).otherwise(pl.lit("debtor"))


def judge_planned(bulk: Bulk, planned: pl.DataFrame, *, day: date) -> pl.DataFrame:
    """Judge the day's planned debtor contacts (:data:`PLANNED_SCHEMA`, one rule pack name
    per row) before the day begins: :data:`JUDGED_SCHEMA` per contact (module docstring).

    ``window_start`` is the first allowed instant and ``window_end`` the end of the window
    (exclusive): the gate allows the contact at every instant in between, as far as is known
    now. ``rule_ids`` are the rules that refused it at the window's opening (empty when it
    was allowed from the start).
    """
    planned = planned.select(pl.col(c).cast(t) for c, t in PLANNED_SCHEMA.items())
    if planned.height == 0:
        return pl.DataFrame(schema=JUDGED_SCHEMA)
    debtors = planned.select("debtor_id").unique()
    home_day = datetime.combine(day, datetime.min.time())
    windows = debtors.with_columns(
        # a generous history window: the day in any zone, and the 31 days the gate reads
        pl.lit(home_day - WINDOW - timedelta(days=2)).dt.replace_time_zone("UTC").alias("since"),
        pl.lit(home_day + timedelta(days=2)).dt.replace_time_zone("UTC").alias("until"),
    )
    staged = repo.stage_debtor_windows(bulk, windows)
    zones = debtor_zones(bulk, staged)
    stored = repo.debtors_history(bulk, staged)
    holds = repo.debtors_holds(bulk, staged)
    history = stored.select(
        "debtor_id", "at", "channel", "contact_point_id",
        _party(pl.col("owner")).alias("party"), "outcome",
    )  # fmt: skip
    base = planned.join(zones.select("debtor_id", "zones"), on="debtor_id", how="left").select(
        "candidate_id", "case_id", "debtor_id", "channel", "contact_point_id", "pack",
        pl.col("zones").fill_null(pl.lit(["Asia/Shanghai"], dtype=pl.List(pl.String))),
    )  # fmt: skip
    results = []
    for pack_name in sorted(base.get_column("pack").unique().to_list()):
        pack = load_pack(pack_name)
        rows = plan_windows(pack, base.filter(pl.col("pack") == pack_name), day)
        # holds in force when the window opens (or at the day's start for a shut window)
        opening = rows.select(
            pl.col("candidate_id").alias("contact_id"), "debtor_id", "case_id",
            pl.col("window_start")
            .fill_null(pl.lit(home_day).dt.replace_time_zone("UTC"))
            .alias("at"),
        )  # fmt: skip
        held = holds_at(opening, holds).rename({"contact_id": "candidate_id"})
        candidates = rows.join(held, on="candidate_id", how="left").select(
            "candidate_id", "debtor_id", "channel", "contact_point_id",
            pl.lit("debtor").alias("party"), "zones",
            pl.lit(True).alias("third_party_named"),
            pl.when(pl.col("channel") == "visit").then(VISIT_COLLECTORS).otherwise(1)
            .cast(pl.Int32).alias("collectors"),
            pl.col("suspended").fill_null(pl.lit([], dtype=pl.List(pl.String))),
            pl.lit(False).alias("debtor_numbers_invalid"),
            pl.col("opted_out").fill_null(pl.lit([], dtype=pl.List(pl.String))),
            "window_start", "window_end",
        )  # fmt: skip
        decided = earliest_allowed_frame(pack, candidates, history, window=WINDOW)
        results.append(
            candidates.select("candidate_id", "window_start", "window_end")
            .join(decided, on="candidate_id", how="left")
            .select(
                "candidate_id",
                pl.when(pl.col("allowed")).then(pl.col("at")).alias("window_start"),
                pl.when(pl.col("allowed")).then(pl.col("window_end")).alias("window_end"),
                pl.when(pl.col("allowed") & (pl.col("at") == pl.col("window_start")))
                .then(pl.lit("planned"))
                .when(pl.col("allowed"))
                .then(pl.lit("moved"))
                .otherwise(pl.lit("dropped"))
                .alias("status"),
                "rule_ids",
            )
        )
    return pl.concat(results).select(pl.col(c).cast(t) for c, t in JUDGED_SCHEMA.items())
