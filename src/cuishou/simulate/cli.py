"""``cuishou simulate``: a month of collections in minutes (仿真), through the real system;
``cuishou simulate compare``: two strategies on the same simulated debtors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from cuishou.cli_support import console, friendly_errors, print_json, store_engine
from cuishou.cli_support import out as out_console
from cuishou.kit.clock import parse_date, utc_now
from cuishou.kit.errors import InvalidInput

simulate_app = typer.Typer(
    help="Simulate collections day by day through the real system (仿真).",
    invoke_without_command=True,
    add_completion=False,
    rich_markup_mode=None,
)


def store_paths(url: str, directory: Path | None) -> tuple[Path, Path]:
    """Where the day's files and the ground truth go: beside a SQLite store's file
    (``<db>.simulate/``, ``<db>.truth.parquet``), else in ``--dir`` (``simulate-data``)."""
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        database = Path(url.removeprefix("sqlite:///"))
        return directory or Path(f"{database}.simulate"), Path(f"{database}.truth.parquet")
    folder = directory or Path("simulate-data")
    return folder, folder / "truth.parquet"


@simulate_app.callback()
@friendly_errors
def simulate_command(
    ctx: typer.Context,
    days: int | None = typer.Option(None, "--days", help="Business days to simulate."),
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
    strategy: str | None = typer.Option(
        None,
        "--strategy",
        help="Put this strategy in force (a YAML file or a shipped pack name, e.g. default).",
    ),
    json_output: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Simulate collections day by day through the real system (仿真): daily cycle, queues
    worked by simulated collectors, dialer and payments files imported. With --strategy the
    strategy is in force and the plan is worked: its calls, robot calls, messages, letters
    and visits."""
    if ctx.invoked_subcommand is not None:
        return
    if days is None:
        raise typer.BadParameter("Missing option '--days'.", param_hint="--days")
    # the simulation stack loads when the command runs, not for --help (ADR 0011)
    from cuishou.simulate.compare import BASELINE, resolve_arm
    from cuishou.simulate.config import load_model_config
    from cuishou.simulate.service import SimulationOptions, simulate
    from cuishou.store.db import upgrade

    if strategy == BASELINE:
        raise InvalidInput("--strategy needs a strategy file or pack name", field="strategy")
    to_run = resolve_arm(strategy).strategy if strategy is not None else None
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
        strategy=to_run,
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
    if figures["strategy"]:
        channels = ", ".join(f"{k} {v:,}" for k, v in figures["contacts_by_channel"].items())
        out_console.print(
            f"strategy {figures['strategy']}: contacts {channels}; "
            f"contact cost ¥{figures['contact_cost']}"
        )
    out_console.print(f"day files in {figures['directory']}; ground truth {figures['truth']}")


ARM_HELP = "Strategy file, shipped pack name, 'baseline', 'alloc:greedy' or 'alloc:optimised'."


@simulate_app.command("compare")
@friendly_errors
def compare_command(
    first: str = typer.Argument(..., help=ARM_HELP),
    second: str = typer.Argument(..., help=ARM_HELP),
    days: int = typer.Option(30, "--days", help="Business days to simulate and measure."),
    warmup_days: int = typer.Option(
        0,
        "--warmup-days",
        help="Days lived first, dealt round-robin and not measured (the allocation's history).",
    ),
    seed: int = typer.Option(
        2026, "--seed", help="Seed: both arms share it (common random numbers)."
    ),
    accounts: int = typer.Option(3_000, "--accounts", help="Accounts to generate."),
    collectors: int = typer.Option(3, "--collectors", help="Simulated collectors in each arm."),
    as_of: str | None = typer.Option(
        None, "--as-of", help="First simulated day (default: the history ends yesterday)."
    ),
    model_file: Path | None = typer.Option(
        None, "--model", help="Model parameters YAML (default: the shipped model.yaml)."
    ),
    directory: Path | None = typer.Option(
        None, "--dir", help="An empty folder for the two arms' stores (default: a temporary one)."
    ),
    json_output: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Run two strategies, or two allocation modes (alloc:greedy, alloc:optimised), on the
    same simulated debtors (common random numbers) and report each one's recovery, contacts
    by channel, cost and complaints, and the paired difference with its 95% interval."""
    import tempfile

    from cuishou.simulate.compare import compare
    from cuishou.simulate.config import load_model_config

    config = load_model_config(model_file)
    first_day = parse_date(as_of, field="--as-of") if as_of else None
    with tempfile.TemporaryDirectory(prefix="cuishou-compare-") as scratch:
        folder = directory or Path(scratch)
        with Progress(
            TextColumn("[bold]compare[/] {task.description}"),
            BarColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
            disable=json_output,
        ) as bar:
            task = bar.add_task("", total=warmup_days + days + 2)

            def arm_progress(name: str) -> Any:
                def progress(label: str, number: int, steps: int) -> None:
                    bar.update(task, description=f"{name}: {label}", completed=number, total=steps)

                return progress

            result = compare(
                (first, second), days=days, seed=seed, accounts=accounts,
                collectors=collectors, directory=folder, config=config, clock=utc_now,
                first_day=first_day, progress=arm_progress, warmup_days=warmup_days,
            )  # fmt: skip
        figures = result.to_json()
    if json_output:
        print_json(figures)
        return
    truth = figures["truth"]
    out_console.print(
        f"{figures['days']} days {figures['from']} … {figures['to']}, seed {figures['seed']}, "
        f"{truth['cases']:,} cases owing ¥{truth['owed_at_start']}, "
        f"{figures['collectors']} collectors in each arm"
    )
    out_console.print(
        f"ground truth: expected ¥{truth['expected_no_action']} with no action, "
        f"¥{truth['expected_full_treatment']} with full treatment"
    )
    for arm in figures["arms"]:
        channels = ", ".join(f"{k} {v:,}" for k, v in arm["contacts_by_channel"].items())
        out_console.print(
            f"{arm['arm']}: recovered ¥{arm['recovered']} ({_percent(arm['recovery_rate'])}), "
            f"contacts {channels}; cost ¥{arm['cost']}; complaints {arm['complaints']}; "
            f"share of the full-treatment uplift {_percent(arm['share_of_full_treatment_uplift'])}"
        )
    diff = figures["difference"]
    low, high = diff["recovered_ci95"]
    out_console.print(
        f"difference (second − first): ¥{diff['recovered']} (95% paired interval ¥{low} … "
        f"¥{high}), cost ¥{diff['cost']}"
    )
    if diff["relative_ci95"] is not None:
        rel_low, rel_high = diff["relative_ci95"]
        out_console.print(
            f"relative: {diff['relative']:+.2%} (95% interval {rel_low:+.2%} … {rel_high:+.2%})"
        )


def _percent(rate: float | None) -> str:
    """A KPI rate (``None``: nothing to divide by) as a percentage."""
    return "–" if rate is None else f"{rate:.1%}"
