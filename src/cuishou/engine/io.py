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
from cuishou.kit.money import format_yuan_expr
from cuishou.ledger import service as ledger
from cuishou.store.bulk import NULLABLE_ID, Bulk, BulkStore

ACTOR = "system:daily-cycle"


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What the cycle for one date reads from the store (frames described in ``steps``)."""

    accounts: pl.DataFrame
    future: pl.DataFrame
    payments: pl.DataFrame
    previous: pl.DataFrame
    cases: pl.DataFrame
    existing_alerts: pl.DataFrame
    agreements: pl.DataFrame
    installments: pl.DataFrame
    waivers: pl.DataFrame
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
    #: installments whose paid amount or status changed (``agreement_id, seq, paid_fen, status``)
    installments: pl.DataFrame
    #: plans decided today (``agreement_id, case_id, status, paid_fen, reinstate_on_break``)
    plans: pl.DataFrame
    #: the standing waivers of running plans, per account (for reinstatements)
    waivers: pl.DataFrame

    @property
    def rows(self) -> int:
        """Rows decided: account updates, history rows, cases and alerts."""
        return (
            self.account_updates.height
            + self.history.height
            + self.cases.height
            + self.alerts.height
        )


ACCOUNTS_SCHEMA: dict[str, pl.DataType] = {
    "id": pl.Int64(),
    "creditor_id": pl.Int64(),
    "debtor_id": pl.Int64(),
    "case_id": NULLABLE_ID,
    "snapshot_date": pl.Date(),
    "snapshot_due_fen": pl.Int64(),
    "overdue_since": pl.Date(),
    "installment_fen": pl.Int64(),
    "owed_fen": pl.Int64(),
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
    "due_fen": pl.Int64(),
}
FUTURE_SCHEMA: dict[str, pl.DataType] = {"account_id": pl.Int64(), "future_fen": pl.Int64()}
AGREEMENTS_SCHEMA: dict[str, pl.DataType] = {
    "agreement_id": pl.Int64(),
    "case_id": pl.Int64(),
    "decided_at": pl.Datetime("us", "UTC"),
    "break_after_days": pl.Int64(),
    "reinstate_on_break": pl.Boolean(),
    "tz": pl.String(),
}
INSTALLMENTS_SCHEMA: dict[str, pl.DataType] = {
    "agreement_id": pl.Int64(),
    "seq": pl.Int32(),
    "due_date": pl.Date(),
    "amount_fen": pl.Int64(),
    "paid_fen": pl.Int64(),
    "status": pl.String(),
}
WAIVERS_SCHEMA: dict[str, pl.DataType] = {
    "agreement_id": pl.Int64(),
    "account_id": pl.Int64(),
    "fee_fen": pl.Int64(),
    "penalty_fen": pl.Int64(),
    "interest_fen": pl.Int64(),
    "principal_fen": pl.Int64(),
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


def previous_state_sql(bulk: Bulk) -> str:
    """Each account's latest bucket history row before ``:as_of`` (one indexed pass)."""
    if bulk.sqlite:
        # SQLite takes bare columns from the row holding MAX() (documented behaviour)
        return """SELECT account_id, MAX(as_of) AS last_as_of, bucket AS prev_bucket,
            status AS prev_status, amount_tier AS prev_tier, scheme AS prev_scheme
        FROM bucket_history WHERE as_of < :as_of GROUP BY account_id"""
    return """SELECT DISTINCT ON (account_id) account_id, bucket AS prev_bucket,
        status AS prev_status, amount_tier AS prev_tier, scheme AS prev_scheme
    FROM bucket_history WHERE as_of < :as_of ORDER BY account_id, as_of DESC"""


def accounts_sql(bulk: Bulk) -> str:
    """The accounts as the cycle reads them (``ACCOUNTS_SCHEMA``)."""
    return f"""SELECT id, creditor_id, debtor_id, {bulk.nullable("case_id", "0")} AS case_id,
        snapshot_date, snapshot_due_fen,
        {bulk.nullable("overdue_since", "''")} AS overdue_since,
        installment_fen, fee_fen + penalty_fen + interest_fen + principal_fen AS owed_fen,
        status, dpd, bucket, amount_tier,
        {bulk.nullable("cycle_as_of", "''")} AS cycle_as_of
    FROM accounts"""  # noqa: S608 - constant fragments only


