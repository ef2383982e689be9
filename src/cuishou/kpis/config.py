"""KPI settings as plain data: monthly targets per team and collector, unit costs.

Read from a YAML document (the shipped ``kpis.yaml`` holds the shop's figures from the
training deck: 接通率 76%, 首次承诺还款率 42%, 月回款率 15%, 日均电话量 85); every mistake names
the file and the field. Rates are numbers from 0 to 1, amounts yuan strings.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from cuishou.contact.rules import CHANNELS
from cuishou.kit.errors import ConfigError
from cuishou.kit.money import AmountRefused, parse_yuan
from cuishou.kit.yamldoc import load_document
from cuishou.kpis.rules import Targets, UnitCosts

SHIPPED = Path(__file__).with_name("kpis.yaml")
#: the targetable figures and whether each is a rate (0–1)
TARGETS: dict[str, bool] = {
    "recovery_rate": True,
    "recovery_rate_by_count": True,
    "connect_rate": True,
    "right_party_rate": True,
    "promise_rate": True,
    "first_contact_promise_rate": True,
    "kept_rate": True,
    "cure_rate": True,
    "calls_per_collector_day": False,
    "contacts_per_collector_day": False,
}


def _check_targets(values: dict[str, float]) -> dict[str, float]:
    for name, value in values.items():
        if name not in TARGETS:
            raise ValueError(f"{name!r} is not a metric with a target ({', '.join(TARGETS)})")
        if value < 0 or (TARGETS[name] and value > 1):
            bound = "from 0 to 1" if TARGETS[name] else "0 or more"
            raise ValueError(f"{name}: a target must be {bound}, not {value}")
    return values


class _Targets(BaseModel):
    model_config = ConfigDict(extra="forbid")
    defaults: dict[str, float] = Field(default_factory=dict)
    teams: dict[str, dict[str, float]] = Field(default_factory=dict)
    collectors: dict[str, dict[str, float]] = Field(default_factory=dict)

    @field_validator("defaults")
    @classmethod
    def _default(cls, value: dict[str, float]) -> dict[str, float]:
        return _check_targets(value)

    @field_validator("teams", "collectors")
    @classmethod
    def _each(cls, value: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
        for targets in value.values():
            _check_targets(targets)
        return value


class _Costs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    per_contact: dict[str, str] = Field(default_factory=dict)
    collector_hour: str = "0"
    hours_per_day: int = Field(default=8, ge=0, le=24)

    @field_validator("per_contact")
    @classmethod
    def _channels(cls, value: dict[str, str]) -> dict[str, str]:
        for channel, amount in value.items():
            if channel not in CHANNELS:
                raise ValueError(f"{channel!r} is not a channel ({', '.join(CHANNELS)})")
            _non_negative_fen(amount, f"per_contact.{channel}")
        return value

    @field_validator("collector_hour")
    @classmethod
    def _hourly(cls, value: str) -> str:
        _non_negative_fen(value, "collector_hour")
        return value


def _non_negative_fen(text: str, field: str) -> int:
    try:
        fen = parse_yuan(text, field=field)
    except AmountRefused as exc:
        raise ValueError(str(exc)) from exc
    if fen < 0:
        raise ValueError(f"{field}: a cost cannot be negative")
    return fen


class _Document(BaseModel):
    model_config = ConfigDict(extra="forbid")
    targets: _Targets = Field(default_factory=_Targets)
    costs: _Costs = Field(default_factory=_Costs)


@dataclass(frozen=True, slots=True)
class KpiConfig:
    targets: Targets
    costs: UnitCosts


def load_kpi_config(path: Path | None = None) -> KpiConfig:
    """The KPI settings in ``path`` (the shipped ``kpis.yaml`` when ``None``)."""
    doc = load_document(_Document, path or SHIPPED, what="KPI config", error=ConfigError)
    return KpiConfig(
        targets=Targets(
            defaults=doc.targets.defaults,
            teams=doc.targets.teams,
            collectors=doc.targets.collectors,
        ),
        costs=UnitCosts(
            per_channel_fen={c: parse_yuan(v) for c, v in doc.costs.per_contact.items()},
            collector_hour_fen=parse_yuan(doc.costs.collector_hour),
            hours_per_day=doc.costs.hours_per_day,
        ),
    )


#: ``CUISHOU_KPI_CONFIG=PATH``: the KPI settings the API and CLI use instead of the shipped
CONFIG_ENV = "CUISHOU_KPI_CONFIG"


@functools.cache
def _cached(path: Path | None) -> KpiConfig:
    return load_kpi_config(path)


def default_config() -> KpiConfig:
    """The deployment's KPI settings: ``CUISHOU_KPI_CONFIG`` or the shipped file."""
    named = os.environ.get(CONFIG_ENV)
    return _cached(Path(named) if named else None)
