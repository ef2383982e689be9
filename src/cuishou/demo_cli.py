"""``cuishou demo``: the command, its summary and serving; the work is :mod:`cuishou.demo`.

Light at import (``cuishou --help`` loads it): the demo's stacks load when it runs.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from cuishou.cli_support import console, friendly_errors, print_json
from cuishou.cli_support import out as out_console
from cuishou.kit.clock import parse_date, utc_now

if TYPE_CHECKING:
    from cuishou.demo import DemoResult


def print_summary(result: DemoResult) -> None:
    history = result.history
    out_console.print(
        f"[bold]Cuishou demo[/] — today {result.today}, {result.accounts_generated:,} accounts "
        f"generated in {result.directory}, store {result.database}"
    )
    out_console.print(
        f"history 历史: {history['days']} days {history['from']} … {history['to']}, "
        f"team {result.team} ({history['collectors']} collectors) worked "
        f"{history['accounts_generated']:,} accounts of {result.history_creditor}: "
        f"calls {history['calls']:,}, connected {history['connected']:,} "
        f"({_percent(history['connect_rate'])}), promises {history['promises']:,}, "
        f"payments {history['payments']:,}, recovered ¥{Decimal(history['recovered']):,} "
        f"({_percent(history['recovery_rate'])})"
    )
    imported = result.imported
    if imported["files"]:
        table = Table(
            title=f"new placement 新委案 ({result.new_creditor}, arrived last night)",
            title_justify="left",
        )
        for name in ("file", "rows", "accepted", "quarantined", "created", "unchanged"):
            table.add_column(name, justify="right" if name != "file" else "left")
        for item in imported["files"]:
            table.add_row(
                Path(item["path"]).name,
                *(
                    f"{item[k]:,}"
                    for k in ("rows", "accepted", "quarantined", "created", "unchanged")
                ),
            )
        out_console.print(table)
        for item in imported["files"]:
            if item.get("quarantine_file"):
                out_console.print(f"  rejected rows with reasons → {item['quarantine_file']}")

    last = result.cycles[-1]
    cycles = Table(title="daily cycle 日终批处理", title_justify="left")
    for name in ("as of", "accounts", "cases", "roll forward", "cured/settled", "alerts", "s"):
        cycles.add_column(name, justify="right")
    for cycle in result.cycles:
        movements = cycle["movements"]
        cycles.add_row(
            cycle["as_of"],
            f"{cycle['accounts']:,}",
            f"{cycle['cases']:,}",
            f"{movements.get('roll_forward', 0):,}",
            f"{movements.get('cure', 0) + movements.get('settled', 0):,}",
            f"{sum(cycle['alerts_raised'].values()):,}",
            f"{cycle['seconds']:.2f}",
        )
    out_console.print(cycles)

    buckets = Table(title=f"accounts by bucket 账龄分布 ({last['as_of']})", title_justify="left")
    for name in last["buckets"]:
        buckets.add_column(name, justify="right")
    buckets.add_row(*(f"{n:,}" for n in last["buckets"].values()))
    out_console.print(buckets)
    scoring = last.get("scoring")
    if scoring:
        grades = ", ".join(f"{k} {v:,}" for k, v in scoring["grades"].items()) or "none"
        labels = ", ".join(f"{k} {v:,}" for k, v in scoring["labels"].items()) or "none"
        out_console.print(f"risk grades 风险等级: {grades}; customer labels 客户画像: {labels}")
    alerts = ", ".join(f"{k} {v:,}" for k, v in sorted(result.open_alerts.items())) or "none"
    out_console.print(
        f"open cases {result.open_cases:,} ({result.assigned_cases:,} assigned); "
        f"open alerts: {alerts}"
    )
    allocation = result.allocation
    if allocation:
        left = allocation["unassigned_left"]
        reasons = ", ".join(f"{k} {v:,}" for k, v in sorted(left["reasons"].items())) or "none"
        out_console.print(
            f"today's allocation 今日分案 (batch {allocation['batch']}): "
            f"{allocation['assigned']:,} assigned, {allocation['reassigned']:,} reassigned, "
            f"expected recovery ¥{allocation['objective']} "
            f"(greedy ¥{allocation['greedy_objective']}); left: {reasons}"
        )
    logins = Table(title="demo logins 演示账号", title_justify="left")
    for name in ("username", "role", "password"):
        logins.add_column(name)
    for login in result.logins:
        logins.add_row(login["username"], login["role"], login["password"])
    out_console.print(logins)
    out_console.print(f"done in {result.seconds:.1f} s. Explore it with:")
    out_console.print(f"  export CUISHOU_DATABASE_URL={result.database}")
    out_console.print(f"  .venv/bin/cuishou daily --as-of {last['as_of']}")
    out_console.print(
        "  .venv/bin/cuishou serve    # pages on http://127.0.0.1:8000/login, API at /api/v1"
    )


def _percent(rate: float | None) -> str:
    """A KPI rate (``None``: nothing to divide by) as a percentage."""
    return "–" if rate is None else f"{rate:.1%}"


@friendly_errors
def demo_command(
    accounts: int = typer.Option(
        100_000, "--accounts", help="Accounts in the demo book (history + new placement)."
    ),
    history_accounts: int | None = typer.Option(
        None,
        "--history-accounts",
        help="Accounts the demo team has worked through the simulated history (default: "
        "the demo's, see README); the rest arrive as a new placement last night.",
    ),
    days: int | None = typer.Option(
        None, "--days", help="Days of simulated history before today (default: a month)."
    ),
    seed: int = typer.Option(2026, "--seed", help="Generator seed (same seed, same portfolio)."),
    as_of: str | None = typer.Option(
        None, "--as-of", help="The demo's today (default: today); the history ends the day before."
    ),
    directory: Path = typer.Option(
        Path("demo-data"), "--dir", help="Where the demo store and files go (rebuilt)."
    ),
    no_serve: bool = typer.Option(
        False, "--no-serve", help="Stop after the batch part instead of serving the API."
    ),
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to serve on."),
    port: int = typer.Option(8000, "--port", help="Port to serve on."),
    json_output: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Run the whole system on a fresh demo store (演示): a simulated month of collections,
    a new placement, today's daily cycle, demo users, then serve the pages and the API
    until stopped (unless --no-serve)."""
    # generator, import, engine and web stacks load only when the demo runs (ADR 0011)
    from cuishou.demo import demo_clock, run_demo
    from cuishou.web.cli import serve

    day = parse_date(as_of, field="--as-of") if as_of else None
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=json_output,
    ) as progress:
        result = run_demo(
            accounts=accounts,
            history_accounts=history_accounts,
            days=days,
            seed=seed,
            directory=directory,
            clock=demo_clock(day, utc_now),
            progress=progress,
        )
    if json_output:
        print_json(result)
    else:
        print_summary(result)
    if not no_serve:
        serve(result.database, host, port)
