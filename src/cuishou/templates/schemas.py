"""Template payloads."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from cuishou.compliance.schemas import FindingOut
from cuishou.kit.text import Text


class TemplateIn(BaseModel):
    code: str = Field(pattern=r"^[A-Za-z0-9_.\-]{2,64}$", description="e.g. sms.reminder.m1")
    channel: Literal["sms", "letter", "email", "wechat"]
    audience: Literal["debtor", "third_party"] = "debtor"
    body: Text = Field(min_length=1, max_length=20_000)
    pack: Literal["cn", "us-regf"] = "cn"


class TemplateOut(BaseModel):
    id: int
    code: str
    version: int
    channel: str
    audience: str
    body: str
    status: str = Field(description="draft | active | retired")
    findings: list[FindingOut]
    created_by: str
    created_at: datetime
    activated_by: str | None
    activated_at: datetime | None
