"""Benchmark: ``cuishou simulate`` on a fresh SQLite store (target: 100,000 accounts × 30
days with 100 collectors ≤ 5 minutes).

    python -m bench.simulate [--accounts 100000] [--days 30] [--collectors 100] [--seed 2026]
                             [--dir /tmp/cuishou-bench-simulate]

Runs :func:`cuishou.simulate.service.simulate` (what the command runs) on an empty store in
``--dir``: generate and import the placement, then day by day the daily cycle, the
workforce on the real queues, the dialer result file and the payments file, and at the end
the KPIs of the period. Prints the time of each step (stderr) and one JSON object (stdout):
the run's figures, the total and the time per simulated day.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time
from pathlib import Path

from rich.console import Console

from cuishou.kit.clock import utc_now
from cuishou.simulate.config import load_model_config
from cuishou.simulate.service import SimulationOptions, simulate
from cuishou.store.db import make_engine, upgrade

console = Console(stderr=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--collectors", type=int, default=100)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/cuishou-bench-simulate"))
    args = parser.parse_args()
    shutil.rmtree(args.dir, ignore_errors=True)
    args.dir.mkdir(parents=True)
    engine = make_engine(f"sqlite:///{args.dir / 'sim.db'}")
    upgrade(engine)
    steps: list[tuple[str, float]] = []
    mark = [time.perf_counter()]

    def progress(label: str, number: int, total: int) -> None:
        now = time.perf_counter()
        steps.append((label, now - mark[0]))
        mark[0] = now
        console.print(f"[{number}/{total}] {label}  (+{steps[-1][1]:.1f} s)")

    options = SimulationOptions(
        days=args.days,
        directory=args.dir / "files",
        truth_path=args.dir / "truth.parquet",
        accounts=args.accounts,
        seed=args.seed,
        collectors=args.collectors,
    )
    started = time.perf_counter()
    result = simulate(engine, options, load_model_config(), clock=utc_now, progress=progress)
    total = time.perf_counter() - started
    steps.append(("end", time.perf_counter() - mark[0]))
    # each step's time is reported at the next label: shift by one
    timed = [(label, steps[i + 1][1]) for i, (label, _) in enumerate(steps[:-1])]
    days = [seconds for label, seconds in timed if label.startswith("simulating")]
    figures = result.to_json()
    figures.pop("per_day")
    print(
        json.dumps(
            {
                "accounts": args.accounts,
                "days": args.days,
                "collectors": args.collectors,
                "total_s": round(total, 1),
                "setup_s": round(sum(s for label, s in timed if label.startswith("generating")), 1),
                "per_day_s_mean": round(sum(days) / len(days), 2) if days else None,
                "per_day_s_max": round(max(days), 2) if days else None,
                "first_day_s": round(days[0], 2) if days else None,
                "kpis_s": round(sum(s for label, s in timed if label.startswith("KPIs")), 1),
                "load_average": os.getloadavg(),
                "figures": figures,
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
