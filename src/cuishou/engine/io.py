"""The daily cycle's only store I/O: load the snapshot as Arrow, write decisions in bulk.

Both stores go through ADBC (``adbc_driver_sqlite`` / ``adbc_driver_postgresql``):
queries come back as Arrow tables turned into Polars frames without a row-by-row
step, and decisions go in as Arrow tables ingested into TEMPORARY staging tables,
then applied with set-based ``UPDATE … FROM`` / ``INSERT … SELECT`` statements.
The whole write-back is ONE transaction, committed once: a failure leaves the
store as it was.

Store quirks handled here, so the steps see one shape on both stores:
SQLite returns dates and times as text, and the SQLite driver infers a column's
type from its first rows, so nullable columns are read through ``COALESCE`` with a
sentinel and turned back into nulls. Timestamps are written in SQLAlchemy's SQLite
text format (``YYYY-MM-DD HH:MM:SS.ffffff``) so the ORM reads them back unchanged.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from time import perf_counter
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
import pyarrow as pa
from sqlalchemy import Engine

from cuishou.engine.steps import BUSINESS_TZ, CASE_KEY, LEGAL_REVIEW
from cuishou.kit.errors import Conflict
from cuishou.store.db import adbc_uri

ACTOR = "system:daily-cycle"
log = logging.getLogger(__name__)
_NULLABLE_IDS = {"case_id"}  # read as COALESCE(col, 0) on SQLite
_PARAM = re.compile(r"(?<![:\w]):([a-z_]+)")
_TOP: dict[str, pl.DataType] = {"top": pl.Int64()}
_TABLE_NAME = re.compile(r"[a-z_]+")


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What the cycle for one date reads from the store (frames described in ``steps``)."""

    accounts: pl.DataFrame
    payments: pl.DataFrame
    previous: pl.DataFrame
    cases: pl.DataFrame
    open_alerts: pl.DataFrame
    last_cycle: date | None
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
    "case_id": pl.Int64(),
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
}
PREVIOUS_SCHEMA: dict[str, pl.DataType] = {
    "account_id": pl.Int64(),
    "prev_bucket": pl.String(),
    "prev_status": pl.String(),
    "prev_tier": pl.String(),
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
}
ALERTS_SCHEMA: dict[str, pl.DataType] = {
    "creditor_id": pl.Int64(),
    "debtor_id": pl.Int64(),
    "kind": pl.String(),
}


