"""What-if on the simulator (策略仿真对比): two strategies on the same simulated debtors.

:func:`compare` runs one simulated period per arm, each in a store of its own (a fresh
SQLite file under ``directory``), from the same seed: the same generated portfolio,
imported in the same order (so the same case and debtor ids), the same collectors with the
same skills, and the same random streams per debtor and day (:mod:`cuishou.simulate.model`
keys every draw by ``(seed, debtor, day, purpose, k)``). This is common random numbers
(共同随机数): the two arms differ only by what the strategies did, so two identical
strategies give exactly the same figures and a small true difference is not drowned in
noise. The per-case difference is paired (the same case in both arms), which is what makes
its interval narrow.

An arm is a strategy file, a shipped pack name (``default``), or ``baseline``: no strategy
in force, the collectors work their queues top down (the simulator's old behaviour). An arm
``alloc:optimised`` or ``alloc:greedy`` is the baseline workforce with its cases allocated
by the real allocation service (min-cost flow, or the round-robin-by-amount baseline): the
book re-dealt on the first measured day, then each day's pool (docs/simulator.md). With
``warmup_days`` both arms first live the same warm-up, dealt round-robin (identical in both:
common random numbers), which is the history the collector effects are learned from; only
the days after it are measured.
Both arms have the same collectors and the same calls a day each (equal collector hours); a
strategy that plans fewer calls leaves some of that time unused.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import polars as pl

from cuishou.kit.errors import InvalidInput
from cuishou.kit.money import format_yuan
from cuishou.simulate.config import ModelConfig
from cuishou.simulate.service import (
    ALLOCATION_METHODS,
    Progress,
    SimulationOptions,
    SimulationResult,
    StrategyToRun,
    simulate,
)
from cuishou.store.db import make_engine, upgrade
from cuishou.strategy.definition import PACKS, read_strategy_file, shipped, shipped_text

#: the arm with no strategy in force (the queue worked top down)
BASELINE = "baseline"
#: ``alloc:<mode>``: the baseline workforce, cases allocated by the allocation service
ALLOCATION_PREFIX = "alloc:"


@dataclass(frozen=True, slots=True)
class Arm:
    """One side of a comparison: its name as given, the strategy (``None``: baseline) and
    the allocation mode (``None``: dealt round-robin)."""

    name: str
    strategy: StrategyToRun | None
    allocation: str | None = None


def resolve_arm(name: str) -> Arm:
    """``baseline``, ``alloc:optimised``, ``alloc:greedy``, a strategy file, or a shipped
    pack's name (``default``)."""
    if name == BASELINE:
        return Arm(name, None)
    if name.startswith(ALLOCATION_PREFIX):
        mode = name.removeprefix(ALLOCATION_PREFIX)
        if mode not in ALLOCATION_METHODS:
            raise InvalidInput(
                f"{name!r}: the allocation arms are "
                + ", ".join(f"{ALLOCATION_PREFIX}{m}" for m in ALLOCATION_METHODS),
                field="strategy",
            )
        return Arm(name, None, mode)
    path = Path(name)
    if path.is_file():
        text, strategy = read_strategy_file(path)
        return Arm(name, StrategyToRun(strategy, text))
    if (PACKS / f"{name}.yaml").is_file():
        return Arm(name, StrategyToRun(shipped(name), shipped_text(name)))
    raise InvalidInput(
        f"{name!r} is neither a strategy file, a shipped strategy pack nor {BASELINE!r}",
        field="strategy",
    )


@dataclass
class ArmResult:
    arm: Arm
    result: SimulationResult
    truth: pl.DataFrame

    def to_json(self, *, no_action_fen: float, full_fen: float) -> dict[str, Any]:
        figures = self.result.to_json()
        recovered_fen = int(self.result.total.recovered_fen)
        room = full_fen - no_action_fen
        return {
            "arm": self.arm.name,
            "strategy": figures["strategy"],
            "allocation": self.arm.allocation,
            "capacity": self.result.capacity,
            "allocation_batches": self.result.batches,
            "recovered": format_yuan(recovered_fen),
            "recovery_rate": figures["recovery_rate"],
            "due_at_start": figures["due_at_start"],
            "payments": figures["payments"],
            "contacts_by_channel": figures["contacts_by_channel"],
            "calls_per_collector_day": round(
                self.result.total.contacts.get("call", 0)
                / (self.result.collectors * self.result.days),
                2,
            ),
            "cost": figures["contact_cost"],
            "cost_per_yuan": (
                round(self.result.total.cost_fen / recovered_fen, 4) if recovered_fen else None
            ),
            "complaints": figures["complaints"],
            "violations": figures["violations"],
            "candidates": figures["candidates"],
            "promises": figures["promises"],
            "uplift_over_no_action": format_yuan(round(recovered_fen - no_action_fen)),
            "share_of_full_treatment_uplift": (
                round((recovered_fen - no_action_fen) / room, 4) if room > 0 else None
            ),
            "seconds": self.result.seconds,
        }


