"""Benchmark: optimised allocation (min-cost flow) against the greedy baseline on the simulator.

    python -m bench.alloc_sim [--accounts 30000] [--collectors 30] [--days 30]
                              [--warmup-days 30] [--seed 2026] [--specialty-sd SD] [--dir DIR]

One ``cuishou simulate compare alloc:greedy alloc:optimised`` (:mod:`cuishou.simulate.compare`):
both arms on the same simulated debtors with common random numbers, the same collectors
making at most the same calls a day (equal collector hours), each collector's capacity the
book ÷ collectors + 5 % (so both arms give about the same load). Both arms first live the
same ``--warmup-days`` dealt round-robin: the history the collector effects are estimated
from. Then the book is re-dealt by the arm's method and re-allocated daily (rotation on a
bucket change, cases whose collector is full), and ``--days`` are measured against the
simulator's ground truth. ``--specialty-sd`` overrides ``model.yaml``'s
``collectors.specialty.sd`` (the size of the hidden collector × bucket interaction).

Reported (stdout, JSON): each arm's recovery, the paired difference (yuan and relative, with
its 95 % interval over the cases), and what drives it: the mean TRUE multiplier (skill ×
specialty in the case's bucket, from the collectors' hidden truth beside the store) of the
collector each case got in the month-start re-deal, per arm — plain, weighted by the amount
due, and its two factors apart — the best possible, and the re-dealt load's spread.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import polars as pl
from rich.console import Console
from sqlalchemy import create_engine, text

from cuishou.simulate.compare import ArmResult, compare
from cuishou.simulate.config import load_model_config
from cuishou.simulate.service import BUCKETS, collector_truth_path

console = Console(stderr=True)
FIRST = date(2026, 9, 1)
CLOCK = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


def _true_multiplier(arm: ArmResult, folder: Path) -> dict[str, Any]:
    """The month-start re-deal (the arm's first allocation batch) against the hidden truth:
    the mean true multiplier (skill × specialty) of each case's new collector in the case's
    bucket, plain and weighted by the amount due (and its two factors), and the spread of
    the re-dealt load over the collectors."""
    truth = pl.read_parquet(collector_truth_path(Path(arm.result.truth)))
    long = truth.unpivot(
        index=["collector", "skill"],
        on=[f"specialty_{b}" for b in BUCKETS],
        variable_name="bucket",
        value_name="specialty",
    ).with_columns(
        pl.col("bucket").str.strip_prefix("specialty_"),
        (pl.col("skill") * pl.col("specialty")).alias("true"),
    )
    engine = create_engine(f"sqlite:///{folder / 'store.db'}")
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                """SELECT u.username, m.bucket, c.due_fen FROM allocation_moves m
                JOIN users u ON u.id = m.to_user_id
                JOIN cases c ON c.id = m.case_id
                WHERE m.batch_id = (SELECT MIN(id) FROM allocation_batches)"""
            )
        ).all()
    engine.dispose()
    moves = pl.DataFrame(
        rows, schema={"collector": pl.String, "bucket": pl.String, "due": pl.Float64},
        orient="row",
    )  # fmt: skip
    got = moves.join(long, on=["collector", "bucket"], how="left")
    best = got.join(long.group_by("bucket").agg(pl.col("true").max().alias("best")), on="bucket")
    load = got.group_by("collector").len()["len"]

    def weighted(column: str) -> float:
        return round(float((got[column] * got["due"]).sum() / got["due"].sum()), 4)

    return {
        "redealt_cases": moves.height,
        "redealt_load_min_max": [int(load.min() or 0), int(load.max() or 0)],
        "mean_true_multiplier": round(float(got["true"].mean() or 0.0), 4),
        "mean_best_multiplier": round(float(best["best"].mean() or 0.0), 4),
        "due_weighted_true_multiplier": weighted("true"),
        "due_weighted_skill": weighted("skill"),
        "due_weighted_specialty": weighted("specialty"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=30_000)
    parser.add_argument("--collectors", type=int, default=30)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--warmup-days", type=int, default=30)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--specialty-sd", type=float, default=None)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/cuishou-bench-alloc-sim"))
    args = parser.parse_args(argv)

    if args.dir.exists() and any(args.dir.iterdir()):
        console.print(f"{args.dir} is not empty: choose an empty --dir")
        return 2
    config = load_model_config()
    if args.specialty_sd is not None:
        collectors = config.collectors
        config = config.model_copy(
            update={
                "collectors": collectors.model_copy(
                    update={
                        "specialty": collectors.specialty.model_copy(
                            update={"sd": args.specialty_sd}
                        )
                    }
                )
            }
        )
    cpu, wall = time.process_time(), time.perf_counter()

    def progress(name: str) -> Any:
        def report(label: str, number: int, steps: int) -> None:
            at = time.perf_counter() - wall
            console.print(f"[{at:7.1f}s] {name}: {label} ({number}/{steps})")

        return report

    comparison = compare(
        ("alloc:greedy", "alloc:optimised"), days=args.days, seed=args.seed,
        accounts=args.accounts, collectors=args.collectors, directory=args.dir,
        config=config, clock=lambda: CLOCK, first_day=FIRST, progress=progress,
        warmup_days=args.warmup_days,
    )  # fmt: skip
    figures = comparison.to_json()
    out = {
        "command": "python -m bench.alloc_sim " + " ".join(argv or sys.argv[1:]),
        "specialty_sd": config.collectors.specialty.sd,
        "seconds": round(time.perf_counter() - wall, 1),
        "cpu_seconds": round(time.process_time() - cpu, 1),
        "from": figures["from"],
        "to": figures["to"],
        "warmup_days": figures["warmup_days"],
        "cases": figures["truth"]["cases"],
        "collectors": figures["collectors"],
        "arms": [
            {
                "arm": arm["arm"],
                "recovered": arm["recovered"],
                "recovery_rate": arm["recovery_rate"],
                "calls_per_collector_day": arm["calls_per_collector_day"],
                "capacity": arm["capacity"],
                "seconds": arm["seconds"],
                **_true_multiplier(result, args.dir / f"arm{number}"),
            }
            for number, (arm, result) in enumerate(
                zip(figures["arms"], comparison.arms, strict=True), start=1
            )
        ],
        "difference": figures["difference"],
    }
    print(json.dumps(out, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
