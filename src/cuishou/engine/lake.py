"""The Parquet lake (数据湖): the daily cycle's facts and decisions as files.

A lake is a directory with one Parquet table per fact the cycle reads, exported from the
store in one read transaction (``cuishou lake export``) or written by a creditor's data
platform in the same shape (``LAKE_TABLES``). Unlike a :class:`~cuishou.engine.io.Snapshot`
it is not tied to one business date: the date-dependent cuts (payments up to the day,
ledger entries dated after it, the latest state before it, alerts that block) are made when
a run reads it, by :func:`snapshot_from_lake` — the one place those cuts are written for the
lake, used by the single-machine run (:class:`LakeCycleIO`) and by every Spark partition
(:mod:`cuishou.engine.spark`).

A lake may be **bucketed** (分桶): every table but ``cycle_runs`` split into ``buckets``
folders ``<table>/bucket=NNNNN/`` by ``debtor_id % buckets`` (rows without a debtor take
it from their account, case or plan), declared in ``_buckets.json``. A bucket holds whole
debtors, so whole cases, of every table at once: a Spark task reads its buckets directly
and needs no shuffle (ADR 0034). ``cuishou lake export`` writes a bucketed lake; a data
platform may write either kind.

The decisions of a run are a directory too: one Parquet dataset per frame of
:class:`~cuishou.engine.io.Decisions` (``DECISION_TABLES``, each a folder of ``part-*``
files, as Spark writes them), the day's ``scores``, ``labels`` and ``segments``
(:mod:`cuishou.engine.after`, from the lake's optional ``AFTER_TABLES``, models and
strategy) and ``run.json`` (date, summary, ``scoring`` and ``strategy``). ``cuishou lake import``
writes them to the store through the ordinary bulk write of the cycle
(:class:`~cuishou.engine.io.StoreCycleIO`, staged tables — COPY on PostgreSQL).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl
from sqlalchemy import Engine

from cuishou.engine import io
from cuishou.engine.after import AFTER_TABLES, BY_ACCOUNT, BY_CASE, OUTPUT_SCHEMAS
from cuishou.engine.config import CycleConfig
from cuishou.kit.errors import InvalidInput
from cuishou.store.bulk import BulkStore

if TYPE_CHECKING:
    from cuishou.engine.after import AfterPlan
    from cuishou.engine.runner import CycleResult

LEDGER_SCHEMA: dict[str, pl.DataType] = {
    "account_id": pl.Int64(),
    "effective_on": pl.Date(),
    "amount_fen": pl.Int64(),
}
RUNS_SCHEMA: dict[str, pl.DataType] = {"as_of": pl.Date()}

#: the lake's input tables and their columns
LAKE_TABLES: dict[str, dict[str, pl.DataType]] = {
    "accounts": io.ACCOUNTS_SCHEMA,
    "payments": io.PAYMENTS_SCHEMA,
    # what each account's ledger moves per effective date, after the last cycle's date
    "ledger": LEDGER_SCHEMA,
    # each account's latest state before the last cycle's date, and its state on that date
    "previous": io.PREVIOUS_SCHEMA,
    "previous_last": io.PREVIOUS_SCHEMA,
    "cases": io.CASES_SCHEMA,
    # alerts that block or may block: unresolved, or raised on or after the last cycle's date
    "alerts": io.ALERTS_SCHEMA,
    "promises": io.PROMISES_SCHEMA,
    "agreements": io.AGREEMENTS_SCHEMA,
    "installments": io.INSTALLMENTS_SCHEMA,
    "waivers": io.WAIVERS_SCHEMA,
    # the dates the cycle has run for (the last one bounds the next; a date in it is a re-run)
    "cycle_runs": RUNS_SCHEMA,
}
DECISION_TABLES = (
    "account_updates", "history", "cases", "alerts", "promises", "installments", "plans",
    "waivers",
)  # fmt: skip
RUN_FILE = "run.json"
#: the manifest of a bucketed lake: ``{"buckets": K, "key": "debtor_id", "rule": ...}``
BUCKETS_FILE = "_buckets.json"
BUCKET_KEY = "debtor_id"
#: accounts per bucket when the export does not say (a Spark task takes one or more)
ACCOUNTS_PER_BUCKET = 50_000
#: the tables that carry no debtor and how they find it: table → (key, table it is in)
_DEBTOR_VIA: dict[str, tuple[str, str]] = {
    "payments": ("account_id", "accounts"),
    "ledger": ("account_id", "accounts"),
    "previous": ("account_id", "accounts"),
    "previous_last": ("account_id", "accounts"),
    "waivers": ("account_id", "accounts"),
    "promises": ("case_id", "cases"),
    "agreements": ("case_id", "cases"),
    "installments": ("agreement_id", "agreements"),
    # scoring's and segmenting's (ADR 0035; ``debtors``, ``holds``, ``points`` carry one)
    **{name: ("account_id", "accounts") for name in BY_ACCOUNT},
    **{name: ("case_id", "cases") for name in BY_CASE},
}
#: the tables read whole by every run (not split into buckets)
UNBUCKETED = ("cycle_runs", "creditors")


@dataclass(frozen=True, slots=True)
class LakeMeta:
    """What a run needs to know of the whole lake before reading any part of it."""

    last_cycle: date | None
    rerun: bool
    #: the earliest snapshot date of any account (bounds the payments read, as on the store)
    earliest: date | None


def _empty(schema: Mapping[str, pl.DataType]) -> pl.DataFrame:
    return pl.DataFrame(schema=dict(schema))


def conform(frame: pl.DataFrame, schema: Mapping[str, pl.DataType], *, name: str) -> pl.DataFrame:
    """``frame`` with exactly ``schema``'s columns and types, or a clear error."""
    missing = [column for column in schema if column not in frame.columns]
    if missing:
        raise InvalidInput(f"lake table {name!r} lacks columns: {', '.join(missing)}", table=name)
    try:
        return frame.select(pl.col(c).cast(t) for c, t in schema.items())
    except pl.exceptions.PolarsError as exc:
        raise InvalidInput(f"lake table {name!r} has a column of the wrong type: {exc}") from exc


