"""Strategy payloads (策略管理): versions, their history, validation and diffs; a case's
segment and plan."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

#: the longest strategy text accepted (a table of a few hundred rows fits many times over)
MAX_BODY = 200_000

Status = Literal["draft", "approved", "active", "retired", "rejected"]
#: where a version stands today: its status, with ``active`` told apart by date
State = Literal["draft", "approved", "rejected", "retired", "in_force", "scheduled", "superseded"]


class StrategyIn(BaseModel):
    body: str = Field(min_length=1, max_length=MAX_BODY, description="the strategy YAML")
    note: str = Field(default="", max_length=2000, description="what changed and why")


class ReviewIn(BaseModel):
    note: str = Field(default="", max_length=2000, description="the reviewer's remark")


class ActivateIn(BaseModel):
    effective_from: date | None = Field(
        default=None, description="the first day it is in force (today or later; default today)"
    )


class ValidateIn(BaseModel):
    body: str = Field(min_length=1, max_length=MAX_BODY, description="the strategy YAML")
    as_of: date | None = Field(default=None, description="the day the store's cases are taken")


class VersionOut(BaseModel):
    id: int
    code: str
    version: int
    zh: str
    en: str
    status: Status
    state: State = Field(description="status, with active told apart: in force, scheduled "
                         "(a later effective date) or superseded")  # fmt: skip
    sha256: str
    note: str
    author: str
    created_at: datetime
    approved_by: str | None
    approved_at: datetime | None
    effective_from: date | None
    activated_by: str | None
    activated_at: datetime | None
    retired_at: datetime | None


class EventOut(BaseModel):
    at: datetime
    actor: str
    type: str
    payload: dict[str, Any]


class VersionDetail(VersionOut):
    body: str = Field(description="the YAML text as submitted")
    document: dict[str, Any] = Field(description="the parsed strategy (rules, segments)")
    history: list[EventOut]


class ProblemOut(BaseModel):
    kind: Literal[
        "document", "overlap", "shadowed", "unknown_value", "gap",
        "unknown_template", "template_channel", "never_allowed",
    ]  # fmt: skip
    rows: list[int] = Field(description="the decision table's rows it is about (1-based)")
    segment: str | None
    zh: str
    en: str
    data: dict[str, Any]


class RowCountOut(BaseModel):
    row: int
    segment: str
    matched: int = Field(description="open cases the row's conditions hold for")
    decided: int = Field(description="open cases the row gives their segment")


class ReportOut(BaseModel):
    clean: bool
    problems: list[ProblemOut]
    rows: list[RowCountOut]
    open_cases: int | None = Field(description="open cases checked (null: no store read)")


class SideOut(BaseModel):
    source: str
    code: str
    sha256: str


class DiffOut(BaseModel):
    a: SideOut
    b: SideOut
    same: bool
    header: list[dict[str, Any]] = Field(description="top-level fields changed")
    rows: list[dict[str, Any]] = Field(description="rows added, removed or changed")
    segments: list[dict[str, Any]] = Field(description="segments and path steps changed")
    lines: list[str] = Field(description="the changes in plain language (English)")
    lines_zh: list[str] = Field(description="the changes in plain language (Chinese)")


class RollbackOut(BaseModel):
    retired: VersionOut
    restored: VersionOut


# ------------------------------------------------------ the plan of one case (planning)
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
