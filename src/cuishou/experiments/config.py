"""Experiment settings as plain data (``experiments.yaml``): the default share, the guard-rail
defaults an experiment copies when it starts, the statistics' confidence, power and the
uplift the sample size is planned for. Every mistake names the file and the field."""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cuishou.kit.errors import ConfigError, InvalidInput
from cuishou.kit.yamldoc import load_document

SHIPPED = Path(__file__).with_name("experiments.yaml")
#: ``CUISHOU_EXPERIMENT_CONFIG=PATH``: the settings used instead of the shipped file
CONFIG_ENV = "CUISHOU_EXPERIMENT_CONFIG"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Guardrails(_Strict):
    """护栏: how far the challenger may exceed the champion, per 1,000 cases of each arm."""

    complaints_per_1000: float = Field(5.0, ge=0)
    violations_per_1000: float = Field(5.0, ge=0)
    min_cases: int = Field(200, ge=1)


class Statistics(_Strict):
    confidence: float = Field(0.95, gt=0.5, lt=1)
    power: float = Field(0.8, gt=0.5, lt=1)
    uplift: float = Field(0.02, gt=0, lt=1)


class ExperimentSettings(_Strict):
    share_pct: float = Field(20, gt=0, lt=100)
    guardrails: Guardrails = Guardrails()
    statistics: Statistics = Statistics()


def load_settings(path: Path | None = None) -> ExperimentSettings:
    return load_document(
        ExperimentSettings, path or SHIPPED, what="experiment settings", error=ConfigError
    )


@functools.cache
def _cached(path: Path | None) -> ExperimentSettings:
    return load_settings(path)


def default_settings() -> ExperimentSettings:
    """The deployment's settings: ``CUISHOU_EXPERIMENT_CONFIG`` or the shipped file."""
    named = os.environ.get(CONFIG_ENV)
    return _cached(Path(named) if named else None)


def guardrails_with(defaults: Guardrails, overrides: dict[str, Any]) -> Guardrails:
    """The defaults with an experiment's own limits over them (a bad name or value is a
    clear error naming it)."""
    try:
        return Guardrails.model_validate({**defaults.model_dump(), **overrides})
    except ValidationError as exc:
        problem = exc.errors()[0]
        where = ".".join(str(p) for p in problem["loc"]) or "guardrails"
        raise InvalidInput(f"guardrail {where}: {problem['msg']}", field="guardrail") from exc
