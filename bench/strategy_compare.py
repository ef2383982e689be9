"""Benchmark: the default strategy pack against the baseline "work the queue top down".

    python -m bench.strategy_compare [--seeds 5] [--accounts 3000] [--collectors 3]
                                     [--days 30] [--first V1] [--second V2] [--dir DIR]

For each seed, ``cuishou simulate compare baseline default`` (:mod:`cuishou.simulate.compare`):
both arms on the same simulated debtors with common random numbers, the same collectors
making at most the same calls a day (equal collector hours; ~690 open cases per collector,
as in the simulator's calibration). The margin per seed is paired over the cases; over the
seeds, its mean and standard error. Recovery in yuan and as a rate, contact cost (the
model's per-channel unit costs, ``model.yaml``), complaints, contacts by channel, and each
arm's share of the ground truth's full-treatment uplift.

Each seed's comparison goes to ``<dir>/results.jsonl`` as it finishes (a re-run skips the
seeds already there); the summary is printed (stderr) and written as JSON (stdout).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from rich.console import Console

from cuishou.simulate.compare import compare
from cuishou.simulate.config import load_model_config

console = Console(stderr=True)
FIRST = date(2026, 10, 1)
CLOCK = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


def _mean_se(values: list[float]) -> tuple[float, float | None]:
    n = len(values)
    mean = sum(values) / n
    if n < 2:
        return mean, None
    var = sum((v - mean) ** 2 for v in values) / (n - 1)
    return mean, math.sqrt(var / n)


def _rounded(pair: tuple[float, float | None], places: int) -> list[float | None]:
    return [None if v is None else round(v, places) for v in pair]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--accounts", type=int, default=3_000)
    parser.add_argument("--collectors", type=int, default=3)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--first", default="baseline")
    parser.add_argument("--second", default="default")
    parser.add_argument("--dir", type=Path, default=Path("/tmp/cuishou-bench-strategy-compare"))
    args = parser.parse_args(argv)

    args.dir.mkdir(parents=True, exist_ok=True)
    results = args.dir / "results.jsonl"
    lines = results.read_text().splitlines() if results.exists() else []
    rows: list[dict[str, Any]] = [json.loads(line) for line in lines]
    done = {r["seed"] for r in rows}
    config = load_model_config()
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        if seed in done:
            continue
        folder = args.dir / f"seed-{seed}"
        shutil.rmtree(folder, ignore_errors=True)
        cpu, wall = time.process_time(), time.perf_counter()
        comparison = compare(
            (args.first, args.second), days=args.days, seed=seed, accounts=args.accounts,
            collectors=args.collectors, directory=folder, config=config, clock=lambda: CLOCK,
            first_day=FIRST,
        )  # fmt: skip
        figures = comparison.to_json()
        figures["cpu_s"] = round(time.process_time() - cpu, 1)
        figures["wall_s"] = round(time.perf_counter() - wall, 1)
        figures["load"] = os.getloadavg()
        shutil.rmtree(folder, ignore_errors=True)
        rows.append(figures)
        with results.open("a") as out:
            out.write(json.dumps(figures) + "\n")
        one, two = figures["arms"]
        diff = figures["difference"]
        console.print(
            f"seed {seed}: {one['arm']} ¥{one['recovered']} ({one['recovery_rate']:.2%}) · "
            f"{two['arm']} ¥{two['recovered']} ({two['recovery_rate']:.2%}) · "
            f"margin ¥{diff['recovered']} [{diff['recovered_ci95'][0]} … "
            f"{diff['recovered_ci95'][1]}] ({diff['relative']:+.2%}) · cost "
            f"¥{one['cost']} vs ¥{two['cost']} · {figures['wall_s']} s"
        )

    wanted = [r for r in rows if r["seed"] in range(args.first_seed, args.first_seed + args.seeds)]
    relative = [r["difference"]["relative"] for r in wanted]
    points = [r["difference"]["recovery_rate_points"] for r in wanted]
    cost = [float(r["difference"]["cost"]) for r in wanted]
    margin = [float(r["difference"]["recovered"]) for r in wanted]
    significant = sum(
        float(r["difference"]["recovered_ci95"][0]) > 0
        or float(r["difference"]["recovered_ci95"][1]) < 0
        for r in wanted
    )
    summary = {
        "seeds": len(wanted),
        "arms": [args.first, args.second],
        "accounts": args.accounts,
        "collectors": args.collectors,
        "days": args.days,
        "margin_yuan_mean_se": _rounded(_mean_se(margin), 2),
        "margin_relative_mean_se": _rounded(_mean_se(relative), 5),
        "margin_rate_points_mean_se": _rounded(_mean_se(points), 6),
        "cost_difference_yuan_mean_se": _rounded(_mean_se(cost), 2),
        "seeds_with_paired_ci_excluding_0": significant,
        "per_seed": [
            {
                "seed": r["seed"],
                "recovery_rates": [a["recovery_rate"] for a in r["arms"]],
                "relative": r["difference"]["relative"],
                "ci95": r["difference"]["recovered_ci95"],
                "costs": [a["cost"] for a in r["arms"]],
                "complaints": [a["complaints"] for a in r["arms"]],
                "contacts": [a["contacts_by_channel"] for a in r["arms"]],
                "share_of_full_uplift": [a["share_of_full_treatment_uplift"] for a in r["arms"]],
                "wall_s": r["wall_s"],
            }
            for r in wanted
        ],
    }
    console.print(summary)
    json.dump(summary, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
