"""Message payloads (多渠道触达)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from cuishou.compliance.schemas import RuleOut

MessageChannel = Literal["sms", "email", "wechat", "letter"]


class MessageIn(BaseModel):
    case_id: int = Field(ge=1, le=2**63 - 1)
    contact_point_id: int = Field(ge=1, le=2**63 - 1)
    channel: MessageChannel
    template_code: str = Field(pattern=r"^[A-Za-z0-9_.\-]{2,64}$")


class MessageOut(BaseModel):
    id: int
    status: str
    key: str
    case_id: int
    channel: str
    template_code: str
    template_version: int
    body: str
    attempts: int
    rule_ids: list[str]
    next_allowed_at: datetime | None
    error: str
    created_at: datetime
    sent_at: datetime | None
    delivered_at: datetime | None


class BlockedOut(BaseModel):
    """The 403 body when the gate refuses: its rules and when the send may happen."""

    code: str = "contact_blocked"
    message: str
    id: int
    status: str = "blocked"
    rules: list[RuleOut]
    next_allowed_at: datetime | None


class Selection(BaseModel):
    """A manual selection (手工选择) for a send run: who gets which template."""

    case_id: int = Field(ge=1)
    contact_point_id: int = Field(ge=1)
    channel: MessageChannel
    template_code: str


class RunSummary(BaseModel):
    """What a send run did (``cuishou messages send --json``)."""

    job_id: int | None = None
    day: date
    channels: list[str] = Field(default_factory=list)
    queued: int = 0
    sent: int = 0
    failed: int = 0
    dead: int = 0
    blocked: int = 0
    blocked_by_rule: dict[str, int] = Field(default_factory=dict)
    unknown: int = 0
    retried: int = 0
    skipped: dict[str, int] = Field(default_factory=dict)
    not_configured: list[str] = Field(default_factory=list)
    files: list[str] = Field(default_factory=list)

    def counts(self) -> dict[str, Any]:
        return self.model_dump(exclude={"job_id", "day", "channels", "files"})


class ReceiptOut(BaseModel):
    """What a receipts callback or file did."""

    rows: int = 0
    applied: int = 0
    opt_outs: int = 0
    rejected: int = 0
    reasons: list[str] = Field(default_factory=list)
    rejected_file: str | None = None


class JobOut(BaseModel):
    id: int
    day: date
    channel: str | None
    status: str
    total: int
    counts: dict[str, Any]
    started_by: str
    started_at: datetime
    finished_at: datetime | None
