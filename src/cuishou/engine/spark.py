"""The daily cycle on Apache Spark (分布式跑批): the same pure steps, partition by partition.

``cuishou daily --engine spark --input LAKE --output DIR`` runs every Spark task on whole
cases, in one of two ways (ADR 0034):

* **a bucketed lake** (``cuishou lake export`` writes one: every table split by
  ``debtor_id % buckets``): each task of one ``mapInArrow`` stage takes some buckets,
  reads their files of every table itself, decides and writes its part of each decision
  table — no shuffle, no row passes through the JVM;
* **any other lake** (a data platform's tables): Spark reads each table, gives every row its
  case key (creditor, debtor) by joins, puts all tables in one tagged frame and
  repartitions it by that key; ``mapInArrow`` hands each partition to the steps and the
  decisions come back tagged, for Spark to write.

Either way a task runs exactly what the single-machine run does:
:func:`lake.snapshot_from_lake` cuts the day, :func:`cuishou.engine.runner.decide` composes
the steps, :func:`cuishou.engine.after.decide_after` scores, grades, labels and segments the
cases — no rule is rewritten for Spark — and the tasks' counts are added on the driver
(a reduce). A task holds whole debtors (bucket by ``debtor_id``; the shuffle by
``debtor_id``): a person's cases with several creditors (co-debts) meet in one (ADR 0035).

What needs a view of the whole portfolio runs on the driver, not in a partition: the date's
bounds (last cycle, re-run, earliest snapshot: one small aggregate), the summary (sums of
the partitions' counts), grades by share and drift (the tasks' score and bin counts, added
up: ADR 0035), and — after ``cuishou lake import`` on the store — new case ids, model
alerts, the strategy's plans and allocation (see ADR 0034).

PySpark is optional (``pip install 'cuishou[spark]'``): it is imported only by
:func:`run_spark_cycle`, so the package and the ordinary ``daily`` never need it.
"""

from __future__ import annotations

import json
import os
import sys
import time
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache, partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl
import pyarrow as pa

from cuishou.engine import after, lake
from cuishou.engine.config import DEFAULT_CONFIG, CycleConfig
from cuishou.engine.io import Decisions
from cuishou.engine.runner import NO_ACCOUNTS, CycleResult, StepTiming, decide
from cuishou.kit.clock import utc_now
from cuishou.kit.errors import ConfigError

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession
    from pyspark.sql.types import StructType

KEY = ("creditor_id", "debtor_id")
TAG = "_t"
SUMMARY = "_summary"
#: rows per Arrow batch handed to and from the Python workers
BATCH_ROWS = 200_000
#: accounts per task when the run does not say (see docs/scale-out.md)
ACCOUNTS_PER_PARTITION = 500_000
#: the lake tables that carry no case key and how they find it: (table to join, on)
_BY_ACCOUNT = ("payments", "ledger", "previous", "previous_last", "waivers")
_BY_CASE = ("promises", "agreements")
#: the lake tables read by the partitions (``cycle_runs`` is read on the driver)
PARTITION_TABLES = tuple(name for name in lake.LAKE_TABLES if name != "cycle_runs")
#: and those for scores and segments, when the lake has them (ADR 0035)
AFTER_PARTITION_TABLES = tuple(n for n in after.AFTER_TABLES if n != "creditors")
#: counts that add up across partitions (the rest of the summary is the driver's)
_SUMMED = (
    "accounts", "cases", "cases_opened", "cases_closed", "cases_reopened",
    "excluded_not_yet_placed", "history_rows", "accounts_written", "rescheme",
)  # fmt: skip
_SUMMED_MAPS = ("buckets", "movements", "alerts_raised", "promises_judged", "agreements_judged")


@dataclass(frozen=True, slots=True)
class SparkStats:
    """Where a Spark run's time went (the bench's figures)."""

    master: str
    partitions: int
    start_seconds: float
    #: each partition's own time in ``decide`` (cut, steps, Arrow in and out) and accounts
    partition_seconds: list[float] = field(default_factory=list)
    partition_accounts: list[int] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        busy = sum(self.partition_seconds)
        accounts = sum(self.partition_accounts)
        return {
            "master": self.master,
            "partitions": self.partitions,
            "start_seconds": round(self.start_seconds, 3),
            "partition_seconds_total": round(busy, 3),
            "partition_seconds_max": round(max(self.partition_seconds, default=0.0), 3),
            "partition_accounts_per_second": round(accounts / busy) if busy else None,
        }