def cases_sql(bulk: Bulk) -> str:
    """The cases as stored (``CASES_SCHEMA``)."""
    return f"""SELECT id, creditor_id, debtor_id, status, opened_on,
        {bulk.nullable("closed_on", "''")} AS closed_on, due_fen FROM cases"""  # noqa: S608 - constant fragments only


def payments_from(earliest: date) -> datetime:
    """The earliest payment time any business date after ``earliest`` can count, in any zone."""
    return _midnight_utc(earliest + timedelta(days=1)) - _ZONE_MARGIN


#: non-reversed payments from ``:lower`` (``PAYMENTS_SCHEMA``)
PAYMENTS_SQL = """SELECT p.account_id, p.paid_at, p.amount_fen, c.timezone AS tz
    FROM payments p JOIN creditors c ON c.id = p.creditor_id
    WHERE p.reversed_at IS NULL AND p.paid_at >= :lower"""
#: promises still open (``PROMISES_SCHEMA``)
PROMISES_SQL = """SELECT p.id, p.case_id, p.amount_fen, p.due_date, p.created_at, c.timezone AS tz
    FROM promises p JOIN cases k ON k.id = p.case_id
    JOIN creditors c ON c.id = k.creditor_id
    WHERE p.status = 'open'"""
#: running plans (``AGREEMENTS_SCHEMA``)
AGREEMENTS_SQL = """SELECT g.id AS agreement_id, g.case_id, g.decided_at, g.break_after_days,
        g.reinstate_on_break, c.timezone AS tz
    FROM agreements g JOIN cases k ON k.id = g.case_id
    JOIN creditors c ON c.id = k.creditor_id
    WHERE g.status = 'approved'"""
#: the installments of running plans (``INSTALLMENTS_SCHEMA``)
INSTALLMENTS_SQL = """SELECT i.agreement_id, i.seq, i.due_date, i.amount_fen, i.paid_fen, i.status
    FROM agreement_installments i JOIN agreements g ON g.id = i.agreement_id
    WHERE g.status = 'approved'"""
#: the waiver standing on each account under a running plan (``WAIVERS_SCHEMA``)
WAIVERS_SQL = """SELECT l.source_id AS agreement_id, l.account_id,
        CAST(SUM(l.fee_fen) AS BIGINT) AS fee_fen,
        CAST(SUM(l.penalty_fen) AS BIGINT) AS penalty_fen,
        CAST(SUM(l.interest_fen) AS BIGINT) AS interest_fen,
        CAST(SUM(l.principal_fen) AS BIGINT) AS principal_fen
    FROM ledger_entries l JOIN agreements g ON g.id = l.source_id
    WHERE l.source = 'agreement' AND l.kind IN ('waiver', 'reinstatement')
        AND g.status = 'approved'
    GROUP BY l.source_id, l.account_id"""


