"""Bulk store I/O, written once for the import and the daily cycle (批量读写).

Everything that moves many rows goes through a :class:`Bulk`: a connection inside one
transaction that can

* ``stage`` a Polars frame as a temporary table (for set-based ``INSERT … SELECT`` /
  ``UPDATE … FROM`` statements),
* ``execute`` SQL with ``:name`` parameters, and
* ``fetch`` a query as a typed Polars frame.

Two kinds share that interface and this module's dialect code:

* :class:`AdbcBulk` — an ADBC connection of its own (``BulkStore.read()`` / ``.write()``):
  Arrow in and out without a row-by-row step. The daily cycle reads and writes this way.
* :class:`SessionBulk` — the SQLAlchemy session's own connection, so bulk statements join
  the ORM work of the same transaction (the import: one file, one transaction).

Store quirks live in :class:`Dialect` only: SQLite keeps dates and times as text (in
SQLAlchemy's format, so the ORM reads bulk-written rows unchanged) and its ADBC driver
infers a column's type from the first rows (nullable columns are read through
``COALESCE`` with a sentinel, turned back into nulls by :meth:`Dialect.conform`);
PostgreSQL wants JSON cast explicitly and fresh statistics on staged tables.

Staging on SQLite with a session: the rows are bulk-ingested by ADBC into a scratch
database file, attached to the session's connection and unlinked at once. Scratch files
hold personal data (ID numbers, phones, addresses) while they exist, so they are made
``0600`` inside a private ``0700`` directory beside the store (the store holds the same
data), named by process id; files of processes that are gone (a ``kill -9``) are removed
when the next bulk session starts, and this process's own at exit.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import queue
import re
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from time import perf_counter
from typing import Any

import polars as pl
import pyarrow as pa
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from cuishou.store.db import adbc_uri

log = logging.getLogger(__name__)

#: SQLAlchemy's SQLite text format for DATETIME (microseconds always present)
SQLITE_DATETIME = "%Y-%m-%d %H:%M:%S%.6f"
_PARAM = re.compile(r"(?<![:\w]):([a-z_][a-z0-9_]*)")
_NAME = re.compile(r"[a-z_][a-z0-9_]*")
_ID = {"id": pl.Int64()}


def _checked_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise ValueError(f"not a table or column name: {name!r}")
    return name


@dataclass(frozen=True, slots=True)
class Dialect:
    """What differs between the two stores, for bulk work."""

    name: str  # sqlite | postgresql

    @property
    def sqlite(self) -> bool:
        return self.name == "sqlite"

    def value(self, value: Any) -> Any:
        """A bind value as this store wants it (SQLite keeps dates and times as text)."""
        if not self.sqlite:
            return value
        if isinstance(value, datetime):
            if value.tzinfo is None:
                raise ValueError("naive datetime given to the store; Cuishou stores aware time")
            return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        if isinstance(value, date):
            return value.isoformat()
        return value

    def json(self, expression: str) -> str:
        """``expression`` (JSON text) as the store's JSON column type."""
        return expression if self.sqlite else f"CAST({expression} AS JSON)"

    def nullable(self, column: str, sentinel: str) -> str:
        """``column`` read so the SQLite driver sees one type; :meth:`conform` restores nulls."""
        return f"COALESCE({column}, {sentinel})" if self.sqlite else column

    def stageable(self, frame: pl.DataFrame) -> pl.DataFrame:
        """A frame with the column types this store's bulk ingest writes faithfully."""
        if not self.sqlite:
            return frame
        return frame.with_columns(
            *(
                pl.col(c).dt.convert_time_zone("UTC").dt.strftime(SQLITE_DATETIME)
                if getattr(t, "time_zone", None)
                else pl.col(c).dt.strftime(SQLITE_DATETIME)
                for c, t in frame.schema.items()
                if isinstance(t, pl.Datetime)
            ),
            *(pl.col(c).dt.strftime("%Y-%m-%d") for c, t in frame.schema.items() if t == pl.Date),
            *(pl.col(c).cast(pl.Float64) for c, t in frame.schema.items() if t == pl.Decimal),
            *(pl.col(c).cast(pl.Int32) for c, t in frame.schema.items() if t == pl.Boolean),
        )

    @staticmethod
    def sql_type(dtype: pl.DataType) -> str:
        """The PostgreSQL column type of a staged Polars column."""
        if dtype == pl.Int64 or dtype == pl.UInt32 or dtype == pl.UInt64:
            return "BIGINT"
        if dtype.is_integer():
            return "INTEGER"
        if dtype == pl.String:
            return "TEXT"
        if dtype == pl.Date:
            return "DATE"
        if isinstance(dtype, pl.Datetime):
            return "TIMESTAMPTZ" if dtype.time_zone else "TIMESTAMP"
        if isinstance(dtype, pl.Decimal):
            return f"NUMERIC({dtype.precision or 38}, {dtype.scale})"
        if dtype.is_float():
            return "DOUBLE PRECISION"
        if dtype == pl.Boolean:
            return "BOOLEAN"
        raise ValueError(f"no staging column type for {dtype}")

    @staticmethod
    def conform(frame: pl.DataFrame, schema: Mapping[str, pl.DataType]) -> pl.DataFrame:
        """Give a fetched frame the expected dtypes (text dates, sentinels → null).

        Integer columns that may be null are read as ``COALESCE(col, 0)`` on SQLite
        (:meth:`nullable`): give them a schema type of :data:`NULLABLE_ID` to have 0 → null.
        """
        columns: list[pl.Expr | pl.Series] = []
        for name, dtype in schema.items():
            if name not in frame.columns:
                columns.append(pl.lit(None, dtype=dtype).alias(name))
                continue
            current = frame.schema[name]
            col = pl.col(name)
            if dtype is NULLABLE_ID and current.is_integer():
                columns.append(
                    pl.when(col == 0).then(None).otherwise(col).cast(pl.Int64).alias(name)
                )
            elif current == dtype:
                columns.append(col)
            elif isinstance(dtype, pl.Date) and current == pl.String:
                columns.append(
                    pl.when(col == "").then(None).otherwise(col).str.to_date("%Y-%m-%d").alias(name)
                )
            elif isinstance(dtype, pl.Datetime) and current == pl.String:
                columns.append(text_times(frame.get_column(name)).alias(name))
            elif isinstance(dtype, pl.Datetime) and isinstance(current, pl.Datetime):
                moved = col.dt.cast_time_unit("us")
                moved = (
                    moved.dt.convert_time_zone("UTC")
                    if current.time_zone
                    else moved.dt.replace_time_zone("UTC")
                )
                columns.append(moved.alias(name))
            else:
                columns.append(col.cast(dtype).alias(name))
        return frame.select(columns)


