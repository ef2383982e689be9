"""Model settings as plain data (``settings.yaml``): the training window, grade cut-offs and
the age at which a champion should be retrained. Every mistake names the file and field."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from cuishou.kit.errors import ConfigError
from cuishou.kit.yamldoc import load_document

SHIPPED = Path(__file__).with_name("settings.yaml")
GRADES = ("A", "B", "C", "D")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Training(_Strict):
    snapshot_every_days: int = Field(7, ge=1, le=90)
    window_days: int = Field(150, ge=1, le=3650)
    validation_days: int = Field(28, ge=1, le=365)
    max_rows: int = Field(400_000, ge=1_000)
    seed: int = 0


class Grades(_Strict):
    by: Literal["share", "training_share", "points"] = "share"
    shares: dict[str, float] = {"A": 0.2, "B": 0.3, "C": 0.3, "D": 0.2}
    points: dict[str, float] = {"A": 620, "B": 580, "C": 540}

    @model_validator(mode="after")
    def _complete(self) -> Grades:
        if sorted(self.shares) != list(GRADES):
            raise ValueError(f"shares: give A, B, C and D, got {', '.join(sorted(self.shares))}")
        if any(v <= 0 for v in self.shares.values()) or abs(sum(self.shares.values()) - 1) > 1e-9:
            raise ValueError("shares: each must be positive and together 1")
        if sorted(self.points) != list(GRADES[:3]):
            raise ValueError("points: give the lowest score of A, B and C")
        if not self.points["A"] >= self.points["B"] >= self.points["C"]:
            raise ValueError("points: A ≥ B ≥ C")
        return self

    @property
    def share_list(self) -> tuple[float, float, float, float]:
        a, b, c, d = (self.shares[g] for g in GRADES)
        return (a, b, c, d)


class Settings(_Strict):
    training: Training = Training()
    grades: Grades = Grades()
    max_age_days: int = Field(180, ge=1)


def load_settings(path: Path | None = None) -> Settings:
    return load_document(Settings, path or SHIPPED, what="scoring settings", error=ConfigError)


@functools.cache
def shipped_settings() -> Settings:
    return load_settings()
