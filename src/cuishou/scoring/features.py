"""The feature step (特征计算): one row per case open at a business date D, pure Polars.

Like the daily cycle's steps (:mod:`cuishou.engine.steps`), :func:`build_features` takes
frames and plain values and returns a frame; it reads no store, clock or environment
(:mod:`cuishou.scoring.repository` reads the frames). Every step is local to a case (or to a
person, for co-debts), set-based, with no per-row Python.

As of D (no leakage)
--------------------
"As of D" is what was known at the end of D in the zone of the case's creditor. The frames may
hold later rows (a reader may fetch a wider time window); this step cuts every dated row to D
itself: payments by the day paid and the day reversed, contacts by the day they happened,
promises by the day taken and the day judged, holds by the days opened and lifted, contact
points by the days recorded and marked invalid, bucket history by its date, accounts by the day
placed. Only ``accounts.owed_fen`` arrives already cut (the ledger summed up to D by the
reader, :func:`cuishou.scoring.repository.read_frames`).

Frames and their columns (:class:`FeatureFrames`; the schemas below)
--------------------------------------------------------------------
cases
    ``case_id, creditor_id, debtor_id, opened_on, tz`` (the creditor's zone), ``id_number``
accounts
    ``account_id, case_id, product_code, snapshot_due_fen, overdue_since, installment_fen``
    (the creditor's snapshot), ``placed_on`` (its first ledger entry's date), ``owed_fen``
    (the ledger up to D), ``original_fen`` (its placement entries)
payments
    ``account_id, reference, paid_at, amount_fen, reversed_at`` (times aware UTC; the parts
    of one case payment share a reference)
history
    ``account_id, as_of, dpd, bucket, movement`` — bucket history rows
contacts
    ``case_id, at, outcome, point_owner`` (``debtor`` | ``third_party``), ``notes``
promises
    ``promise_id, case_id, created_at, amount_fen, status, judged_on``
holds
    ``debtor_id, case_id`` (null: every case of the debtor), ``kind, opened_at, lifted_at``
points
    ``debtor_id, owner, created_at, invalidated_at`` (null: never marked invalid)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import polars as pl

from cuishou.accounts.rules import bucket_expr, bucket_rank_expr
from cuishou.contact.rules import OUTCOMES, party_expr
from cuishou.engine.steps import age, local_date_expr
from cuishou.kit.ids import birth_date_expr
from cuishou.scoring.catalogue import FEATURES, KEY_COLUMNS
from cuishou.scoring.config import FeatureConfig

UTC_TIME = pl.Datetime("us", "UTC")

CASES_SCHEMA: dict[str, pl.DataType] = {
    "case_id": pl.Int64(),
    "creditor_id": pl.Int64(),
    "debtor_id": pl.Int64(),
    "opened_on": pl.Date(),
    "tz": pl.String(),
    "id_number": pl.String(),
}
ACCOUNTS_SCHEMA: dict[str, pl.DataType] = {
    "account_id": pl.Int64(),
    "case_id": pl.Int64(),
    "product_code": pl.String(),
    "snapshot_due_fen": pl.Int64(),
    "overdue_since": pl.Date(),
    "installment_fen": pl.Int64(),
    "placed_on": pl.Date(),
    "owed_fen": pl.Int64(),
    "original_fen": pl.Int64(),
}
PAYMENTS_SCHEMA: dict[str, pl.DataType] = {
    "account_id": pl.Int64(),
    "reference": pl.String(),
    "paid_at": UTC_TIME,
    "amount_fen": pl.Int64(),
    "reversed_at": UTC_TIME,
}
HISTORY_SCHEMA: dict[str, pl.DataType] = {
    "account_id": pl.Int64(),
    "as_of": pl.Date(),
    "dpd": pl.Int64(),
    "bucket": pl.String(),
    "movement": pl.String(),
}
CONTACTS_SCHEMA: dict[str, pl.DataType] = {
    "case_id": pl.Int64(),
    "at": UTC_TIME,
    "outcome": pl.String(),
    "point_owner": pl.String(),
    "notes": pl.String(),
}
PROMISES_SCHEMA: dict[str, pl.DataType] = {
    "promise_id": pl.Int64(),
    "case_id": pl.Int64(),
    "created_at": UTC_TIME,
    "amount_fen": pl.Int64(),
    "status": pl.String(),
    "judged_on": pl.Date(),
}
HOLDS_SCHEMA: dict[str, pl.DataType] = {
    "debtor_id": pl.Int64(),
    "case_id": pl.Int64(),
    "kind": pl.String(),
    "opened_at": UTC_TIME,
    "lifted_at": UTC_TIME,
}
POINTS_SCHEMA: dict[str, pl.DataType] = {
    "debtor_id": pl.Int64(),
    "owner": pl.String(),
    "created_at": UTC_TIME,
    "invalidated_at": UTC_TIME,
}
SCHEMAS: dict[str, dict[str, pl.DataType]] = {
    "cases": CASES_SCHEMA,
    "accounts": ACCOUNTS_SCHEMA,
    "payments": PAYMENTS_SCHEMA,
    "history": HISTORY_SCHEMA,
    "contacts": CONTACTS_SCHEMA,
    "promises": PROMISES_SCHEMA,
    "holds": HOLDS_SCHEMA,
    "points": POINTS_SCHEMA,
}

#: the windows of the feature names (``attempts_30d`` …): D and the days before it
SHORT, MEDIUM, LONG = 30, 90, 180

#: the feature frame's columns and types (key columns first, then the catalogue's order)
OUTPUT_SCHEMA: dict[str, pl.DataType] = {
    "case_id": pl.Int64(),
    "creditor_id": pl.Int64(),
    "debtor_id": pl.Int64(),
    "as_of": pl.Date(),
    **{
        f.code: (
            pl.Boolean()
            if f.kind == "flag"
            else pl.String()
            if f.kind == "categorical"
            else pl.Float64()
            if f.code in ("owed_share", "paid_ratio", "connect_rate_30d", "right_party_rate_30d")
            else pl.Int64()
        )
        for f in FEATURES
    },
}
assert tuple(OUTPUT_SCHEMA)[: len(KEY_COLUMNS)] == KEY_COLUMNS


@dataclass(frozen=True, slots=True)
class FeatureFrames:
    """The facts the feature step reads (columns in the module docstring)."""

    cases: pl.DataFrame
    accounts: pl.DataFrame
    payments: pl.DataFrame
    history: pl.DataFrame
    contacts: pl.DataFrame
    promises: pl.DataFrame
    holds: pl.DataFrame
    points: pl.DataFrame

    @classmethod
    def of(cls, **frames: pl.DataFrame) -> FeatureFrames:
        """Frames conformed to the schemas (columns picked and cast); missing ones empty."""
        unknown = set(frames) - set(SCHEMAS)
        if unknown:
            raise ValueError(f"unknown frames: {sorted(unknown)}")
        chosen = {
            name: (
                frames[name].select(pl.col(c).cast(t) for c, t in schema.items())
                if name in frames
                else pl.DataFrame(schema=schema)
            )
            for name, schema in SCHEMAS.items()
        }
        return cls(**chosen)


def _zones(cases: pl.DataFrame) -> list[str]:
    return [str(z) for z in cases.get_column("tz").unique().drop_nulls().to_list()]


def _within(day: pl.Expr, as_of: date, days: int) -> pl.Expr:
    """``day`` is one of the ``days`` days ending with D (D − days + 1 … D)."""
    return day.is_between(pl.lit(as_of - timedelta(days=days - 1)), pl.lit(as_of))


def _days_to(as_of: date, day: pl.Expr) -> pl.Expr:
    return (pl.lit(as_of, dtype=pl.Date) - day).dt.total_days().cast(pl.Int64)


def _ratio(numerator: pl.Expr, denominator: pl.Expr) -> pl.Expr:
    return (
        pl.when(denominator > 0)
        .then(numerator.cast(pl.Float64) / denominator.cast(pl.Float64))
        .otherwise(pl.lit(None, dtype=pl.Float64))
    )


# --------------------------------------------------------------------- case state


def account_state(frames: FeatureFrames, as_of: date, config: FeatureConfig) -> pl.DataFrame:
    """Each account placed by D with its aging at D (:func:`cuishou.engine.steps.age`, the
    daily cycle's own step): ``outstanding_fen, new_dpd, new_bucket, new_status`` besides the
    account's columns. What it owes is its ledger up to D (``owed_fen``)."""
    placed = frames.accounts.filter(pl.col("placed_on") <= as_of).with_columns(
        (pl.col("snapshot_due_fen") - pl.max_horizontal(pl.col("owed_fen"), pl.lit(0))).alias(
            "paid_fen"
        )
    )
    return age(placed, as_of, config.cycle)


def case_state(
    frames: FeatureFrames,
    as_of: date,
    config: FeatureConfig,
    accounts: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Every case opened by D with its state at D, as the daily cycle's roll-up decides it
    (:func:`cuishou.engine.steps.case_rollup`): ``is_open`` (an account still owes), ``dpd``
    (worst open account), ``bucket``, ``bucket_rank``, ``owed_fen``, ``original_fen``,
    ``accounts``, ``product`` (of the largest account), ``instalment_fen`` (the accounts'
    monthly instalments). ``accounts``: :func:`account_state`, when already computed."""
    if accounts is None:
        accounts = account_state(frames, as_of, config)
    is_open = pl.col("new_status") == "open"
    # per-row values first and one sort (the largest account first), then plain aggregations
    # in row order: an expression that sorts or filters inside an aggregation runs per group
    rolled = (
        accounts.select(
            "case_id",
            is_open.alias("_open"),
            pl.when(is_open).then(pl.col("new_dpd")).alias("_open_dpd"),
            "outstanding_fen",
            "original_fen",
            "product_code",
            pl.col("installment_fen").clip(lower_bound=0).alias("_instalment"),
            "account_id",
        )
        .sort(["case_id", "original_fen", "account_id"], descending=[False, True, False])
        .group_by("case_id")
        .agg(
            pl.col("_open").any().alias("is_open"),
            pl.col("_open_dpd").max().fill_null(0).cast(pl.Int64).alias("dpd"),
            pl.col("outstanding_fen").sum().cast(pl.Int64).alias("owed_fen"),
            pl.col("original_fen").sum().cast(pl.Int64).alias("original_fen"),
            pl.len().cast(pl.Int64).alias("accounts"),
            pl.col("product_code").first().alias("product"),
            pl.col("_instalment").sum().cast(pl.Int64).alias("instalment_fen"),
        )
    )
    return (
        frames.cases.filter(pl.col("opened_on") <= as_of)
        .join(rolled, on="case_id", how="inner")
        .with_columns(bucket_expr(pl.col("dpd"), config.buckets).alias("bucket"))
        .with_columns(
            bucket_rank_expr(pl.col("bucket"), config.buckets).cast(pl.Int64).alias("bucket_rank")
        )
    )


# --------------------------------------------------------------------- feature groups


def _history_features(
    frames: FeatureFrames, accounts: pl.DataFrame, cases: pl.DataFrame, as_of: date,
    config: FeatureConfig,
) -> pl.DataFrame:  # fmt: skip
    """``max_dpd_180d, days_in_bucket, roll_backs_180d, roll_forwards_180d`` per case."""
    history = (
        frames.history.filter(pl.col("as_of") <= as_of)
        .sort("account_id", "as_of")
        .join(
            accounts.select("account_id", "case_id"),
            on="account_id",
            how="inner",
            maintain_order="left",
        )
    )
    # flags first, then plain sums per case (expressions inside an aggregation run per group)
    in_window = _within(pl.col("as_of"), as_of, LONG)
    recorded = (
        history.select(
            "case_id",
            pl.when(in_window).then(pl.col("dpd")).alias("_dpd"),
            (pl.col("movement").is_in(["roll_back", "cure"]) & in_window).alias("_back"),
            ((pl.col("movement") == "roll_forward") & in_window).alias("_forward"),
        )
        .group_by("case_id")
        .agg(
            pl.col("_dpd").max().cast(pl.Int64).alias("_max_recorded"),
            pl.col("_back").sum().cast(pl.Int64).alias("roll_backs_180d"),
            pl.col("_forward").sum().cast(pl.Int64).alias("roll_forwards_180d"),
        )
    )
    # the start of each account's latest run of rows in one bucket, and its last row
    runs = (
        history.with_columns(
            # sorted by account and date: a run starts at an account's first row or a new bucket
            (
                (pl.col("account_id") != pl.col("account_id").shift(1))
                | (pl.col("bucket") != pl.col("bucket").shift(1))
            )
            .fill_null(True)
            .alias("_starts")
        )
        .with_columns(pl.when(pl.col("_starts")).then(pl.col("as_of")).alias("_run_start"))
        .group_by("account_id")
        .agg(
            pl.col("_run_start").max(),
            pl.col("as_of").max().alias("_last_row"),
            pl.col("bucket").last().alias("_last_bucket"),
        )
    )
    first_dpd = {b.name: b.min_dpd for b in config.buckets.buckets}
    estimated = pl.lit(as_of, dtype=pl.Date) - pl.duration(
        days=pl.col("new_dpd").cast(pl.Int64)
        - pl.col("new_bucket").replace_strict(first_dpd, return_dtype=pl.Int64)
    )
    after_last = pl.col("_last_row") + pl.duration(days=1)
    entered = (
        pl.when(pl.col("_last_bucket") == pl.col("new_bucket"))
        .then(pl.col("_run_start"))
        .when(pl.col("_last_row").is_not_null())
        .then(pl.max_horizontal(estimated, after_last))
        .otherwise(estimated)
    )
    entries = (
        accounts.filter(pl.col("new_status") == "open")
        .join(runs, on="account_id", how="left")
        .join(cases.select("case_id", "bucket"), on="case_id", how="inner")
        .filter(pl.col("new_bucket") == pl.col("bucket"))
        .select("case_id", entered.alias("_entered"))
        .group_by("case_id")
        .agg(pl.col("_entered").min())
    )
    return (
        cases.select("case_id", "dpd", "opened_on")
        .join(recorded, on="case_id", how="left")
        .join(entries, on="case_id", how="left")
        .select(
            "case_id",
            pl.max_horizontal("dpd", "_max_recorded").cast(pl.Int64).alias("max_dpd_180d"),
            pl.max_horizontal(_days_to(as_of, pl.col("_entered")), pl.lit(0))
            .fill_null(0)
            .cast(pl.Int64)
            .alias("days_in_bucket"),
            pl.col("roll_backs_180d").fill_null(0),
            pl.col("roll_forwards_180d").fill_null(0),
        )
    )


def _payments(frames: FeatureFrames, accounts: pl.DataFrame, zones: list[str]) -> pl.DataFrame:
    """One row per payment of a case (its parts summed): ``case_id, reference, paid_at,
    paid_on, amount_fen, reversed_on`` (business dates in the creditor's zone)."""
    parts = frames.payments.join(
        accounts.select("account_id", "case_id", "tz"), on="account_id", how="inner"
    )
    return (
        parts.group_by("case_id", "reference")
        .agg(
            pl.col("paid_at").min(),
            pl.col("amount_fen").sum().cast(pl.Int64),
            pl.col("reversed_at").max(),
            pl.col("tz").first(),
        )
        .with_columns(
            local_date_expr(pl.col("paid_at"), pl.col("tz"), zones).alias("paid_on"),
            local_date_expr(pl.col("reversed_at"), pl.col("tz"), zones).alias("reversed_on"),
        )
    )


def _payment_features(payments: pl.DataFrame, cases: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """``payments_count … days_since_payment`` and ``_last_paid_at`` per case."""
    known = payments.filter(pl.col("paid_on") <= as_of)
    reversed_by_d = pl.col("reversed_on").is_not_null() & (pl.col("reversed_on") <= as_of)
    valid = known.filter(~reversed_by_d)
    # what was due just before each payment: the accounts' instalments when they have
    # some, otherwise what the case owed then (owed at D plus the payments since)
    ordered = valid.join(
        cases.select("case_id", "owed_fen", "instalment_fen"), on="case_id", how="inner"
    ).sort("case_id", "paid_at", "reference", descending=[False, True, True])
    due_then = (
        pl.when(pl.col("instalment_fen") > 0)
        .then(pl.col("instalment_fen"))
        .otherwise(pl.col("owed_fen") + pl.col("amount_fen").cum_sum().over("case_id"))
    )
    in_90 = _within(pl.col("paid_on"), as_of, MEDIUM)
    paid = (
        ordered.with_columns(
            in_90.alias("_in_90"),
            pl.when(in_90).then(pl.col("amount_fen")).otherwise(0).alias("_amount_90"),
            (in_90 & (pl.col("amount_fen") < due_then)).alias("_partial"),
        )
        .group_by("case_id")
        .agg(
            pl.len().cast(pl.Int64).alias("payments_count"),
            pl.col("_in_90").sum().cast(pl.Int64).alias("payments_90d"),
            pl.col("_amount_90").sum().cast(pl.Int64).alias("paid_fen_90d"),
            pl.col("amount_fen").sum().cast(pl.Int64).alias("_paid_fen"),
            pl.col("_partial").sum().cast(pl.Int64).alias("partial_payments_90d"),
            pl.col("paid_on").max().alias("_last_paid_on"),
            pl.col("paid_at").max().alias("_last_paid_at"),
        )
    )
    reversals = (
        known.filter(reversed_by_d)
        .group_by("case_id")
        .agg(pl.len().cast(pl.Int64).alias("reversals"))
    )
    counts = ["payments_count", "payments_90d", "paid_fen_90d", "partial_payments_90d"]
    return (
        cases.select("case_id", "original_fen")
        .join(paid, on="case_id", how="left")
        .join(reversals, on="case_id", how="left")
        .select(
            "case_id",
            *(pl.col(c).fill_null(0) for c in counts),
            _ratio(pl.col("_paid_fen").fill_null(0), pl.col("original_fen")).alias("paid_ratio"),
            pl.col("reversals").fill_null(0),
            _days_to(as_of, pl.col("_last_paid_on")).alias("days_since_payment"),
            "_last_paid_at",
        )
    )


def _contact_features(
    frames: FeatureFrames, cases: pl.DataFrame, paid: pl.DataFrame, as_of: date,
    zones: list[str], config: FeatureConfig,
) -> pl.DataFrame:  # fmt: skip
    """``attempts_30d … right_party_since_payment`` per case."""
    connected_codes = [code for code, o in OUTCOMES.items() if o.connected]
    # a one-way message (``message_sent``) is no attempt to reach: counting it would make
    # every SMS campaign look like unanswered calls
    attempt_codes = [code for code, o in OUTCOMES.items() if o.attempt]
    keywords = list(config.hardship_keywords)
    contacts = (
        frames.contacts.lazy()
        .join(cases.lazy().select("case_id", "tz"), on="case_id", how="inner")
        .with_columns(local_date_expr(pl.col("at"), pl.col("tz"), zones).alias("day"))
        .filter(pl.col("day") <= as_of)
        .join(paid.lazy().select("case_id", "_last_paid_at"), on="case_id", how="left")
        .with_columns(
            (party_expr(pl.col("outcome"), pl.col("point_owner")) == "debtor").alias("_rpc"),
            pl.col("outcome").is_in(connected_codes).alias("_connected"),
            pl.col("outcome").is_in(attempt_codes).alias("_attempt"),
            pl.col("notes").fill_null("").str.strip_chars().alias("_note"),
        )
    )
    in_30 = _within(pl.col("day"), as_of, SHORT)
    in_90 = _within(pl.col("day"), as_of, MEDIUM)
    since_paid = pl.col("_last_paid_at").is_not_null() & (pl.col("at") > pl.col("_last_paid_at"))
    refused = pl.col("outcome") == "refused"
    hardship = pl.col("_note").str.contains_any(keywords, ascii_case_insensitive=True)
    flags = {
        "attempts_30d": in_30 & pl.col("_attempt"),
        "connected_30d": in_30 & pl.col("_connected"),
        "right_party_30d": in_30 & pl.col("_rpc"),
        "right_party_90d": in_90 & pl.col("_rpc"),
        "refusals_90d": in_90 & refused,
        "refusals_with_reason_90d": in_90 & refused & (pl.col("_note") != ""),
        "hardship_contacts_90d": in_90 & hardship,
        "attempts_since_payment": since_paid & pl.col("_attempt"),
        "right_party_since_payment": since_paid & pl.col("_rpc"),
    }
    agg = (
        contacts.select(
            "case_id",
            *(flag.alias(name) for name, flag in flags.items()),
            pl.when(pl.col("_rpc")).then(pl.col("day")).alias("_last_rpc"),
        )
        .group_by("case_id")
        .agg(
            *(pl.col(name).sum().cast(pl.Int64) for name in flags),
            pl.col("_last_rpc").max(),
        )
        .collect()
    )
    counts = [
        "attempts_30d", "connected_30d", "right_party_30d", "right_party_90d", "refusals_90d",
        "refusals_with_reason_90d", "hardship_contacts_90d", "attempts_since_payment",
        "right_party_since_payment",
    ]  # fmt: skip
    since_rpc = _days_to(as_of, pl.col("_last_rpc"))
    return (
        cases.select("case_id", "opened_on")
        .join(agg, on="case_id", how="left")
        .with_columns(pl.col(c).fill_null(0) for c in counts)
        .select(
            "case_id",
            "attempts_30d",
            "connected_30d",
            _ratio(pl.col("connected_30d"), pl.col("attempts_30d")).alias("connect_rate_30d"),
            "right_party_30d",
            _ratio(pl.col("right_party_30d"), pl.col("attempts_30d")).alias("right_party_rate_30d"),
            "right_party_90d",
            "refusals_90d",
            "refusals_with_reason_90d",
            "hardship_contacts_90d",
            since_rpc.alias("days_since_right_party"),
            pl.coalesce(since_rpc, _days_to(as_of, pl.col("opened_on"))).alias("days_unreached"),
            "attempts_since_payment",
            "right_party_since_payment",
        )
    )


def _promise_features(
    frames: FeatureFrames, cases: pl.DataFrame, as_of: date, zones: list[str]
) -> pl.DataFrame:
    """``promises_made_180d … promises_open`` per case (a promise judged after D is open)."""
    promises = (
        frames.promises.join(cases.select("case_id", "tz"), on="case_id", how="inner")
        .with_columns(local_date_expr(pl.col("created_at"), pl.col("tz"), zones).alias("taken"))
        .filter(pl.col("taken") <= as_of)
        .with_columns(
            pl.when(pl.col("judged_on").is_not_null() & (pl.col("judged_on") <= as_of))
            .then(pl.col("status"))
            .otherwise(pl.lit("open"))
            .alias("_status")
        )
    )
    made = _within(pl.col("taken"), as_of, LONG)
    flags = {
        "promises_made_180d": made,
        "promises_kept_180d": made & (pl.col("_status") == "kept"),
        "promises_broken_180d": made & (pl.col("_status") == "broken"),
        "promises_partly_kept_180d": made & (pl.col("_status") == "partly_kept"),
        "promises_open": pl.col("_status") == "open",
    }
    agg = (
        promises.select("case_id", *(flag.alias(name) for name, flag in flags.items()))
        .group_by("case_id")
        .agg(pl.col(name).sum().cast(pl.Int64) for name in flags)
    )
    columns = [
        "promises_made_180d", "promises_kept_180d", "promises_broken_180d",
        "promises_partly_kept_180d", "promises_open",
    ]  # fmt: skip
    return (
        cases.select("case_id")
        .join(agg, on="case_id", how="left")
        .select("case_id", *(pl.col(c).fill_null(0) for c in columns))
    )


def _hold_features(
    frames: FeatureFrames, cases: pl.DataFrame, as_of: date, zones: list[str]
) -> pl.DataFrame:
    """``dispute_hold, complaint_hold``: a hold of that kind on the case (or on every case of
    its debtor) opened by the end of D and not lifted by then."""
    holds = (
        frames.holds.rename({"case_id": "hold_case_id"})
        .join(cases.select("case_id", "debtor_id", "tz"), on="debtor_id", how="inner")
        .filter(pl.col("hold_case_id").is_null() | (pl.col("hold_case_id") == pl.col("case_id")))
        .with_columns(
            local_date_expr(pl.col("opened_at"), pl.col("tz"), zones).alias("_opened"),
            local_date_expr(pl.col("lifted_at"), pl.col("tz"), zones).alias("_lifted"),
        )
        .filter(
            (pl.col("_opened") <= as_of)
            & (pl.col("_lifted").is_null() | (pl.col("_lifted") > as_of))
        )
        .select(
            "case_id",
            (pl.col("kind") == "dispute").alias("dispute_hold"),
            (pl.col("kind") == "complaint").alias("complaint_hold"),
        )
        .group_by("case_id")
        .agg(pl.col("dispute_hold", "complaint_hold").any())
    )
    return (
        cases.select("case_id")
        .join(holds, on="case_id", how="left")
        .with_columns(pl.col("dispute_hold", "complaint_hold").fill_null(False))
    )


def _point_features(
    frames: FeatureFrames, cases: pl.DataFrame, as_of: date, zones: list[str]
) -> pl.DataFrame:
    """``debtor_points_valid, third_party_points``: points recorded by D, not invalid by D."""
    points = (
        frames.points.join(cases.select("case_id", "debtor_id", "tz"), on="debtor_id", how="inner")
        .with_columns(
            local_date_expr(pl.col("created_at"), pl.col("tz"), zones).alias("_recorded"),
            local_date_expr(pl.col("invalidated_at"), pl.col("tz"), zones).alias("_invalid"),
        )
        .filter(
            (pl.col("_recorded") <= as_of)
            & (pl.col("_invalid").is_null() | (pl.col("_invalid") > as_of))
        )
        .select(
            "case_id",
            (pl.col("owner") == "debtor").alias("debtor_points_valid"),
            (pl.col("owner") == "third_party").alias("third_party_points"),
        )
        .group_by("case_id")
        .agg(pl.col("debtor_points_valid", "third_party_points").sum().cast(pl.Int64))
    )
    return (
        cases.select("case_id")
        .join(points, on="case_id", how="left")
        .with_columns(pl.col("debtor_points_valid", "third_party_points").fill_null(0))
    )


def _person_features(cases: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """``co_debts, age, region`` from the case's debtor's ID number (身份证号)."""
    born = birth_date_expr(pl.col("id_number"))
    before_birthday = (born.dt.month().cast(pl.Int64) * 100 + born.dt.day().cast(pl.Int64)) > (
        as_of.month * 100 + as_of.day
    )
    return cases.select(
        "case_id",
        (pl.len().over("id_number") - 1).cast(pl.Int64).alias("co_debts"),
        (pl.lit(as_of.year) - born.dt.year().cast(pl.Int64) - before_birthday.cast(pl.Int64))
        .cast(pl.Int64)
        .alias("age"),
        pl.col("id_number").str.slice(0, 2).alias("region"),
    )


# --------------------------------------------------------------------- the step


def build_features(
    frames: FeatureFrames, as_of: date, *, config: FeatureConfig | None = None
) -> pl.DataFrame:
    """特征计算: the feature frame at D, one row per case open at D (``OUTPUT_SCHEMA``,
    sorted by ``case_id``); every definition is in :mod:`cuishou.scoring.catalogue`."""
    config = config or FeatureConfig()
    zones = _zones(frames.cases)
    accounts = account_state(frames, as_of, config).join(
        frames.cases.select("case_id", "tz"), on="case_id", how="inner"
    )
    states = case_state(frames, as_of, config, accounts)
    cases = states.filter(pl.col("is_open"))
    # payments are dated for every case, so co-debts and the last payment see all of them
    paid = _payment_features(_payments(frames, accounts, zones), cases, as_of)
    head = cases.select(
        *KEY_COLUMNS[:3],
        pl.lit(as_of, dtype=pl.Date).alias("as_of"),
        "dpd",
        "bucket",
        "bucket_rank",
        "owed_fen",
        "original_fen",
        _ratio(pl.col("owed_fen"), pl.col("original_fen")).alias("owed_share"),
        "accounts",
        "product",
    ).sort("case_id")
    groups = [
        _history_features(frames, accounts, cases, as_of, config),
        paid,
        _contact_features(frames, cases, paid, as_of, zones, config),
        _promise_features(frames, cases, as_of, zones),
        _hold_features(frames, cases, as_of, zones),
        _point_features(frames, cases, as_of, zones),
        _person_features(cases, as_of),
    ]
    # every group has one row per open case: sorted by case, they sit side by side (a
    # chain of seven joins on a million cases cost ten times as much)
    columns = [head]
    for group in groups:
        group = group.sort("case_id")
        if not group.get_column("case_id").equals(head.get_column("case_id")):
            raise AssertionError("a feature group lost or repeated a case")  # pragma: no cover
        columns.append(group.drop("case_id"))
    frame = pl.concat(columns, how="horizontal")
    return frame.select(pl.col(c).cast(t) for c, t in OUTPUT_SCHEMA.items())