#: a slot per type family: the tagged frame reuses columns across tables (ADR 0034)
_SLOT_TYPES: dict[str, pl.DataType] = {
    "i": pl.Int64(),
    "s": pl.String(),
    "b": pl.Boolean(),
    "d": pl.Date(),
    "t": pl.Datetime("us", "UTC"),
}


def _family(dtype: pl.DataType) -> str:
    if dtype in (pl.Int64, pl.Int32):
        return "i"
    if dtype == pl.String:
        return "s"
    if dtype == pl.Boolean:
        return "b"
    if dtype == pl.Date:
        return "d"
    if isinstance(dtype, pl.Datetime):
        return "t"
    raise TypeError(f"no slot for {dtype}")  # a new step column: give its type a family


@cache
def slots(side: str) -> tuple[dict[str, dict[str, str]], dict[str, pl.DataType]]:
    """Where each table's columns travel in the tagged frame (``side``: ``in`` for the lake
    tables, ``out`` for the decisions), and the slot columns with their types.

    Every table's row uses the slots of its column types from the first (``i0, i1, …`` for
    integers, ``s0, …`` for text …), so the frame is as wide as the widest table of each
    type, not as all tables together: Spark shuffles and converts to Arrow row by row and
    cell by cell, and a frame of mostly empty cells costs as much as a full one."""
    inputs = lake.input_schemas()
    schemas = (
        {n: inputs[n] for n in (*PARTITION_TABLES, *AFTER_PARTITION_TABLES)}
        if side == "in"
        else lake.output_schemas()
    )
    mapping: dict[str, dict[str, str]] = {}
    widths: dict[str, int] = {}
    for table, schema in schemas.items():
        used: dict[str, int] = {}
        placed: dict[str, str] = {}
        for column, dtype in schema.items():
            family = _family(dtype)
            placed[column] = f"{family}{used.get(family, 0)}"
            used[family] = used.get(family, 0) + 1
        for family, count in used.items():
            widths[family] = max(widths.get(family, 0), count)
        mapping[table] = placed
    columns = {
        f"{family}{k}": dtype
        for family, dtype in _SLOT_TYPES.items()
        for k in range(widths.get(family, 0))
    }
    return mapping, columns


def _spark_type(dtype: pl.DataType) -> Any:
    from pyspark.sql import types as st

    if dtype == pl.Int64:
        return st.LongType()
    if dtype == pl.Int32:
        return st.IntegerType()
    if dtype == pl.String:
        return st.StringType()
    if dtype == pl.Boolean:
        return st.BooleanType()
    if dtype == pl.Date:
        return st.DateType()
    if isinstance(dtype, pl.Datetime):
        return st.TimestampType()
    raise TypeError(f"no Spark type for {dtype}")  # a new step column: map its type here


def output_schema() -> StructType:
    """The tagged frame the partitions return: the decision tables' rows in slots."""
    from pyspark.sql import types as st

    fields = [st.StructField(TAG, st.StringType(), False)]
    fields += [st.StructField(c, _spark_type(t), True) for c, t in slots("out")[1].items()]
    fields.append(st.StructField(SUMMARY, st.StringType(), True))
    return st.StructType(fields)


# ------------------------------------------------------------------ in each partition


def _unpack(frame: pl.DataFrame, names: tuple[str, ...]) -> dict[str, pl.DataFrame]:
    """The partition's lake tables out of the tagged frame."""
    tables: dict[str, pl.DataFrame] = {}
    placed = slots("in")[0]
    inputs = lake.input_schemas()
    for name in names:
        schema = inputs[name]
        rows = frame.filter(pl.col(TAG) == name).select(
            pl.col(placed[name][c]).alias(c) for c in schema
        )
        tables[name] = lake.conform(rows, schema, name=name)
    return tables


def _decide(
    tables: Mapping[str, pl.DataFrame], as_of: date, config: CycleConfig, meta: lake.LakeMeta
) -> Decisions:
    """A task's whole cases: the day's cut and the steps, as on one machine."""
    return decide(lake.snapshot_from_lake(tables, as_of, meta), as_of, config)


