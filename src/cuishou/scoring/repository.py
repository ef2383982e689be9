"""Scoring reads: the feature step's frames as of a business date, in bulk.

Every read goes through a :class:`~cuishou.store.bulk.Bulk` (an ADBC read transaction of its
own, or the caller's — the daily cycle's or a request's session), one query per table, each
table read once with only the columns the feature step uses, as typed Polars frames; rows of
two tables are matched in Polars on their ids (a contact's point owner, a point's first
invalidation event) rather than joined in SQL, and the daily step reads its queries side by
side on two connections of one snapshot (``BulkStore.read_parallel``).

Only what was known at the end of D is read: ledger entries effective on or before D (summed
per account), bucket history dated on or before D, and rows with a time (payments, reversals,
contacts, promises, holds, contact points and their invalidation) up to the end of D in UTC
plus 15 hours — every zone's end of D; the feature step cuts each to D in its creditor's zone.
A time after that window is read as "not yet" (a reversal, a lift, a judgement), never as a
value. See ``docs/scoring.md`` ("As of D").
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import polars as pl
from sqlalchemy import Engine

from cuishou.scoring.config import FeatureConfig, shipped_config
from cuishou.scoring.features import (
    ACCOUNTS_SCHEMA,
    CASES_SCHEMA,
    CONTACTS_SCHEMA,
    HISTORY_SCHEMA,
    HOLDS_SCHEMA,
    MEDIUM,
    PAYMENTS_SCHEMA,
    POINTS_SCHEMA,
    PROMISES_SCHEMA,
    UTC_TIME,
    FeatureFrames,
    build_features,
)
from cuishou.scoring.targets import HORIZON, build_targets
from cuishou.store.bulk import NULLABLE_ID, Bulk, BulkStore, Query

#: time zones are at most 14 hours from UTC: this margin holds every zone's end of a date
ZONE_MARGIN = timedelta(hours=15)
HOLD_KINDS = ("dispute", "complaint")
INVALIDATED = "contact_point.invalidated"
_OWED = "fee_fen + penalty_fen + interest_fen + principal_fen"


def _end_of(day: date) -> datetime:
    """A UTC time after the end of ``day`` in every zone."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=UTC) + ZONE_MARGIN


def _start_of(day: date) -> datetime:
    """A UTC time before the start of ``day`` in every zone."""
    return datetime.combine(day, time(0), tzinfo=UTC) - ZONE_MARGIN


def _time_until(bulk: Bulk, column: str) -> str:
    """``column`` when it is within the window, else null (not yet, as of D)."""
    return bulk.nullable(f"CASE WHEN {column} < :upper THEN {column} END", "''")


#: what is read of contact points: every point (a contact's owner) with its status
_POINTS_READ: dict[str, pl.DataType] = {
    "point_id": pl.Int64(),
    "debtor_id": pl.Int64(),
    "owner": pl.String(),
    "status": pl.String(),
    "created_at": UTC_TIME,
}
_CONTACTS_READ: dict[str, pl.DataType] = {
    **{c: t for c, t in CONTACTS_SCHEMA.items() if c != "point_owner"},
    "point_id": pl.Int64(),
}
_FIRST_INVALIDATED: dict[str, pl.DataType] = {"point_id": pl.Int64(), "first_at": UTC_TIME}


