"""Contact payloads (催记)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from cuishou.kit.text import Text
from cuishou.promises.schemas import PromiseIn, PromiseOut

Channel = Literal["call", "sms", "email", "letter", "visit", "wechat"]
OutcomeCode = Literal[
    "connected_debtor",
    "connected_third_party",
    "no_answer",
    "powered_off",
    "invalid_number",
    "rejected",
    "promise",
    "refused",
    "negotiating",
    "complaint",
    "lost_contact",
]


class ContactIn(BaseModel):
    contact_point_id: int = Field(ge=1, le=2**63 - 1)
    channel: Channel
    outcome: OutcomeCode
    at: datetime | None = Field(default=None, description="when it happened (default: now)")
    notes: Text = Field(default="", max_length=2000)
    promise: PromiseIn | None = Field(default=None, description="required when outcome=promise")
    callback_at: datetime | None = None
    collectors: int = Field(default=1, ge=1, le=20, description="collectors on a field visit")


class ComplianceOut(BaseModel):
    """The gate's judgement of the logged contact against the history before it."""

    allowed: bool
    rules: list[str]


class ContactOut(BaseModel):
    id: int
    case_id: int
    contact_point_id: int
    channel: str
    outcome: str
    outcome_zh: str
    party: str
    notes: str
    at: datetime
    callback_at: datetime | None
    user: str


class ContactLogged(BaseModel):
    contact: ContactOut
    promise: PromiseOut | None
    alerts_raised: list[str]
    compliance: ComplianceOut
    note_findings: list[str] = Field(
        default_factory=list,
        description="categories of banned content found in the notes (a QA item is raised)",
    )