def _summary_row(decided: Decisions, made: after.After, started: float) -> str:
    return json.dumps(
        {
            **decided.summary,
            "_scoring": made.scoring,
            "_strategy": made.strategy,
            "_drift": made.drift_counts,
            "_seconds": time.perf_counter() - started,
        },
        default=str,
    )


def _input_names(plan: after.AfterPlan) -> tuple[str, ...]:
    return (*PARTITION_TABLES, *(AFTER_PARTITION_TABLES if plan.active else ()))


def _read_buckets(source: str, group: list[int], plan: after.AfterPlan) -> dict[str, pl.DataFrame]:
    inputs = lake.input_schemas()
    return {
        name: lake.read_buckets(Path(source), name, inputs[name], group)
        for name in _input_names(plan)
    }


def decide_buckets(
    batches: Iterator[pa.RecordBatch],
    *,
    source: str,
    target: str,
    groups: list[list[int]],
    as_of: date,
    config: CycleConfig,
    meta: lake.LakeMeta,
    plan: after.AfterPlan | None = None,
    ruler: Any = None,
) -> Iterator[pa.RecordBatch]:
    """The tasks of a bucketed lake: task ``i`` (a row of the driver's range) reads the
    buckets ``groups[i]`` of every table, decides, scores and segments, and writes its part
    of every decision table; it returns only its summary row."""
    plan = plan or after.AfterPlan()
    for batch in batches:
        for task in batch.column(0).to_pylist():
            assert isinstance(task, int)
            started = time.perf_counter()
            tables = _read_buckets(source, groups[task], plan)
            decided = _decide(tables, as_of, config, meta)
            made = after.decide_after(tables, decided, as_of, plan, ruler=ruler)
            lake.write_decision_part(Path(target), decided, f"part-{task:05d}", made.frames)
            yield pa.RecordBatch.from_pydict({SUMMARY: [_summary_row(decided, made, started)]})


def _score_counts(
    tables: Mapping[str, pl.DataFrame], as_of: date, config: CycleConfig,
    meta: lake.LakeMeta, plan: after.AfterPlan,
) -> Iterator[pa.RecordBatch]:  # fmt: skip
    """A task's ``score, n`` for the grade-by-share reduce: the day decided, then scored."""
    decided = _decide(tables, as_of, config, meta)
    yield from after.score_counts(tables, decided, as_of, plan).to_arrow().to_batches()


def count_buckets(
    batches: Iterator[pa.RecordBatch],
    *,
    source: str,
    groups: list[list[int]],
    as_of: date,
    config: CycleConfig,
    meta: lake.LakeMeta,
    plan: after.AfterPlan,
) -> Iterator[pa.RecordBatch]:
    """The map side of the grade-by-share reduce on a bucketed lake: each task's
    ``score, n`` (:func:`cuishou.engine.after.score_counts`)."""
    for batch in batches:
        for task in batch.column(0).to_pylist():
            assert isinstance(task, int)
            tables = _read_buckets(source, groups[task], plan)
            yield from _score_counts(tables, as_of, config, meta, plan)


def count_partition(
    batches: Iterator[pa.RecordBatch],
    *,
    as_of: date,
    config: CycleConfig,
    meta: lake.LakeMeta,
    plan: after.AfterPlan,
) -> Iterator[pa.RecordBatch]:
    """The same on a shuffled partition."""
    received = list(batches)
    if not received:
        return
    frame = pl.from_arrow(pa.Table.from_batches(received))
    assert isinstance(frame, pl.DataFrame)
    yield from _score_counts(_unpack(frame, _input_names(plan)), as_of, config, meta, plan)