# ------------------------------------------------------------------ export


def export_lake(
    engine: Engine, out: Path, *, buckets: int | None = None, strategy_day: date | None = None
) -> dict[str, int]:
    """Write the store's cycle facts to ``out`` as a bucketed Parquet lake (one read
    transaction; ``buckets`` by default one per ~50,000 accounts), with what scoring and
    segmenting read (:mod:`cuishou.engine.after`: their facts in the same transaction, the
    champions and the strategy in force on ``strategy_day``, by default the day after the
    last cycle); rows per table."""
    from cuishou.engine.after import export_after, read_after_tables

    with BulkStore(engine).read() as bulk:
        last = io.latest_cycle(bulk)
        accounts = bulk.fetch(io.accounts_sql(bulk), io.ACCOUNTS_SCHEMA)
        earliest = accounts.get_column("snapshot_date").min()
        since = last or date.min
        tables = {
            "accounts": accounts,
            "payments": (
                bulk.fetch(io.PAYMENTS_SQL, io.PAYMENTS_SCHEMA, lower=io.payments_from(earliest))
                if isinstance(earliest, date)
                else _empty(io.PAYMENTS_SCHEMA)
            ),
            "ledger": bulk.fetch(
                """SELECT account_id, effective_on, CAST(SUM(fee_fen + penalty_fen
                    + interest_fen + principal_fen) AS BIGINT) AS amount_fen
                FROM ledger_entries WHERE effective_on > :since
                GROUP BY account_id, effective_on""",
                LEDGER_SCHEMA,
                since=since,
            ),
            "previous": bulk.fetch(
                io.previous_state_sql(bulk), io.PREVIOUS_SCHEMA, as_of=last or date.max
            ),
            "previous_last": bulk.fetch(
                """SELECT account_id, bucket AS prev_bucket, status AS prev_status,
                    amount_tier AS prev_tier, scheme AS prev_scheme
                FROM bucket_history WHERE as_of = :as_of""",
                io.PREVIOUS_SCHEMA,
                as_of=since,
            ),
            "cases": bulk.fetch(io.cases_sql(bulk), io.CASES_SCHEMA),
            "alerts": bulk.fetch(
                """SELECT c.creditor_id, c.debtor_id, a.kind, a.status, a.raised_on FROM alerts a
                JOIN cases c ON c.id = a.case_id
                WHERE a.status <> 'resolved' OR a.raised_on >= :since""",
                io.ALERTS_SCHEMA,
                since=since,
            ),
            "promises": bulk.fetch(io.PROMISES_SQL, io.PROMISES_SCHEMA),
            "agreements": bulk.fetch(io.AGREEMENTS_SQL, io.AGREEMENTS_SCHEMA),
            "installments": bulk.fetch(io.INSTALLMENTS_SQL, io.INSTALLMENTS_SCHEMA),
            "waivers": bulk.fetch(io.WAIVERS_SQL, io.WAIVERS_SCHEMA),
            "cycle_runs": bulk.fetch("SELECT as_of FROM cycle_runs ORDER BY as_of", RUNS_SCHEMA),
        }
        tables.update(read_after_tables(bulk, since=last))
    if buckets is None:
        buckets = default_buckets(accounts.height)
    write_tables(out, tables, buckets=buckets)
    export_after(engine, out, day=strategy_day or (last + timedelta(days=1) if last else None))
    return {name: frame.height for name, frame in tables.items()}


