"""``cuishou daily --as-of YYYY-MM-DD`` — run the daily delinquency cycle (日终跑批)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from time import perf_counter
from typing import TYPE_CHECKING

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from cuishou.cli_support import console, friendly_errors, out, print_json, store_engine
from cuishou.kit.clock import parse_date

if TYPE_CHECKING:
    from cuishou.engine.config import CycleConfig
    from cuishou.engine.runner import CycleResult


def _print_tables(result: CycleResult) -> None:
    steps = Table(title=f"daily cycle {result.as_of.isoformat()}")
    steps.add_column("step")
    steps.add_column("rows", justify="right")
    steps.add_column("seconds", justify="right")
    for step in result.steps:
        steps.add_row(step.name, f"{step.rows:,}", f"{step.seconds:.3f}")
    steps.add_row("total", "", f"{result.seconds:.3f}", style="bold")
    out.print(steps)

    buckets = Table(title="accounts by bucket (账龄)")
    buckets.add_column("bucket")
    buckets.add_column("accounts", justify="right")
    for name, count in result.buckets.items():
        buckets.add_row(name, f"{count:,}")
    out.print(buckets)

    moves = ", ".join(f"{k} {v:,}" for k, v in result.movements.items() if v)
    alerts = ", ".join(f"{k} {v:,}" for k, v in result.alerts_raised.items())
    out.print(
        f"accounts {result.accounts:,} · cases {result.cases:,} "
        f"(opened {result.cases_opened:,}, closed {result.cases_closed:,}, "
        f"reopened {result.cases_reopened:,}) · not yet placed "
        f"{result.excluded_not_yet_placed:,}\nmovements: {moves or 'none'}\nalerts: {alerts}"
    )
    if result.scoring is not None:
        scoring = result.scoring
        grades = ", ".join(f"{k} {v:,}" for k, v in scoring["grades"].items()) or "no champion"
        labels = ", ".join(f"{k} {v:,}" for k, v in scoring["labels"].items()) or "none"
        out.print(
            f"scoring (风险分级): grades {grades} · labels (客户画像) {labels} "
            f"(+{scoring['labels_given']:,} −{scoring['labels_removed']:,})"
            + (f" · alerts {', '.join(scoring['alerts'])}" if scoring["alerts"] else "")
        )
    if result.rescheme:
        out.print(
            f"[yellow]bucket scheme changed[/] (now version {result.scheme}): "
            f"{result.rescheme:,} accounts re-bucketed under the new scheme, without alerts "
            "(账龄方案变更：已按新方案重新分档，不触发预警)"
        )
    if result.rerun:
        out.print(
            f"[yellow]re-run[/] of {result.as_of.isoformat()}: its decisions were written again; "
            "nothing already raised or recorded for that date was added twice (重跑)"
        )


ENGINES = ("polars", "spark")


@friendly_errors
def daily_command(
    as_of: str = typer.Option(
        ..., "--as-of", help="Business date to age accounts to (YYYY-MM-DD)."
    ),
    config: Path | None = typer.Option(
        None, "--config", help="Cycle config YAML (bucket scheme, amount tiers, alert rules)."
    ),
    json_output: bool = typer.Option(False, "--json", help="Print the result as one JSON object."),
    engine_name: str = typer.Option(
        "polars",
        "--engine",
        help="polars: this machine; spark: Apache Spark (needs --input and --output).",
    ),
    input_dir: str | None = typer.Option(
        None, "--input", help="A Parquet lake to read instead of the store (cuishou lake export)."
    ),
    output_dir: str | None = typer.Option(
        None, "--output", help="Where to write the decisions as Parquet (with --input)."
    ),
    master: str | None = typer.Option(
        None, "--master", help="Spark master (default: the active session, else local[*])."
    ),
    partitions: int | None = typer.Option(
        None, "--partitions", min=1, help="Spark partitions (default: ~250,000 accounts each)."
    ),
) -> None:
    """Run the daily delinquency cycle: DPD, buckets, roll/cure, cases, alerts (日终跑批).

    With --input/--output it reads a Parquet lake and writes the decisions as Parquet (the
    store is not touched; `cuishou lake import` writes them back), on this machine or, with
    --engine spark, on Apache Spark."""
    # the engine (Polars, the store) loads when the command runs, not for --help (ADR 0011)
    from cuishou.engine.config import load_cycle_config
    from cuishou.kit.errors import InvalidInput

    day = parse_date(as_of, field="--as-of")
    if engine_name not in ENGINES:
        raise InvalidInput(f"--engine must be one of {', '.join(ENGINES)}, not {engine_name!r}")
    if (input_dir is None) != (output_dir is None):
        raise InvalidInput("--input and --output go together (a lake in, decisions out)")
    if engine_name == "spark" and input_dir is None:
        raise InvalidInput("--engine spark reads a Parquet lake: give --input and --output")
    cycle_config = load_cycle_config(config)
    if input_dir is not None and output_dir is not None:
        result = _daily_on_lake(
            engine_name, input_dir, output_dir, day, cycle_config, master, partitions
        )
    else:
        result = _daily_on_store(day, cycle_config, json_output=json_output)
    if json_output:
        print_json(result.to_json())
        return
    if result.note:
        console.print(f"[yellow]{result.note}[/]")
    _print_tables(result)


def _daily_on_lake(
    engine_name: str,
    input_dir: str,
    output_dir: str,
    day: date,
    cycle_config: CycleConfig,
    master: str | None,
    partitions: int | None,
) -> CycleResult:
    if engine_name == "spark":
        from cuishou.engine.spark import run_spark_cycle  # PySpark loads only here

        result, _ = run_spark_cycle(
            input_dir, output_dir, day, cycle_config, master=master, partitions=partitions
        )
        return result
    from cuishou.engine.lake import run_lake_cycle
    from cuishou.kit.errors import InvalidInput

    if "://" in input_dir or "://" in output_dir:
        raise InvalidInput("the polars engine reads and writes local folders; use --engine spark")
    return run_lake_cycle(Path(input_dir), Path(output_dir), day, cycle_config)


def _daily_on_store(day: date, cycle_config: CycleConfig, *, json_output: bool) -> CycleResult:
    from cuishou.engine.runner import STEP_NAMES, run_daily_cycle

    engine = store_engine()
    try:
        if json_output:
            return run_daily_cycle(engine, day, cycle_config)
        with Progress(
            TextColumn("[bold]daily cycle[/] {task.description}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total}"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as bar:
            task = bar.add_task("", total=len(STEP_NAMES))

            def progress(name: str, number: int, total: int) -> None:
                bar.update(task, description=name, completed=number - 1, total=total)

            result = run_daily_cycle(engine, day, cycle_config, progress=progress)
            bar.update(task, completed=len(STEP_NAMES))
            return result
    finally:
        engine.dispose()


lake_app = typer.Typer(
    help="The Parquet lake: the cycle's facts out of the store, decisions back in (数据湖).",
    no_args_is_help=True,
)


@lake_app.command("export")
@friendly_errors
def lake_export_command(
    out_dir: Path = typer.Option(..., "--out", help="Folder to write the lake to."),
    buckets: int | None = typer.Option(
        None,
        "--buckets",
        min=1,
        help="Split every table by debtor_id % N (default: one bucket per ~50,000 accounts).",
    ),
    strategy_day: str | None = typer.Option(
        None,
        "--as-of",
        help="The day the lake will be run for (YYYY-MM-DD): the strategy in force then is "
        "exported. Default: the day after the last cycle.",
    ),
    json_output: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Export what the daily cycle reads as Parquet, one folder per table (one snapshot),
    bucketed by debtor so that Spark's tasks read whole cases without a shuffle, with what
    scoring and segmenting read: their facts, the champion models, the strategy in force."""
    from cuishou.engine.lake import export_lake, lake_buckets

    day = parse_date(strategy_day, field="--as-of") if strategy_day else None
    engine = store_engine()
    try:
        rows = export_lake(engine, out_dir, buckets=buckets, strategy_day=day)
    finally:
        engine.dispose()
    if json_output:
        print_json({"out": str(out_dir), "buckets": lake_buckets(out_dir), "tables": rows})
        return
    table = Table(title=f"lake {out_dir} ({lake_buckets(out_dir)} buckets)")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, count in rows.items():
        table.add_row(name, f"{count:,}")
    out.print(table)


@lake_app.command("import")
@friendly_errors
def lake_import_command(
    decisions_dir: Path = typer.Argument(..., help="The --output of a `daily --input` run."),
    json_output: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Write a run's decisions to the store in bulk (one transaction), then score, plan and
    allocate as the ordinary `daily` does after its write."""
    from cuishou.engine.lake import import_decisions
    from cuishou.engine.runner import CycleResult, StepTiming, after_cycle
    from cuishou.kit.clock import utc_now

    engine = store_engine()
    try:
        moment = utc_now()
        started = perf_counter()
        written = import_decisions(engine, decisions_dir, now=moment)
        seconds = perf_counter() - started
        rows = written["accounts_written"] + written["history_rows"] + written["cases"]
        result = after_cycle(
            engine,
            CycleResult(**written, steps=[StepTiming("import", rows, seconds)], seconds=seconds),
            now=moment,
        )
    finally:
        engine.dispose()
    if json_output:
        print_json(result.to_json())
        return
    _print_tables(result)
