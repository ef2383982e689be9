"""``cuishou ledger check``: 账务核对 — is every balance the sum of its ledger entries?"""

from __future__ import annotations

import typer

from cuishou.cli_support import console, friendly_errors, out, print_json, store_engine

ledger_app = typer.Typer(help="The account ledger (账务流水).", no_args_is_help=True)


@ledger_app.command("check")
@friendly_errors
def check_command(
    json_output: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Check that every account's balances are the sum of its entries and every case's amount
    due is what its accounts owe; exit 1 and list them when not."""
    from cuishou.ledger.service import check  # the store stack only when the command runs
    from cuishou.store.db import transaction

    engine = store_engine()
    try:
        with transaction(engine) as session:
            found = check(session)
    finally:
        engine.dispose()
    if json_output:
        print_json(found)
    elif not found["accounts"] and not found["cases"]:
        out.print("ledger consistent: every balance is the sum of its entries (账务一致)")
    else:
        for row in found["accounts"]:
            console.print(f"[red]account {row['account_no']}[/] differs by {row['difference']}")
        for row in found["cases"]:
            console.print(
                f"[red]case {row['case_id']}[/] due {row['due_fen']} fen, accounts owe "
                f"{row['owed_fen']} fen"
            )
    if found["accounts"] or found["cases"]:
        raise typer.Exit(code=1)