def decide_partition(
    batches: Iterator[pa.RecordBatch],
    *,
    as_of: date,
    config: CycleConfig,
    meta: lake.LakeMeta,
    schema: pa.Schema,
    plan: after.AfterPlan | None = None,
    ruler: Any = None,
) -> Iterator[pa.RecordBatch]:
    """One partition (whole cases of whole debtors): the day's cut and the steps, as on one
    machine, then the day's scores, labels and segments; the decisions tagged by table, and
    one summary row with the partition's counts and time."""
    started = time.perf_counter()
    received = list(batches)
    if not received:
        return
    frame = pl.from_arrow(pa.Table.from_batches(received))
    assert isinstance(frame, pl.DataFrame)
    plan = plan or after.AfterPlan()
    tables = _unpack(frame, _input_names(plan))
    decided = _decide(tables, as_of, config, meta)
    made = after.decide_after(tables, decided, as_of, plan, ruler=ruler)
    frames = {**{t: getattr(decided, t) for t in lake.DECISION_TABLES}, **made.frames}
    placed, types = slots("out")
    parts = [
        frames[table]
        .select(pl.col(c).cast(types[slot]).alias(slot) for c, slot in placed[table].items())
        .with_columns(pl.lit(table).alias(TAG))
        for table in frames
    ]
    parts.append(pl.DataFrame({TAG: [SUMMARY], SUMMARY: [_summary_row(decided, made, started)]}))
    out = pl.concat(parts, how="diagonal_relaxed").to_arrow()
    columns = [
        out.column(f.name).cast(f.type)
        if f.name in out.column_names
        else pa.nulls(len(out), f.type)
        for f in schema
    ]
    yield from pa.Table.from_arrays(columns, schema=schema).to_batches(max_chunksize=BATCH_ROWS)


# ------------------------------------------------------------------ on the driver


def spark_session(master: str | None = None, conf: Mapping[str, str] | None = None) -> SparkSession:
    """The session to run in: the active one (``spark-submit``), else a new one on
    ``master`` (``local[*]`` when not given)."""
    # PySpark checks pandas' version on every Arrow map and warns about pandas 3; the
    # engine hands Spark Arrow batches only (no pandas), so the warning is noise to a user
    warnings.filterwarnings(
        "ignore", message="PySpark does not yet fully support pandas", category=FutureWarning
    )
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise ConfigError(
            "the Spark engine needs PySpark and Java: pip install 'cuishou[spark]' "
            "(and Debian's openjdk-17-jre-headless)"
        ) from exc
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    # the Python workers run this interpreter (this package and Polars) with one Polars
    # thread each: Spark gives every core its own worker
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = (
        SparkSession.builder.appName("cuishou-daily")
        .master(master or "local[*]")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.execution.arrow.useLargeVarTypes", "false")
        .config("spark.sql.execution.arrow.maxRecordsPerBatch", str(BATCH_ROWS))
        .config("spark.executorEnv.POLARS_MAX_THREADS", "1")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.adaptive.enabled", "false")
    )
    for key, value in (conf or {}).items():
        builder = builder.config(key, value)
    try:
        session = builder.getOrCreate()
    except Exception as exc:  # no Java, a bad master
        raise ConfigError(f"Spark did not start ({exc}); is Java installed?") from exc
    session.sparkContext.setLogLevel("ERROR")
    return session


def _keyed(spark: SparkSession, source: str, names: tuple[str, ...]) -> DataFrame:
    """Every lake table read by Spark, with its case key, in one tagged frame."""
    from pyspark.sql import functions as sf

    inputs = lake.input_schemas()

    def read(name: str) -> DataFrame:
        frame = spark.read.parquet(f"{source}/{name}")
        return frame.select([sf.col(c).cast(_spark_type(t)) for c, t in inputs[name].items()])

    tables = {name: read(name) for name in names}
    by_account = tables["accounts"].select(sf.col("id").alias("_account"), *KEY)
    by_case = tables["cases"].select(sf.col("id").alias("_case"), *KEY)
    by_agreement = (
        tables["agreements"]
        .select(sf.col("agreement_id").alias("_agreement"), sf.col("case_id").alias("_case"))
        .join(by_case, "_case")
        .drop("_case")
    )
    keyed: list[DataFrame] = []
    for name, frame in tables.items():
        if name in _BY_ACCOUNT or name in after.BY_ACCOUNT:
            frame = frame.join(by_account, frame["account_id"] == by_account["_account"]).drop(
                "_account"
            )
        elif name in _BY_CASE or name in after.BY_CASE:
            frame = frame.join(by_case, frame["case_id"] == by_case["_case"]).drop("_case")
        elif name == "installments":
            frame = frame.join(
                by_agreement, frame["agreement_id"] == by_agreement["_agreement"]
            ).drop("_agreement")
        elif name in after.BY_DEBTOR:  # a debtor's rows go with every case of theirs
            frame = frame.withColumn("creditor_id", sf.lit(None).cast("long"))
        placed, types = slots("in")
        keyed.append(
            frame.select(
                sf.lit(name).alias(TAG),
                sf.col("creditor_id").alias("_k1"),
                sf.col("debtor_id").alias("_k2"),
                *(
                    sf.col(c).cast(_spark_type(types[slot])).alias(slot)
                    for c, slot in placed[name].items()
                ),
            )
        )
    union = keyed[0]
    for frame in keyed[1:]:
        union = union.unionByName(frame, allowMissingColumns=True)
    return union


