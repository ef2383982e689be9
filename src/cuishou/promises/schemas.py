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


class PromiseRateRow(BaseModel):
    """One collector's (or team's) promises taken in the period and how they were judged."""

    name: str
    team: str | None
    rpc_contacts: int = Field(description="contacts that reached the debtor (本人接通)")
    promises: int
    promise_rate: str | None = Field(description="promises ÷ RPC contacts, 4 decimals")
    judged: int = Field(description="promises judged kept, partly kept or broken")
    kept: int
    partly_kept: int
    broken: int
    open: int
    kept_rate: str | None = Field(description="kept ÷ judged, 4 decimals")


class PromiseStats(BaseModel):
    since: date
    until: date
    collectors: list[PromiseRateRow]
    teams: list[PromiseRateRow]
