"""Feature settings as plain data: the daily cycle's bucket scheme and the hardship keywords.

Read from a YAML document (the shipped ``scoring.yaml``); every mistake names the file and the
field. Pure: no store, no clock.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from cuishou.accounts.rules import BucketScheme
from cuishou.engine.config import DEFAULT_CONFIG, CycleConfig
from cuishou.kit.errors import ConfigError
from cuishou.kit.yamldoc import load_document

SHIPPED = Path(__file__).with_name("scoring.yaml")


@dataclass(frozen=True, slots=True)
class FeatureConfig:
    """What the feature step needs besides the frames and the date."""

    #: the daily cycle's settings (``cuishou daily --config``): its bucket scheme ages cases
    cycle: CycleConfig = DEFAULT_CONFIG
    #: a note containing one of these (case-insensitive) is a hardship mention (暂时困难)
    hardship_keywords: tuple[str, ...] = ("失业", "生病", "住院", "困难", "降薪", "裁员")

    @property
    def buckets(self) -> BucketScheme:
        return self.cycle.buckets


class _Document(BaseModel):
    model_config = ConfigDict(extra="forbid")
    hardship_keywords: list[str] = Field(min_length=1)

    @field_validator("hardship_keywords")
    @classmethod
    def _words(cls, value: list[str]) -> list[str]:
        words = [w.strip() for w in value]
        if any(not w for w in words):
            raise ValueError("a hardship keyword cannot be empty")
        return words


def load_feature_config(
    path: Path | None = None, *, cycle: CycleConfig = DEFAULT_CONFIG
) -> FeatureConfig:
    """The feature settings of ``path`` (default: the shipped ``scoring.yaml``) with the daily
    cycle's settings ``cycle``."""
    document = load_document(_Document, path or SHIPPED, what="scoring config", error=ConfigError)
    return FeatureConfig(cycle=cycle, hardship_keywords=tuple(document.hardship_keywords))


@functools.cache
def shipped_config() -> FeatureConfig:
    """The shipped settings (read once)."""
    return load_feature_config()
