"""Pure KPI rules: anomalies, ranks, progress, rounding, config, zero denominators."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest

from cuishou.kit.errors import ConfigError
from cuishou.kpis.config import load_kpi_config
from cuishou.kpis.rules import COUNTS, METRICS, anomalies, progress, ranks, rounded, with_rates


def _daily(values: list[float]) -> pl.DataFrame:
    start = date(2026, 10, 1)
    return pl.DataFrame(
        {"day": [start + timedelta(days=i) for i in range(len(values))], "calls": values}
    )


def test_a_day_beyond_three_sigma_of_its_trailing_four_weeks_is_flagged() -> None:
    # 28 days alternating 80 and 90: mean 85, sample std 5.09 → 3σ band 69.7 … 100.3
    history = [80.0, 90.0] * 14
    flagged = anomalies(_daily([*history, 101.0]), "calls")
    assert flagged["anomaly"].to_list() == [False] * 28 + [True]
    assert flagged["mean"][-1] == 85.0
    calm = anomalies(_daily([*history, 100.0]), "calls")
    assert not calm["anomaly"].any()


def test_no_flag_without_enough_history_or_on_a_flat_one() -> None:
    assert not anomalies(_daily([80.0] * 5 + [500.0]), "calls")["anomaly"].any()  # < 7 days
    assert not anomalies(_daily([80.0] * 28 + [500.0]), "calls")["anomaly"].any()  # std 0
    assert not anomalies(_daily([80.0, 90.0] * 14 + [None]), "calls")["anomaly"].any()  # type: ignore[list-item]


def test_only_the_trailing_window_counts() -> None:
    # a wild first week is forgotten 28 days later
    values = [1000.0, 0.0] * 4 + [80.0, 90.0] * 14 + [101.0]
    assert anomalies(_daily(values), "calls")["anomaly"][-1]


def test_ranks_progress_and_rounding() -> None:
    assert ranks([5.0, 9.0, 5.0, None, 1.0]) == [2, 1, 2, None, 4]
    assert progress(0.12, 0.15) == pytest.approx(0.8)
    assert progress(None, 0.15) is None and progress(0.1, 0) is None
    assert rounded(2 / 3) == 0.6667 and rounded(0.00005) == 0.0001 and rounded(None) is None


def test_every_rate_is_null_on_a_zero_denominator() -> None:
    zeros = pl.DataFrame({"key": ["total"], **{c: [0] for c in COUNTS}})
    rates = with_rates(zeros).drop("key", *COUNTS, "cost_fen").row(0, named=True)
    assert rates and all(v is None for v in rates.values())


def test_every_metric_has_names_and_a_formula() -> None:
    for metric in METRICS.values():
        assert metric.zh and metric.en and metric.numerator and metric.unit


def test_the_shipped_config_holds_the_seed_targets() -> None:
    config = load_kpi_config()
    assert config.targets.defaults == {
        "connect_rate": 0.76, "first_contact_promise_rate": 0.42,
        "recovery_rate": 0.15, "calls_per_collector_day": 85,
    }  # fmt: skip
    assert config.targets.for_key("team", "一组") == config.targets.defaults


def test_a_wrong_config_names_the_field(tmp_path: Path) -> None:
    path = tmp_path / "kpis.yaml"
    path.write_text(
        "targets:\n  defaults: {connect_rate: 1.5}\n  teams: {一组: {recovery_rate: 0.2}}\n"
        "costs: {per_contact: {pigeon: '1.00'}}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as refused:
        load_kpi_config(path)
    assert "targets.defaults" in str(refused.value) and "pigeon" in str(refused.value)
    path.write_text("targets:\n  teams: {一组: {recovery_rate: 0.2}}\n", encoding="utf-8")
    assert load_kpi_config(path).targets.for_key("team", "一组") == {"recovery_rate": 0.2}
