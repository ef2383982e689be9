"""Compliance payloads (合规闸门)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from cuishou.contact.schemas import Channel, collectors_field, collectors_for_visits
from cuishou.kit.text import Text

HoldKind = Literal["dispute", "complaint", "cease", "opt_out"]


class CheckIn(BaseModel):
    case_id: int = Field(ge=1, le=2**63 - 1)
    contact_point_id: int = Field(ge=1, le=2**63 - 1)
    channel: Channel
    at: datetime | None = Field(
        default=None, description="when the contact would happen (default: now)"
    )
    collectors: int = collectors_field()
    _collectors_for_visits = collectors_for_visits


class RuleOut(BaseModel):
    id: str
    reason: str
    reason_zh: str
    reason_en: str


class CheckOut(BaseModel):
    allowed: bool
    rules: list[RuleOut]
    next_allowed_at: datetime | None
    pack: str
    at: datetime
    overridden: list[str] = Field(
        default_factory=list, description="rules set aside by a recorded override"
    )


class OverrideIn(BaseModel):
    case_id: int = Field(ge=1, le=2**63 - 1)
    contact_point_id: int = Field(ge=1, le=2**63 - 1)
    channel: Channel
    at: datetime = Field(description="when the contact is to happen")
    minutes: int = Field(default=30, ge=1, le=240, description="how long the exception lasts")
    reason: Text = Field(min_length=5, max_length=2000)
    collectors: int = collectors_field()
    _collectors_for_visits = collectors_for_visits


class OverrideOut(BaseModel):
    id: int
    case_id: int
    contact_point_id: int
    channel: str
    window_start: datetime
    window_end: datetime
    rules: list[str]
    reason: str
    approved_by: str


class HoldIn(BaseModel):
    kind: HoldKind
    channel: Literal["sms", "email", "wechat"] | None = Field(
        default=None, description="the channel opted out of (kind opt_out only)"
    )
    reason: Text = Field(default="", max_length=2000)
    whole_debtor: bool = Field(
        default=True, description="apply to every case of the debtor (default) or this case only"
    )


class HoldOut(BaseModel):
    id: int
    case_id: int | None
    kind: str
    channel: str | None
    reason: str
    opened_at: datetime
    opened_by: str
    lifted_at: datetime | None
    lifted_by: str | None


class CountOut(BaseModel):
    key: str
    count: int


class PersonCountOut(BaseModel):
    collector: str
    agency: str | None
    key: str
    count: int


class DayOut(BaseModel):
    day: date
    checks: int
    blocked: int
    violations: int
    overrides: int
    findings: int


class OverrideRow(BaseModel):
    at: datetime
    approved_by: str
    rules: list[str]
    reason: str


class ReportOut(BaseModel):
    date_from: date
    date_to: date
    days: list[DayOut]
    blocked_by_rule: list[CountOut]
    violations_by_rule: list[CountOut]
    violations_by_collector: list[PersonCountOut]
    findings_by_category: list[CountOut]
    findings_by_collector: list[PersonCountOut]
    overrides: list[OverrideRow]


class ScreenIn(BaseModel):
    text: Text = Field(max_length=200_000)
    audience: Literal["debtor", "third_party"] = "debtor"
    pack: Literal["cn", "us-regf"] = "cn"
    time_barred: bool = Field(default=False, description="the debt is past limitation (us-regf)")


class SpanOut(BaseModel):
    start: int
    end: int
    text: str


class FindingOut(BaseModel):
    category: str
    span: SpanOut
    rule_id: str
    pattern_id: str


class ScreenOut(BaseModel):
    findings: list[FindingOut]
