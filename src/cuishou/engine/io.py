"""The daily cycle's only store I/O: load the snapshot, write the decisions in bulk.

The runner receives its I/O as a :class:`CycleIO` (load a :class:`Snapshot`, write
:class:`Decisions`), so another reader/writer (Parquet files, Spark partitions) can
replace :class:`StoreCycleIO` without touching the steps.

:class:`StoreCycleIO` reads and writes the store through ADBC (:mod:`cuishou.store.bulk`,
the one home of bulk I/O and its store quirks): queries come back as Arrow tables turned
into Polars frames without a row-by-row step, and decisions go in as staged tables applied
with set-based ``UPDATE … FROM`` / ``INSERT … SELECT`` statements. The whole write-back is
ONE transaction, committed once: a failure leaves the store as it was.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Protocol

import polars as pl
from sqlalchemy import Engine

from cuishou.alerts.service import raise_staged
from cuishou.engine.steps import CASE_KEY
from cuishou.kit.errors import Conflict
from cuishou.store.bulk import NULLABLE_ID, Bulk, BulkStore

ACTOR = "system:daily-cycle"


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What the cycle for one date reads from the store (frames described in ``steps``)."""

    accounts: pl.DataFrame
    payments: pl.DataFrame
    previous: pl.DataFrame
    cases: pl.DataFrame
    existing_alerts: pl.DataFrame
    last_cycle: date | None
    #: a cycle already completed for this date: this run is a re-run
    rerun: bool
    promises: pl.DataFrame

    @property
    def rows(self) -> int:
        return self.accounts.height


@dataclass(frozen=True, slots=True)
class Decisions:
    """What the cycle for one date writes back (all frames from ``steps``)."""

    account_updates: pl.DataFrame
    history: pl.DataFrame
    cases: pl.DataFrame
    alerts: pl.DataFrame
    accounts_in_force: int
    summary: Mapping[str, Any]
    promises: pl.DataFrame


ACCOUNTS_SCHEMA: dict[str, pl.DataType] = {
    "id": pl.Int64(),
    "creditor_id": pl.Int64(),
    "debtor_id": pl.Int64(),
    "case_id": NULLABLE_ID,
    "snapshot_date": pl.Date(),
    "snapshot_due_fen": pl.Int64(),
    "overdue_since": pl.Date(),
    "installment_fen": pl.Int64(),
    "status": pl.String(),
    "dpd": pl.Int32(),
    "bucket": pl.String(),
    "amount_tier": pl.String(),
    "cycle_as_of": pl.Date(),
}
PAYMENTS_SCHEMA: dict[str, pl.DataType] = {
    "account_id": pl.Int64(),
    "paid_at": pl.Datetime("us", "UTC"),
    "amount_fen": pl.Int64(),
    "tz": pl.String(),
}
PREVIOUS_SCHEMA: dict[str, pl.DataType] = {
    "account_id": pl.Int64(),
    "prev_bucket": pl.String(),
    "prev_status": pl.String(),
    "prev_tier": pl.String(),
    "prev_scheme": pl.String(),
}
CASES_SCHEMA: dict[str, pl.DataType] = {
    "id": pl.Int64(),
    "creditor_id": pl.Int64(),
    "debtor_id": pl.Int64(),
    "status": pl.String(),
    "opened_on": pl.Date(),
    "closed_on": pl.Date(),
}
PROMISES_SCHEMA: dict[str, pl.DataType] = {
    "id": pl.Int64(),
    "case_id": pl.Int64(),
    "amount_fen": pl.Int64(),
    "due_date": pl.Date(),
    "created_at": pl.Datetime("us", "UTC"),
    "tz": pl.String(),
}
ALERTS_SCHEMA: dict[str, pl.DataType] = {
    "creditor_id": pl.Int64(),
    "debtor_id": pl.Int64(),
    "kind": pl.String(),
    "status": pl.String(),
    "raised_on": pl.Date(),
}
#: time zones are at most 14 hours from UTC: a window this much wider than the business
#: dates holds every payment of those dates in any creditor's zone (the steps cut exactly)
_ZONE_MARGIN = timedelta(hours=15)