#: schema type for an integer id column read through :meth:`Dialect.nullable` (0 → null)
NULLABLE_ID: pl.DataType = pl.Int64()

#: SQLAlchemy's SQLite DATETIME text, to the microsecond (:data:`SQLITE_DATETIME`)
_FIXED_TIME = r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$"
_US_PER_DAY = 86_400_000_000
#: the clock's fields in that text: name, offset, width
_CLOCK = (("h", 11, 2), ("m", 14, 2), ("s", 17, 2), ("us", 20, 6))


def text_times(text: pl.Series) -> pl.Series:
    """SQLite's text times (UTC) as aware datetimes (``us``, UTC); ``""`` and nulls → null.

    The store writes every time in one fixed format (``2026-11-01 03:56:51.000000``). When
    every value has it, the date is parsed once per distinct day and the clock read from
    fixed positions as integers — about twice as fast as the general parser. Any other
    value (no fraction, an offset, an impossible date or hour…) sends the whole column
    through the general parser, whose result or error is then what the caller gets."""
    t = pl.col(text.name)
    frame = text.to_frame()
    general = pl.when(t == "").then(None).otherwise(t)
    general = general.str.to_datetime(
        "%Y-%m-%d %H:%M:%S%.f", time_unit="us", time_zone="UTC"
    ).alias(text.name)
    if not frame.select(((t == "") | t.str.contains(_FIXED_TIME)).all()).item():
        return frame.select(general).to_series()
    parts = frame.select(
        t.str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False).alias("day"),
        *(
            t.str.slice(at, width).cast(pl.Int64, strict=False).alias(name)
            for name, at, width in _CLOCK
        ),
        blank=(t == "") | t.is_null(),
    )
    possible = parts.select(
        (pl.col("day").is_null() == pl.col("blank")).all()
        & (pl.col("h").max().fill_null(0) < 24)
        & (pl.col("m").max().fill_null(0) < 60)
        & (pl.col("s").max().fill_null(0) < 60)
    ).item()
    if not possible:
        return frame.select(general).to_series()
    clock = ((pl.col("h") * 60 + pl.col("m")) * 60 + pl.col("s")) * 1_000_000 + pl.col("us")
    moment = pl.col("day").cast(pl.Int64) * _US_PER_DAY + clock
    return parts.select(moment.cast(pl.Datetime("us", "UTC")).alias(text.name)).to_series()


