"""Judging many logged contacts at once (批量合规判定): the gate's bulk form, for real.

A dialer's result file logs calls that happened: they are judged, not refused — as
:func:`cuishou.compliance.service.judge_logged_contact` judges one contact, each call is
decided against the history before it, and a call the gate would have refused (and no
recorded override covers) is a violation. Here the facts of every debtor in the file are
fetched in a few set-based queries and the calls are decided by
:func:`cuishou.compliance.rules.history_facts` + :func:`~cuishou.compliance.rules.decide_frame`
(the Polars twins of ``facts_of`` + ``decide``).

The history of each call is the stored contacts in the 31 days before it (as the scalar
path reads it) **and the calls before it in the same batch**: the batch is judged as if its
calls had been logged one by one in time order. Likewise a debtor's numbers count as all
invalid once an earlier call of the batch found the last valid one 空号 (``invalid_number``).
"""

from __future__ import annotations

import json
from datetime import timedelta

import polars as pl

from cuishou.compliance import repository as repo
from cuishou.compliance.pack import load_pack
from cuishou.compliance.rules import decide_frame, history_facts
from cuishou.compliance.service import COMPLIANCE_VIOLATION, HISTORY_DAYS
from cuishou.kit.clock import zone
from cuishou.store.bulk import Bulk

#: the calls :func:`judge_logged_calls` reads, one row per new contact in time order
CALLS_SCHEMA: dict[str, pl.DataType] = {
    "contact_id": pl.Int64(),
    "case_id": pl.Int64(),
    "debtor_id": pl.Int64(),
    "at": pl.Datetime("us", "UTC"),
    "channel": pl.String(),
    "contact_point_id": pl.Int64(),
    "owner": pl.String(),
    "owner_name": pl.String(),
    "outcome": pl.String(),
}
WINDOW = timedelta(days=HISTORY_DAYS)


def _party(owner: pl.Expr) -> pl.Expr:
    return pl.when(owner == "third_party").then(pl.lit("third_party")).otherwise(pl.lit("debtor"))


def debtor_zones(bulk: Bulk, staged: str) -> pl.DataFrame:
    """``debtor_id, zones`` (home first, then the other zones of their own points, sorted);
    an unknown zone is a clear error, never a silent allow (as the scalar path)."""
    rows = repo.debtors_zones(bulk, staged)
    for name in rows.select(pl.concat_list("home", "zone").explode().drop_nulls().unique())[
        "home"
    ].to_list():
        zone(name)
    grouped = rows.group_by("debtor_id").agg(
        pl.col("home").first().fill_null("Asia/Shanghai").alias("_home"),
        pl.col("zone")
        .filter(pl.col("zone").is_not_null() & (pl.col("zone") != pl.col("home")))
        .unique()
        .sort()
        .alias("_others"),
    )
    return grouped.select(
        "debtor_id", pl.concat_list(pl.col("_home"), pl.col("_others")).alias("zones")
    )


def holds_at(calls: pl.DataFrame, holds: pl.DataFrame) -> pl.DataFrame:
    """``contact_id, suspended, opted_out``: the holds in force at each call's time."""
    hits = (
        calls.select("contact_id", "debtor_id", "case_id", "at")
        .join(holds.rename({"case_id": "_hold_case"}), on="debtor_id", how="inner")
        .filter(
            (pl.col("_hold_case").is_null() | (pl.col("_hold_case") == pl.col("case_id")))
            & (pl.col("opened_at") <= pl.col("at"))
            & (pl.col("lifted_at").is_null() | (pl.col("lifted_at") > pl.col("at")))
        )
    )
    return hits.group_by("contact_id").agg(
        pl.col("kind").filter(pl.col("kind") != "opt_out").unique().sort().alias("suspended"),
        pl.col("channel")
        .filter((pl.col("kind") == "opt_out") & pl.col("channel").is_not_null())
        .unique()
        .sort()
        .alias("opted_out"),
    )


def _numbers_invalid(calls: pl.DataFrame, phones: pl.DataFrame) -> pl.DataFrame:
    """``contact_id, debtor_numbers_invalid``: every own number of the debtor is invalid —
    stored so, or found 空号 by an earlier call of the batch."""
    found = (
        calls.filter(pl.col("outcome") == "invalid_number")
        .group_by("contact_point_id")
        .agg(pl.col("contact_id").min().alias("_found_by"))
    )
    points = phones.join(found, on="contact_point_id", how="left").with_columns(
        pl.when(pl.col("status") == "invalid")
        .then(pl.lit(0, dtype=pl.Int64))
        .otherwise(pl.col("_found_by"))
        .alias("_invalid_from")
    )
    return (
        calls.select("contact_id", "debtor_id")
        .join(points.select("debtor_id", "_invalid_from"), on="debtor_id", how="inner")
        .group_by("contact_id")
        .agg(
            (
                pl.col("_invalid_from").is_not_null()
                & (pl.col("_invalid_from") < pl.col("contact_id"))
            )
            .all()
            .alias("debtor_numbers_invalid")
        )
    )


