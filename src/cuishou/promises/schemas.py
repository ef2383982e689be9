"""Promise payloads: amounts are yuan decimal strings at the edge."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from cuishou.kit.text import Text


class PromiseIn(BaseModel):
    amount: Text = Field(
        max_length=20, description="yuan as a decimal string, more than 0, at most 2 decimals"
    )
    due_date: date


class PromiseOut(BaseModel):
    id: int
    case_id: int
    amount: str
    due_date: date
    status: str
    created_by: str
    created_at: datetime