def frame_queries(bulk: Bulk, as_of: date) -> dict[str, Query]:
    """The reads of :func:`read_frames`, independent of each other (one query per table,
    joined in Polars on ids: a join in SQLite looks each row up in another B-tree)."""
    upper = _end_of(as_of)
    return {
        "cases": Query(
            """SELECT k.id AS case_id, k.creditor_id, k.debtor_id, k.opened_on,
                c.timezone AS tz, d.id_number
            FROM cases k JOIN creditors c ON c.id = k.creditor_id
                JOIN debtors d ON d.id = k.debtor_id
            WHERE k.opened_on <= :as_of""",
            CASES_SCHEMA,
            {"as_of": as_of},
        ),
        "accounts": Query(
            f"""SELECT a.id AS account_id, a.case_id, a.product_code, a.snapshot_due_fen,
                {bulk.nullable("a.overdue_since", "''")} AS overdue_since, a.installment_fen,
                l.placed_on, l.owed_fen, l.original_fen
            FROM accounts a JOIN (
                SELECT account_id, MIN(effective_on) AS placed_on,
                    CAST(SUM(CASE WHEN effective_on <= :as_of THEN {_OWED} ELSE 0 END)
                        AS BIGINT) AS owed_fen,
                    CAST(SUM(CASE WHEN kind = 'placement' THEN {_OWED} ELSE 0 END) AS BIGINT)
                        AS original_fen
                FROM ledger_entries GROUP BY account_id
            ) l ON l.account_id = a.id
            WHERE a.case_id IS NOT NULL AND l.placed_on <= :as_of""",  # noqa: S608 - constant fragments only
            ACCOUNTS_SCHEMA,
            {"as_of": as_of},
        ),
        "payments": Query(
            f"""SELECT p.account_id, p.reference, p.paid_at, p.amount_fen,
                {_time_until(bulk, "p.reversed_at")} AS reversed_at
            FROM payments p WHERE p.paid_at < :upper""",  # noqa: S608 - constant fragments only
            PAYMENTS_SCHEMA,
            {"upper": upper},
        ),
        "history": Query(
            """SELECT account_id, as_of, dpd, bucket, movement FROM bucket_history
            WHERE as_of <= :as_of""",
            HISTORY_SCHEMA,
            {"as_of": as_of},
        ),
        # notes only where a feature reads them (the 90 days to D): a case's whole history
        # of contacts is read as codes and times; the point's owner is joined in Polars
        "contacts": Query(
            """SELECT c.case_id, c.at, c.outcome,
                CASE WHEN c.at >= :notes_from THEN c.notes ELSE '' END AS notes,
                c.contact_point_id AS point_id
            FROM contacts c WHERE c.at < :upper""",
            _CONTACTS_READ,
            {"upper": upper, "notes_from": _start_of(as_of - timedelta(days=MEDIUM - 1))},
        ),
        "promises": Query(
            f"""SELECT id AS promise_id, case_id, created_at, amount_fen,
                CASE WHEN judged_on <= :as_of THEN status ELSE 'open' END AS status,
                {bulk.nullable("CASE WHEN judged_on <= :as_of THEN judged_on END", "''")}
                    AS judged_on
            FROM promises WHERE created_at < :upper""",  # noqa: S608 - constant fragments only
            PROMISES_SCHEMA,
            {"as_of": as_of, "upper": upper},
        ),
        "holds": Query(
            f"""SELECT debtor_id, {bulk.nullable("case_id", "0")} AS case_id, kind, opened_at,
                {_time_until(bulk, "lifted_at")} AS lifted_at
            FROM contact_holds
            WHERE opened_at < :upper AND kind IN ('dispute', 'complaint')""",  # noqa: S608 - constant fragments only
            {**HOLDS_SCHEMA, "case_id": NULLABLE_ID},
            {"upper": upper},
        ),
        "points": Query(
            """SELECT id AS point_id, debtor_id, owner, status, created_at
            FROM contact_points""",
            _POINTS_READ,
        ),
        "invalidated": Query(
            """SELECT entity_id AS point_id, MIN(at) AS first_at FROM events
            WHERE type = :invalidated GROUP BY entity_id""",
            _FIRST_INVALIDATED,
            {"invalidated": INVALIDATED},
        ),
    }


def read_frames(bulk: Bulk, as_of: date) -> FeatureFrames:
    """The feature step's frames as known at the end of ``as_of`` (module docstring); the
    reads run side by side when ``bulk`` is a parallel read
    (:meth:`~cuishou.store.bulk.BulkStore.read_parallel`)."""
    queries = frame_queries(bulk, as_of)
    # the largest reads first: a parallel read deals them to its connections in turn
    order = ("contacts", "accounts", "history", "points", "cases", "promises", "payments")
    read = bulk.fetch_many(
        {n: queries[n] for n in (*order, *(q for q in queries if q not in order))}
    )
    return read_frames_from(read, _end_of(as_of))


def read_frames_from(read: dict[str, pl.DataFrame], upper: datetime) -> FeatureFrames:
    """The frames of :func:`read_frames` from its reads (``upper``: the end of D in every
    zone)."""
    # a point marked invalid is invalid from its first invalidation event (from when it was
    # recorded when no event says when); one marked after D is still valid at D
    since = pl.coalesce("first_at", "created_at")
    points = (
        read["points"]
        .join(read["invalidated"], on="point_id", how="left")
        .filter(pl.col("created_at") < upper)
        .select(
            "debtor_id",
            "owner",
            "created_at",
            pl.when((pl.col("status") == "invalid") & (since < upper))
            .then(since)
            .alias("invalidated_at"),
        )
    )
    contacts = read["contacts"].join(
        read["points"].select("point_id", pl.col("owner").alias("point_owner")),
        on="point_id",
        how="inner",
        maintain_order="left",
    )
    return FeatureFrames(
        cases=read.get("cases", pl.DataFrame(schema=CASES_SCHEMA)),
        accounts=read.get("accounts", pl.DataFrame(schema=ACCOUNTS_SCHEMA)),
        payments=read["payments"],
        history=read["history"],
        contacts=contacts.select(list(CONTACTS_SCHEMA)),
        promises=read["promises"],
        holds=read["holds"],
        points=points.select(list(POINTS_SCHEMA)),
    )