def _merge(summaries: list[dict[str, Any]], config: CycleConfig, rerun: bool) -> dict[str, Any]:
    """The reduce: the partitions' counts added up."""
    total: dict[str, Any] = {name: 0 for name in _SUMMED}
    for name in _SUMMED_MAPS:
        total[name] = {}
    for part in summaries:
        for name in _SUMMED:
            total[name] += int(part[name])
        for name in _SUMMED_MAPS:
            for key, value in part[name].items():
                total[name][key] = total[name].get(key, 0) + int(value)
    if not summaries:  # no rows at all: the same zero counts as a run on one machine
        empty = decide(
            lake.snapshot_from_lake(
                {n: pl.DataFrame(schema=s) for n, s in lake.LAKE_TABLES.items()},
                date(2000, 1, 1),
                lake.LakeMeta(None, False, None),
            ),
            date(2000, 1, 1),
            config,
        ).summary
        total.update({name: dict(empty[name]) for name in _SUMMED_MAPS})
    total["scheme"] = config.buckets.version
    total["rerun"] = rerun
    return total


def _local(path: str) -> Path | None:
    """``path`` as a local folder (``file://`` or no scheme), or ``None`` (HDFS, S3, …)."""
    if "://" in path and not path.startswith("file://"):
        return None
    return Path(path.removeprefix("file://"))


def run_spark_cycle(
    source: str | Path,
    target: str | Path,
    as_of: date,
    config: CycleConfig = DEFAULT_CONFIG,
    *,
    master: str | None = None,
    partitions: int | None = None,
    now: datetime | None = None,
    conf: Mapping[str, str] | None = None,
) -> tuple[CycleResult, SparkStats]:
    """Run the cycle for ``as_of`` on Spark: the lake at ``source`` in, the decisions as
    Parquet under ``target`` (the layout :func:`lake.read_decisions` reads) and
    ``target/run.json``. Returns the same result as a run on one machine, and the timings.

    A bucketed lake on a path every task reaches is run bucket by bucket (no shuffle);
    any other lake through Spark's reader and a shuffle by case key (module docstring)."""
    source, target = str(source), str(target)
    started_at = now or utc_now()
    began = time.perf_counter()
    spark = spark_session(master, conf)
    start_seconds = time.perf_counter() - began
    run = _Run(spark, source, target, as_of, config, partitions, start_seconds)
    local_source, local_target = _local(source), _local(target)
    run.plan = (
        after.load_plan(local_source, as_of)
        if local_source is not None
        else after.AfterPlan(notes=("scores and segments need a lake on a local path",))
    )
    buckets = lake.lake_buckets(local_source) if local_source is not None else None
    if buckets is not None and local_source is not None and local_target is not None:
        parts, note = _run_bucketed(run, local_source, local_target, buckets)
    else:
        parts, note = _run_shuffled(run)
    summary = run.summary
    made: dict[str, Any] = {
        key: after.merge_summaries([p[f"_{key}"] for p in parts], key)
        for key in ("scoring", "strategy")
    }
    if made["scoring"] is not None:  # the drift reduce: PSI of the summed counts
        drift = after.drift_of([p["_drift"] for p in parts], run.plan)
        made["scoring"] = {**made["scoring"], "drift": drift}
    if note is None:
        _write_run(
            spark,
            target,
            {"as_of": as_of, "started_at": started_at, "engine": "spark", "summary": summary,
             **made},
        )  # fmt: skip
    stats = SparkStats(
        master=str(spark.sparkContext.master),
        partitions=run.chosen,
        start_seconds=start_seconds,
        partition_seconds=[float(p["_seconds"]) for p in parts],
        partition_accounts=[int(p["accounts"]) for p in parts],
    )
    result = CycleResult(
        as_of=as_of,
        steps=run.timings,
        seconds=time.perf_counter() - began,
        note=note,
        **summary,
        scoring=made["scoring"] if note is None else None,
        strategy=made["strategy"] if note is None else None,
    )
    return result, stats


