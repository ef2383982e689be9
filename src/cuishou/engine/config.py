"""Daily-cycle configuration as plain data: bucket scheme, amount tiers, alert rules.

Loaded from a YAML file (``cuishou daily --config FILE``); defaults are China's usual
M0–M7+ monthly buckets. Pure: no store, no clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from cuishou.accounts.rules import (
    DEFAULT_BUCKETS,
    DEFAULT_TIERS,
    AmountTiers,
    Bucket,
    BucketScheme,
)
from cuishou.kit.errors import ConfigError, InvalidInput
from cuishou.kit.money import parse_percent_bp, parse_yuan
from cuishou.promises.rules import DEFAULT_POLICY, PromisePolicy


@dataclass(frozen=True, slots=True)
class CycleConfig:
    buckets: BucketScheme = DEFAULT_BUCKETS
    tiers: AmountTiers = DEFAULT_TIERS
    #: a case entering this bucket or worse raises an ``entered_m4_plus`` alert
    alert_bucket: str = "M4"
    #: a new placement already in ``alert_bucket`` or worse raises ``entered_m4_plus`` too
    alert_on_placement: bool = True
    #: a case beyond this many DPD becomes a legal review candidate (移交法务评估)
    legal_review_dpd: int = 180
    #: how promises to pay are judged (grace days, kept tolerance)
    promises: PromisePolicy = DEFAULT_POLICY
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.alert_bucket not in self.buckets.names:
            raise ConfigError(
                f"alert_bucket {self.alert_bucket!r} is not one of {list(self.buckets.names)}"
            )
        if self.legal_review_dpd < 1:
            raise ConfigError("legal_review_dpd must be a positive number of days")


DEFAULT_CONFIG = CycleConfig()


def load_cycle_config(path: Path | None) -> CycleConfig:
    """Read a cycle config YAML; every mistake names the field that is wrong.

    Example::

        buckets:            # name: [min_dpd, max_dpd]; the last has no max
          C: [0, 0]
          X1: [1, 29]
          X2: [30, 59]
          X3+: [60, null]
        amount_tiers: {large_from: "50000.00", medium_from: "5000.00"}   # yuan
        alert_bucket: X3+
        alert_on_placement: true   # a new placement already in alert_bucket+ raises it too
        legal_review_dpd: 180
        promises:           # taking and judging promises to pay
          {horizon_days: 30, minimum: "100.00", grace_days: 3, kept_tolerance: "5%"}
    """
    if path is None:
        return DEFAULT_CONFIG
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read cycle config {path}: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    # import: is read by cuishou import --config (cuishou.placement.limits)
    known = {
        "buckets", "amount_tiers", "alert_bucket", "alert_on_placement", "legal_review_dpd",
        "promises", "import",
    }  # fmt: skip
    unknown = set(raw) - known
    if unknown:
        raise ConfigError(f"{path}: unknown field(s) {sorted(unknown)}; known: {sorted(known)}")
    scheme = DEFAULT_BUCKETS
    if "buckets" in raw:
        try:
            items = raw["buckets"].items()
            scheme = BucketScheme(
                tuple(
                    Bucket(str(name), int(lo), None if hi is None else int(hi))
                    for name, (lo, hi) in items
                )
            )
        except (AttributeError, TypeError, ValueError) as exc:
            raise ConfigError(f"{path}: buckets: {exc}") from exc
    tiers = DEFAULT_TIERS
    if "amount_tiers" in raw:
        spec = raw["amount_tiers"]
        try:
            tiers = AmountTiers(
                large_from_fen=parse_yuan(str(spec["large_from"]), field="large_from"),
                medium_from_fen=parse_yuan(str(spec["medium_from"]), field="medium_from"),
            )
        except (KeyError, TypeError, ValueError, InvalidInput) as exc:
            raise ConfigError(
                f"{path}: amount_tiers needs large_from and medium_from in yuan ({exc})"
            ) from exc
    default_alert = "M4" if "M4" in scheme.names else scheme.names[min(4, len(scheme.names) - 1)]
    legal = raw.get("legal_review_dpd", 180)
    if isinstance(legal, bool) or not isinstance(legal, int):
        raise ConfigError(f"{path}: legal_review_dpd must be a whole number of days, not {legal!r}")
    on_placement = raw.get("alert_on_placement", True)
    if not isinstance(on_placement, bool):
        raise ConfigError(f"{path}: alert_on_placement must be true or false")
    promises = _promise_policy(path, raw.get("promises"))
    try:
        return CycleConfig(
            buckets=scheme,
            tiers=tiers,
            alert_bucket=str(raw.get("alert_bucket", default_alert)),
            alert_on_placement=on_placement,
            legal_review_dpd=legal,
            promises=promises,
        )
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{path}: {exc}") from exc


def _promise_policy(path: Path, spec: Any) -> PromisePolicy:
    """``promises: {horizon_days: 30, minimum: "100.00", grace_days: 3, kept_tolerance: "5%"}``

    ``horizon_days``: a promise falls due within this many days of the day it is taken;
    ``minimum``: the smallest promise, in yuan; ``grace_days``: days after the due date before
    a short promise is judged; ``kept_tolerance``: a percentage (up to two decimals) a promise
    may fall short by and still count as kept.
    """
    if spec is None:
        return DEFAULT_POLICY
    known = {"horizon_days", "minimum", "grace_days", "kept_tolerance"}
    if not isinstance(spec, dict) or set(spec) - known:
        raise ConfigError(f"{path}: promises takes {', '.join(sorted(known))} only")
    days: dict[str, int] = {}
    for name, default in (
        ("grace_days", DEFAULT_POLICY.grace_days),
        ("horizon_days", DEFAULT_POLICY.max_days),
    ):
        value = spec.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ConfigError(f"{path}: promises.{name} must be a whole number of days, >= 0")
        days[name] = value
    try:
        minimum = parse_yuan(str(spec.get("minimum", "0.01")), field="minimum")
    except InvalidInput as exc:
        raise ConfigError(f"{path}: promises.minimum must be an amount in yuan ({exc})") from exc
    if minimum < 1:
        raise ConfigError(f"{path}: promises.minimum must be at least 0.01")
    tolerance = str(spec.get("kept_tolerance", "0%")).strip()
    try:
        basis_points = parse_percent_bp(tolerance, field="kept_tolerance")
        return PromisePolicy(
            max_days=days["horizon_days"],
            min_amount_fen=minimum,
            grace_days=days["grace_days"],
            kept_tolerance_bp=basis_points,
        )
    except (InvalidInput, ValueError) as exc:
        raise ConfigError(
            f"{path}: promises.kept_tolerance must be a percentage from 0 to 99.99 ({exc})"
        ) from exc
