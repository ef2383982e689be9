"""Overview payloads; amounts are yuan decimal strings."""

from __future__ import annotations

from pydantic import BaseModel, Field


class BucketLine(BaseModel):
    bucket: str
    cases: int
    amount_due: str = Field(description="yuan, two decimals")


class OutcomeLine(BaseModel):
    outcome: str
    contacts: int


class TeamRecovery(BaseModel):
    team: str | None = Field(description="None: cases without a team")
    payments: int
    recovered: str = Field(description="yuan, two decimals")


class Overview(BaseModel):
    """经营总览: open cases by bucket, today's contacts and promises, this month's recovery by
    team (the last three are KPIs, from ``cuishou.kpis``)."""

    by_bucket: list[BucketLine]
    contacts_today: int
    contacts_by_outcome: list[OutcomeLine]
    promises_today: int
    promised_today: str
    recovery_by_team: list[TeamRecovery]
