"""The simulator's parameters (仿真参数) as plain, validated data: ``model.yaml``.

One file holds every parameter of the debtor model, the collectors and the baseline
workforce (``docs/simulator.md`` explains each). The shipped file is package data;
``cuishou simulate --model FILE`` reads another. Pure: no store, no clock.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from cuishou.kit.errors import ConfigError
from cuishou.kit.money import parse_yuan
from cuishou.kit.yamldoc import load_document, parse_document

Probability = float


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LogitNormal(_Strict):
    """``sigmoid(logit(mean) + sd · z)``: a probability-like trait around ``mean``."""

    mean: float = Field(gt=0, lt=1)
    sd: float = Field(ge=0, le=5)


class Ability(LogitNormal):
    bucket_slope: float = Field(ge=-2, le=2)


class Willingness(LogitNormal):
    rho: float = Field(ge=-1, le=1)


class DeadMobile(_Strict):
    share: Probability = Field(ge=0, le=1)
    per_bucket: Probability = Field(ge=0, le=0.2)
    invalid_share: Probability = Field(ge=0, le=1)


class BestHour(_Strict):
    low: float = Field(ge=0, le=24)
    high: float = Field(ge=0, le=24)
    width: float = Field(gt=0, le=24)
    floor: Probability = Field(ge=0, le=1)


class Keeping(LogitNormal):
    willingness_weight: float = Field(ge=0, le=10)


class LogNormalRate(_Strict):
    """A daily rate: ``mean · exp(sd · z - sd²/2)`` (its mean is ``mean``)."""

    mean: float = Field(ge=0, le=1)
    sd: float = Field(ge=0, le=3)


class Traits(_Strict):
    ability: Ability
    willingness: Willingness
    dead_mobile: DeadMobile
    answer: LogitNormal
    best_hour: BestHour
    third_party_answer: LogitNormal
    promise_keeping: Keeping
    partial_keeping: Probability = Field(ge=0, le=1)
    self_cure: LogNormalRate
    complaint: LogNormalRate
    response: LogNormalRate


class Dynamics(_Strict):
    decay: float = Field(ge=0, lt=1)
    payment_jump: float = Field(ge=0, le=1)
    cap: float = Field(gt=0, le=5)


class Span(_Strict):
    low: float = Field(ge=0)
    high: float = Field(ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> Span:
        if self.high < self.low:
            raise ValueError("high must not be below low")
        return self


class FailedMix(_Strict):
    no_answer: float = Field(ge=0)
    rejected: float = Field(ge=0)
    powered_off: float = Field(ge=0)


class Calls(_Strict):
    max_promise: Probability = Field(ge=0, le=1)
    power: float = Field(ge=0, le=5)
    cap: Probability = Field(ge=0, le=1)
    refusal: Probability = Field(ge=0, le=1)
    failed_mix: FailedMix
    promise_full: Probability = Field(ge=0, le=1)
    promise_share: Span
    promise_days: int = Field(ge=1, le=30)
    connected_seconds: Span
    failed_seconds: Span


class Payments(_Strict):
    full: Probability = Field(ge=0, le=1)
    share: Span
    hours: Span


class Skill(_Strict):
    mean: float = Field(gt=0)
    sd: float = Field(ge=0)
    low: float = Field(gt=0)
    high: float = Field(gt=0)


class Specialty(_Strict):
    """专长: each collector's multiplier per bucket, ``exp(sd · z − sd²/2)`` (mean 1) clipped
    to ``[low, high]``, on top of their skill — the collector × segment interaction. ``sd``
    0 is no interaction (skill alone, the same in every bucket)."""

    sd: float = Field(0.0, ge=0, le=2)
    low: float = Field(0.5, gt=0)
    high: float = Field(2.0, gt=0)


class Collectors(_Strict):
    skill: Skill
    specialty: Specialty = Specialty()


class Workforce(_Strict):
    calls_per_day: int = Field(ge=1, le=1000)
    start: str = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    end: str = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    rest_days: int = Field(ge=0, le=60)
    third_party_after_failed: int = Field(ge=1, le=100)
    queue_depth: int = Field(ge=1, le=50)
    collectors_per_team: int = Field(ge=1, le=1000)

    @model_validator(mode="after")
    def _hours(self) -> Workforce:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self

    @property
    def start_minute(self) -> int:
        hours, minutes = self.start.split(":")
        return int(hours) * 60 + int(minutes)

    @property
    def end_minute(self) -> int:
        hours, minutes = self.end.split(":")
        return int(hours) * 60 + int(minutes)


class Truth(_Strict):
    replications: int = Field(ge=1, le=1000)


class Channel(_Strict):
    """How the debtor takes one contact on a channel and what it costs.

    ``reach``: the chance the contact reaches the debtor (reads the SMS, opens the letter,
    is at home for the visit; an IVR call is answered as a call is, by the hour-shaped
    answer chance, and ``reach`` is not read); ``jump``: the jump it adds to the intensity
    of paying when it reaches them, as a multiple of a right-party call's (``response ×
    willingness``, skill 1); ``complaint``: the debtor's complaint propensity per reached
    contact, as a multiple of a call's; ``cost``: yuan per contact (two decimals).
    """

    reach: Probability = Field(default=1.0, ge=0, le=1)
    jump: float = Field(default=0.0, ge=0, le=20)
    complaint: float = Field(default=0.0, ge=0, le=20)
    cost: str = Field(pattern=r"^\d{1,6}(\.\d{1,2})?$")

    @property
    def cost_fen(self) -> int:
        return parse_yuan(self.cost, field="cost")


class Channels(_Strict):
    """Every contact channel a strategy can plan (``model.yaml`` ``channels``)."""

    call: Channel
    ivr: Channel
    sms: Channel
    email: Channel
    wechat: Channel
    letter: Channel
    visit: Channel

    def of(self, action: str) -> Channel:
        channel: Channel = getattr(self, action)
        return channel


class ModelConfig(_Strict):
    """Every parameter of the simulation (``model.yaml``)."""

    version: int = Field(ge=1)
    traits: Traits
    dynamics: Dynamics
    calls: Calls
    payments: Payments
    collectors: Collectors
    workforce: Workforce
    truth: Truth
    channels: Channels


def load_model_config(path: Path | None = None) -> ModelConfig:
    """The shipped parameters, or those of ``path``; a mistake names the field."""
    if path is not None:
        return load_document(ModelConfig, path, what="simulator model", error=ConfigError)
    text = (resources.files("cuishou.simulate") / "model.yaml").read_text("utf-8")
    return parse_document(
        ModelConfig,
        yaml.safe_load(text),
        what="simulator model",
        source="model.yaml",
        error=ConfigError,
    )
