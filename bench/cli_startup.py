"""How fast the command line answers: ``python -m bench.cli_startup [--repeats 7]``.

Times ``cuishou --help`` and every subcommand's ``--help``, each in a fresh process (the
console script next to this interpreter, as a user runs it), ``--repeats`` times, and
prints the median wall time, the slowest run and the median CPU time (user + system of
the child). Floors put the figures in context: the bare interpreter (``python -c pass``), a
one-command Typer app's ``--help``, and ``import cuishou.cli``. The target (issue #9) is
≤ 0.5 s for every ``--help`` on a quiet machine; the load average is printed because a busy
machine is slower — there the CPU time is the steadier figure.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import typer

from cuishou.cli import app

#: Typer's own floor: an app with one option-taking command, ``cmd --help``
BARE_TYPER = """
import typer
app = typer.Typer()
@app.callback()
def root() -> None: ...
@app.command()
def cmd(n: int = typer.Option(1, help="a number")) -> None: ...
app()
"""


def command_paths(
    typer_app: typer.Typer, prefix: tuple[str, ...] = ()
) -> Iterator[tuple[str, ...]]:
    """Every command and command group of the CLI, as the words that name it."""
    for command in typer_app.registered_commands:
        if command.name:
            yield (*prefix, command.name)
    for group in typer_app.registered_groups:
        if group.name and group.typer_instance is not None:
            yield (*prefix, group.name)
            yield from command_paths(group.typer_instance, (*prefix, group.name))


def _cuishou() -> list[str]:
    script = Path(sys.executable).parent / "cuishou"
    return [str(script)] if script.exists() else [sys.executable, "-m", "cuishou.cli"]


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def time_runs(argv: list[str], repeats: int) -> tuple[list[float], list[float]]:
    """Wall and CPU seconds of ``repeats`` fresh runs of ``argv``."""
    walls, cpus = [], []
    for _ in range(repeats):
        cpu_before = _children_cpu()
        started = time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        walls.append(time.perf_counter() - started)
        cpus.append(_children_cpu() - cpu_before)
    return walls, cpus


def main(argv: list[str] | None = None) -> dict[str, dict[str, float]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    options = parser.parse_args(argv)

    cases: dict[str, list[str]] = {
        "python -c pass (floor)": [sys.executable, "-c", "pass"],
        "bare Typer app: cmd --help (floor)": [sys.executable, "-c", BARE_TYPER, "cmd", "--help"],
        "import cuishou.cli": [sys.executable, "-c", "import cuishou.cli"],
    }
    for words in [(), *command_paths(app)]:
        cases[" ".join(("cuishou", *words, "--help"))] = [*_cuishou(), *words, "--help"]

    load_before = os.getloadavg()[0]
    figures: dict[str, dict[str, float]] = {}
    for label, command in cases.items():
        walls, cpus = time_runs(command, options.repeats)
        figures[label] = {
            "median": statistics.median(walls),
            "max": max(walls),
            "cpu": statistics.median(cpus),
        }
    load_after = os.getloadavg()[0]

    if options.json:
        print(json.dumps({"load": [load_before, load_after], "figures": figures}, indent=1))
        return figures
    width = max(len(label) for label in figures)
    print(
        f"{options.repeats} runs each; 1-minute load average {load_before:.2f} → {load_after:.2f}"
    )
    print(f"{'command'.ljust(width)}  median s  max s  cpu s")
    for label, figure in figures.items():
        print(
            f"{label.ljust(width)}  {figure['median']:8.3f}  {figure['max']:5.3f}"
            f"  {figure['cpu']:5.3f}"
        )
    helps = [f["median"] for label, f in figures.items() if label.endswith("--help")]
    print(f"slowest --help median: {max(helps):.3f} s (target ≤ 0.5 s)")
    return figures


if __name__ == "__main__":
    main()