def _covered(judged: pl.DataFrame, overrides: pl.DataFrame) -> pl.DataFrame:
    """``contact_id, covered``: every denied rule of the call is set aside by recorded
    overrides on its case, point and channel whose window holds its time (all or none)."""
    denied = judged.filter(~pl.col("allowed")).select(
        "contact_id", "case_id", "contact_point_id", "channel", "at", "rule_ids"
    )
    if overrides.height == 0 or denied.height == 0:
        return pl.DataFrame(schema={"contact_id": pl.Int64, "covered": pl.Boolean})
    rules = overrides.with_columns(
        pl.Series("_rules", [json.loads(r or "[]") for r in overrides["rules"].to_list()],
                  dtype=pl.List(pl.String))
    ).drop("rules")  # fmt: skip
    matches = (
        denied.join(rules, on=["case_id", "contact_point_id", "channel"], how="inner")
        .filter((pl.col("window_start") <= pl.col("at")) & (pl.col("window_end") > pl.col("at")))
        .group_by("contact_id")
        .agg(pl.col("rule_ids").first(), pl.col("_rules").explode().unique().alias("_all"))
    )
    return matches.select(
        "contact_id",
        (pl.col("rule_ids").list.set_difference("_all").list.len() == 0).alias("covered"),
    )


def judge_logged_calls(bulk: Bulk, calls: pl.DataFrame, *, pack_name: str) -> pl.DataFrame:
    """Judge new contacts (:data:`CALLS_SCHEMA`, ``contact_id`` ascending in time order)
    against the store and each other; ``contact_id, rule_ids, violation`` for each.

    ``rule_ids`` are the rules the gate would have refused the contact by; ``violation``
    is true when there are some and no recorded override sets all of them aside.
    """
    pack = load_pack(pack_name)
    calls = calls.select(pl.col(c).cast(t) for c, t in CALLS_SCHEMA.items())
    if calls.height == 0:
        return pl.DataFrame(
            schema={"contact_id": pl.Int64, "rule_ids": pl.List(pl.String), "violation": pl.Boolean}
        )
    windows = calls.group_by("debtor_id").agg(
        (pl.col("at").min() - WINDOW).alias("since"),
        pl.col("at").max().alias("until"),
    )
    staged = repo.stage_debtor_windows(bulk, windows)
    zones = debtor_zones(bulk, staged)
    stored = repo.debtors_history(bulk, staged)
    holds = repo.debtors_holds(bulk, staged)
    phones = repo.debtors_phones(bulk, staged)
    overrides = repo.debtors_overrides(bulk, staged)

    history = pl.concat(
        [
            stored.select(
                "debtor_id", "at", "channel", "contact_point_id",
                _party(pl.col("owner")).alias("party"), "outcome",
            ),
            calls.select(
                "debtor_id", "at", "channel", "contact_point_id",
                _party(pl.col("owner")).alias("party"), "outcome",
            ),
        ]
    )  # fmt: skip
    held = holds_at(calls, holds)
    invalid = _numbers_invalid(calls, phones)
    candidates = (
        calls.join(zones.select("debtor_id", "zones"), on="debtor_id", how="left")
        .join(held, on="contact_id", how="left")
        .join(invalid, on="contact_id", how="left")
        .select(
            pl.col("contact_id").alias("candidate_id"),
            "debtor_id",
            "at",
            "channel",
            "contact_point_id",
            _party(pl.col("owner")).alias("party"),
            pl.col("zones").fill_null(pl.lit(["Asia/Shanghai"], dtype=pl.List(pl.String))),
            (pl.col("owner_name").fill_null("").str.strip_chars() != "").alias("third_party_named"),
            pl.lit(1, dtype=pl.Int32).alias("collectors"),
            pl.col("suspended").fill_null(pl.lit([], dtype=pl.List(pl.String))),
            pl.col("debtor_numbers_invalid").fill_null(False),
            pl.col("opted_out").fill_null(pl.lit([], dtype=pl.List(pl.String))),
        )
    )
    decided = decide_frame(pack, history_facts(candidates, history, window=WINDOW))
    judged = calls.join(
        decided.select(pl.col("candidate_id").alias("contact_id"), "rule_ids", "allowed"),
        on="contact_id",
        how="left",
    )
    covered = _covered(judged, overrides)
    return (
        judged.join(covered, on="contact_id", how="left")
        .select(
            "contact_id",
            "rule_ids",
            (~pl.col("allowed") & ~pl.col("covered").fill_null(False)).alias("violation"),
        )
        .sort("contact_id")
    )


def violation_details(judged: pl.DataFrame, *, pack_id: str) -> pl.DataFrame:
    """``contact_id, payload`` (JSON text) of each violation: the ``compliance.violation``
    event's payload and the ``compliance_violation`` alert's details, as for one contact."""
    return judged.filter(pl.col("violation")).select(
        "contact_id",
        pl.struct(
            pl.lit(COMPLIANCE_VIOLATION).alias("kind"),
            pl.col("contact_id"),
            pl.col("rule_ids").alias("rules"),
            pl.lit(pack_id).alias("pack"),
        )
        .struct.json_encode()
        .alias("payload"),
    )


def pack_of(pack_name: str) -> str:
    """The id of the pack ``pack_name`` names (what violations cite)."""
    return load_pack(pack_name).id
