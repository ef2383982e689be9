"""``cuishou simulate``: a month of collections in minutes (仿真), through the real system."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from cuishou.cli_support import console, friendly_errors, print_json, store_engine
from cuishou.cli_support import out as out_console
from cuishou.kit.clock import parse_date, utc_now


def store_paths(url: str, directory: Path | None) -> tuple[Path, Path]:
    """Where the day's files and the ground truth go: beside a SQLite store's file
    (``<db>.simulate/``, ``<db>.truth.parquet``), else in ``--dir`` (``simulate-data``)."""
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        database = Path(url.removeprefix("sqlite:///"))
        return directory or Path(f"{database}.simulate"), Path(f"{database}.truth.parquet")
    folder = directory or Path("simulate-data")
    return folder, folder / "truth.parquet"


@friendly_errors
def simulate_command(
    days: int = typer.Option(..., "--days", help="Business days to simulate."),
    accounts: int = typer.Option(
        10_000, "--accounts", help="Accounts to generate when the store is empty."
    ),
    seed: int = typer.Option(2026, "--seed", help="Seed: the same seed, the same simulation."),
    as_of: str | None = typer.Option(
        None, "--as-of", help="First simulated day (default: the history ends yesterday)."
    ),
    collectors: int = typer.Option(10, "--collectors", help="Simulated collectors."),
    model_file: Path | None = typer.Option(
        None, "--model", help="Model parameters YAML (default: the shipped model.yaml)."
    ),
    directory: Path | None = typer.Option(
        None, "--dir", help="Where the day's dialer and payments files go."
    ),
    json_output: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Simulate collections day by day through the real system (仿真): daily cycle, queues
    worked by simulated collectors, dialer and payments files imported."""
    # the simulation stack loads when the command runs, not for --help (ADR 0011)
    from cuishou.simulate.config import load_model_config
    from cuishou.simulate.service import SimulationOptions, simulate
    from cuishou.store.db import upgrade

    config = load_model_config(model_file)
    first = parse_date(as_of, field="--as-of") if as_of else None
    engine = store_engine(migrated=False)
    upgrade(engine)
    folder, truth = store_paths(engine.url.render_as_string(hide_password=False), directory)
    options = SimulationOptions(
        days=days,
        directory=folder,
        truth_path=truth,
        accounts=accounts,
        seed=seed,
        first_day=first,
        collectors=collectors,
    )
    with Progress(
        TextColumn("[bold]simulate[/] {task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=json_output,
    ) as bar:
        task = bar.add_task("", total=days + 2)

        def progress(label: str, number: int, steps: int) -> None:
            bar.update(task, description=label, completed=number, total=steps)

        result = simulate(engine, options, config, clock=utc_now, progress=progress)
    engine.dispose()
    figures = result.to_json()
    if json_output:
        print_json(figures)
        return
    out_console.print(
        f"simulated {figures['days']} days {figures['from']} … {figures['to']} with "
        f"{figures['collectors']} collectors in {result.seconds:.1f} s"
    )
    out_console.print(
        f"calls {figures['calls']:,}, connected {figures['connected']:,} "
        f"({_percent(figures['connect_rate'])}), right party {figures['right_party']:,}, "
        f"promises {figures['promises']:,} "
        f"(first contact {_percent(figures['first_contact_promise_rate'])})"
    )
    out_console.print(
        f"payments {figures['payments']:,}, recovered ¥{figures['recovered']} of "
        f"¥{figures['due_at_start']} ({_percent(figures['recovery_rate'])})"
    )
    out_console.print(f"day files in {figures['directory']}; ground truth {figures['truth']}")


def _percent(rate: float | None) -> str:
    """A KPI rate (``None``: nothing to divide by) as a percentage."""
    return "–" if rate is None else f"{rate:.1%}"
