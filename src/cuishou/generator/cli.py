"""``cuishou generate``: a realistic placement (accounts + payments) for demos and benchmarks."""

from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from cuishou.cli_support import console, friendly_errors, print_json
from cuishou.cli_support import out as out_console
from cuishou.kit.clock import parse_date
from cuishou.kit.errors import InvalidInput

PROGRESS_FROM_ACCOUNTS = 50_000
"""Runs at least this large show a progress bar on stderr."""


@friendly_errors
def generate_command(
    accounts: int = typer.Option(..., "--accounts", help="Number of accounts (借据) to generate."),
    seed: int = typer.Option(
        ..., "--seed", help="Random seed; the same seed gives the same files."
    ),
    as_of: str = typer.Option(
        ..., "--as-of", help="Date the DPD mix holds on (YYYY-MM-DD); snapshot is 10 days earlier."
    ),
    out: Path = typer.Option(..., "--out", help="Directory to write accounts.* and payments.* to."),
    creditor: str = typer.Option("DEMOBANK", "--creditor", help="Creditor code (委托方代码)."),
    fmt: str = typer.Option("csv", "--format", help="csv, xlsx or parquet."),
    encoding: str = typer.Option("utf-8", "--encoding", help="CSV encoding: utf-8 or gbk."),
    headers: str = typer.Option(
        "zh", "--headers", help="zh: Chinese headers as banks export them; en: canonical names."
    ),
    bad_rows: float = typer.Option(
        0.0,
        "--bad-rows",
        help="Fraction of account rows to spoil (bad ID, mobile, amount, date, product, "
        "duplicate) to demonstrate quarantine.",
    ),
    json_output: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Generate a realistic placement portfolio (生成模拟委案数据) in the import format."""
    # the generator (Polars, NumPy) loads when the command runs, not for --help (ADR 0011)
    from cuishou.generator.portfolio import (
        GENERATION_STEPS,
        check_output_options,
        generate_portfolio,
        write_portfolio,
    )

    as_of_date = parse_date(as_of, field="--as-of")
    fmt, encoding, headers = fmt.lower(), encoding.lower().replace("_", "-"), headers.lower()
    if encoding == "utf8":
        encoding = "utf-8"
    check_output_options(fmt=fmt, encoding=encoding, headers=headers)
    if out.exists() and not out.is_dir():
        raise InvalidInput(f"--out {out} exists and is not a directory", field="out")
    started = time.perf_counter()
    show_progress = accounts >= PROGRESS_FROM_ACCOUNTS
    with Progress(
        TextColumn("[bold]generate[/] {task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
        disable=not show_progress,
        transient=True,
    ) as progress:
        task = progress.add_task("debtors", total=len(GENERATION_STEPS) + 1)

        def advance(step: str) -> None:
            following = [*GENERATION_STEPS, "writing files"]
            progress.update(task, advance=1, description=following[following.index(step) + 1])

        portfolio = generate_portfolio(
            accounts=accounts,
            seed=seed,
            as_of=as_of_date,
            creditor=creditor,
            bad_rows=bad_rows,
            on_step=advance,
        )
        files = write_portfolio(portfolio, out, fmt=fmt, encoding=encoding, headers=headers)
        progress.update(task, advance=1)
    seconds = round(time.perf_counter() - started, 3)
    result = {
        "accounts": portfolio.accounts.height,
        "debtors": portfolio.debtors,
        "payments": portfolio.payments.height,
        "bad_rows": portfolio.bad_rows,
        "as_of": portfolio.as_of,
        "snapshot_date": portfolio.snapshot_date,
        "files": [str(path) for path in files],
        "seconds": seconds,
    }
    if json_output:
        print_json(result)
        return
    out_console.print(
        f"generated {result['accounts']:,} accounts of {result['debtors']:,} debtors and "
        f"{result['payments']:,} payments (snapshot {portfolio.snapshot_date}, "
        f"DPD as of {portfolio.as_of}) in {seconds:.1f} s"
        + (f"; {portfolio.bad_rows:,} rows spoiled on purpose" if portfolio.bad_rows else "")
    )
    for path in files:
        out_console.print(f"  {path}")