def dialect_of(engine_or_session: Engine | Session) -> Dialect:
    bind = engine_or_session.get_bind() if isinstance(engine_or_session, Session) else None
    name = (bind or engine_or_session).dialect.name  # type: ignore[union-attr]
    return Dialect(str(name))


#: up to this many rows are sent inline (:meth:`Bulk.relation`) rather than staged
INLINE_ROWS = 32


@dataclass(frozen=True, slots=True)
class Relation:
    """Rows to select from: ``sql`` names them in a ``FROM`` clause, ``params`` binds them."""

    sql: str
    params: dict[str, Any]


def named_parameters(sql: str, params: Mapping[str, Any], style: str) -> tuple[str, list[Any]]:
    """``:name`` placeholders rewritten for a DB-API driver: ``qmark`` (``?``, each use a
    value) or ``numeric_dollar`` (``$1`` … , a name used twice is one number)."""
    order: list[str] = []

    def placeholder(match: re.Match[str]) -> str:
        name = match.group(1)
        if style == "qmark":
            order.append(name)
            return "?"
        if name not in order:
            order.append(name)
        return f"${order.index(name) + 1}"

    rewritten = _PARAM.sub(placeholder, sql)
    return rewritten, [params[name] for name in order]


@dataclass(frozen=True, slots=True)
class Query:
    """One read for :meth:`Bulk.fetch_many`: SQL with ``:name`` parameters and the schema."""

    sql: str
    schema: Mapping[str, pl.DataType]
    params: Mapping[str, Any] = field(default_factory=dict)


