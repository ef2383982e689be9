"""QA payloads (质检)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from cuishou.compliance.schemas import FindingOut
from cuishou.kit.text import Text


class QaItemOut(BaseModel):
    id: int
    case_id: int | None
    contact_id: int | None
    source: str = Field(description="note | transcript")
    subject: str = Field(description="who wrote or said it")
    text: str
    findings: list[FindingOut]
    status: str = Field(description="open | confirmed | dismissed")
    created_at: datetime
    reviewed_by: str | None
    reviewed_at: datetime | None
    review_note: str


class QaPage(BaseModel):
    total: int
    items: list[QaItemOut]


class ReviewIn(BaseModel):
    verdict: Literal["confirmed", "dismissed"]
    note: Text = Field(min_length=2, max_length=2000)


class TranscriptIn(BaseModel):
    text: Text = Field(min_length=1, max_length=200_000)


class TranscriptOut(BaseModel):
    contact_id: int
    findings: list[FindingOut]
    qa_item_id: int | None
