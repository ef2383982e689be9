"""Agency settings as data: recall thresholds and commission schedules (``agency.yaml``),
and the selection rule files of ``cuishou placements create --rule FILE``.

Every mistake names the file and the field; rates are decimal strings (``"0.18"``), amounts
yuan strings. ``CUISHOU_AGENCY_CONFIG=PATH`` replaces the shipped settings.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from cuishou.accounts.rules import DEFAULT_BUCKETS
from cuishou.agency.rules import RateRow, RecallThresholds, SelectionRule
from cuishou.kit.errors import ConfigError, InvalidInput
from cuishou.kit.money import AmountRefused, parse_yuan
from cuishou.kit.yamldoc import load_document

SHIPPED = Path(__file__).with_name("agency.yaml")
CONFIG_ENV = "CUISHOU_AGENCY_CONFIG"
TIERS = ("large", "medium", "small")
GRADES = ("A", "B", "C", "D")


def _rate(text: str) -> Decimal:
    try:
        value = Decimal(str(text))
    except InvalidOperation as exc:
        raise ValueError(f'{text!r} is not a rate (write it as "0.18")') from exc
    if not value.is_finite() or not Decimal(0) <= value <= Decimal(1):
        raise ValueError(f"{text!r}: a rate is between 0 and 1")
    return value


def _buckets(values: list[str]) -> list[str]:
    unknown = [v for v in values if v not in DEFAULT_BUCKETS.names]
    if unknown:
        raise ValueError(
            f"unknown bucket {unknown[0]!r} (one of {', '.join(DEFAULT_BUCKETS.names)})"
        )
    return values


def _tiers(values: list[str]) -> list[str]:
    unknown = [v for v in values if v not in TIERS]
    if unknown:
        raise ValueError(f"unknown amount tier {unknown[0]!r} (one of {', '.join(TIERS)})")
    return values


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rate: str
    buckets: list[str] = Field(default_factory=list)
    tiers: list[str] = Field(default_factory=list)
    min_age: int = Field(default=0, ge=0)
    max_age: int | None = Field(default=None, ge=0)

    @field_validator("rate")
    @classmethod
    def _check_rate(cls, value: str) -> str:
        return str(_rate(value))

    @field_validator("buckets")
    @classmethod
    def _check_buckets(cls, values: list[str]) -> list[str]:
        return _buckets(values)

    @field_validator("tiers")
    @classmethod
    def _check_tiers(cls, values: list[str]) -> list[str]:
        return _tiers(values)

    def row(self) -> RateRow:
        return RateRow(
            rate=Decimal(self.rate),
            buckets=tuple(self.buckets),
            tiers=tuple(self.tiers),
            min_age=self.min_age,
            max_age=self.max_age,
        )


class _Commission(BaseModel):
    model_config = ConfigDict(extra="forbid")
    default: list[_Row] = Field(default_factory=list)
    agencies: dict[str, list[_Row]] = Field(default_factory=dict)


class _Performance(BaseModel):
    model_config = ConfigDict(extra="forbid")
    after_days: int = Field(default=30, ge=0)
    min_recovery_rate: str | None = "0.02"

    @field_validator("min_recovery_rate")
    @classmethod
    def _check_rate(cls, value: str | None) -> str | None:
        return None if value is None else str(_rate(value))


class _Recall(BaseModel):
    model_config = ConfigDict(extra="forbid")
    on_violation: bool = True
    on_complaint: bool = True
    performance: _Performance = Field(default_factory=_Performance)


class _Document(BaseModel):
    model_config = ConfigDict(extra="forbid")
    recall: _Recall = Field(default_factory=_Recall)
    commission: _Commission = Field(default_factory=_Commission)


@dataclass(frozen=True, slots=True)
class AgencySettings:
    recall: RecallThresholds
    default_schedule: tuple[RateRow, ...]
    schedules: dict[str, tuple[RateRow, ...]]

    def schedule_of(self, agency: str) -> tuple[RateRow, ...]:
        """The agency's commission schedule (the default when it has none of its own)."""
        return self.schedules.get(agency, self.default_schedule)