class Bulk(ABC):
    """One connection inside one transaction, for set-based work on many rows."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect

    @property
    def sqlite(self) -> bool:
        return self.dialect.sqlite

    def json(self, expression: str) -> str:
        return self.dialect.json(expression)

    def nullable(self, column: str, sentinel: str) -> str:
        return self.dialect.nullable(column, sentinel)

    @abstractmethod
    def execute(self, sql: str, **params: Any) -> int:
        """Run ``sql`` with ``:name`` parameters; the number of rows changed (if known)."""

    @abstractmethod
    def fetch(self, sql: str, schema: Mapping[str, pl.DataType], **params: Any) -> pl.DataFrame:
        """The rows of a query as a frame with ``schema``'s column types."""

    def fetch_many(self, queries: Mapping[str, Query]) -> dict[str, pl.DataFrame]:
        """Several independent queries, each as :meth:`fetch` gives it; in the order given
        here, one after another (a :class:`ParallelRead` runs them side by side)."""
        return {name: self.fetch(q.sql, q.schema, **q.params) for name, q in queries.items()}

    def stage(
        self,
        name: str,
        frame: pl.DataFrame,
        *,
        schema: Mapping[str, pl.DataType] | None = None,
        index: Sequence[str] = (),
    ) -> str:
        """``frame`` as a temporary table for this transaction; returns how to name it in
        SQL. ``schema`` picks and types its columns (in order); ``index`` columns get an
        index (joins from stored tables to it never scan it)."""
        if schema is not None:
            frame = frame.select(pl.col(c).cast(t) for c, t in schema.items())
        return self._stage(_checked_name(name), frame, [_checked_name(c) for c in index])

    @abstractmethod
    def _stage(self, name: str, frame: pl.DataFrame, index: Sequence[str]) -> str: ...

    def relation(
        self,
        name: str,
        frame: pl.DataFrame,
        *,
        schema: Mapping[str, pl.DataType],
        index: Sequence[str] = (),
        inline_up_to: int = INLINE_ROWS,
    ) -> Relation:
        """``frame`` as something to select from: a few rows inline as bound parameters (no
        staging round trip for one online posting), more rows staged (with an index on the
        ``index`` columns, which a join to a stored table needs). Either way the SQL that
        reads it is the same: ``FROM {relation.sql} s`` with ``**relation.params``."""
        frame = frame.select(pl.col(c).cast(t) for c, t in schema.items())
        if frame.height > inline_up_to:
            return Relation(self.stage(name, frame, index=index), {})
        params: dict[str, Any] = {}
        selects: list[str] = []
        for i, row in enumerate(frame.iter_rows()):
            cells = []
            for column, dtype, value in zip(schema, schema.values(), row, strict=True):
                key = f"{_checked_name(column)}_{i}"
                params[key] = value
                cast = f":{key}" if self.sqlite else f"CAST(:{key} AS {Dialect.sql_type(dtype)})"
                cells.append(f"{cast} AS {column}")
            selects.append("SELECT " + ", ".join(cells))
        if not selects:  # no rows: a relation with the columns and nothing in it
            cells = [
                f"CAST(NULL AS {'TEXT' if self.sqlite else Dialect.sql_type(t)}) AS {c}"
                for c, t in schema.items()
            ]
            selects.append("SELECT " + ", ".join(cells) + " WHERE 1 = 0")
        return Relation("(" + " UNION ALL ".join(selects) + ")", params)

    @abstractmethod
    def drop(self, table: str) -> None:
        """Forget a staged table early (staged tables end with the transaction anyway)."""

    def analyze(self, table: str) -> None:
        """Fresh planner statistics for a table changed in bulk (PostgreSQL)."""
        if not self.sqlite:
            self.execute(f"ANALYZE {table}")

    def reserve_ids(self, table: str, count: int) -> pl.Series:
        """``count`` new primary keys for ``table``, ascending, for rows inserted with ids.

        Assigning ids before the insert lets everything that refers to the new rows be
        staged with the id instead of joined back on a natural key. SQLite: the write
        transaction excludes other writers, so ``MAX(id)`` + 1 … is what SQLite itself would
        assign. PostgreSQL: the ids come from the table's own sequence.
        """
        table = _checked_name(table)
        if count == 0:
            return pl.Series("id", [], dtype=pl.Int64)
        if self.sqlite:
            top = self.fetch(f"SELECT COALESCE(MAX(id), 0) AS id FROM {table}", _ID)  # noqa: S608 - checked name
            first = int(top.item(0, 0)) + 1
            return pl.int_range(first, first + count, dtype=pl.Int64, eager=True).alias("id")
        ids = self.fetch(
            f"""SELECT nextval(pg_get_serial_sequence('{table}', 'id')) AS id
            FROM generate_series(1, :count) ORDER BY 1""",  # noqa: S608 - checked name
            _ID,
            count=count,
        )
        return ids.get_column("id")


# --------------------------------------------------------------------------- ADBC


#: the SQLite ADBC driver's statement option for the rows of one Arrow batch
SQLITE_BATCH_ROWS = "adbc.sqlite.query.batch_rows"
FETCH_BATCH_ROWS = 65_536


