"""Compliance payloads (合规闸门)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from cuishou.contact.schemas import Channel
from cuishou.kit.text import Text

HoldKind = Literal["dispute", "complaint", "cease", "opt_out"]


class CheckIn(BaseModel):
    case_id: int = Field(ge=1, le=2**63 - 1)
    contact_point_id: int = Field(ge=1, le=2**63 - 1)
    channel: Channel
    at: datetime | None = Field(
        default=None, description="when the contact would happen (default: now)"
    )
    collectors: int = Field(default=1, ge=1, le=20, description="collectors going on a field visit")


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