def _read_snapshot(bulk: Bulk, as_of: date) -> Snapshot:
    last = latest_cycle(bulk)
    refuse_earlier(as_of, last)
    accounts = bulk.fetch(accounts_sql(bulk), ACCOUNTS_SCHEMA)
    earliest = accounts.get_column("snapshot_date").min()
    if isinstance(earliest, date) and earliest <= as_of:
        payments = bulk.fetch(
            PAYMENTS_SQL + " AND p.paid_at < :upper",
            PAYMENTS_SCHEMA,
            lower=payments_from(earliest),
            upper=_midnight_utc(as_of + timedelta(days=1)) + _ZONE_MARGIN,
        )
    else:
        payments = pl.DataFrame(schema=PAYMENTS_SCHEMA)
    future = bulk.fetch(
        """SELECT account_id,
            CAST(SUM(fee_fen + penalty_fen + interest_fen + principal_fen) AS BIGINT) AS future_fen
        FROM ledger_entries WHERE effective_on > :as_of GROUP BY account_id""",
        FUTURE_SCHEMA,
        as_of=as_of,
    )
    previous = bulk.fetch(previous_state_sql(bulk), PREVIOUS_SCHEMA, as_of=as_of)
    cases = bulk.fetch(cases_sql(bulk), CASES_SCHEMA)
    existing_alerts = bulk.fetch(
        """SELECT c.creditor_id, c.debtor_id, a.kind, a.status, a.raised_on FROM alerts a
        JOIN cases c ON c.id = a.case_id
        WHERE a.status <> 'resolved' OR a.raised_on = :as_of""",
        ALERTS_SCHEMA,
        as_of=as_of,
    )
    promises = bulk.fetch(PROMISES_SQL, PROMISES_SCHEMA)
    rerun = bulk.fetch(
        "SELECT COUNT(*) AS n FROM cycle_runs WHERE as_of = :as_of", {"n": pl.Int64()}, as_of=as_of
    ).item(0, 0)
    agreements = bulk.fetch(AGREEMENTS_SQL, AGREEMENTS_SCHEMA)
    installments = bulk.fetch(INSTALLMENTS_SQL, INSTALLMENTS_SCHEMA)
    waivers = bulk.fetch(WAIVERS_SQL, WAIVERS_SCHEMA)
    return Snapshot(
        accounts=accounts,
        future=future,
        agreements=agreements,
        installments=installments,
        waivers=waivers,
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
        "due_delta",
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


_OWED = "a.fee_fen + a.penalty_fen + a.interest_fen + a.principal_fen"
PLAN_SCHEMA: dict[str, pl.DataType] = {
    "agreement_id": pl.Int64(),
    "case_id": pl.Int64(),
    "status": pl.String(),
    "paid_fen": pl.Int64(),
    "reinstate_on_break": pl.Boolean(),
}


def _write_plans(bulk: Bulk, decisions: Decisions, *, as_of: date, now: datetime) -> None:
    """Plans tracked today: installments paid or missed; a completed plan writes off what
    its case's accounts still owe now; a broken plan puts its waiver back when its terms say
    so. The amounts go through the ledger and into the ``agreement.<status>`` event."""
    if decisions.installments.height:
        bulk.stage("stg_installments", decisions.installments)
        bulk.execute(
            """UPDATE agreement_installments SET paid_fen = s.paid_fen, status = s.status
            FROM stg_installments s WHERE agreement_installments.agreement_id = s.agreement_id
                AND agreement_installments.seq = s.seq"""
        )
    plans = decisions.plans
    if plans.height == 0:
        return
    bulk.stage("stg_plans", plans, schema=PLAN_SCHEMA)
    bulk.execute(
        """UPDATE agreements SET status = s.status, closed_on = :as_of
        FROM stg_plans s WHERE agreements.id = s.agreement_id AND agreements.status = 'approved'""",
        as_of=as_of,
    )
    # only the plans this write closed: one superseded by an amendment approved while the
    # cycle ran is not closed again, nor its waiver reinstated twice
    closed = bulk.fetch(
        """SELECT s.agreement_id FROM stg_plans s JOIN agreements g ON g.id = s.agreement_id
        WHERE g.status = s.status AND g.closed_on = :as_of""",
        {"agreement_id": pl.Int64()},
        as_of=as_of,
    )
    plans = plans.join(closed, on="agreement_id", how="semi")
    bulk.execute(
        """DELETE FROM stg_plans WHERE agreement_id NOT IN (SELECT g.id FROM agreements g
            WHERE g.status = stg_plans.status AND g.closed_on = :as_of)""",
        as_of=as_of,
    )
    if plans.height == 0:
        return
    reinstated = decisions.waivers.join(
        plans.filter((pl.col("status") == "broken") & pl.col("reinstate_on_break")).select(
            "agreement_id"
        ),
        on="agreement_id",
    ).select(
        "account_id",
        pl.lit("reinstatement").alias("kind"),
        *(-pl.col(c).alias(c) for c in ("fee_fen", "penalty_fen", "interest_fen", "principal_fen")),
        pl.lit(0, dtype=pl.Int64).alias("credit_fen"),
        pl.lit(as_of).alias("effective_on"),
        pl.lit("agreement").alias("source"),
        pl.col("agreement_id").alias("source_id"),
        pl.lit(None, dtype=pl.String).alias("reference"),
        pl.lit(ACTOR).alias("actor"),
        pl.lit("plan broken: the waiver is reinstated by its terms").alias("reason"),
    )
    ledger.post(bulk, reinstated, now=now, name="reinstatements")
    ledger.post_select(
        bulk,
        f"""SELECT a.id AS account_id, 'write_off' AS kind, -a.fee_fen AS fee_fen,
            -a.penalty_fen AS penalty_fen, -a.interest_fen AS interest_fen,
            -a.principal_fen AS principal_fen, 0 AS credit_fen, :as_of AS effective_on,
            'agreement' AS source, s.agreement_id AS source_id, NULL AS reference,
            :actor AS actor, 'plan completed: what remains is written off' AS reason
        FROM accounts a JOIN stg_plans s ON s.case_id = a.case_id
        WHERE s.status = 'completed' AND {_OWED} > 0""",  # noqa: S608 - constant fragments only
        now=now,
        name="write_offs",
        as_of=as_of,
        actor=ACTOR,
    )
    moved = bulk.fetch(
        """SELECT l.source_id AS agreement_id, l.kind,
            CAST(-SUM(l.fee_fen + l.penalty_fen + l.interest_fen + l.principal_fen) AS BIGINT)
                AS amount_fen
        FROM ledger_entries l JOIN stg_plans s ON s.agreement_id = l.source_id
        WHERE l.source = 'agreement' AND l.kind IN ('write_off', 'reinstatement')
            AND l.effective_on = :as_of
        GROUP BY l.source_id, l.kind""",
        {"agreement_id": pl.Int64(), "kind": pl.String(), "amount_fen": pl.Int64()},
        as_of=as_of,
    )
    standing = decisions.waivers.group_by("agreement_id").agg(
        (-pl.sum_horizontal("fee_fen", "penalty_fen", "interest_fen", "principal_fen"))
        .sum()
        .alias("waived_fen")
    )
    amounts = plans.join(
        moved.pivot("kind", index="agreement_id", values="amount_fen"),
        on="agreement_id",
        how="left",
    ).join(standing, on="agreement_id", how="left")
    for column in ("write_off", "reinstatement", "waived_fen"):
        if column not in amounts.columns:
            amounts = amounts.with_columns(pl.lit(0, dtype=pl.Int64).alias(column))
    amounts = amounts.with_columns(
        pl.col(c).fill_null(0) for c in ("write_off", "reinstatement", "waived_fen")
    )
    kept = (
        pl.when(pl.col("status") == "broken")
        .then(pl.col("waived_fen") + pl.col("reinstatement"))
        .otherwise(0)
    )
    payload = _json_object(
        {
            "as_of": (pl.lit(as_of.isoformat()), True),
            "paid": (format_yuan_expr(pl.col("paid_fen")), True),
            "written_off": (format_yuan_expr(-pl.col("write_off")), True),
            "reinstated": (format_yuan_expr(-pl.col("reinstatement")), True),
            "waiver_kept": (format_yuan_expr(kept), True),
        }
    )
    bulk.stage(
        "stg_plan_events",
        amounts.select("agreement_id", "case_id", "status", payload.alias("payload")),
    )
    bulk.execute(
        f"""INSERT INTO events (at, actor, type, entity_type, entity_id, case_id, payload)
        SELECT :now, :actor, 'agreement.' || s.status, 'agreement', s.agreement_id, s.case_id,
            {bulk.json("s.payload")}
        FROM stg_plan_events s""",  # noqa: S608 - constant fragments only
        now=now,
        actor=ACTOR,
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
            s.accounts, 0, s.dpd, s.bucket, s.amount_tier, :as_of, :now, :now
        FROM stg_cases s WHERE s.is_new = 1""",
        as_of=as_of,
        now=now,
    )
    bulk.analyze("cases")
    bulk.execute(
        """UPDATE cases SET status = s.status, closed_on = s.closed_on,
            accounts = s.accounts, due_fen = cases.due_fen + s.due_delta, dpd = s.dpd,
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
    # a new case owes what its accounts owe, summed now that they are linked to it
    bulk.execute(
        f"""UPDATE cases SET due_fen = COALESCE((SELECT SUM({_OWED}) FROM accounts a
            WHERE a.case_id = cases.id), 0)
        WHERE cases.id IN (SELECT s.case_id FROM stg_cases s WHERE s.is_new = 1)"""  # noqa: S608 - constant fragments only
    )
    _write_plans(bulk, decisions, as_of=as_of, now=now)
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