class AdbcBulk(Bulk):
    """Bulk work on an ADBC cursor (its own connection; transactions are explicit)."""

    def __init__(self, dialect: Dialect, cursor: Any) -> None:
        super().__init__(dialect)
        self.cursor = cursor

    def execute(self, sql: str, **params: Any) -> int:
        style = "qmark" if self.sqlite else "numeric_dollar"
        rewritten, values = named_parameters(sql, params, style)
        started = perf_counter()
        if values:
            self.cursor.execute(rewritten, tuple(self.dialect.value(v) for v in values))
        else:
            self.cursor.execute(rewritten)
        log.debug("%.3fs %s", perf_counter() - started, " ".join(rewritten.split())[:120])
        return int(getattr(self.cursor, "rowcount", -1) or 0)

    def fetch(self, sql: str, schema: Mapping[str, pl.DataType], **params: Any) -> pl.DataFrame:
        if self.sqlite:
            # the driver's default is 1,024 rows a batch: a million-row read then comes as a
            # thousand chunks, each a cost to read and to join into one frame
            self.cursor.adbc_statement.set_options(**{SQLITE_BATCH_ROWS: str(FETCH_BATCH_ROWS)})
        self.execute(sql, **params)
        table: pa.Table = self.cursor.fetch_arrow_table()
        frame = pl.from_arrow(table)
        assert isinstance(frame, pl.DataFrame)
        return Dialect.conform(frame, schema)

    def _stage(self, name: str, frame: pl.DataFrame, index: Sequence[str]) -> str:
        started = perf_counter()
        self.cursor.adbc_ingest(
            name, self.dialect.stageable(frame).to_arrow(), mode="create", temporary=True
        )
        if index:
            columns = ", ".join(index)
            self.cursor.execute(f"CREATE INDEX ix_{name} ON {name} ({columns})")
        self.analyze(name)
        log.debug("%.3fs stage %s (%d rows)", perf_counter() - started, name, frame.height)
        return name

    def drop(self, table: str) -> None:
        self.cursor.execute(f"DROP TABLE IF EXISTS {_checked_name(table)}")


class ParallelRead(AdbcBulk):
    """A read transaction on several connections that all see the same state of the store:
    :meth:`fetch_many` runs its queries side by side, one connection per thread (reading rows
    is the driver's C code, which releases the GIL). Everything else runs on the first
    connection, as in :meth:`BulkStore.read`."""

    def __init__(self, dialect: Dialect, cursors: Sequence[Any]) -> None:
        super().__init__(dialect, cursors[0])
        self.readers = [AdbcBulk(dialect, c) for c in cursors]

    def fetch_many(self, queries: Mapping[str, Query]) -> dict[str, pl.DataFrame]:
        if len(self.readers) == 1 or len(queries) < 2:
            return super().fetch_many(queries)
        names = list(queries)
        # each connection takes the next query as soon as it is free: listed largest first,
        # the reads then end close together whatever their sizes
        waiting: queue.SimpleQueue[str] = queue.SimpleQueue()
        for name in names:
            waiting.put(name)

        def run(reader: AdbcBulk) -> dict[str, pl.DataFrame]:
            read: dict[str, pl.DataFrame] = {}
            while True:
                try:
                    name = waiting.get_nowait()
                except queue.Empty:
                    return read
                query = queries[name]
                read[name] = reader.fetch(query.sql, query.schema, **query.params)

        with ThreadPoolExecutor(max_workers=len(self.readers)) as pool:
            done = list(pool.map(run, self.readers))
        found = {name: frame for part in done for name, frame in part.items()}
        return {name: found[name] for name in names}


