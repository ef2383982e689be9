"""``cuishou messages send|receipts``: today's message batches and their receipts."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import typer

from cuishou.cli_support import friendly_errors, print_json, store_engine
from cuishou.cli_support import out as out_console
from cuishou.kit.clock import utc_now

messages_app = typer.Typer(help="Outbound messages (多渠道触达).", no_args_is_help=True)


@messages_app.command("send")
@friendly_errors
def send_command(
    as_of: str = typer.Option(
        ..., "--as-of", help="Business date of the batches, e.g. 2026-12-01."
    ),
    channel: list[str] = typer.Option(
        [], "--channel", help="sms, email, wechat or letter (repeat; default: all)."
    ),
    reveal_as: str | None = typer.Option(
        None,
        "--reveal-as",
        help="Show addresses unmasked in the letters' manifest, as this user (needs "
        "pii.reveal; each case is recorded as revealed).",
    ),
    json_output: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Queue the day's planned messages and send them through the configured gateways."""
    # the service stack loads when the command runs, not for --help (ADR 0011)
    import time

    from rich.progress import Progress, TaskID

    from cuishou.kit.errors import InvalidInput
    from cuishou.messaging.gateway_settings import settings_from_env
    from cuishou.messaging.rules import CHANNELS
    from cuishou.messaging.service import SendOptions, send_due
    from cuishou.messaging.wiring import gateways_for

    try:
        day = date.fromisoformat(as_of)
    except ValueError:
        raise InvalidInput(f"--as-of: {as_of!r} is not a date like 2026-12-01") from None
    unknown = sorted(set(channel) - set(CHANNELS))
    if unknown:
        raise InvalidInput(f"--channel: {', '.join(unknown)} (one of {', '.join(CHANNELS)})")
    settings = settings_from_env()
    engine = store_engine()
    revealer = None
    if reveal_as:
        from cuishou.auth.service import principal_named
        from cuishou.store.db import transaction

        with transaction(engine) as session:
            revealer = principal_named(session, reveal_as)
    gateways = gateways_for(settings, clock=utc_now, reveal=revealer is not None)
    with Progress(console=out_console, disable=json_output, transient=True) as progress:
        tasks: dict[str, TaskID] = {}

        def shown(name: str, done: int, total: int) -> None:
            if name not in tasks:
                tasks[name] = progress.add_task(name, total=total)
            progress.update(tasks[name], completed=done, total=total)

        summary = send_due(
            engine,
            gateways,
            settings,
            SendOptions(day=day, channels=tuple(channel or CHANNELS), clock=utc_now,
                        sleep=time.sleep, progress=shown, reveal_as=revealer),
        )  # fmt: skip
    if json_output:
        print_json(summary.model_dump(mode="json"))
        return
    out_console.print(
        f"{day}: queued {summary.queued}, sent {summary.sent}, blocked {summary.blocked}, "
        f"failed {summary.failed}, dead {summary.dead}, unknown {summary.unknown}"
    )
    for rule, n in sorted(summary.blocked_by_rule.items()):
        out_console.print(f"  blocked by {rule}: {n}")
    if summary.not_configured:
        out_console.print(f"not configured: {', '.join(summary.not_configured)}")
    for path in summary.files:
        out_console.print(f"print batch: {path}")


@messages_app.command("receipts")
@friendly_errors
def receipts_command(
    path: Path = typer.Argument(..., help="Receipts file (CSV): out_id,biz_id,success,err_code."),
    json_output: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Import a delivery-receipts file; rejected rows are kept with their reasons."""
    from cuishou.messaging.service import import_receipts

    result = import_receipts(store_engine(), path, now=utc_now())
    if json_output:
        print_json(result.model_dump())
    else:
        out_console.print(
            f"{path}: {result.rows} row(s), {result.applied} applied, {result.opt_outs} "
            f"opt-out(s), {result.rejected} rejected"
        )
        if result.rejected_file:
            out_console.print(f"rejected rows with reasons: {result.rejected_file}")
