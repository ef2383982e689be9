"""``cuishou contacts import FILE``: a dialer's call results (外呼系统话单导入)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from cuishou.cli_support import friendly_errors, print_json, store_engine
from cuishou.cli_support import out as out_console
from cuishou.kit.clock import utc_now
from cuishou.kit.errors import UnreadableFile

contacts_app = typer.Typer(help="Contacts (催记).", no_args_is_help=True)

_COUNTS = ("rows", "accepted", "quarantined", "created", "unchanged", "violations", "promises")


@contacts_app.command("import")
@friendly_errors
def import_command(
    paths: list[Path] = typer.Argument(..., help="CSV (UTF-8/GBK), XLSX or Parquet files."),
    json_output: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    source: str = typer.Option(
        "dialer", "--source", help="The dialer's name: with each call id, a call is imported once."
    ),
    creditor: str | None = typer.Option(
        None, "--creditor", help="Creditor code (委托方代码); else the creditor_code column."
    ),
    codes: Path | None = typer.Option(
        None, "--codes", help="A YAML of dialer result codes laid over the shipped table."
    ),
    config: Path | None = typer.Option(
        None, "--config", help="The deployment's config YAML (its import: limits)."
    ),
) -> None:
    """Import dialer call results as contacts (外呼系统话单导入), judged by the compliance gate."""
    # the import stack loads when the command runs, not for --help (ADR 0011)
    from cuishou.contact.dialer import DialerOptions, import_call_results
    from cuishou.contact.dialer_codes import load_codes
    from cuishou.placement.limits import load_import_limits

    options = DialerOptions(
        now=utc_now(),
        source=source,
        creditor_code=creditor,
        codes=load_codes(codes),
        limits=load_import_limits(config),
    )
    result = import_call_results(store_engine(), paths, options)
    if json_output:
        print_json(result.model_dump())
    else:
        for item in result.files:
            table = Table(title=f"{item.path} — calls ({item.encoding})", title_justify="left")
            for name in _COUNTS:
                table.add_column(name, justify="right")
            table.add_row(*(str(getattr(item, name)) for name in _COUNTS))
            out_console.print(table)
            if item.alerts:
                raised = ", ".join(f"{kind} {n}" for kind, n in item.alerts.items())
                out_console.print(f"alerts raised: {raised}")
            if item.quarantine_file:
                out_console.print(f"rejected rows with reasons: {item.quarantine_file}")
    if result.errors:
        imported = [f.path for f in result.files]
        kept = (
            f" The other file(s) were imported and stay imported: {', '.join(imported)}."
            if imported
            else ""
        )
        messages = " ".join(e.message.rstrip(".") + "." for e in result.errors)
        raise UnreadableFile(f"{messages}{kept}")
