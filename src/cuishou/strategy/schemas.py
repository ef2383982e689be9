"""API shapes of the strategy domain."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field


class SegmentOut(BaseModel):
    """The segment (客群) a case is in under the strategy version that plans for it."""

    code: str
    name: str = Field(description="the segment's name (zh)")
    name_en: str
    strategy_version: str = Field(description="code@version of the strategy")
    since: date = Field(description="the business day the case entered the segment (day 0)")
    day: int = Field(description="the case's day in the segment on the plan's date")


class PlannedActionOut(BaseModel):
    """One action the case's treatment path plans for the day, with the gate's decision."""

    action: str = Field(description="sms | call | ivr | letter | email | wechat | visit | "
                        "agency | legal | hold")  # fmt: skip
    channel: str | None
    template: str | None
    priority: int | None = Field(description="call priority, 1 first")
    status: str = Field(
        description="planned | moved (allowed later in the day) | dropped (the gate refuses: "
        "rule_ids) | capped | no_point | hold"
    )
    allowed: bool = Field(description="the gate allows it today (planned or moved)")
    window_start: datetime | None = Field(description="first instant the gate allows it")
    window_end: datetime | None = Field(description="end of the allowed window (exclusive)")
    rule_ids: list[str] = Field(description="the rules that refused it at the window's opening")


class CasePlanOut(BaseModel):
    day: date
    actions: list[PlannedActionOut]
