"""``cuishou agreements track [--as-of DATE]``: 履约跟踪 of every running plan."""

from __future__ import annotations

from datetime import date

import typer

from cuishou.cli_support import console, friendly_errors, print_json, store_engine
from cuishou.kit.clock import DEFAULT_TZ, utc_now, zone
from cuishou.kit.errors import InvalidInput

agreements_app = typer.Typer(help="Repayment agreements (还款协议).", no_args_is_help=True)
ACTOR = "system:agreements"


@agreements_app.command("track")
@friendly_errors
def track_command(
    as_of: str | None = typer.Option(
        None, "--as-of", help="Business date YYYY-MM-DD (default: today in Beijing)."
    ),
    json_output: bool = typer.Option(False, "--json", help="Print the counts as JSON."),
) -> None:
    """Mark installments paid, due or missed; complete (settle the case) or break plans."""
    # the service stack (with the PDF stack) loads when the command runs, not for --help
    # (ADR 0011)
    from cuishou.agreements.service import track_agreements
    from cuishou.store.db import transaction

    now = utc_now()
    try:
        day = date.fromisoformat(as_of) if as_of else now.astimezone(zone(DEFAULT_TZ)).date()
    except ValueError as exc:
        raise InvalidInput(f"--as-of: {as_of!r} is not a date (YYYY-MM-DD)") from exc
    with transaction(store_engine()) as session:
        counts = track_agreements(session, as_of=day, now=now, actor=ACTOR)
    if json_output:
        print_json({"as_of": day.isoformat(), **counts})
    else:
        console.print(
            f"{day}: {counts['tracked']:,} plans tracked, {counts['completed']:,} completed, "
            f"{counts['broken']:,} broken"
        )
