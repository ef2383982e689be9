"""``cuishou user add NAME --role ROLE [--team T] [--agency A] --password-stdin``."""

from __future__ import annotations

import sys

import typer

from cuishou.auth.rules import ROLES
from cuishou.cli_support import console, friendly_errors, print_json, store_engine
from cuishou.kit.clock import utc_now
from cuishou.kit.errors import InvalidInput

user_app = typer.Typer(help="Users who log in (用户).", no_args_is_help=True)


@user_app.command("add")
@friendly_errors
def add_command(
    name: str = typer.Argument(..., help="Login name."),
    role: str = typer.Option(..., "--role", help=f"One of: {', '.join(ROLES)}."),
    team: str | None = typer.Option(None, "--team", help="Team name (created when missing)."),
    agency: str | None = typer.Option(None, "--agency", help="Agency code (created when missing)."),
    display_name: str | None = typer.Option(None, "--display-name", help="Name shown to people."),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from the first line of stdin."
    ),
    json_output: bool = typer.Option(False, "--json", help="Print the user as JSON."),
) -> None:
    """Add a user; the password comes from stdin so it never appears in the process list."""
    # the service stack loads when the command runs, not for --help (ADR 0011)
    from pydantic import ValidationError

    from cuishou.auth.schemas import UserIn
    from cuishou.auth.service import add_user
    from cuishou.store.db import transaction

    if not password_stdin:
        raise InvalidInput("give the password on stdin with --password-stdin")
    password = sys.stdin.readline().rstrip("\r\n")
    try:
        data = UserIn(
            username=name,
            role=role,
            password=password,
            display_name=display_name,
            team=team,
            agency=agency,
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise InvalidInput(f"{field}: {first['msg']}", field=field) from exc
    engine = store_engine()
    try:
        with transaction(engine) as session:
            user = add_user(session, data, actor="cli", now=utc_now())
    finally:
        engine.dispose()
    if json_output:
        print_json(user.model_dump())
    else:
        where = ", ".join(
            x
            for x in (user.team and f"team {user.team}", user.agency and f"agency {user.agency}")
            if x
        )
        console.print(
            f"user {user.username} added as {user.role}" + (f" ({where})" if where else "")
        )
