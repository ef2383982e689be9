"""What the experiment endpoints and pages return (策略实验). Amounts are yuan strings with two
decimals, rates numbers from 0 to 1 with four decimals (``null`` on a zero denominator), as
``GET /api/v1/kpis`` reports them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field


class ArmOut(BaseModel):
    name: str = Field(description="champion or challenger")
    strategy_version: str = Field(description="the version planning the arm, code@version")
    cases: int = Field(description="cases in the arm")
    recovered: str = Field(description="payments less reversals since each case joined, yuan")
    recovery_rate: float | None = Field(description="recovered ÷ amount due at joining")
    connect_rate: float | None = Field(description="calls that reached someone ÷ calls")
    promise_rate: float | None = Field(description="promises taken ÷ right-party contacts")
    cost: str = Field(description="the arm's contacts at their channel's unit cost, yuan")
    complaints: int = Field(description="cases with a complaint since joining")


class DiffOut(BaseModel):
    metric: str = Field(description="the compared metric: recovery_rate")
    estimate: float | None = Field(description="challenger − champion")
    ci_low: float | None = Field(description="lower end of the 95% interval")
    ci_high: float | None = Field(description="upper end of the 95% interval")
    p_value: float | None = Field(description="two-sided, delta method")


class PowerOut(BaseModel):
    uplift_detectable_now: float | None = Field(
        description="the smallest relative uplift detectable now at 80% power, 5% level"
    )
    cases_needed_for_2pct: int | None = Field(
        description="cases each arm needs to detect +2% relative recovery at 80% power"
    )


class ExperimentResults(BaseModel):
    """``GET /api/v1/experiments/{id}``."""

    id: int
    name: str
    status: str
    started: date
    arms: list[ArmOut]
    diff: DiffOut
    power: PowerOut


class ExperimentOut(BaseModel):
    """An experiment's settings and where it stands."""

    id: int
    name: str
    status: str
    champion_id: int
    champion: str
    challenger_id: int
    challenger: str
    share_pct: float
    segments: list[str]
    guardrails: dict[str, Any]
    started_on: date
    started_by: str
    started_at: datetime
    stopped_on: date | None
    stopped_by: str | None
    stop_reason: str | None
    cases: dict[str, int] = Field(description="cases per arm")
    promotion_requested_by: str | None = Field(
        description="who asked for the challenger to be promoted (awaiting a second person)"
    )
