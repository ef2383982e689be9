"""The one command line: ``cuishou <command>``. Every batch job is a subcommand.

Importing this module (``cuishou --help``) loads only Typer, Rich and the light command
modules; each command imports the services it runs when it runs (ADR 0011).
"""

from __future__ import annotations

import sys

import typer

from cuishou.agency.cli import commissions_app, placements_app
from cuishou.allocation.cli import allocate_command
from cuishou.auth.cli import user_app
from cuishou.cli_support import console, friendly_errors, print_json, report_crash, store_engine
from cuishou.compliance.cli import compliance_app
from cuishou.contact.cli import contacts_app
from cuishou.demo_cli import demo_command
from cuishou.engine.cli import daily_command, lake_app
from cuishou.experiments.cli import experiment_app
from cuishou.generator.cli import generate_command
from cuishou.kpis.cli import kpis_command
from cuishou.ledger.cli import ledger_app
from cuishou.messaging.cli import messages_app
from cuishou.placement.cli import import_command
from cuishou.repayment.cli import payments_app
from cuishou.scoring.cli import models_app
from cuishou.simulate.cli import simulate_app
from cuishou.skiptrace.cli import skiptrace_app
from cuishou.strategy.cli import strategy_app
from cuishou.visits.cli import visits_app
from cuishou.web.cli import serve_command

app = typer.Typer(
    name="cuishou",
    help="Cuishou 催收 — debt-collection and collections risk-control system.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # plain help and usage errors: Rich's help panels load Rich's Markdown stack and cost
    # 0.2 s of CPU on every --help (ADR 0011)
    rich_markup_mode=None,
)


@app.command("init")
@friendly_errors
def init_command(
    json_output: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Create the store or migrate it to this version (建库/升级)."""
    from cuishou.store.db import head_revision, upgrade  # Alembic: only when run (ADR 0011)

    engine = store_engine(migrated=False)
    revision = upgrade(engine)
    url = engine.url.render_as_string(hide_password=True)
    if json_output:
        print_json({"database": url, "revision": revision, "head": head_revision()})
    else:
        console.print(f"store ready: {url} (schema {revision})")


app.command("import")(import_command)
app.command("daily")(daily_command)
app.add_typer(lake_app, name="lake")
app.command("generate")(generate_command)
app.command("demo")(demo_command)
app.command("serve")(serve_command)
app.add_typer(simulate_app, name="simulate")
app.command("kpis")(kpis_command)
app.add_typer(user_app, name="user")
app.add_typer(compliance_app, name="compliance")
app.add_typer(payments_app, name="payments")
app.add_typer(ledger_app, name="ledger")
app.add_typer(contacts_app, name="contacts")
app.add_typer(models_app, name="models")
app.add_typer(strategy_app, name="strategy")
app.add_typer(experiment_app, name="experiment")
app.command("allocate")(allocate_command)
app.add_typer(skiptrace_app, name="skiptrace")
app.add_typer(visits_app, name="visits")
app.add_typer(placements_app, name="placements")
app.add_typer(commissions_app, name="commissions")
app.add_typer(messages_app, name="messages")


def command_words(argv: list[str]) -> str:
    """The subcommand named by ``argv`` (``compliance check``) without its arguments and
    options, which may be personal data (a name, a phone number, a file of debtors)."""
    words: list[str] = []
    current: typer.Typer | None = app
    for arg in argv:
        if current is None:
            break
        groups = {group.name: group.typer_instance for group in current.registered_groups}
        commands = {command.name for command in current.registered_commands}
        if arg not in groups and arg not in commands:
            break
        words.append(arg)
        current = groups.get(arg)
    return " ".join(words)


def run(argv: list[str] | None = None) -> None:
    """Run the command line; an unexpected error is reported by
    :func:`~cuishou.cli_support.report_crash` (no traceback unless asked for, no file unless
    one was chosen) and exits 70."""
    args = sys.argv[1:] if argv is None else argv
    try:
        app(args=args, prog_name="cuishou")
    except SystemExit:
        raise
    except Exception as exc:
        sys.exit(report_crash(exc, command=command_words(args)))


def main() -> None:
    """Entry point (``cuishou``)."""
    run()


if __name__ == "__main__":  # pragma: no cover
    main()