@dataclass(slots=True)
class _Run:
    """One Spark run's settings and what it has measured so far."""

    spark: SparkSession
    source: str
    target: str
    as_of: date
    config: CycleConfig
    partitions: int | None
    start_seconds: float
    timings: list[StepTiming] = field(default_factory=list)
    chosen: int = 0
    summary: dict[str, Any] = field(default_factory=dict)
    #: what the run scores and segments with (ADR 0035)
    plan: after.AfterPlan = field(default_factory=after.AfterPlan)

    def __post_init__(self) -> None:
        self.timings.append(StepTiming("start", 0, self.start_seconds))

    def tasks(self, accounts: int, most: int | None = None) -> int:
        """The tasks to run: as asked, else enough for every core and ~500,000 accounts
        a task; never more than ``most`` (a bucketed lake's buckets)."""
        chosen = self.partitions or max(
            self.spark.sparkContext.defaultParallelism, -(-accounts // ACCOUNTS_PER_PARTITION)
        )
        self.chosen = min(chosen, most) if most else chosen
        return self.chosen


def _run_bucketed(
    run: _Run, source: Path, target: Path, buckets: int
) -> tuple[list[dict[str, Any]], str | None]:
    """A bucketed lake: one ``mapInArrow`` stage over task numbers, each task reading and
    writing its own buckets (the lake's files must be reachable from every executor)."""
    t = time.perf_counter()
    runs = lake.read_table(source, "cycle_runs", lake.RUNS_SCHEMA)
    files = sorted((source / "accounts").rglob("*.parquet"))
    dates = (
        pl.scan_parquet(files, hive_partitioning=False).select("snapshot_date").collect()
        if files
        else pl.DataFrame(schema={"snapshot_date": pl.Date()})
    )
    count = dates.height
    meta = lake.lake_meta(runs, dates, run.as_of)
    tasks = run.tasks(count, buckets)
    # bucket b goes to task b mod tasks: the debtor ids' spread, not their order
    groups = [list(range(task, buckets, tasks)) for task in range(tasks)]
    run.timings.append(StepTiming("load", count, time.perf_counter() - t))

    t = time.perf_counter()
    lake.clear_decisions(target)
    ruler = None
    if run.plan.needs_reduce():  # grades by share: every task's scores first (a reduce)
        counted = run.spark.range(0, tasks, 1, tasks).mapInArrow(
            partial(
                count_buckets, source=str(source), groups=groups, as_of=run.as_of,
                config=run.config, meta=meta, plan=run.plan,
            ),
            "score long, n long",
        )  # fmt: skip
        ruler = _ruler_of(counted, run.plan)
    summaries = (
        run.spark.range(0, tasks, 1, tasks)
        .mapInArrow(
            partial(
                decide_buckets,
                source=str(source),
                target=str(target),
                groups=groups,
                as_of=run.as_of,
                config=run.config,
                meta=meta,
                plan=run.plan,
                ruler=ruler,
            ),
            f"{SUMMARY} string",
        )
        .collect()
    )
    parts = [json.loads(r[0]) for r in summaries]
    run.summary = _merge(parts, run.config, meta.rerun)
    # the tasks wrote the decisions as they went: the stage is the decide and the write
    run.timings.append(StepTiming("decide", run.summary["accounts"], time.perf_counter() - t))
    rows = sum(run.summary[k] for k in ("accounts_written", "history_rows", "cases"))
    run.timings.append(StepTiming("write", rows, 0.0))
    return parts, None if run.summary["accounts"] else NO_ACCOUNTS


def _run_shuffled(run: _Run) -> tuple[list[dict[str, Any]], str | None]:
    """Any lake: Spark reads the tables, keys every row by case and shuffles (ADR 0034)."""
    from pyspark import StorageLevel
    from pyspark.sql import functions as sf
    from pyspark.sql.pandas.types import to_arrow_schema

    spark, source, target = run.spark, run.source, run.target
    t = time.perf_counter()
    try:
        runs = spark.read.parquet(f"{source}/cycle_runs").select("as_of").collect()
        accounts = spark.read.parquet(f"{source}/accounts")
        row = accounts.agg(sf.count(sf.lit(1)), sf.min("snapshot_date")).collect()[0]
    except Exception as exc:
        if type(exc).__name__ == "AnalysisException":
            raise ConfigError(f"not a lake Spark can read at {source}: {exc}") from exc
        raise
    count, earliest = int(row[0]), row[1]
    runs_frame = pl.DataFrame({"as_of": [r[0] for r in runs]}, schema=lake.RUNS_SCHEMA)
    meta = lake.lake_meta(
        runs_frame,
        pl.DataFrame({"snapshot_date": [earliest]}, schema={"snapshot_date": pl.Date}),
        run.as_of,
    )
    chosen = run.tasks(count)
    run.timings.append(StepTiming("load", count, time.perf_counter() - t))

    t = time.perf_counter()
    schema = output_schema()
    plan = run.plan
    # by debtor: a partition holds whole cases and every case of a debtor (co-debts, 共债)
    keyed = _keyed(spark, source, _input_names(plan)).repartition(chosen, "_k2")
    ruler = None
    if plan.needs_reduce():  # two passes over the partitions: read and shuffle them once
        keyed = keyed.persist(StorageLevel.MEMORY_AND_DISK)
        counted = keyed.mapInArrow(
            partial(count_partition, as_of=run.as_of, config=run.config, meta=meta, plan=plan),
            "score long, n long",
        )
        ruler = _ruler_of(counted, plan)
    decided = keyed.mapInArrow(
        partial(
            decide_partition,
            as_of=run.as_of,
            config=run.config,
            meta=meta,
            schema=to_arrow_schema(schema),
            plan=plan,
            ruler=ruler,
        ),
        schema,
    ).persist(StorageLevel.MEMORY_AND_DISK)
    try:
        parts = [
            json.loads(r[0])
            for r in decided.filter(sf.col(TAG) == SUMMARY).select(SUMMARY).collect()
        ]
        run.summary = summary = _merge(parts, run.config, meta.rerun)
        run.timings.append(StepTiming("decide", summary["accounts"], time.perf_counter() - t))

        t = time.perf_counter()
        rows = 0
        if summary["accounts"]:
            placed = slots("out")[0]
            for table, columns in lake.output_schemas().items():
                decided.filter(sf.col(TAG) == table).select(
                    *(
                        sf.col(placed[table][c]).cast(_spark_type(t)).alias(c)
                        for c, t in columns.items()
                    )
                ).write.mode("overwrite").parquet(f"{target}/{table}")
            rows = sum(summary[k] for k in ("accounts_written", "history_rows", "cases"))
        run.timings.append(StepTiming("write", rows, time.perf_counter() - t))
    finally:
        decided.unpersist()
        keyed.unpersist()
    return parts, None if summary["accounts"] else NO_ACCOUNTS


def _ruler_of(counted: DataFrame, plan: after.AfterPlan) -> Any:
    """The reduce of grades by share: the tasks' ``score, n`` added up on the driver and
    cut there (:func:`cuishou.engine.after.ruler_from_counts`)."""
    rows = counted.groupBy("score").sum("n").collect()
    counts = pl.DataFrame(
        {"score": [r[0] for r in rows], "n": [r[1] for r in rows]},
        schema={"score": pl.Int64(), "n": pl.Int64()},
    )
    return after.ruler_from_counts(counts, plan)


def _write_run(spark: SparkSession, target: str, run: Mapping[str, Any]) -> None:
    if "://" not in target or target.startswith("file://"):
        lake.write_run(Path(target.removeprefix("file://")), run)
        return
    text = json.dumps(run, ensure_ascii=False, default=str)
    spark.createDataFrame([(text,)], "value string").coalesce(1).write.mode("overwrite").text(
        f"{target}/{lake.RUN_FILE}"
    )
