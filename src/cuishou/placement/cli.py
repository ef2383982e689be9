"""``cuishou import``: load creditor files (委案导入) — accounts and payments."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from cuishou.cli_support import friendly_errors, print_json, store_engine
from cuishou.cli_support import out as out_console
from cuishou.kit.clock import parse_date, today_local, utc_now
from cuishou.kit.errors import UnreadableFile

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from cuishou.placement.limits import ImportLimits
    from cuishou.placement.reader import SourceTable
    from cuishou.placement.schemas import FileResult, ImportResult
    from cuishou.placement.service import ImportOptions


def run_import(
    engine: Engine,
    paths: Sequence[Path],
    options: ImportOptions,
    limits: ImportLimits | None = None,
) -> ImportResult:
    """Import files one by one, each in its own transaction; accounts files first.

    A file that cannot be read, or goes beyond ``limits``, is reported in ``errors`` and
    changes nothing; the other files are imported all the same. Quarantine files are
    written after the file's transaction commits. A file's table is let go as soon as
    the file is done.
    """
    # the import stack (Polars, the store) loads when an import runs, not for --help
    # (ADR 0011)
    from cuishou.placement.limits import DEFAULT_LIMITS
    from cuishou.placement.reader import ACCOUNTS, read_source
    from cuishou.placement.schemas import FileError, ImportResult

    limits = limits or DEFAULT_LIMITS
    from cuishou.placement.service import import_source, write_quarantine
    from cuishou.store.db import transaction

    sources: list[SourceTable] = []
    errors: list[FileError] = []
    for path in paths:
        try:
            sources.append(read_source(Path(path), limits))
        except UnreadableFile as exc:
            errors.append(FileError(path=str(path), code=exc.code, message=exc.message))
    # Accounts before payments, so payments may refer to accounts placed in the same call.
    sources.sort(key=lambda s: 0 if s.kind == ACCOUNTS else 1)
    sources.reverse()  # taken from the end
    results: list[FileResult] = []
    while sources:
        source = sources.pop()
        started = time.perf_counter()
        try:
            with transaction(engine) as session:
                outcome = import_source(session, source, options)
        except UnreadableFile as exc:
            errors.append(FileError(path=str(source.path), code=exc.code, message=exc.message))
            continue
        del source
        results.append(outcome.result)
        try:
            write_quarantine(outcome)
        except UnreadableFile as exc:
            errors.append(FileError(path=outcome.result.path, code=exc.code, message=exc.message))
        outcome.result.seconds = round(time.perf_counter() - started, 3)
        del outcome
    return ImportResult.of(results, errors)


def _print_table(result: ImportResult) -> None:
    for item in result.files:
        table = Table(title=f"{item.path} — {item.kind} ({item.encoding})", title_justify="left")
        for name in ("rows", "accepted", "quarantined", "created", "updated", "unchanged"):
            table.add_column(name, justify="right")
        table.add_row(
            *(
                str(getattr(item, name))
                for name in ("rows", "accepted", "quarantined", "created", "updated", "unchanged")
            )
        )
        out_console.print(table)
        if item.quarantine_file:
            out_console.print(f"rejected rows with reasons: {item.quarantine_file}")
        if item.ignored_columns:
            out_console.print(f"ignored columns: {', '.join(item.ignored_columns)}")


@friendly_errors
def import_command(
    paths: list[Path] = typer.Argument(..., help="CSV (UTF-8/GBK), XLSX or Parquet files."),
    creditor: str | None = typer.Option(
        None, "--creditor", help="Creditor code (委托方代码); else the creditor_code column."
    ),
    as_of: str | None = typer.Option(
        None, "--as-of", help="Snapshot date for rows without 数据日期 (default: today)."
    ),
    json_output: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    config: Path | None = typer.Option(
        None,
        "--config",
        help="The deployment's config YAML: its import: section sets the largest file read "
        "(max_rows, max_cells, max_bytes, max_ratio, max_cell_chars); the same file as "
        "cuishou daily --config.",
    ),
) -> None:
    """Import placement accounts and payments files (导入委案/还款文件)."""
    # the service stack loads when the command runs, not for --help (ADR 0011)
    from cuishou.placement.limits import load_import_limits
    from cuishou.placement.service import ImportOptions

    as_of_date = parse_date(as_of, field="--as-of") if as_of else today_local()
    limits = load_import_limits(config)
    engine = store_engine()
    options = ImportOptions(as_of=as_of_date, now=utc_now(), creditor_code=creditor)
    result = run_import(engine, paths, options, limits)
    if json_output:
        print_json(result.model_dump())
    else:
        _print_table(result)
    if result.errors:
        imported = [f.path for f in result.files]
        kept = (
            f" The other file(s) were imported and stay imported: {', '.join(imported)}."
            if imported
            else ""
        )
        messages = " ".join(e.message.rstrip(".") + "." for e in result.errors)
        raise UnreadableFile(f"{messages}{kept}")