def _with_bulk(store: Engine | Bulk, as_of: date) -> FeatureFrames:
    if isinstance(store, Bulk):
        return read_frames(store, as_of)
    with BulkStore(store).read_parallel() as bulk:
        return read_frames(bulk, as_of)


def features_at(
    store: Engine | Bulk, as_of: date, *, config: FeatureConfig | None = None
) -> pl.DataFrame:
    """The feature frame of every case open at ``as_of`` (read, then
    :func:`~cuishou.scoring.features.build_features`); ``store`` is an engine (a read
    transaction of its own) or the caller's :class:`Bulk`."""
    config = config or shipped_config()
    return build_features(_with_bulk(store, as_of), as_of, config=config)


def targets_at(
    store: Engine | Bulk,
    as_of: date,
    *,
    horizon: int = HORIZON,
    config: FeatureConfig | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The targets of the cases open at ``as_of`` from what happened in (D, D + horizon]:
    ``(cases, promises)`` frames of :func:`~cuishou.scoring.targets.build_targets`. Only
    meaningful once D + horizon has passed (the caller picks training dates)."""
    config = config or shipped_config()
    features = build_features(_with_bulk(store, as_of), as_of, config=config)
    later = _with_bulk(store, as_of + timedelta(days=horizon))
    return build_targets(features, later, as_of, horizon=horizon, config=config)


# --------------------------------------------------------------------------- for a lake

#: a date later than any business date: the reads of :func:`frame_queries` then cut nothing
_NO_CUT = date(9000, 1, 1)
#: each account's ledger facts, cut at no date (a lake cuts ``owed_fen`` itself)
LEDGER_FACTS_SCHEMA: dict[str, pl.DataType] = {
    "account_id": pl.Int64(),
    "product_code": pl.String(),
    "first_entry_on": pl.Date(),
    "original_fen": pl.Int64(),
}


def lake_reads(bulk: Bulk, *, notes_from: date | None) -> dict[str, pl.DataFrame]:
    """The feature step's facts for a Parquet lake: the same reads as :func:`read_frames`
    with no date cut (the feature step cuts every dated row to D itself), contact notes from
    ``notes_from`` on (``None``: all; the step reads them for the 90 days to D), and each
    account's ledger facts (``LEDGER_FACTS_SCHEMA``, every account with an entry, linked to
    a case yet or not). ``owed_fen`` and the cases' rows are the lake's to compose."""
    queries = frame_queries(bulk, _NO_CUT)
    contacts = queries["contacts"]
    since = _start_of(notes_from) if notes_from else datetime(1, 1, 1, tzinfo=UTC)
    chosen = {
        **{n: queries[n] for n in ("payments", "history", "promises", "holds", "points")},
        "invalidated": queries["invalidated"],
        "contacts": Query(contacts.sql, contacts.schema, {**contacts.params, "notes_from": since}),
        "ledger_facts": Query(
            f"""SELECT a.id AS account_id, a.product_code, l.first_entry_on, l.original_fen
            FROM accounts a JOIN (
                SELECT account_id, MIN(effective_on) AS first_entry_on,
                    CAST(SUM(CASE WHEN kind = 'placement' THEN {_OWED} ELSE 0 END) AS BIGINT)
                        AS original_fen
                FROM ledger_entries GROUP BY account_id
            ) l ON l.account_id = a.id""",  # noqa: S608 - constant fragments only
            LEDGER_FACTS_SCHEMA,
        ),
    }
    read = bulk.fetch_many(chosen)
    frames = read_frames_from(read, _end_of(_NO_CUT))
    return {
        "payment_history": frames.payments,
        "bucket_history": frames.history,
        "contacts": frames.contacts,
        "promise_history": frames.promises,
        "holds": frames.holds,
        "points": frames.points,
        "ledger_facts": read["ledger_facts"],
    }
