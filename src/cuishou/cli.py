"""The one command line: ``cuishou <command>``. Every batch job is a subcommand."""

from __future__ import annotations

import os
import sys
import tempfile
import traceback
from pathlib import Path

import typer

from cuishou.auth.cli import user_app
from cuishou.cli_support import console, friendly_errors, print_json, store_engine
from cuishou.compliance.cli import compliance_app
from cuishou.demo import demo_command
from cuishou.engine.cli import daily_command
from cuishou.generator.cli import generate_command
from cuishou.ledger.cli import ledger_app
from cuishou.placement.cli import import_command
from cuishou.repayment.cli import payments_app
from cuishou.store.db import database_url, head_revision, upgrade
from cuishou.web.cli import serve_command

app = typer.Typer(
    name="cuishou",
    help="Cuishou 催收 — debt-collection and collections risk-control system.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.command("init")
@friendly_errors
def init_command(
    json_output: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Create the store or migrate it to this version (建库/升级)."""
    engine = store_engine(migrated=False)
    revision = upgrade(engine)
    url = engine.url.render_as_string(hide_password=True)
    if json_output:
        print_json({"database": url, "revision": revision, "head": head_revision()})
    else:
        console.print(f"store ready: {url} (schema {revision})")


app.command("import")(import_command)
app.command("daily")(daily_command)
app.command("generate")(generate_command)
app.command("demo")(demo_command)
app.command("serve")(serve_command)
app.add_typer(user_app, name="user")
app.add_typer(compliance_app, name="compliance")
app.add_typer(payments_app, name="payments")
app.add_typer(ledger_app, name="ledger")


def main() -> None:
    """Entry point: unexpected errors are logged to a file, not dumped on the user."""
    try:
        app()
    except SystemExit:
        raise
    except Exception:
        if os.environ.get("CUISHOU_DEBUG") == "1":
            raise
        log = Path(tempfile.gettempdir()) / "cuishou-error.log"
        with log.open("a", encoding="utf-8") as handle:
            handle.write(f"--- cuishou {' '.join(sys.argv[1:])} (store {database_url()})\n")
            handle.write(traceback.format_exc())
        console.print(
            f"[bold red]internal error[/] — this is a bug in Cuishou, not in your input. "
            f"Details were written to {log}; set CUISHOU_DEBUG=1 to see them here."
        )
        sys.exit(70)


if __name__ == "__main__":  # pragma: no cover
    main()
