"""Cycle config YAML: a custom scheme loads; every mistake names the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from cuishou.engine.config import DEFAULT_CONFIG, load_cycle_config
from cuishou.kit.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cycle.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_no_file_gives_the_default_scheme() -> None:
    assert load_cycle_config(None) is DEFAULT_CONFIG
    assert DEFAULT_CONFIG.buckets.names == ("M0", "M1", "M2", "M3", "M4", "M5", "M6", "M7+")


def test_a_custom_scheme_loads(tmp_path: Path) -> None:
    config = load_cycle_config(
        write(
            tmp_path,
            """
buckets: {C: [0, 0], X1: [1, 29], X2: [30, 59], X3+: [60, null]}
amount_tiers: {large_from: "20000.00", medium_from: "2000.00"}
alert_bucket: X3+
legal_review_dpd: 90
""",
        )
    )
    assert config.buckets.names == ("C", "X1", "X2", "X3+")
    assert (config.tiers.large_from_fen, config.tiers.medium_from_fen) == (2_000_000, 200_000)
    assert (config.alert_bucket, config.legal_review_dpd) == ("X3+", 90)


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("bucketz: {}", "bucketz"),
        ("buckets: {A: [1, 5], B: [6, null]}", "buckets"),
        ("buckets: {A: [0, 5], B: [9, null]}", "buckets"),
        ("buckets: [1, 2]", "buckets"),
        ("amount_tiers: {large_from: '10.00'}", "amount_tiers"),
        ("amount_tiers: {large_from: '10.00', medium_from: '20.00'}", "amount_tiers"),
        ("amount_tiers: {large_from: 'lots', medium_from: '1.00'}", "amount_tiers"),
        ("alert_bucket: M9", "alert_bucket"),
        ("legal_review_dpd: 0", "legal_review_dpd"),
        ("legal_review_dpd: soon", "legal_review_dpd"),
        ("- just\n- a list", "mapping"),
    ],
)
def test_a_mistake_names_the_field(tmp_path: Path, text: str, field: str) -> None:
    with pytest.raises(ConfigError, match=field):
        load_cycle_config(write(tmp_path, text))


def test_an_unreadable_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_cycle_config(tmp_path / "missing.yaml")


def test_promise_judging_is_configured_in_the_cycle_yaml(tmp_path: Path) -> None:
    config = load_cycle_config(
        write(tmp_path, 'promises: {grace_days: 5, kept_tolerance: "2.5%"}\n')
    )
    assert (config.promises.grace_days, config.promises.kept_tolerance_bp) == (5, 250)
    assert DEFAULT_CONFIG.promises.grace_days == 3
    taking = load_cycle_config(
        write(tmp_path, 'promises: {horizon_days: 7, minimum: "100.00"}\n')
    ).promises
    assert (taking.max_days, taking.min_amount_fen) == (7, 10_000)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("promises: {grace_days: -1}", "grace_days"),
        ("promises: {grace_days: two}", "grace_days"),
        ('promises: {kept_tolerance: "100%"}', "kept_tolerance"),
        ('promises: {kept_tolerance: "1.234%"}', "kept_tolerance"),
        ('promises: {kept_tolerance: "¥5%"}', "kept_tolerance"),  # a percentage, not yuan
        ('promises: {kept_tolerance: "٥%"}', "kept_tolerance"),  # ASCII digits only
        ('promises: {minimum: "1,00"}', "promises.minimum"),  # not 100.00
        ("promises: {horizon: 3}", "grace_days, horizon_days, kept_tolerance, minimum only"),
        ("promises: {horizon_days: -2}", "horizon_days"),
        ('promises: {minimum: "1.001"}', "promises.minimum"),
        ('promises: {minimum: "0"}', "at least 0.01"),
    ],
)
def test_a_wrong_promise_setting_names_the_field(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_cycle_config(write(tmp_path, text + "\n"))
