"""``cuishou allocate --as-of D [--dry-run] [--json]`` — the daily allocation (案件分配), and
``cuishou allocate --undo BATCH`` to revert one. Applying or undoing acts as ``--as USER``
(a team lead: their team; a manager: everyone)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from cuishou.cli_support import friendly_errors, out, print_json, store_engine
from cuishou.kit.clock import parse_date, utc_now
from cuishou.kit.errors import InvalidInput

if TYPE_CHECKING:
    from cuishou.allocation.schemas import AllocationOut, UndoOut


def _print_run(result: AllocationOut) -> None:
    table = Table(title=f"allocation {result.as_of}" + (" (dry run)" if result.dry_run else ""))
    table.add_column("collector")
    table.add_column("before", justify="right")
    table.add_column("after", justify="right")
    for row in result.workload:
        table.add_row(row.collector, f"{row.before:,}", f"{row.after:,}")
    out.print(table)
    left = ", ".join(f"{k} {v:,}" for k, v in result.unassigned_left.reasons.items()) or "none"
    out.print(
        f"batch {result.batch if result.batch is not None else '—'} · assigned "
        f"{result.assigned:,} · reassigned {result.reassigned:,} · left "
        f"{result.unassigned_left.count:,} ({left})\nexpected recovery ¥{result.objective} "
        f"(bound ¥{result.bound}, {result.optimality:.2%}; greedy ¥{result.greedy_objective})"
    )
    for warning in result.warnings:
        out.print(f"[yellow]{warning}[/]")


def _print_undo(result: UndoOut) -> None:
    out.print(f"batch {result.batch} undone: {result.restored:,} cases restored")
    for kept in result.kept:
        out.print(f"  kept case {kept.case_id}: {kept.why}")


@friendly_errors
def allocate_command(
    as_of: str | None = typer.Option(None, "--as-of", help="Business date (YYYY-MM-DD)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what would move; write nothing."),
    undo: int | None = typer.Option(None, "--undo", help="Revert this allocation batch."),
    as_user: str | None = typer.Option(
        None, "--as", help="Act as this team lead or manager (needed to apply or undo)."
    ),
    config: Path | None = typer.Option(
        None, "--config", help="Allocation settings YAML (default: the shipped allocation.yaml)."
    ),
    json_output: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Allocate open in-house cases to collectors, maximising expected recovery (案件分配)."""
    from cuishou.allocation import service
    from cuishou.allocation.config import default_settings, load_settings
    from cuishou.auth.service import principal_named
    from cuishou.store.db import transaction

    if undo is None and as_of is None:
        raise InvalidInput("give --as-of YYYY-MM-DD (or --undo BATCH)", field="--as-of")
    if undo is None and not dry_run and not as_user:
        raise InvalidInput("applying needs --as USER (a team lead or manager)", field="--as")
    if undo is not None and not as_user:
        raise InvalidInput("undo needs --as USER (a team lead or manager)", field="--as")
    settings = load_settings(config) if config else default_settings()
    engine = store_engine()
    try:
        with transaction(engine) as session:
            who = principal_named(session, as_user) if as_user else None
            if undo is not None:
                assert who is not None
                undone = service.undo(session, who, undo, now=utc_now())
            elif dry_run:
                result = service.preview(session, who, parse_date(as_of or "", field="--as-of"),
                                         settings)  # fmt: skip
            else:
                assert who is not None
                result = service.apply(
                    session, who, parse_date(as_of or "", field="--as-of"), settings,
                    now=utc_now(),
                )  # fmt: skip
    finally:
        engine.dispose()
    if undo is not None:
        if json_output:
            print_json(undone.model_dump(mode="json"))
        else:
            _print_undo(undone)
        return
    if json_output:
        print_json(result.model_dump(mode="json"))
    else:
        _print_run(result)
