"""Scoring payloads (风险分级与意向预测): a case's grade, scores, reasons and labels; the model
registry and a model's card. Probabilities and metrics are floats; dates ISO."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from cuishou.scoring.drift import PSI_ALERT_THRESHOLD

Grade = Literal["A", "B", "C", "D"]


class ReasonOut(BaseModel):
    """A reason code: the feature that pulled the score down, named in zh and en."""

    code: str
    zh: str
    en: str


class LabelOut(BaseModel):
    """A customer label (客户画像) the case carries, with the facts that gave it."""

    code: str
    zh: str
    en: str
    facts: dict[str, Any] = Field(description="feature code → its value when the label was given")
    since: date = Field(description="the business day the case was given the label")


class TargetScoreOut(BaseModel):
    """A case's latest score for one target by that target's champion."""

    target: str = Field(description="pay_30d | cure_30d | roll_30d | keep_promise")
    version: str
    score: int = Field(description="points: higher is better for the collector")
    probability: float = Field(description="the model's probability of the target's event")
    reasons: list[ReasonOut]
    scored_on: date = Field(
        description="the day the case got this score: cases are re-scored after every daily "
        "cycle, and a score that did not change keeps its day"
    )


class CaseScoringOut(BaseModel):
    """What scoring adds to the case file."""

    risk_grade: Grade | None = Field(
        description="风险等级 A (best) … D from the pay_30d champion; null: not graded"
    )
    score: int | None = Field(description="the pay_30d champion's score; null: not scored")
    reasons: list[ReasonOut] = Field(description="the top reasons of that score (at most 3)")
    scores: list[TargetScoreOut] = Field(description="every target's score of the case")
    labels: list[LabelOut]


class DecileOut(BaseModel):
    decile: int = Field(description="1 = the highest predicted probability")
    count: int
    positives: int
    mean_predicted: float
    observed_rate: float
    lift: float
    capture: float
    cumulative_capture: float


class ModelVersionOut(BaseModel):
    """One version in the registry (模型库)."""

    version: str
    target: str
    kind: str = Field(description="scorecard | gbm")
    status: str = Field(description="candidate | champion | retired")
    auc: float
    ks: float
    gini: float
    brier: float
    train_rows: int
    validation_rows: int
    train_from: date
    train_to: date
    validation_from: date
    validation_to: date
    trained_at: datetime
    trained_by: str
    promoted_at: datetime | None
    promoted_by: str | None
    sha256: str


class ModelFeatureOut(BaseModel):
    code: str
    zh: str
    en: str
    psi: float | None = Field(description="the latest daily PSI against training; null: none yet")


class PsiPoint(BaseModel):
    day: date
    psi: float


class GradeCutoffsOut(BaseModel):
    """The lowest score of A, B and C (below C is D)."""

    A: float
    B: float
    C: float


class ModelCardOut(ModelVersionOut):
    """The model card (模型卡): the version, its validation deciles, its features with their
    latest PSI, the daily PSI of its score and features, its grade cut-offs and the version
    history of its target."""

    snapshots: int | None = Field(description="feature snapshots the training window held")
    deciles: list[DecileOut]
    features: list[ModelFeatureOut]
    psi: dict[str, list[PsiPoint]] = Field(description='subject ("score" or a feature) → days')
    psi_threshold: float = Field(description="a PSI above this raises a model_drift alert")
    grade_cutoffs: GradeCutoffsOut | None = Field(
        description="the A–D cut-offs (the pay_30d target only)"
    )
    history: list[ModelVersionOut]

    @classmethod
    def of(cls, card: dict[str, Any]) -> ModelCardOut:
        """The scoring service's card (``service.model_card``) as a payload."""
        metrics = card.get("metrics") or {}
        return cls.model_validate(
            {**card, "snapshots": metrics.get("snapshots"), "psi_threshold": PSI_ALERT_THRESHOLD}
        )