def load_settings(path: Path | None = None) -> AgencySettings:
    """The agency settings in ``path`` (the shipped ``agency.yaml`` when ``None``)."""
    doc = load_document(_Document, path or SHIPPED, what="agency settings", error=ConfigError)
    performance = doc.recall.performance
    return AgencySettings(
        recall=RecallThresholds(
            on_violation=doc.recall.on_violation,
            on_complaint=doc.recall.on_complaint,
            performance_after_days=performance.after_days,
            min_recovery_rate=None
            if performance.min_recovery_rate is None
            else Decimal(performance.min_recovery_rate),
        ),
        default_schedule=tuple(row.row() for row in doc.commission.default),
        schedules={
            code: tuple(row.row() for row in rows) for code, rows in doc.commission.agencies.items()
        },
    )


@functools.cache
def _cached(path: Path | None) -> AgencySettings:
    return load_settings(path)


def default_settings() -> AgencySettings:
    """The deployment's agency settings: ``CUISHOU_AGENCY_CONFIG`` or the shipped file."""
    named = os.environ.get(CONFIG_ENV)
    return _cached(Path(named) if named else None)


# --- selection rule files ---------------------------------------------------------------


class _Range(BaseModel):
    model_config = ConfigDict(extra="forbid")
    min: int | None = Field(default=None, ge=0)
    max: int | None = Field(default=None, ge=0)


class _AmountRange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    min: str | None = None
    max: str | None = None


class RuleDocument(BaseModel):
    """A placement selection rule (选案规则), as a YAML file or an API body holds it."""

    model_config = ConfigDict(extra="forbid")
    buckets: list[str] = Field(default_factory=list)
    dpd: _Range = Field(default_factory=_Range)
    tiers: list[str] = Field(default_factory=list)
    amount: _AmountRange = Field(default_factory=_AmountRange)
    products: list[str] = Field(default_factory=list)
    creditor: str | None = None
    grades: list[str] = Field(default_factory=list)
    limit: int | None = Field(default=None, ge=1)

    @field_validator("buckets")
    @classmethod
    def _check_buckets(cls, values: list[str]) -> list[str]:
        return _buckets(values)

    @field_validator("tiers")
    @classmethod
    def _check_tiers(cls, values: list[str]) -> list[str]:
        return _tiers(values)

    @field_validator("grades")
    @classmethod
    def _check_grades(cls, values: list[str]) -> list[str]:
        unknown = [v for v in values if v not in GRADES]
        if unknown:
            raise ValueError(f"unknown risk grade {unknown[0]!r} (one of {', '.join(GRADES)})")
        return values


def _fen(text: str | None, field: str) -> int | None:
    if text is None:
        return None
    try:
        return parse_yuan(text, field=field)
    except AmountRefused as exc:
        raise InvalidInput(f"{field}: {exc.message}", field=field) from exc


def load_rule(path: Path) -> SelectionRule:
    """A selection rule file (``buckets``, ``dpd: {min, max}``, ``tiers``,
    ``amount: {min, max}`` in yuan, ``products``, ``creditor``, ``grades``, ``limit``)."""
    doc = load_document(RuleDocument, path, what="placement rule", error=InvalidInput)
    return rule_of(doc, where=f"placement rule {path}")


def rule_of(doc: RuleDocument, *, where: str = "placement rule") -> SelectionRule:
    """The selection rule a validated document states."""
    if doc.dpd.min is not None and doc.dpd.max is not None and doc.dpd.min > doc.dpd.max:
        raise InvalidInput(f"{where}: dpd.min is above dpd.max", field="rule")
    return SelectionRule(
        buckets=tuple(doc.buckets),
        min_dpd=doc.dpd.min,
        max_dpd=doc.dpd.max,
        tiers=tuple(doc.tiers),
        min_due_fen=_fen(doc.amount.min, "amount.min"),
        max_due_fen=_fen(doc.amount.max, "amount.max"),
        products=tuple(doc.products),
        creditor=doc.creditor,
        grades=tuple(doc.grades),
        limit=doc.limit,
    )
