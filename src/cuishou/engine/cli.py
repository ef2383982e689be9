"""``cuishou daily --as-of YYYY-MM-DD`` — run the daily delinquency cycle (日终跑批)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from cuishou.cli_support import console, friendly_errors, out, print_json, store_engine
from cuishou.kit.clock import parse_date

if TYPE_CHECKING:
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


@friendly_errors
def daily_command(
    as_of: str = typer.Option(
        ..., "--as-of", help="Business date to age accounts to (YYYY-MM-DD)."
    ),
    config: Path | None = typer.Option(
        None, "--config", help="Cycle config YAML (bucket scheme, amount tiers, alert rules)."
    ),
    json_output: bool = typer.Option(False, "--json", help="Print the result as one JSON object."),
) -> None:
    """Run the daily delinquency cycle: DPD, buckets, roll/cure, cases, alerts (日终跑批)."""
    # the engine (Polars, the store) loads when the command runs, not for --help (ADR 0011)
    from cuishou.engine.config import load_cycle_config
    from cuishou.engine.runner import STEP_NAMES, run_daily_cycle

    day = parse_date(as_of, field="--as-of")
    cycle_config = load_cycle_config(config)
    engine = store_engine()
    try:
        if json_output:
            result = run_daily_cycle(engine, day, cycle_config)
        else:
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
    finally:
        engine.dispose()
    if json_output:
        print_json(result.to_json())
        return
    if result.note:
        console.print(f"[yellow]{result.note}[/]")
    _print_tables(result)
