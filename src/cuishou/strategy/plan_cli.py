"""``cuishou strategy calls`` and ``cuishou strategy tasks``: the day's plan as files.

The dialer list (外呼名单) and the task lists (短信/信函/邮件批次, 外访申请, 委外与诉讼候选)
as UTF-8 CSV (or JSON) for the dialer, the channel adapters and the team leads. Registered
on the ``strategy`` command group by :mod:`cuishou.strategy.cli`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from cuishou.auth.rules import Principal
from cuishou.cli_support import friendly_errors, out, print_json, store_engine
from cuishou.kit.clock import parse_date, utc_now
from cuishou.kit.errors import InvalidInput
from cuishou.strategy import TASK_ACTIONS

if TYPE_CHECKING:
    import polars as pl


def _write(frame: pl.DataFrame, path: Path | None, *, as_json: bool) -> None:
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        frame.write_csv(path)
    if as_json:
        print_json({"rows": frame.height, "file": str(path) if path else None,
                    "items": frame.to_dicts() if path is None else None})  # fmt: skip
    elif path is not None:
        out.print(f"{frame.height:,} rows → {path}")
    else:
        out.print(frame.write_csv(), end="")


@friendly_errors
def calls_command(
    as_of: str = typer.Option(..., "--as-of", help="The plan's business date (YYYY-MM-DD)."),
    path: Path | None = typer.Option(None, "--out", help="CSV file to write (UTF-8)."),
    reveal_as: str | None = typer.Option(
        None, "--reveal-as", help="Unmask the numbers as this user (needs pii.reveal; audited)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """外呼名单: the day's calls the compliance gate allows, in priority order, with windows."""
    from cuishou.auth.service import principal_named
    from cuishou.store.db import transaction
    from cuishou.strategy.service.planning import dialer_list

    day = parse_date(as_of)
    engine = store_engine()
    revealer: Principal | None = None
    if reveal_as is not None:
        with transaction(engine) as session:
            revealer = principal_named(session, reveal_as)
    _write(dialer_list(engine, day, revealer=revealer, now=utc_now()), path, as_json=as_json)


@friendly_errors
def tasks_command(
    as_of: str = typer.Option(..., "--as-of", help="The plan's business date (YYYY-MM-DD)."),
    action: list[str] = typer.Option(
        [], "--action", help=f"Only these actions ({', '.join(TASK_ACTIONS)}); repeatable."
    ),
    path: Path | None = typer.Option(None, "--out", help="CSV file to write (UTF-8)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """今日任务: message batches, visits, agency and legal candidates, with the gate's word."""
    from cuishou.strategy.service.planning import task_list

    day = parse_date(as_of)
    chosen = tuple(action) or TASK_ACTIONS
    if "call" in chosen or "ivr" in chosen:
        raise InvalidInput("calls are listed by `cuishou strategy calls`", field="action")
    _write(task_list(store_engine(), day, actions=chosen), path, as_json=as_json)


def register(app: typer.Typer) -> None:
    """Add ``calls`` and ``tasks`` to the ``strategy`` command group."""
    app.command("calls")(calls_command)
    app.command("tasks")(tasks_command)
