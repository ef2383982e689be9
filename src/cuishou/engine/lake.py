"""The Parquet lake (数据湖): the daily cycle's facts and decisions as files.

A lake is a directory with one Parquet table per fact the cycle reads, exported from the
store in one read transaction (``cuishou lake export``) or written by a creditor's data
platform in the same shape (``LAKE_TABLES``). Unlike a :class:`~cuishou.engine.io.Snapshot`
it is not tied to one business date: the date-dependent cuts (payments up to the day,
ledger entries dated after it, the latest state before it, alerts that block) are made when
a run reads it, by :func:`snapshot_from_lake` — the one place those cuts are written for the
lake, used by the single-machine run (:class:`LakeCycleIO`) and by every Spark partition
(:mod:`cuishou.engine.spark`).

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
from cuishou.engine.config import CycleConfig
from cuishou.kit.clock import utc_now
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


def export_lake(engine: Engine, out: Path, *, strategy_day: date | None = None) -> dict[str, int]:
    """Write the store's cycle facts to ``out`` as Parquet (one read transaction), then what
    scoring and segmenting read (:func:`cuishou.engine.after.export_after`: facts, champions,
    the strategy in force on ``strategy_day``, by default the day after the last cycle);
    rows per table."""
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
        facts = read_after_tables(bulk, since=last)
    write_tables(out, tables)
    day = strategy_day or (last + timedelta(days=1) if last else utc_now().date())
    extra = export_after(engine, out, facts, day=day)
    return {**{name: frame.height for name, frame in tables.items()}, **extra}


def write_tables(out: Path, tables: Mapping[str, pl.DataFrame]) -> None:
    """Each frame as ``out/<name>/part-00000.parquet`` (a dataset folder, replaced whole)."""
    out.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        folder = out / name
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir()
        frame.write_parquet(folder / "part-00000.parquet")


def read_table(root: Path, name: str, schema: Mapping[str, pl.DataType]) -> pl.DataFrame:
    """A lake table (a folder of Parquet parts, or ``<name>.parquet``) with ``schema``."""
    folder, single = root / name, root / f"{name}.parquet"
    if folder.is_dir():
        parts = sorted(folder.glob("*.parquet"))
        if not parts:
            return _empty(schema)
        frame = pl.concat([pl.read_parquet(p) for p in parts], how="diagonal_relaxed")
    elif single.is_file():
        frame = pl.read_parquet(single)
    else:
        raise InvalidInput(
            f"no table {name!r} in the lake {root} (expected {folder}/ or {single}); "
            "write one with `cuishou lake export --out DIR`",
            table=name,
        )
    return conform(frame, schema, name=name)


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


def input_schemas() -> dict[str, dict[str, pl.DataType]]:
    """Every table a partition reads: the cycle's (``LAKE_TABLES``), then scoring's and
    segmenting's (:data:`cuishou.engine.after.AFTER_TABLES`, less ``creditors``: the driver
    hands those to every partition)."""
    from cuishou.engine.after import AFTER_TABLES

    return {**LAKE_TABLES, **{n: s for n, s in AFTER_TABLES.items() if n != "creditors"}}


def output_schemas() -> dict[str, dict[str, pl.DataType]]:
    """Every dataset a run writes: the cycle's decisions, then its scores, labels and
    segments (:data:`cuishou.engine.after.OUTPUT_SCHEMAS`)."""
    from cuishou.engine.after import OUTPUT_SCHEMAS

    return {**decision_schemas(), **OUTPUT_SCHEMAS}


def read_after(root: Path) -> dict[str, pl.DataFrame]:
    """A run's scores, labels and segments (empty frames for a run that made none)."""
    from cuishou.engine.after import OUTPUT_SCHEMAS

    return {
        name: read_table(root, name, schema) if (root / name).is_dir() else _empty(schema)
        for name, schema in OUTPUT_SCHEMAS.items()
    }


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

        # the whole portfolio is at hand: grades by share are cut from its own scores
        assert self.plan is not None  # load_snapshot read it
        after = decide_after(self.tables, decisions, as_of, self.plan)
        schemas = output_schemas()
        frames = {**{name: getattr(decisions, name) for name in DECISION_TABLES}, **after.frames}
        write_tables(
            self.target,
            {name: conform(frame, schemas[name], name=name) for name, frame in frames.items()},
        )
        summary = dict(decisions.summary)
        # the whole portfolio is at hand: drift is its own counts' PSI
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
