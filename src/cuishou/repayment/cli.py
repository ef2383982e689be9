"""``cuishou payments waterfall --creditor CODE --order fee,penalty,interest,principal``."""

from __future__ import annotations

import typer

from cuishou.cli_support import console, friendly_errors, print_json, store_engine
from cuishou.kit.clock import utc_now

payments_app = typer.Typer(help="Payments (还款).", no_args_is_help=True)


@payments_app.command("waterfall")
@friendly_errors
def waterfall_command(
    creditor: str = typer.Option(..., "--creditor", help="Creditor code."),
    order: str = typer.Option(
        ..., "--order", help="fee, penalty, interest, principal in the order to pay them."
    ),
    json_output: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Set the order a creditor's payments are allocated in (还款冲账顺序)."""
    # the service stack loads when the command runs, not for --help (ADR 0011)
    from cuishou.repayment.service import set_waterfall
    from cuishou.store.db import transaction

    with transaction(store_engine()) as session:
        chosen = set_waterfall(session, creditor=creditor, order=order, actor="cli", now=utc_now())
    if json_output:
        print_json({"creditor": creditor, "waterfall": list(chosen)})
    else:
        console.print(f"{creditor}: payments are allocated {' → '.join(chosen)}")
