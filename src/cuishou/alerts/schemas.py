"""Alert payloads."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from cuishou.kit.text import Text


class AlertOut(BaseModel):
    id: int
    #: null for an alert about a model (``subject`` names it)
    case_id: int | None
    subject: str | None = None
    kind: str
    kind_zh: str
    kind_en: str
    raised_on: date
    status: str
    details: dict[str, Any]
    created_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None


class AlertPage(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[AlertOut]


class AlertAction(BaseModel):
    note: Text = Field(default="", max_length=2000)
