"""Allocation on the simulator: the hidden collector × bucket specialty, the simulated shop
allocating through the real allocation service (``alloc:optimised`` / ``alloc:greedy``)
after a warm-up, and the comparison under common random numbers — exact zero for identical
arms, the same figures for the same seed, the truth never in the store, and with no
interaction the optimiser not worse than greedy beyond noise."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
from sqlalchemy import Engine, create_engine, func, select, text
from typer.testing import CliRunner

from cuishou.cli import app
from cuishou.kit.errors import InvalidInput
from cuishou.simulate import model
from cuishou.simulate.compare import Comparison, compare, resolve_arm
from cuishou.simulate.config import ModelConfig, load_model_config
from cuishou.simulate.service import (
    BUCKETS,
    SimulationOptions,
    collector_truth_path,
    simulate,
)
from cuishou.store.db import transaction
from cuishou.store.tables import AllocationBatch, Base, Case
from tests.factories import NOW

CONFIG = load_model_config()
FIRST = date(2026, 10, 1)
SMALL: dict[str, Any] = {"days": 4, "warmup_days": 3, "seed": 11, "accounts": 300,
                         "collectors": 3, "first_day": FIRST}  # fmt: skip


def _with_specialty(config: ModelConfig, sd: float) -> ModelConfig:
    collectors = config.collectors
    specialty = collectors.specialty.model_copy(update={"sd": sd})
    return config.model_copy(
        update={"collectors": collectors.model_copy(update={"specialty": specialty})}
    )


def _compare(names: tuple[str, str], folder: Path, config: ModelConfig = CONFIG) -> Comparison:
    return compare(names, directory=folder, config=config, clock=lambda: NOW, **SMALL)


# ------------------------------------------------------------------------- the model


def test_specialty_is_keyed_mean_one_and_off_at_zero() -> None:
    numbers = np.arange(1, 401)
    table = model.collector_specialty(CONFIG, 5, numbers, BUCKETS)
    assert table.shape == (400, len(BUCKETS))
    spec = CONFIG.collectors.specialty
    assert spec.sd > 0 and table.min() >= spec.low and table.max() <= spec.high
    assert abs(float(table.mean()) - 1.0) < 0.03  # exp(sd·z − sd²/2): mean one
    assert 0.7 * spec.sd < float(np.log(table).std()) < 1.3 * spec.sd
    # keyed streams: the same seed, the same table; fewer collectors, the same rows
    assert np.array_equal(model.collector_specialty(CONFIG, 5, numbers[:7], BUCKETS), table[:7])
    assert not np.array_equal(model.collector_specialty(CONFIG, 6, numbers, BUCKETS), table)
    # its draws are not the skill's
    skill = model.collector_skill(CONFIG, 5, numbers)
    assert abs(np.corrcoef(skill, np.log(table[:, 2]))[0, 1]) < 0.2
    flat = model.collector_specialty(_with_specialty(CONFIG, 0.0), 5, numbers, BUCKETS)
    assert np.array_equal(flat, np.ones_like(table))


def test_arms_and_options_are_checked(tmp_path: Path, engine: Engine) -> None:
    assert resolve_arm("alloc:greedy").allocation == "greedy"
    assert resolve_arm("alloc:optimised").allocation == "optimised"
    with pytest.raises(InvalidInput, match="alloc:optimised"):
        resolve_arm("alloc:best")
    options = SimulationOptions(directory=tmp_path, truth_path=tmp_path / "t.parquet",
                                allocation="best", **SMALL)  # fmt: skip
    with pytest.raises(InvalidInput, match="allocation must be one of"):
        simulate(engine, options, CONFIG, clock=lambda: NOW)


# ------------------------------------------------------------------ a run on the store


def test_an_allocated_run_deals_through_the_service_and_hides_the_truth(
    engine: Engine, tmp_path: Path
) -> None:
    options = SimulationOptions(directory=tmp_path, truth_path=tmp_path / "truth.parquet",
                                allocation="greedy", **SMALL)  # fmt: skip
    result = simulate(engine, options, CONFIG, clock=lambda: NOW)
    # the measured period is the days after the warm-up; one batch a measured day
    assert (result.first, result.days, result.warmup_days) == (date(2026, 10, 4), 4, 3)
    assert result.batches == 4 and result.allocation == "greedy"
    with transaction(engine) as session:
        batches = session.scalars(select(AllocationBatch).order_by(AllocationBatch.id)).all()
        per_collector = dict(
            session.execute(
                select(Case.assigned_user_id, func.count())
                .where(Case.status == "open")
                .group_by(Case.assigned_user_id)
            ).all()
        )
    assert [b.as_of for b in batches] == [date(2026, 10, 4 + i) for i in range(4)]
    first = batches[0].summary
    # the month-start re-deal pools the whole book (bar the excluded) as unassigned
    assert set(first["pooled"]) == {"unassigned"} and first["assigned"] > 0
    assert first["unassigned_left"]["count"] == 0
    assert first["objective"] == first["greedy_objective"]
    # every open case has a collector (the excluded ones dealt in turn), none over capacity
    assert None not in per_collector
    assert result.capacity is not None
    excluded = sum(first["excluded"].values())
    assert max(per_collector.values()) <= result.capacity + excluded

    # the hidden truth is beside the store, never in it: no column names it and no value
    # of a collector's skill or specialty is stored anywhere
    truth = pl.read_parquet(collector_truth_path(options.truth_path))
    assert truth.columns == ["collector", "skill", *(f"specialty_{b}" for b in BUCKETS)]
    hidden = [float(v) for column in truth.columns[1:] for v in truth[column] if v != 1.0]
    assert hidden
    needles = {repr(v) for v in hidden} | {f"{v:.6f}" for v in hidden}
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            names = " ".join(c.name for c in table.columns).lower()
            assert "skill" not in names and "specialty" not in names, table.name
            dump = " ".join(str(row) for row in conn.execute(select(table)))
            assert not any(needle in dump for needle in needles), table.name


# -------------------------------------------------------------------- the comparison


def test_identical_arms_differ_by_exactly_zero(tmp_path: Path) -> None:
    figures = _compare(("alloc:optimised", "alloc:optimised"), tmp_path).to_json()
    one, two = figures["arms"]
    assert one["recovered"] == two["recovered"] and float(one["recovered"]) > 0
    diff = figures["difference"]
    assert diff["recovered"] == "0.00" and diff["cases_changed"] == 0
    assert diff["relative"] == 0.0 and diff["relative_ci95"] == [0.0, 0.0]
    assert figures["warmup_days"] == 3 and one["allocation_batches"] == 4


def _moves(folder: Path) -> list[tuple[int, int]]:
    engine = create_engine(f"sqlite:///{folder / 'store.db'}")
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT case_id, to_user_id FROM allocation_moves ORDER BY batch_id, case_id")
        ).all()
    engine.dispose()
    return [(int(c), int(u)) for c, u in rows]


def test_the_comparison_is_deterministic_per_seed_and_the_methods_differ(tmp_path: Path) -> None:
    first = _compare(("alloc:greedy", "alloc:optimised"), tmp_path / "a")
    again = _compare(("alloc:greedy", "alloc:optimised"), tmp_path / "b")
    assert first.to_json()["difference"] == again.to_json()["difference"]
    for one, two in zip(first.arms, again.arms, strict=True):
        assert one.result.recovered_by_case.equals(two.result.recovered_by_case)
    assert _moves(tmp_path / "a" / "arm2") == _moves(tmp_path / "b" / "arm2")
    # the same warm-up and the same book, yet the two methods deal it differently
    assert first.arms[0].truth.equals(first.arms[1].truth)
    assert _moves(tmp_path / "a" / "arm1") != _moves(tmp_path / "a" / "arm2")


def test_without_interaction_the_optimiser_is_not_worse_beyond_noise(tmp_path: Path) -> None:
    flat = _with_specialty(CONFIG, 0.0)
    diff = _compare(("alloc:greedy", "alloc:optimised"), tmp_path, flat).to_json()["difference"]
    low, high = diff["relative_ci95"]
    assert low <= diff["relative"] <= high
    assert high >= 0.0  # not significantly worse


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["simulate", "compare", "alloc:best", "alloc:greedy", "--days", "2"], "alloc:best"),
        (["simulate", "compare", "alloc:greedy", "alloc:optimised", "--days", "2",
          "--warmup-days", "500"], "--warmup-days"),
    ],
)  # fmt: skip
def test_bad_allocation_arguments_are_clear_errors(args: list[str], words: str) -> None:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert words in result.output and "Traceback" not in result.output