def _midnight_utc(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def latest_cycle(bulk: Bulk) -> date | None:
    frame = bulk.fetch("SELECT MAX(as_of) AS as_of FROM cycle_runs", {"as_of": pl.Date()})
    value = frame.item(0, 0) if frame.height else None
    return value if isinstance(value, date) else None


def refuse_earlier(as_of: date, last: date | None) -> None:
    if last is not None and as_of < last:
        raise Conflict(
            f"the daily cycle already ran for {last.isoformat()}; a run for the earlier date "
            f"{as_of.isoformat()} would rewrite history. Run {last.isoformat()} or later.",
            as_of=as_of.isoformat(),
            latest=last.isoformat(),
        )


class CycleIO(Protocol):
    """Where the daily cycle reads its facts and writes its decisions."""

    def load_snapshot(self, as_of: date) -> Snapshot:
        """Everything the cycle for ``as_of`` needs; refuses a date before the last run."""
        ...

    def write_decisions(
        self, decisions: Decisions, *, as_of: date, now: datetime, started_at: datetime
    ) -> Mapping[str, Any]:
        """Apply one cycle's decisions, all or nothing; the summary as recorded."""
        ...


class StoreCycleIO:
    """The cycle's I/O on the store behind ``engine`` (SQLite or PostgreSQL)."""

    def __init__(self, engine: Engine) -> None:
        self.store = BulkStore(engine)

    def load_snapshot(self, as_of: date) -> Snapshot:
        # one read transaction: every frame comes from the same state of the store
        with self.store.read() as bulk:
            return _read_snapshot(bulk, as_of)

    def write_decisions(
        self, decisions: Decisions, *, as_of: date, now: datetime, started_at: datetime
    ) -> Mapping[str, Any]:
        with self.store.write() as bulk:
            return _write_decisions(bulk, decisions, as_of=as_of, now=now, started_at=started_at)


def load_snapshot(engine: Engine, as_of: date) -> Snapshot:
    """Read everything the cycle for ``as_of`` needs, refusing a date before the last run."""
    return StoreCycleIO(engine).load_snapshot(as_of)


def _previous_state_sql(bulk: Bulk) -> str:
    """Each account's latest bucket history row before ``:as_of`` (one indexed pass)."""
    if bulk.sqlite:
        # SQLite takes bare columns from the row holding MAX() (documented behaviour)
        return """SELECT account_id, MAX(as_of) AS last_as_of, bucket AS prev_bucket,
            status AS prev_status, amount_tier AS prev_tier, scheme AS prev_scheme
        FROM bucket_history WHERE as_of < :as_of GROUP BY account_id"""
    return """SELECT DISTINCT ON (account_id) account_id, bucket AS prev_bucket,
        status AS prev_status, amount_tier AS prev_tier, scheme AS prev_scheme
    FROM bucket_history WHERE as_of < :as_of ORDER BY account_id, as_of DESC"""


def _read_snapshot(bulk: Bulk, as_of: date) -> Snapshot:
    last = latest_cycle(bulk)
    refuse_earlier(as_of, last)
    accounts = bulk.fetch(
        f"""SELECT id, creditor_id, debtor_id, {bulk.nullable("case_id", "0")} AS case_id,
            snapshot_date, snapshot_due_fen,
            {bulk.nullable("overdue_since", "''")} AS overdue_since,
            installment_fen, status, dpd, bucket, amount_tier,
            {bulk.nullable("cycle_as_of", "''")} AS cycle_as_of
        FROM accounts""",  # noqa: S608 - constant fragments only
        ACCOUNTS_SCHEMA,
    )
    earliest = accounts.get_column("snapshot_date").min()
    if isinstance(earliest, date) and earliest <= as_of:
        payments = bulk.fetch(
            """SELECT p.account_id, p.paid_at, p.amount_fen, c.timezone AS tz
            FROM payments p JOIN creditors c ON c.id = p.creditor_id
            WHERE p.reversed_at IS NULL AND p.paid_at >= :lower AND p.paid_at < :upper""",
            PAYMENTS_SCHEMA,
            lower=_midnight_utc(earliest + timedelta(days=1)) - _ZONE_MARGIN,
            upper=_midnight_utc(as_of + timedelta(days=1)) + _ZONE_MARGIN,
        )
    else:
        payments = pl.DataFrame(schema=PAYMENTS_SCHEMA)
    previous = bulk.fetch(_previous_state_sql(bulk), PREVIOUS_SCHEMA, as_of=as_of)
    cases = bulk.fetch(
        f"""SELECT id, creditor_id, debtor_id, status, opened_on,
            {bulk.nullable("closed_on", "''")} AS closed_on FROM cases""",  # noqa: S608 - constant fragments only
        CASES_SCHEMA,
    )
    existing_alerts = bulk.fetch(
        """SELECT c.creditor_id, c.debtor_id, a.kind, a.status, a.raised_on FROM alerts a
        JOIN cases c ON c.id = a.case_id
        WHERE a.status <> 'resolved' OR a.raised_on = :as_of""",
        ALERTS_SCHEMA,
        as_of=as_of,
    )
    promises = bulk.fetch(
        """SELECT p.id, p.case_id, p.amount_fen, p.due_date, p.created_at, c.timezone AS tz
        FROM promises p JOIN cases k ON k.id = p.case_id
        JOIN creditors c ON c.id = k.creditor_id
        WHERE p.status = 'open'""",
        PROMISES_SCHEMA,
    )
    rerun = bulk.fetch(
        "SELECT COUNT(*) AS n FROM cycle_runs WHERE as_of = :as_of", {"n": pl.Int64()}, as_of=as_of
    ).item(0, 0)
    return Snapshot(
        accounts=accounts,
        payments=payments,
        previous=previous,
        cases=cases,
        existing_alerts=existing_alerts,
        last_cycle=last,
        promises=promises,
        rerun=bool(rerun),
    )


def _json_object(fields: Mapping[str, tuple[pl.Expr, bool]]) -> pl.Expr:
    """A flat JSON object text per row; each field is ``(expression, is_text)``.

    Values here are bucket names, statuses, dates and integers, which need no escaping.
    """
    parts: list[pl.Expr] = []
    for index, (key, (expr, is_text)) in enumerate(fields.items()):
        parts.append(pl.lit(("{" if index == 0 else ",") + json.dumps(key) + ":"))
        text = expr.cast(pl.String)
        rendered = pl.concat_str(pl.lit('"'), text, pl.lit('"')) if is_text else text
        parts.append(pl.when(expr.is_null()).then(pl.lit("null")).otherwise(rendered))
    parts.append(pl.lit("}"))
    return pl.concat_str(parts)


def _with_case_ids(cases: pl.DataFrame, new_ids: pl.Series) -> pl.DataFrame:
    """Every case decision with its ``case_id``; new cases take ``new_ids`` in key order."""
    new = cases.filter(pl.col("is_new")).sort(CASE_KEY).with_columns(new_ids.alias("case_id"))
    return pl.concat([cases.filter(~pl.col("is_new")), new], how="vertical").sort("case_id")


def _case_staging(cases: pl.DataFrame) -> pl.DataFrame:
    """The case decisions to write, in ``case_id`` (index) order: sequential pages."""
    return cases.select(
        "case_id",
        *CASE_KEY,
        pl.col("is_new").cast(pl.Int32),
        "accounts",
        "due_fen",
        "dpd",
        "bucket",
        "amount_tier",
        "status",
        "closed_on",
    )


def _account_staging(updates: pl.DataFrame, cases: pl.DataFrame, *, link: bool) -> pl.DataFrame:
    """Account decisions, with the case to link to when ``link`` (accounts seen first)."""
    chosen = updates.filter(pl.col("link") == link)
    columns = ["id", "dpd", "bucket", "amount_tier", "status"]
    if link:
        keys = cases.select(*CASE_KEY, "case_id")
        chosen = chosen.join(keys, on=CASE_KEY, how="left")
        columns.append("case_id")
    return chosen.select(columns).sort("id")


def _case_event_staging(cases: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """Only the cases whose state changed (opened / closed / reopened), with payloads."""
    payload = _json_object(
        {
            "as_of": (pl.lit(as_of.isoformat()), True),
            "accounts": (pl.col("accounts"), False),
            "due_fen": (pl.col("due_fen"), False),
            "dpd": (pl.col("dpd"), False),
            "bucket": (pl.col("bucket"), True),
            "status": (pl.col("status"), True),
        }
    )
    return cases.filter(pl.col("change").is_not_null()).select(
        "case_id", "change", payload.alias("payload")
    )


def _alert_staging(alerts: pl.DataFrame, cases: pl.DataFrame, as_of: date) -> pl.DataFrame:
    details = _json_object(
        {
            "kind": (pl.col("kind"), True),
            "reason": (pl.col("reason"), True),
            "as_of": (pl.lit(as_of.isoformat()), True),
            "dpd": (pl.col("dpd"), False),
            "bucket": (pl.col("bucket"), True),
        }
    )
    keys = cases.select(*CASE_KEY, "case_id")
    return alerts.join(keys, on=CASE_KEY, how="inner").select(
        "case_id", "kind", details.alias("details")
    )


def _promise_staging(judged: pl.DataFrame) -> pl.DataFrame:
    payload = _json_object(
        {
            "status": (pl.col("status"), True),
            "amount_fen": (pl.col("amount_fen"), False),
            "paid_fen": (pl.col("paid_fen"), False),
            "due_date": (pl.col("due_date").cast(pl.String), True),
        }
    )
    return judged.select("id", "case_id", "status", "paid_fen", payload.alias("payload"))


def _write_promises(bulk: Bulk, judged: pl.DataFrame, *, as_of: date, now: datetime) -> None:
    """Judged promises: status, what was paid, the date; a ``promise.<status>`` event each.
    Only promises still open change, so a re-run of the date writes nothing twice."""
    if judged.height == 0:
        return
    bulk.stage("stg_promises", _promise_staging(judged))
    bulk.execute(
        f"""INSERT INTO events (at, actor, type, entity_type, entity_id, case_id, payload)
        SELECT :now, :actor, 'promise.' || s.status, 'promise', s.id, s.case_id,
            {bulk.json("s.payload")}
        FROM stg_promises s JOIN promises p ON p.id = s.id WHERE p.status = 'open'""",  # noqa: S608 - constant fragments only
        now=now,
        actor=ACTOR,
    )
    bulk.execute(
        """UPDATE promises SET status = s.status, paid_fen = s.paid_fen, judged_on = :as_of
        FROM stg_promises s WHERE promises.id = s.id AND promises.status = 'open'""",
        as_of=as_of,
    )


def _write_decisions(
    bulk: Bulk, decisions: Decisions, *, as_of: date, now: datetime, started_at: datetime
) -> dict[str, Any]:
    """Apply one cycle's decisions inside ``bulk``'s write transaction (all or nothing);
    returns the summary as recorded (alerts counted as raised, a re-run said so)."""
    if not bulk.sqlite:  # one cycle at a time (SQLite: BEGIN IMMEDIATE does this)
        bulk.execute("LOCK TABLE cycle_runs IN SHARE ROW EXCLUSIVE MODE")
    refuse_earlier(as_of, latest_cycle(bulk))
    # new cases get their ids here, so links, events and alerts are staged by id
    new_ids = bulk.reserve_ids("cases", int(decisions.cases.get_column("is_new").sum()))
    cases = _with_case_ids(decisions.cases, new_ids)
    bulk.stage("stg_cases", _case_staging(cases))
    bulk.execute(
        """INSERT INTO cases (id, creditor_id, debtor_id, status, opened_on, closed_on,
            accounts, due_fen, dpd, bucket, amount_tier, cycle_as_of,
            created_at, updated_at)
        SELECT s.case_id, s.creditor_id, s.debtor_id, s.status, :as_of, s.closed_on,
            s.accounts, s.due_fen, s.dpd, s.bucket, s.amount_tier, :as_of, :now, :now
        FROM stg_cases s WHERE s.is_new = 1""",
        as_of=as_of,
        now=now,
    )
    bulk.analyze("cases")
    bulk.execute(
        """UPDATE cases SET status = s.status, closed_on = s.closed_on,
            accounts = s.accounts, due_fen = s.due_fen, dpd = s.dpd,
            bucket = s.bucket, amount_tier = s.amount_tier,
            cycle_as_of = :as_of, updated_at = :now
        FROM stg_cases s
        WHERE s.is_new = 0 AND cases.id = s.case_id""",
        as_of=as_of,
        now=now,
    )
    # accounts seen before: the daily decision only (SQLite rewrites an index
    # whenever its column is assigned, even to the same value, so case_id is left
    # out); accounts seen first: the decision and the link to their case
    updates = decisions.account_updates
    bulk.stage("stg_accounts", _account_staging(updates, cases, link=False))
    bulk.execute(
        """UPDATE accounts SET dpd = s.dpd, bucket = s.bucket,
            amount_tier = s.amount_tier, status = s.status,
            cycle_as_of = :as_of, updated_at = :now
        FROM stg_accounts s WHERE accounts.id = s.id""",
        as_of=as_of,
        now=now,
    )
    bulk.stage("stg_links", _account_staging(updates, cases, link=True))
    bulk.execute(
        """UPDATE accounts SET case_id = s.case_id, dpd = s.dpd, bucket = s.bucket,
            amount_tier = s.amount_tier, status = s.status,
            cycle_as_of = :as_of, updated_at = :now
        FROM stg_links s WHERE accounts.id = s.id""",
        as_of=as_of,
        now=now,
    )
    bulk.stage("stg_case_events", _case_event_staging(cases, as_of))
    bulk.execute(
        f"""INSERT INTO events (at, actor, type, entity_type, entity_id, case_id, payload)
        SELECT :now, :actor, 'case.' || s.change, 'case', s.case_id, s.case_id,
            {bulk.json("s.payload")}
        FROM stg_case_events s""",  # noqa: S608 - constant fragments only
        now=now,
        actor=ACTOR,
    )
    bulk.execute("DELETE FROM bucket_history WHERE as_of = :as_of", as_of=as_of)
    bulk.stage("stg_history", decisions.history)
    bulk.execute(
        """INSERT INTO bucket_history (account_id, as_of, dpd, bucket, prev_bucket,
            amount_tier, due_fen, status, movement, scheme)
        SELECT account_id, :as_of, dpd, bucket, prev_bucket, amount_tier, due_fen,
            status, movement, scheme
        FROM stg_history""",
        as_of=as_of,
    )
    staged_alerts = bulk.stage("stg_alerts", _alert_staging(decisions.alerts, cases, as_of))
    raised = raise_staged(bulk, staged_alerts, business_date=as_of, now=now, actor=ACTOR)
    _write_promises(bulk, decisions.promises, as_of=as_of, now=now)
    written = dict(decisions.summary)
    written["alerts_raised"] = {**dict(written.get("alerts_raised", {})), **raised}
    rerun = bool(
        bulk.fetch(
            "SELECT COUNT(*) AS n FROM cycle_runs WHERE as_of = :as_of",
            {"n": pl.Int64()},
            as_of=as_of,
        ).item(0, 0)
    )
    written["rerun"] = rerun
    summary = json.dumps(written, ensure_ascii=False, default=str)
    bulk.execute(
        f"""INSERT INTO cycle_runs (as_of, started_at, finished_at, accounts, cases,
            summary)
        VALUES (:as_of, :started_at, :now, :accounts, :cases, {bulk.json(":summary")})
        ON CONFLICT (as_of) DO UPDATE SET started_at = excluded.started_at,
            finished_at = excluded.finished_at, accounts = excluded.accounts,
            cases = excluded.cases, summary = excluded.summary""",  # noqa: S608 - constant fragments only
        as_of=as_of,
        started_at=started_at,
        now=now,
        accounts=decisions.accounts_in_force,
        cases=decisions.cases.height,
        summary=summary,
    )
    bulk.execute(
        f"""INSERT INTO events (at, actor, type, entity_type, entity_id, case_id, payload)
        SELECT :now, :actor, :type, 'cycle_run', r.id, NULL, {bulk.json(":summary")}
        FROM cycle_runs r WHERE r.as_of = :as_of""",  # noqa: S608 - constant fragments only
        now=now,
        actor=ACTOR,
        type="cycle.rerun" if rerun else "cycle.completed",
        summary=summary,
        as_of=as_of,
    )
    return written