@dataclass
class Comparison:
    first: date
    last: date
    seed: int
    accounts: int
    collectors: int
    arms: list[ArmResult]
    warmup_days: int = 0

    def to_json(self) -> dict[str, Any]:
        truth = self.arms[0].truth
        no_action = float(truth["expected_no_action_fen"].sum())
        full = float(truth["expected_full_treatment_fen"].sum())
        one, two = self.arms
        return {
            "from": self.first.isoformat(),
            "to": self.last.isoformat(),
            "days": one.result.days,
            "warmup_days": self.warmup_days,
            "seed": self.seed,
            "accounts": self.accounts,
            "collectors": self.collectors,
            "truth": {
                "cases": truth.height,
                "owed_at_start": format_yuan(int(truth["owed_at_start_fen"].sum())),
                "expected_no_action": format_yuan(round(no_action)),
                "expected_full_treatment": format_yuan(round(full)),
            },
            "arms": [arm.to_json(no_action_fen=no_action, full_fen=full) for arm in self.arms],
            "difference": paired_difference(one, two),
        }


def paired_difference(one: ArmResult, two: ArmResult) -> dict[str, Any]:
    """Second arm minus first: recovered (yuan) with a 95% interval over the cases, paired
    (the same case in both arms: common random numbers), recovery rate and contact cost."""
    cases = one.truth.select("case_id", "owed_at_start_fen")
    joined = (
        cases.join(
            one.result.recovered_by_case.rename({"recovered_fen": "a"}), on="case_id", how="left"
        )
        .join(two.result.recovered_by_case.rename({"recovered_fen": "b"}), on="case_id", how="left")
        .with_columns(pl.col("a").fill_null(0), pl.col("b").fill_null(0))
        .with_columns((pl.col("b") - pl.col("a")).cast(pl.Float64).alias("d"))
    )
    n = joined.height
    d = joined["d"].to_numpy()
    a = joined["a"].to_numpy().astype(float)
    total = float(d.sum())
    half = 1.96 * float(d.std(ddof=1)) * math.sqrt(n) if n > 1 else 0.0
    owed = float(joined["owed_at_start_fen"].sum())
    a_fen, b_fen = one.result.total.recovered_fen, two.result.total.recovered_fen
    # the relative difference Σd ÷ Σa is a ratio of per-case sums: its interval by the
    # delta method (the residuals d − R·a), as docs/adr/0025 does for recovery rates
    ratio = total / float(a.sum()) if a.sum() else None
    rel_half = (
        1.96 * float((d - ratio * a).std(ddof=1)) * math.sqrt(n) / float(a.sum())
        if ratio is not None and n > 1
        else 0.0
    )
    return {
        "recovered": format_yuan(b_fen - a_fen),
        "recovered_ci95": [format_yuan(round(total - half)), format_yuan(round(total + half))],
        "relative": round((b_fen - a_fen) / a_fen, 4) if a_fen else None,
        "relative_ci95": (
            [round(ratio - rel_half, 4), round(ratio + rel_half, 4)] if ratio is not None else None
        ),
        "recovery_rate_points": round((b_fen - a_fen) / owed, 6) if owed else None,
        "cases_changed": int((joined["d"] != 0).sum()),
        "cost": format_yuan(two.result.total.cost_fen - one.result.total.cost_fen),
    }


def compare(
    names: tuple[str, str],
    *,
    days: int,
    seed: int,
    accounts: int,
    collectors: int,
    directory: Path,
    config: ModelConfig,
    clock: Callable[[], datetime],
    first_day: date | None = None,
    progress: Callable[[str], Progress | None] | None = None,
    warmup_days: int = 0,
) -> Comparison:
    """Run both arms (module docstring) in stores of their own under ``directory``."""
    arms = [resolve_arm(name) for name in names]
    done: list[ArmResult] = []
    for number, arm in enumerate(arms, start=1):
        folder = directory / f"arm{number}"
        database = folder / "store.db"
        if database.exists():
            raise InvalidInput(
                f"{database} exists: compare runs each arm on a fresh store; choose an empty --dir",
                field="dir",
            )
        folder.mkdir(parents=True, exist_ok=True)
        engine = make_engine(f"sqlite:///{database}")
        try:
            upgrade(engine)
            options = SimulationOptions(
                days=days,
                directory=folder,
                truth_path=folder / "truth.parquet",
                accounts=accounts,
                seed=seed,
                first_day=first_day,
                collectors=collectors,
                strategy=arm.strategy,
                allocation=arm.allocation,
                warmup_days=warmup_days,
            )
            reporter = progress(arm.name) if progress is not None else None
            result = simulate(engine, options, config, clock=clock, progress=reporter)
        finally:
            engine.dispose()
        done.append(ArmResult(arm, result, pl.read_parquet(options.truth_path)))
    one, two = done
    if not one.truth.equals(two.truth):
        raise InvalidInput(
            "the two arms did not simulate the same debtors (their ground truth differs); "
            "common random numbers need the same seed, size and model"
        )
    return Comparison(
        first=one.result.first,
        last=one.result.last,
        seed=seed,
        accounts=accounts,
        collectors=collectors,
        arms=done,
        warmup_days=warmup_days,
    )
