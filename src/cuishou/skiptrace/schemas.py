"""Skip-tracing payloads (失联修复)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field


class QueueItem(BaseModel):
    case_id: int
    debtor_name: str = Field(description="masked")
    creditor: str
    bucket: str
    dpd: int
    due_fen: int
    since: date = Field(description="labelled unreachable (失联) since this business date")
    facts: dict[str, Any] = Field(description="the label's facts: why it is unreachable")
    requested_at: datetime | None = Field(description="last sent to a repair vendor")


class ExportResult(BaseModel):
    path: str
    cases: int
