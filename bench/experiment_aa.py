"""Benchmark: is the champion/challenger interval honest (A/A), and can it see +2% (power)?

    python -m bench.experiment_aa [--seeds 40] [--accounts 2000] [--days 30] [--collectors 2]
                                  [--share 20] [--uplift 2] [--dir DIR]

One simulated month per seed (``cuishou simulate``, no strategy in force: which policy runs
does not matter to an A/A test), each on a fresh SQLite store under ``--dir``, with a real,
known effect injected by the simulator (:class:`cuishou.simulate.service.PaymentEffect`):
every payment of a case in the challenger arm of the split ``(salt "power-<seed>",
--share %)`` is ``1 + --uplift/100`` times what the debtor model decided (never above what
the case owes, so the realised uplift is a little below the nominal one: the run reports
it). From that month, per case, what was recovered and what was owed at the start:

* **A/A** — the cases split again by the arm hash with another salt (``"aa-<seed>"``,
  ``--share`` %): the treated cases fall in both arms alike, so the two arms are identical
  in distribution. Called different when the 95% interval of the difference in recovery
  rate excludes 0. Over the seeds: the count, against the 5% an honest interval gives, with
  its binomial sampling error.
* **Power** — the split the effect was injected on: detected when the interval excludes 0
  on the right side. The count over seeds, against the power calculator's prediction at the
  same size (from the simulated variance per case), and the size the calculator says 80%
  power needs.

The statistics: recovery rate per arm ``Σ recovered / Σ owed`` over its cases, a ratio of
means; its variance by the delta method, ``var(y − R·x) / (n · mean(x)²)``; the
difference's standard error the root of the arms' sum; a normal 95% interval and two-sided
p. (``cuishou.experiments.stats`` — the service's version — had not landed on main when this
was written; :func:`compare_rates` is the interface it is to replace: per-case recovered and
owed per arm → estimate, interval, p.)

Each seed's figures go to ``<dir>/results.jsonl`` as it finishes (a re-run skips the seeds
already there); the summary is printed (stderr) and written as one JSON object (stdout).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from rich.console import Console

from cuishou.experiments.rules import in_challenger
from cuishou.simulate.config import load_model_config
from cuishou.simulate.service import PaymentEffect, SimulationOptions, simulate
from cuishou.store.db import make_engine, upgrade

console = Console(stderr=True)
#: the simulated month: fixed, so the runs do not depend on the day they are made
FIRST = date(2026, 10, 1)
CLOCK = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
Z95 = 1.959963984540054
Z80 = 0.8416212335729143


# ----------------------------------------------------------------------- statistics


def _phi(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


@dataclass(frozen=True)
class RateDiff:
    rate_a: float
    rate_b: float
    estimate: float  # rate_b - rate_a
    ci_low: float
    ci_high: float
    p_value: float


def _rate_and_var(recovered: np.ndarray, owed: np.ndarray) -> tuple[float, float]:
    """Recovery rate (ratio of means) and its delta-method variance."""
    n = recovered.shape[0]
    rate = float(recovered.sum() / owed.sum())
    residual = recovered - rate * owed
    return rate, float(residual.var(ddof=1) / (n * owed.mean() ** 2))


def compare_rates(
    recovered_a: np.ndarray, owed_a: np.ndarray, recovered_b: np.ndarray, owed_b: np.ndarray
) -> RateDiff:
    """Arm B's recovery rate minus arm A's, with a 95% interval and a two-sided p."""
    rate_a, var_a = _rate_and_var(recovered_a, owed_a)
    rate_b, var_b = _rate_and_var(recovered_b, owed_b)
    se = math.sqrt(var_a + var_b)
    estimate = rate_b - rate_a
    p = 2.0 * (1.0 - _phi(abs(estimate) / se)) if se > 0 else 1.0
    return RateDiff(rate_a, rate_b, estimate, estimate - Z95 * se, estimate + Z95 * se, p)


def per_case_variance(recovered: np.ndarray, owed: np.ndarray) -> tuple[float, float]:
    """``(rate, σ²)`` with ``σ² = var(y − R·x) / mean(x)²``: one case's share of the rate's
    variance (an arm of n cases has variance σ²/n)."""
    rate = float(recovered.sum() / owed.sum())
    return rate, float((recovered - rate * owed).var(ddof=1) / owed.mean() ** 2)


def power_at(sigma2: float, rate: float, uplift: float, n_a: int, n_b: int) -> float:
    """The chance a 95% two-sided test detects a relative ``uplift`` on ``rate``."""
    delta = uplift * rate
    se = math.sqrt(sigma2 / n_a + sigma2 / n_b)
    return _phi(delta / se - Z95) + _phi(-delta / se - Z95)


def cases_needed(sigma2: float, rate: float, uplift: float, share: float) -> int:
    """Cases in the experiment (both arms) for 80% power, challenger share ``share``."""
    delta = uplift * rate
    return math.ceil(sigma2 * (1 / share + 1 / (1 - share)) * (Z95 + Z80) ** 2 / delta**2)


# ------------------------------------------------------------------------- one seed


def run_seed(seed: int, args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    folder.mkdir(parents=True, exist_ok=True)
    database = folder / "store.db"
    if database.exists():
        database.unlink()
    engine = make_engine(f"sqlite:///{database}")
    upgrade(engine)
    effect = PaymentEffect(
        salt=f"power-{seed}", share_pct=args.share, multiplier=1 + args.uplift / 100
    )
    options = SimulationOptions(
        days=args.days, directory=folder, truth_path=folder / "truth.parquet",
        accounts=args.accounts, seed=seed, first_day=FIRST, collectors=args.collectors,
        effect=effect,
    )  # fmt: skip
    cpu, wall = time.process_time(), time.perf_counter()
    result = simulate(engine, options, load_model_config(), clock=lambda: CLOCK)
    engine.dispose()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    cases = (
        pl.read_parquet(options.truth_path)
        .select("case_id", "owed_at_start_fen")
        .join(result.recovered_by_case, on="case_id", how="left")
        .with_columns(pl.col("recovered_fen").fill_null(0))
    )
    ids = cases["case_id"].to_numpy()
    y = cases["recovered_fen"].to_numpy().astype(np.float64)
    x = cases["owed_at_start_fen"].to_numpy().astype(np.float64)
    treated = in_challenger(ids, salt=effect.salt, share_pct=args.share)
    aa = in_challenger(ids, salt=f"aa-{seed}", share_pct=args.share)
    aa_diff = compare_rates(y[~aa], x[~aa], y[aa], x[aa])
    power_diff = compare_rates(y[~treated], x[~treated], y[treated], x[treated])
    rate, sigma2 = per_case_variance(y[~treated], x[~treated])
    base = result.total.effect_base_fen
    for path in (database, *folder.glob("store.db-*")):
        path.unlink(missing_ok=True)
    return {
        "seed": seed,
        "cases": int(ids.shape[0]),
        "challenger_cases": int(treated.sum()),
        "aa": aa_diff.__dict__,
        "aa_called_different": not (aa_diff.ci_low <= 0.0 <= aa_diff.ci_high),
        "power": power_diff.__dict__,
        "detected": power_diff.ci_low > 0.0,
        "champion_rate": rate,
        "sigma2": sigma2,
        "realised_uplift": result.total.effect_added_fen / base if base else None,
        "cpu_s": round(cpu, 1),
        "wall_s": round(wall, 1),
    }


# ---------------------------------------------------------------------------- main


def _count(hits: int, n: int) -> dict[str, Any]:
    share = hits / n
    return {"count": hits, "of": n, "share": round(share, 4),
            "sampling_error": round(math.sqrt(share * (1 - share) / n), 4)}  # fmt: skip


def summarise(rows: list[dict[str, Any]], args: argparse.Namespace) -> dict[str, Any]:
    n = len(rows)
    share = args.share / 100
    sigma2 = float(np.mean([r["sigma2"] for r in rows]))
    rate = float(np.mean([r["champion_rate"] for r in rows]))
    realised = float(np.mean([r["realised_uplift"] for r in rows if r["realised_uplift"]]))
    cases = float(np.mean([r["cases"] for r in rows]))
    n_b = round(cases * share)
    n_a = round(cases) - n_b
    nominal = args.uplift / 100
    aa_hits = sum(r["aa_called_different"] for r in rows)
    hits = sum(r["detected"] for r in rows)
    return {
        "seeds": n,
        "accounts": args.accounts,
        "cases_per_seed": round(cases),
        "days": args.days,
        "collectors": args.collectors,
        "share_pct": args.share,
        "aa_called_different": _count(aa_hits, n),
        "aa_expected": "5% ± " + f"{math.sqrt(0.05 * 0.95 / n):.1%}",
        "power_detected": _count(hits, n),
        "nominal_uplift": nominal,
        "realised_uplift_mean": round(realised, 5),
        "champion_rate_mean": round(rate, 5),
        "sigma2_per_case_mean": round(sigma2, 5),
        "calculator_power_at_this_size": {
            "nominal": round(power_at(sigma2, rate, nominal, n_a, n_b), 4),
            "realised": round(power_at(sigma2, rate, realised, n_a, n_b), 4),
        },
        "cases_needed_for_80pct": {
            "nominal": cases_needed(sigma2, rate, nominal, share),
            "realised": cases_needed(sigma2, rate, realised, share),
        },
        "mean_seed_cpu_s": round(float(np.mean([r["cpu_s"] for r in rows])), 1),
        "mean_seed_wall_s": round(float(np.mean([r["wall_s"] for r in rows])), 1),
        "load_at_end": os.getloadavg(),
        "statistics": "delta method on the ratio of means (bench/experiment_aa.py compare_rates)",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=40)
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--accounts", type=int, default=2_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--collectors", type=int, default=2)
    parser.add_argument("--share", type=float, default=20.0, help="challenger share, percent")
    parser.add_argument("--uplift", type=float, default=2.0, help="injected uplift, percent")
    parser.add_argument("--dir", type=Path, default=Path("/tmp/cuishou-bench-aa"))
    args = parser.parse_args(argv)

    args.dir.mkdir(parents=True, exist_ok=True)
    results = args.dir / "results.jsonl"
    rows = (
        [json.loads(line) for line in results.read_text().splitlines()] if results.exists() else []
    )
    done = {r["seed"] for r in rows}
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        if seed in done:
            continue
        row = run_seed(seed, args, args.dir / f"seed-{seed}")
        rows.append(row)
        with results.open("a") as out:
            out.write(json.dumps(row) + "\n")
        console.print(
            f"seed {seed}: A/A p {row['aa']['p_value']:.3f}"
            f"{' DIFFERENT' if row['aa_called_different'] else ''}; power p "
            f"{row['power']['p_value']:.3f}{' detected' if row['detected'] else ''}; "
            f"{row['wall_s']} s wall, {row['cpu_s']} s CPU; load {os.getloadavg()[0]:.1f}"
        )
    wanted = set(range(args.first_seed, args.first_seed + args.seeds))
    summary = summarise([r for r in rows if r["seed"] in wanted], args)
    console.print(summary)
    json.dump(summary, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