def default_buckets(accounts: int) -> int:
    """One bucket per ~50,000 accounts (at least one): enough for a cluster's tasks to
    share, few enough that a bucket's files are not tiny."""
    return max(1, -(-accounts // ACCOUNTS_PER_BUCKET))


def bucket_tables(tables: Mapping[str, pl.DataFrame], buckets: int) -> dict[str, pl.DataFrame]:
    """Every table but ``cycle_runs`` with its bucket (``debtor_id % buckets``) in a column
    ``_bucket``; a row whose account, case or plan is not in the lake has no debtor and
    is left out, as a Spark run's key join leaves it out."""
    if buckets < 1:
        raise InvalidInput(f"a lake needs at least one bucket, not {buckets}")
    keyed: dict[str, pl.DataFrame] = {}
    debtors: dict[str, pl.DataFrame] = {}

    def debtor_of(name: str) -> pl.DataFrame:
        """``id → debtor_id`` of a table that has (or finds) a debtor."""
        if name not in debtors:
            frame = keyed_table(name)
            ident = "agreement_id" if name == "agreements" else "id"
            debtors[name] = frame.select(pl.col(ident), BUCKET_KEY).unique(ident)
        return debtors[name]

    def keyed_table(name: str) -> pl.DataFrame:
        if name not in keyed:
            frame = tables[name]
            if name in _DEBTOR_VIA:
                column, via = _DEBTOR_VIA[name]
                ident = "agreement_id" if via == "agreements" else "id"
                frame = frame.join(
                    debtor_of(via).rename({ident: column}), on=column, how="inner",
                    maintain_order="left",
                )  # fmt: skip
            keyed[name] = frame
        return keyed[name]

    out: dict[str, pl.DataFrame] = {}
    for name, frame in tables.items():
        if name in UNBUCKETED:
            out[name] = frame
            continue
        with_debtor = keyed_table(name)
        out[name] = with_debtor.select(
            *frame.columns, (pl.col(BUCKET_KEY) % buckets).cast(pl.Int64).alias("_bucket")
        )
    return out


def _bucket_folder(bucket: int) -> str:
    return f"bucket={bucket:05d}"


def write_tables(
    out: Path, tables: Mapping[str, pl.DataFrame], *, buckets: int | None = None
) -> None:
    """Each frame as ``out/<name>/part-00000.parquet`` (a dataset folder, replaced whole);
    with ``buckets``, each frame but ``cycle_runs`` split into ``<name>/bucket=NNNNN/``
    folders and the lake's ``_buckets.json`` written (a bucketed lake)."""
    out.mkdir(parents=True, exist_ok=True)
    manifest = out / BUCKETS_FILE
    manifest.unlink(missing_ok=True)
    split = bucket_tables(tables, buckets) if buckets is not None else dict(tables)
    for name, frame in split.items():
        folder = out / name
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir()
        if "_bucket" not in frame.columns:
            frame.write_parquet(folder / "part-00000.parquet")
            continue
        for key, part in frame.partition_by("_bucket", as_dict=True).items():
            bucket = folder / _bucket_folder(int(str(key[0])))
            bucket.mkdir()
            part.drop("_bucket").write_parquet(bucket / "part-00000.parquet")
    if buckets is not None:
        manifest.write_text(
            json.dumps({"buckets": buckets, "key": BUCKET_KEY, "rule": "debtor_id % buckets"})
        )


def lake_buckets(root: Path) -> int | None:
    """The number of buckets of a bucketed lake (``None``: not bucketed)."""
    manifest = root / BUCKETS_FILE
    if not manifest.is_file():
        return None
    try:
        buckets = int(json.loads(manifest.read_text())["buckets"])
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidInput(f"{manifest} is not a bucket manifest: {exc}") from exc
    if buckets < 1:
        raise InvalidInput(f"{manifest} declares {buckets} buckets")
    return buckets


def _read_parts(parts: list[Path], schema: Mapping[str, pl.DataType], name: str) -> pl.DataFrame:
    if not parts:
        return _empty(schema)
    frame = pl.concat(
        [pl.read_parquet(p, hive_partitioning=False) for p in parts], how="diagonal_relaxed"
    )
    return conform(frame, schema, name=name)


def read_buckets(
    root: Path, name: str, schema: Mapping[str, pl.DataType], buckets: list[int]
) -> pl.DataFrame:
    """The rows of some buckets of a bucketed lake's table (a Spark task's share)."""
    folder = root / name
    parts = [p for b in buckets for p in sorted((folder / _bucket_folder(b)).glob("*.parquet"))]
    return _read_parts(parts, schema, name)


def read_table(root: Path, name: str, schema: Mapping[str, pl.DataType]) -> pl.DataFrame:
    """A lake table (a folder of Parquet parts, bucketed or not, or ``<name>.parquet``)
    with ``schema``."""
    folder, single = root / name, root / f"{name}.parquet"
    if folder.is_dir():
        return _read_parts(sorted(folder.rglob("*.parquet")), schema, name)
    if not single.is_file():
        raise InvalidInput(
            f"no table {name!r} in the lake {root} (expected {folder}/ or {single}); "
            "write one with `cuishou lake export --out DIR`",
            table=name,
        )
    return conform(pl.read_parquet(single), schema, name=name)


# ------------------------------------------------------------------ reading for a date


def lake_meta(runs: pl.DataFrame, accounts: pl.DataFrame, as_of: date) -> LakeMeta:
    """The run's bounds from the lake's cycle dates and accounts (refuses an earlier date)."""
    last = runs.get_column("as_of").max()
    last_cycle = last if isinstance(last, date) else None
    io.refuse_earlier(as_of, last_cycle)
    earliest = accounts.get_column("snapshot_date").min()
    return LakeMeta(
        last_cycle=last_cycle,
        rerun=as_of in set(runs.get_column("as_of").to_list()),
        earliest=earliest if isinstance(earliest, date) else None,
    )


def snapshot_from_lake(
    tables: Mapping[str, pl.DataFrame], as_of: date, meta: LakeMeta
) -> io.Snapshot:
    """The snapshot for ``as_of`` from lake tables: the same cuts the store's read makes in
    SQL (:func:`cuishou.engine.io.load_snapshot`), made here in Polars. ``tables`` may hold
    whole cases only (a Spark partition): every cut is per row or per account."""
    accounts = tables["accounts"]
    payments = tables["payments"]
    if meta.earliest is not None and meta.earliest <= as_of:
        upper = datetime.combine(as_of + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
        payments = payments.filter(
            (pl.col("paid_at") >= io.payments_from(meta.earliest))
            & (pl.col("paid_at") < upper + timedelta(hours=15))
        )
    else:
        payments = payments.clear()
    future = (
        tables["ledger"]
        .filter(pl.col("effective_on") > as_of)
        .group_by("account_id")
        .agg(pl.col("amount_fen").sum().cast(pl.Int64).alias("future_fen"))
    )
    previous = tables["previous"]
    if meta.last_cycle is not None and as_of > meta.last_cycle:
        # the state on the last cycle's date is the latest before this one where there is one
        previous = pl.concat([previous, tables["previous_last"]]).unique(
            "account_id", keep="last", maintain_order=True
        )
    alerts = tables["alerts"].filter(
        (pl.col("status") != "resolved") | (pl.col("raised_on") == as_of)
    )
    return io.Snapshot(
        accounts=accounts,
        future=future,
        payments=payments,
        previous=previous,
        cases=tables["cases"],
        existing_alerts=alerts,
        agreements=tables["agreements"],
        installments=tables["installments"],
        waivers=tables["waivers"],
        last_cycle=meta.last_cycle,
        rerun=meta.rerun,
        promises=tables["promises"],
    )


@cache
def decision_schemas() -> dict[str, dict[str, pl.DataType]]:
    """The columns of each decision frame, as the steps make them (from an empty day)."""
    from cuishou.engine.runner import decide

    empty = {name: _empty(schema) for name, schema in LAKE_TABLES.items()}
    meta = LakeMeta(last_cycle=None, rerun=False, earliest=None)
    decided = decide(snapshot_from_lake(empty, date(2000, 1, 1), meta), date(2000, 1, 1))
    return {name: dict(getattr(decided, name).schema) for name in DECISION_TABLES}


def decision_frames(decisions: io.Decisions) -> dict[str, pl.DataFrame]:
    """The decision tables as written: each frame with the columns of ``decision_schemas``."""
    schemas = decision_schemas()
    return {
        name: conform(getattr(decisions, name), schemas[name], name=name)
        for name in DECISION_TABLES
    }


def output_schemas() -> dict[str, dict[str, pl.DataType]]:
    """Every dataset a run writes: the cycle's decisions, then its scores, labels and
    segments (:data:`cuishou.engine.after.OUTPUT_SCHEMAS`)."""
    return {**decision_schemas(), **OUTPUT_SCHEMAS}


def input_schemas() -> dict[str, dict[str, pl.DataType]]:
    """Every table a task reads: the cycle's (``LAKE_TABLES``), then scoring's and
    segmenting's (:data:`cuishou.engine.after.AFTER_TABLES`, less ``creditors``: the driver
    hands those to every task)."""
    return {**LAKE_TABLES, **{n: s for n, s in AFTER_TABLES.items() if n != "creditors"}}


def read_after(root: Path) -> dict[str, pl.DataFrame]:
    """A run's scores, labels and segments (empty frames for a run that made none)."""
    return {
        name: read_table(root, name, schema) if (root / name).is_dir() else _empty(schema)
        for name, schema in OUTPUT_SCHEMAS.items()
    }


def clear_decisions(out: Path) -> None:
    """Make ``out`` an empty decisions folder (each table's folder there, no ``run.json``)."""
    out.mkdir(parents=True, exist_ok=True)
    (out / RUN_FILE).unlink(missing_ok=True)
    for name in (*DECISION_TABLES, *OUTPUT_SCHEMAS):
        if (out / name).exists():
            shutil.rmtree(out / name)
        (out / name).mkdir()


def write_decision_part(
    out: Path, decisions: io.Decisions, part: str, after: Mapping[str, pl.DataFrame] | None = None
) -> None:
    """One part of each decision table (``out/<table>/<part>.parquet``), written under a
    hidden name and renamed into place: a retried task replaces its part whole, and a
    reader never sees half a file. ``after``: the part's scores, labels and segments."""
    made = {n: conform(f, OUTPUT_SCHEMAS[n], name=n) for n, f in (after or {}).items()}
    for name, frame in {**decision_frames(decisions), **made}.items():
        hidden = out / name / f".{part}.parquet.tmp"
        frame.write_parquet(hidden)
        hidden.replace(out / name / f"{part}.parquet")


def write_run(out: Path, run: Mapping[str, Any]) -> None:
    (out / RUN_FILE).write_text(json.dumps(run, ensure_ascii=False, default=str, indent=1))


def read_decisions(root: Path) -> tuple[io.Decisions, dict[str, Any]]:
    """A run's decisions and its ``run.json`` (as_of, started_at, summary)."""
    run_file = root / RUN_FILE
    if not run_file.is_file():
        raise InvalidInput(
            f"{root} holds no decisions ({RUN_FILE} missing); write them with "
            "`cuishou daily --input LAKE --output DIR`",
        )
    run = json.loads(run_file.read_text())
    frames = {name: read_table(root, name, schema) for name, schema in decision_schemas().items()}
    summary = dict(run["summary"])
    return io.Decisions(**frames, accounts_in_force=int(summary["accounts"]), summary=summary), run


class LakeCycleIO:
    """The cycle's I/O on a lake: reads ``source``'s tables, writes decisions to ``target``
    (the single-machine engine on the same files the Spark runner reads)."""

    def __init__(self, source: Path, target: Path) -> None:
        self.source, self.target = source, target
        self.tables: dict[str, pl.DataFrame] = {}
        #: the run's ``scoring`` and ``strategy`` summaries, once written
        self.after: dict[str, Any] = {}
        self.plan: AfterPlan | None = None

    def load_snapshot(self, as_of: date) -> io.Snapshot:
        from cuishou.engine.after import load_plan, read_inputs

        tables = {
            name: read_table(self.source, name, schema) for name, schema in LAKE_TABLES.items()
        }
        meta = lake_meta(tables["cycle_runs"], tables["accounts"], as_of)
        self.plan = load_plan(self.source, as_of)
        self.tables = {**tables, **read_inputs(self.source, self.plan)}
        return snapshot_from_lake(tables, as_of, meta)

    def write_decisions(
        self, decisions: io.Decisions, *, as_of: date, now: datetime, started_at: datetime
    ) -> Mapping[str, Any]:
        from cuishou.engine.after import decide_after, drift_of

        assert self.plan is not None  # load_snapshot read it
        # the whole portfolio is at hand: grades by share are cut from its own scores
        after = decide_after(self.tables, decisions, as_of, self.plan)
        made = {n: conform(f, OUTPUT_SCHEMAS[n], name=n) for n, f in after.frames.items()}
        write_tables(self.target, {**decision_frames(decisions), **made})
        summary = dict(decisions.summary)
        # and drift is its own counts' PSI
        scoring = {**after.scoring, "drift": drift_of([after.drift_counts], self.plan)}
        self.after = {"scoring": scoring, "strategy": after.strategy}
        write_run(
            self.target,
            {"as_of": as_of, "started_at": started_at, "engine": "polars", "summary": summary,
             **self.after},
        )  # fmt: skip
        return summary


def run_lake_cycle(
    source: Path, target: Path, as_of: date, config: CycleConfig, *, now: datetime | None = None
) -> CycleResult:
    """``cuishou daily --input LAKE --output DIR`` on this machine: the cycle, then the
    day's scores, labels and segments (``scoring`` and ``strategy`` in the result)."""
    from dataclasses import replace

    from cuishou.engine.runner import run_cycle

    cycle_io = LakeCycleIO(source, target)
    result = run_cycle(cycle_io, as_of, config, now=now)
    if result.note is not None:
        return result
    return replace(result, **cycle_io.after)


def import_decisions(engine: Engine, root: Path, *, now: datetime) -> dict[str, Any]:
    """Write a run's decisions (``root``) to the store, all or nothing; the summary as
    recorded (alerts counted as raised, a re-run said so)."""
    decisions, run = read_decisions(root)
    as_of = date.fromisoformat(str(run["as_of"]))
    started_at = datetime.fromisoformat(str(run["started_at"]))
    written = io.StoreCycleIO(engine).write_decisions(
        decisions, as_of=as_of, now=now, started_at=started_at
    )
    return {"as_of": as_of, **dict(written)}
