"""``cuishou skiptrace export|import``: repair-vendor files (失联修复)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import typer

from cuishou.cli_support import friendly_errors, print_json, store_engine
from cuishou.cli_support import out as out_console
from cuishou.kit.clock import utc_now

skiptrace_app = typer.Typer(help="Skip tracing (失联修复).", no_args_is_help=True)


@skiptrace_app.command("export")
@friendly_errors
def export_command(
    out: Path = typer.Argument(..., help="The request file to write (CSV)."),
    vendor: str = typer.Option(..., "--vendor", help="The repair vendor's name (修复机构)."),
    as_of: str | None = typer.Option(None, "--as-of", help="Business date (default: today)."),
    json_output: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Write a repair-vendor request file of the repair queue (names and IDs masked)."""
    # the service stack loads when the command runs, not for --help (ADR 0011)
    from cuishou.kit.errors import InvalidInput
    from cuishou.skiptrace.service import export_requests
    from cuishou.store.db import transaction

    now = utc_now()
    try:
        day = date.fromisoformat(as_of) if as_of else now.date()
    except ValueError:
        raise InvalidInput(f"--as-of: {as_of!r} is not a date like 2026-12-01") from None
    with transaction(store_engine()) as session:
        result = export_requests(session, out, vendor=vendor, as_of=day, actor="cli", now=now)
    if json_output:
        print_json(result.model_dump())
    else:
        out_console.print(f"{result.cases} case(s) written to {result.path}")


@skiptrace_app.command("import")
@friendly_errors
def import_command(
    path: Path = typer.Argument(..., help="Contact points: CSV (UTF-8/GBK) or XLSX."),
    source: str = typer.Option(
        "repair_vendor",
        "--source",
        help="Where the points come from when a row has no source column: repair_vendor, "
        "public_record, debtor or third_party.",
    ),
    json_output: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Add contact points from a file (a vendor's results), bad rows quarantined."""
    from cuishou.skiptrace.service import import_points

    result = import_points(store_engine(), path, source=source, actor="cli", now=utc_now())
    if json_output:
        print_json(result.model_dump())
    else:
        out_console.print(
            f"{path}: {result.rows} row(s), {result.created} point(s) added, "
            f"{result.quarantined} quarantined"
        )
        if result.quarantine_file:
            out_console.print(f"rejected rows with reasons: {result.quarantine_file}")