class BulkStore:
    """ADBC connections to the store behind a SQLAlchemy engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.driver, self.uri = adbc_uri(engine)
        self.dialect = Dialect(self.driver)
        self.sqlite = self.dialect.sqlite

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

    @contextmanager
    def read(self) -> Iterator[AdbcBulk]:
        """One read transaction: every query sees the same state of the store."""
        with self.connect() as connection, connection.cursor() as cursor:
            cursor.execute("BEGIN" if self.sqlite else "BEGIN ISOLATION LEVEL REPEATABLE READ")
            try:
                yield AdbcBulk(self.dialect, cursor)
            finally:
                cursor.execute("COMMIT")

    @contextmanager
    def read_parallel(self, connections: int = 2) -> Iterator[AdbcBulk]:
        """One read transaction over ``connections`` connections that see the same state
        (:class:`ParallelRead`), for a batch that reads several large tables.

        SQLite (WAL): while a third connection holds the write lock for a moment, so that
        nothing can commit, each reader starts its read transaction; they then all see the
        last commit before it. When the lock is not free at once (a long write is running),
        the read falls back to one connection (:meth:`read`). PostgreSQL: the first
        connection exports its snapshot (``pg_export_snapshot``) and the others adopt it."""
        if connections < 2:
            with self.read() as bulk:
                yield bulk
            return
        with contextlib.ExitStack() as stack:
            opened = [stack.enter_context(self.connect()) for _ in range(connections)]
            cursors = [stack.enter_context(c.cursor()) for c in opened]
            if not self._same_snapshot(cursors):
                cursors = cursors[:1]
            try:
                yield ParallelRead(self.dialect, cursors)
            finally:
                for cursor in cursors:
                    cursor.execute("COMMIT")

    def _same_snapshot(self, cursors: list[Any]) -> bool:
        """Begin a read transaction on every cursor, all on one snapshot; ``False`` (only
        the first has begun) when that cannot be arranged now."""
        first, others = cursors[0], cursors[1:]
        if not self.sqlite:
            first.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
            first.execute("SELECT pg_export_snapshot()")
            snapshot = str(first.fetchone()[0])
            for cursor in others:
                cursor.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
                cursor.execute(f"SET TRANSACTION SNAPSHOT '{snapshot}'")
            return True
        from adbc_driver_manager import dbapi as adbc_dbapi

        with self.connect() as locking, locking.cursor() as lock:
            lock.execute("PRAGMA busy_timeout=200")
            try:
                lock.execute("BEGIN IMMEDIATE")
            except adbc_dbapi.Error:  # busy: a writer is at work; read on one connection
                first.execute("BEGIN")
                return False
            try:
                for cursor in cursors:
                    cursor.execute("BEGIN")
                    # the read transaction (the snapshot) starts at the first read
                    cursor.execute("SELECT COUNT(*) FROM sqlite_schema")
                    cursor.fetchall()
            finally:
                lock.execute("ROLLBACK")
        return True

    @contextmanager
    def write(self) -> Iterator[AdbcBulk]:
        """One write transaction, committed once; any error rolls everything back.
        SQLite takes the write lock at once (``BEGIN IMMEDIATE``)."""
        with self.connect() as connection, connection.cursor() as cursor:
            cursor.execute("BEGIN IMMEDIATE" if self.sqlite else "BEGIN")
            try:
                yield AdbcBulk(self.dialect, cursor)
                started = perf_counter()
                cursor.execute("COMMIT")
                log.debug("%.3fs COMMIT", perf_counter() - started)
            except BaseException:
                cursor.execute("ROLLBACK")
                raise


# --------------------------------------------------------------------------- session


class SessionBulk(Bulk):
    """Bulk work on the SQLAlchemy session's connection, inside its transaction."""

    def __init__(self, session: Session) -> None:
        super().__init__(dialect_of(session))
        self.session = session

    def execute(self, sql: str, **params: Any) -> int:
        values = {k: self.dialect.value(v) for k, v in params.items()}
        result = self.session.execute(text(sql), values)
        return int(getattr(result, "rowcount", -1) or 0)

    def fetch(self, sql: str, schema: Mapping[str, pl.DataType], **params: Any) -> pl.DataFrame:
        values = {k: self.dialect.value(v) for k, v in params.items()}
        result = self.session.execute(text(sql), values)
        # the driver's rows as they come (plain text SQL has no result types to process):
        # building a SQLAlchemy Row per row costs as much as reading them
        cursor = getattr(result, "cursor", None)
        rows = cursor.fetchall() if cursor is not None else result.all()
        result.close()
        if not rows:
            return pl.DataFrame(schema=dict(schema))
        columns = dict(zip(schema, map(list, zip(*rows, strict=True)), strict=True))
        raw = pl.DataFrame(columns, strict=False, infer_schema_length=None)
        return Dialect.conform(raw, schema)

    def _stage(self, name: str, frame: pl.DataFrame, index: Sequence[str]) -> str:
        if self.sqlite:
            return self._stage_sqlite(name, frame, index)
        connection = self.session.connection()
        table = f"_cuishou_stage_{name}"
        columns = ", ".join(
            f"{_checked_name(c)} {Dialect.sql_type(t)}" for c, t in frame.schema.items()
        )
        connection.exec_driver_sql(f"DROP TABLE IF EXISTS {table}")
        connection.exec_driver_sql(f"CREATE TEMPORARY TABLE {table} ({columns}) ON COMMIT DROP")
        if frame.height:
            driver: Any = connection.connection.driver_connection
            prepared = frame.with_columns(
                pl.col(c).dt.convert_time_zone("UTC").dt.strftime("%Y-%m-%dT%H:%M:%S%.6f+00:00")
                for c, t in frame.schema.items()
                if isinstance(t, pl.Datetime) and t.time_zone
            )
            payload = prepared.write_csv(include_header=False).encode("utf-8")
            names = ", ".join(frame.columns)
            with (
                driver.cursor() as cursor,
                cursor.copy(f"COPY {table} ({names}) FROM STDIN WITH (FORMAT csv)") as copy,
            ):
                copy.write(payload)
        if index:
            columns = ", ".join(_checked_name(c) for c in index)
            connection.exec_driver_sql(f"CREATE INDEX ix{table} ON {table} ({columns})")
        # temporary tables have no statistics until analysed; without them the planner
        # guesses a few rows and picks nested loops over a million
        connection.exec_driver_sql(f"ANALYZE {table}")
        return table

    def drop(self, table: str) -> None:
        if self.sqlite:
            # Detaching is refused once the transaction has read it; then it stays
            # attached (its file is already gone) until the next bulk session or disconnect.
            with contextlib.suppress(OperationalError):
                self.session.connection().exec_driver_sql(f"DETACH DATABASE {table.split('.')[0]}")
            return
        self.session.connection().exec_driver_sql(f"DROP TABLE IF EXISTS {table}")

    # -- SQLite scratch databases ------------------------------------------------

    def _stage_sqlite(self, name: str, frame: pl.DataFrame, index: Sequence[str]) -> str:
        """ADBC bulk ingest into a private scratch file, attached to our connection.

        A million rows go in in about a second (row by row through ``sqlite3`` takes tens
        of seconds); the file is unlinked as soon as it is attached, so nothing is left
        on disk — and if the process dies before that, the next bulk session removes it.
        """
        import adbc_driver_sqlite.dbapi as adbc_sqlite

        alias = f"{SQLITE_STAGE_ALIAS}{name}_{uuid.uuid4().hex[:8]}"
        scratch = scratch_directory(self._database_path()) / f"{os.getpid()}-{alias}.db"
        _OWN_SCRATCH.add(scratch)
        try:
            fd = os.open(scratch, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
            os.close(fd)
            with adbc_sqlite.connect(str(scratch)) as adbc, adbc.cursor() as cursor:
                cursor.adbc_ingest("t", self.dialect.stageable(frame).to_arrow(), mode="create")
                if index:
                    columns = ", ".join(_checked_name(c) for c in index)
                    cursor.execute(f"CREATE INDEX ix_t ON t ({columns})")
                adbc.commit()
            self.session.connection().exec_driver_sql(f"ATTACH DATABASE '{scratch}' AS {alias}")
        finally:
            scratch.unlink(missing_ok=True)
            _OWN_SCRATCH.discard(scratch)
        return f"{alias}.t"

    def _database_path(self) -> Path:
        database = self.session.get_bind().engine.url.database or ""
        if database in ("", ":memory:"):
            raise ValueError("bulk staging needs a file-backed SQLite store, not :memory:")
        return Path(database).resolve()

    def detach_leftovers(self) -> None:
        """Detach scratch databases an earlier bulk session left on this connection."""
        if not self.sqlite:
            return
        connection = self.session.connection()
        for row in connection.exec_driver_sql("PRAGMA database_list").all():
            if str(row[1]).startswith(SQLITE_STAGE_ALIAS):
                connection.exec_driver_sql(f"DETACH DATABASE {row[1]}")


SQLITE_STAGE_ALIAS = "cuishou_stage_"
_OWN_SCRATCH: set[Path] = set()


def scratch_directory(database: Path) -> Path:
    """The private (``0700``) scratch directory beside a SQLite store, cleaned of files left
    by processes that no longer run."""
    directory = database.with_name(f".{database.name}.stage")
    directory.mkdir(mode=0o700, exist_ok=True)
    os.chmod(directory, 0o700)
    for leftover in directory.glob("*.db"):
        pid = leftover.name.split("-", 1)[0]
        if not pid.isdigit() or not _running(int(pid)):
            leftover.unlink(missing_ok=True)
    return directory


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@atexit.register
def _remove_own_scratch() -> None:
    for path in list(_OWN_SCRATCH):
        path.unlink(missing_ok=True)