class BulkStore:
    """An ADBC path to the store behind a SQLAlchemy engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.driver, self.uri = adbc_uri(engine)
        self.sqlite = self.driver == "sqlite"

    @contextmanager
    def connect(self) -> Iterator[Any]:
        """An autocommit ADBC connection (transactions are explicit ``BEGIN``/``COMMIT``).

        On SQLite the ADBC driver carries its own copy of the SQLite library, while
        SQLAlchemy uses Python's ``sqlite3``. Two copies in one process must not have
        the same file open at once (POSIX locks are per process; closing one copy's
        handle drops the other's locks — readers then miss committed writes), so the
        engine's idle pooled connections are closed before and after bulk work.
        """
        if self.sqlite:
            self.engine.dispose()
            import adbc_driver_sqlite.dbapi as sqlite_dbapi

            connection = sqlite_dbapi.connect(self.uri, autocommit=True)
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA busy_timeout=30000")
                cursor.execute("PRAGMA foreign_keys=ON")
                cursor.execute("PRAGMA temp_store=MEMORY")
                cursor.execute("PRAGMA synchronous=NORMAL")  # as the SQLAlchemy engine (WAL)
                # a 256 MB page cache: bulk updates touch every page of accounts and cases
                cursor.execute("PRAGMA cache_size=-262144")
        else:
            import adbc_driver_postgresql.dbapi as pg_dbapi

            connection = pg_dbapi.connect(self.uri, autocommit=True)
        try:
            yield connection
        finally:
            connection.close()
            if self.sqlite:
                self.engine.dispose()

    # ------------------------------------------------------------ SQL helpers

    def value(self, value: Any) -> Any:
        """A bind value as this store wants it (SQLite keeps dates and times as text)."""
        if not self.sqlite:
            return value
        if isinstance(value, datetime):
            return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        if isinstance(value, date):
            return value.isoformat()
        return value

    def execute(self, cursor: Any, sql: str, **params: Any) -> None:
        """Run ``sql`` with ``:name`` placeholders on either store."""
        order: list[str] = []

        def placeholder(match: re.Match[str]) -> str:
            name = match.group(1)
            if self.sqlite:
                order.append(name)
                return "?"
            if name not in order:
                order.append(name)
            return f"${order.index(name) + 1}"

        text = _PARAM.sub(placeholder, sql)
        values = tuple(self.value(params[name]) for name in order)
        started = perf_counter()
        if values:
            cursor.execute(text, values)
        else:
            cursor.execute(text)
        log.debug("%.3fs %s", perf_counter() - started, " ".join(text.split())[:120])

    def fetch(
        self, cursor: Any, sql: str, schema: Mapping[str, pl.DataType], **params: Any
    ) -> pl.DataFrame:
        self.execute(cursor, sql, **params)
        started = perf_counter()
        table: pa.Table = cursor.fetch_arrow_table()
        log.debug("%.3fs fetch %d rows", perf_counter() - started, table.num_rows)
        frame = pl.from_arrow(table)
        assert isinstance(frame, pl.DataFrame)
        return _conform(frame, schema)

    def nullable(self, column: str, sentinel: str) -> str:
        """``column`` read so the SQLite driver sees one type; ``_conform`` restores nulls."""
        if self.sqlite:
            return f"COALESCE({column}, {sentinel})"
        return column

    def previous_state_sql(self) -> str:
        """Each account's latest bucket history row before ``:as_of`` (one indexed pass)."""
        if self.sqlite:
            # SQLite takes bare columns from the row holding MAX() (documented behaviour)
            return """SELECT account_id, MAX(as_of) AS last_as_of, bucket AS prev_bucket,
                status AS prev_status, amount_tier AS prev_tier
            FROM bucket_history WHERE as_of < :as_of GROUP BY account_id"""
        return """SELECT DISTINCT ON (account_id) account_id, bucket AS prev_bucket,
            status AS prev_status, amount_tier AS prev_tier
        FROM bucket_history WHERE as_of < :as_of ORDER BY account_id, as_of DESC"""

    def json(self, expression: str) -> str:
        return expression if self.sqlite else f"CAST({expression} AS JSON)"

    def ingest(self, cursor: Any, name: str, frame: pl.DataFrame) -> None:
        """``frame`` as a TEMPORARY table ``name`` (with planner statistics on PostgreSQL)."""
        started = perf_counter()
        cursor.adbc_ingest(name, frame.to_arrow(), mode="create", temporary=True)
        self.analyze(cursor, name)
        log.debug("%.3fs ingest %s (%d rows)", perf_counter() - started, name, frame.height)

    def analyze(self, cursor: Any, name: str) -> None:
        """Fresh statistics for a table changed in bulk inside this transaction (PostgreSQL)."""
        if not self.sqlite:
            cursor.execute(f"ANALYZE {name}")

    def reserve_ids(self, cursor: Any, table: str, count: int) -> pl.Series:
        """``count`` new primary keys for ``table``, ascending, for rows inserted with ids.

        Assigning ids before the insert lets everything that refers to the new rows
        (account links, events, alerts) be staged with the id instead of joined back on
        a natural key. SQLite: the write transaction (``BEGIN IMMEDIATE``) excludes other
        writers, so ``MAX(id)`` + 1 … is what SQLite itself would assign. PostgreSQL: the
        ids come from the table's own sequence, so concurrent inserts elsewhere stay safe.
        """
        if not _TABLE_NAME.fullmatch(table):
            raise ValueError(f"not a table name: {table!r}")
        if count == 0:
            return pl.Series("id", [], dtype=pl.Int64)
        if self.sqlite:
            top_sql = f"SELECT COALESCE(MAX(id), 0) AS top FROM {table}"  # noqa: S608 - checked
            top = self.fetch(cursor, top_sql, _TOP)
            first = int(top.item(0, 0)) + 1
            return pl.int_range(first, first + count, dtype=pl.Int64, eager=True).alias("id")
        ids = self.fetch(
            cursor,
            f"""SELECT nextval(pg_get_serial_sequence('{table}', 'id')) AS id
            FROM generate_series(1, :count) ORDER BY 1""",  # noqa: S608 - checked
            {"id": pl.Int64()},
            count=count,
        )
        return ids.get_column("id")


def _conform(frame: pl.DataFrame, schema: Mapping[str, pl.DataType]) -> pl.DataFrame:
    """Give a fetched frame the expected dtypes (text dates, sentinels → null)."""
    columns: list[pl.Expr] = []
    for name, dtype in schema.items():
        if name not in frame.columns:
            columns.append(pl.lit(None, dtype=dtype).alias(name))
            continue
        current = frame.schema[name]
        col = pl.col(name)
        if name in _NULLABLE_IDS and current.is_integer():
            columns.append(pl.when(col == 0).then(None).otherwise(col).cast(pl.Int64).alias(name))
        elif current == dtype:
            columns.append(col)
        elif isinstance(dtype, pl.Date) and current == pl.String:
            columns.append(
                pl.when(col == "").then(None).otherwise(col).str.to_date("%Y-%m-%d").alias(name)
            )
        elif isinstance(dtype, pl.Datetime) and current == pl.String:
            columns.append(
                col.str.to_datetime("%Y-%m-%d %H:%M:%S%.f", time_unit="us", time_zone="UTC").alias(
                    name
                )
            )
        elif isinstance(dtype, pl.Datetime) and isinstance(current, pl.Datetime):
            columns.append(col.dt.convert_time_zone("UTC").dt.cast_time_unit("us").alias(name))
        else:
            columns.append(col.cast(dtype).alias(name))
    return frame.select(columns)


def _local_midnight_utc(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(BUSINESS_TZ)).astimezone(UTC)


def latest_cycle(store: BulkStore, cursor: Any) -> date | None:
    frame = store.fetch(cursor, "SELECT MAX(as_of) AS as_of FROM cycle_runs", {"as_of": pl.Date()})
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


def load_snapshot(engine: Engine, as_of: date) -> Snapshot:
    """Read everything the cycle for ``as_of`` needs, refusing a date before the last run."""
    store = BulkStore(engine)
    with store.connect() as connection, connection.cursor() as cursor:
        # one read transaction: every frame comes from the same state of the store
        cursor.execute("BEGIN" if store.sqlite else "BEGIN ISOLATION LEVEL REPEATABLE READ")
        try:
            snapshot = _read_snapshot(store, cursor, as_of)
        finally:
            cursor.execute("COMMIT")
    return snapshot


def _read_snapshot(store: BulkStore, cursor: Any, as_of: date) -> Snapshot:
    last = latest_cycle(store, cursor)
    refuse_earlier(as_of, last)
    accounts = store.fetch(
        cursor,
        f"""SELECT id, creditor_id, debtor_id, {store.nullable("case_id", "0")} AS case_id,
            snapshot_date, snapshot_due_fen,
            {store.nullable("overdue_since", "''")} AS overdue_since,
            installment_fen, status, dpd, bucket, amount_tier,
            {store.nullable("cycle_as_of", "''")} AS cycle_as_of
        FROM accounts""",  # noqa: S608 - constant fragments only
        ACCOUNTS_SCHEMA,
    )
    earliest = accounts.get_column("snapshot_date").min()
    if isinstance(earliest, date) and earliest <= as_of:
        payments = store.fetch(
            cursor,
            """SELECT account_id, paid_at, amount_fen FROM payments
            WHERE reversed_at IS NULL AND paid_at >= :lower AND paid_at < :upper""",
            PAYMENTS_SCHEMA,
            lower=_local_midnight_utc(earliest + timedelta(days=1)),
            upper=_local_midnight_utc(as_of + timedelta(days=1)),
        )
    else:
        payments = pl.DataFrame(schema=PAYMENTS_SCHEMA)
    previous = store.fetch(cursor, store.previous_state_sql(), PREVIOUS_SCHEMA, as_of=as_of)
    cases = store.fetch(
        cursor,
        f"""SELECT id, creditor_id, debtor_id, status, opened_on,
            {store.nullable("closed_on", "''")} AS closed_on FROM cases""",  # noqa: S608 - constant fragments only
        CASES_SCHEMA,
    )
    open_alerts = store.fetch(
        cursor,
        """SELECT c.creditor_id, c.debtor_id, a.kind FROM alerts a
        JOIN cases c ON c.id = a.case_id
        WHERE a.status IN ('open', 'acknowledged') AND a.raised_on < :as_of AND a.kind = :kind""",
        ALERTS_SCHEMA,
        as_of=as_of,
        kind=LEGAL_REVIEW,
    )
    promises = store.fetch(
        cursor,
        """SELECT id, case_id, amount_fen, due_date, created_at FROM promises
        WHERE status = 'open'""",
        PROMISES_SCHEMA,
    )
    return Snapshot(
        accounts=accounts,
        payments=payments,
        previous=previous,
        cases=cases,
        open_alerts=open_alerts,
        last_cycle=last,
        promises=promises,
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


def _write_promises(
    store: BulkStore, cursor: Any, judged: pl.DataFrame, *, as_of: date, now: datetime
) -> None:
    """Judged promises: status, what was paid, the date; a ``promise.<status>`` event each.
    Only promises still open change, so a re-run of the date writes nothing twice."""
    if judged.height == 0:
        return
    store.ingest(cursor, "stg_promises", _promise_staging(judged))
    store.execute(
        cursor,
        f"""INSERT INTO events (at, actor, type, entity_type, entity_id, case_id, payload)
        SELECT :now, :actor, 'promise.' || s.status, 'promise', s.id, s.case_id,
            {store.json("s.payload")}
        FROM stg_promises s JOIN promises p ON p.id = s.id WHERE p.status = 'open'""",  # noqa: S608 - constant fragments only
        now=now,
        actor=ACTOR,
    )
    store.execute(
        cursor,
        """UPDATE promises SET status = s.status, paid_fen = s.paid_fen, judged_on = :as_of
        FROM stg_promises s WHERE promises.id = s.id AND promises.status = 'open'""",
        as_of=as_of,
    )


def write_decisions(
    engine: Engine, decisions: Decisions, *, as_of: date, now: datetime, started_at: datetime
) -> None:
    """Apply one cycle's decisions in ONE transaction (all or nothing)."""
    store = BulkStore(engine)
    run = store.execute
    with store.connect() as connection, connection.cursor() as cursor:
        cursor.execute("BEGIN IMMEDIATE" if store.sqlite else "BEGIN")
        try:
            if not store.sqlite:  # one cycle at a time (SQLite: BEGIN IMMEDIATE does this)
                cursor.execute("LOCK TABLE cycle_runs IN SHARE ROW EXCLUSIVE MODE")
            refuse_earlier(as_of, latest_cycle(store, cursor))
            # new cases get their ids here, so links, events and alerts are staged by id
            new_ids = store.reserve_ids(
                cursor, "cases", int(decisions.cases.get_column("is_new").sum())
            )
            cases = _with_case_ids(decisions.cases, new_ids)
            store.ingest(cursor, "stg_cases", _case_staging(cases))
            run(
                cursor,
                """INSERT INTO cases (id, creditor_id, debtor_id, status, opened_on, closed_on,
                    accounts, due_fen, dpd, bucket, amount_tier, cycle_as_of,
                    created_at, updated_at)
                SELECT s.case_id, s.creditor_id, s.debtor_id, s.status, :as_of, s.closed_on,
                    s.accounts, s.due_fen, s.dpd, s.bucket, s.amount_tier, :as_of, :now, :now
                FROM stg_cases s WHERE s.is_new = 1""",
                as_of=as_of,
                now=now,
            )
            store.analyze(cursor, "cases")
            run(
                cursor,
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
            store.ingest(cursor, "stg_accounts", _account_staging(updates, cases, link=False))
            run(
                cursor,
                """UPDATE accounts SET dpd = s.dpd, bucket = s.bucket,
                    amount_tier = s.amount_tier, status = s.status,
                    cycle_as_of = :as_of, updated_at = :now
                FROM stg_accounts s WHERE accounts.id = s.id""",
                as_of=as_of,
                now=now,
            )
            store.ingest(cursor, "stg_links", _account_staging(updates, cases, link=True))
            run(
                cursor,
                """UPDATE accounts SET case_id = s.case_id, dpd = s.dpd, bucket = s.bucket,
                    amount_tier = s.amount_tier, status = s.status,
                    cycle_as_of = :as_of, updated_at = :now
                FROM stg_links s WHERE accounts.id = s.id""",
                as_of=as_of,
                now=now,
            )
            store.ingest(cursor, "stg_case_events", _case_event_staging(cases, as_of))
            run(
                cursor,
                f"""INSERT INTO events (at, actor, type, entity_type, entity_id, case_id, payload)
                SELECT :now, :actor, 'case.' || s.change, 'case', s.case_id, s.case_id,
                    {store.json("s.payload")}
                FROM stg_case_events s""",  # noqa: S608 - constant fragments only
                now=now,
                actor=ACTOR,
            )
            run(cursor, "DELETE FROM bucket_history WHERE as_of = :as_of", as_of=as_of)
            store.ingest(cursor, "stg_history", decisions.history)
            run(
                cursor,
                """INSERT INTO bucket_history (account_id, as_of, dpd, bucket, prev_bucket,
                    amount_tier, due_fen, status, movement)
                SELECT account_id, :as_of, dpd, bucket, prev_bucket, amount_tier, due_fen,
                    status, movement
                FROM stg_history""",
                as_of=as_of,
            )
            store.ingest(cursor, "stg_alerts", _alert_staging(decisions.alerts, cases, as_of))
            run(
                cursor,
                """CREATE TEMPORARY TABLE new_alerts AS
                SELECT s.case_id, s.kind, s.details
                FROM stg_alerts s
                WHERE NOT EXISTS (SELECT 1 FROM alerts a WHERE a.case_id = s.case_id
                                  AND a.kind = s.kind AND a.raised_on = :as_of)""",
                as_of=as_of,
            )
            run(
                cursor,
                f"""INSERT INTO alerts (case_id, kind, raised_on, status, details, created_at)
                SELECT n.case_id, n.kind, :as_of, 'open', {store.json("n.details")}, :now
                FROM new_alerts n""",  # noqa: S608 - constant fragments only
                as_of=as_of,
                now=now,
            )
            run(
                cursor,
                f"""INSERT INTO events (at, actor, type, entity_type, entity_id, case_id, payload)
                SELECT :now, :actor, 'alert.raised', 'alert', a.id, a.case_id,
                    {store.json("n.details")}
                FROM new_alerts n
                JOIN alerts a ON a.case_id = n.case_id AND a.kind = n.kind
                    AND a.raised_on = :as_of""",  # noqa: S608 - constant fragments only
                as_of=as_of,
                now=now,
                actor=ACTOR,
            )
            _write_promises(store, cursor, decisions.promises, as_of=as_of, now=now)
            summary = json.dumps(dict(decisions.summary), ensure_ascii=False, default=str)
            run(
                cursor,
                f"""INSERT INTO cycle_runs (as_of, started_at, finished_at, accounts, cases,
                    summary)
                VALUES (:as_of, :started_at, :now, :accounts, :cases, {store.json(":summary")})
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
            run(
                cursor,
                f"""INSERT INTO events (at, actor, type, entity_type, entity_id, case_id, payload)
                SELECT :now, :actor, 'cycle.completed', 'cycle_run', r.id, NULL,
                    {store.json(":summary")}
                FROM cycle_runs r WHERE r.as_of = :as_of""",  # noqa: S608 - constant fragments only
                now=now,
                actor=ACTOR,
                summary=summary,
                as_of=as_of,
            )
            started = perf_counter()
            cursor.execute("COMMIT")
            log.debug("%.3fs COMMIT", perf_counter() - started)
        except BaseException:
            cursor.execute("ROLLBACK")
            raise
