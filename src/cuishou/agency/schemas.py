"""Agency payloads: amounts are yuan strings with two decimals, rates decimal strings
(``"0.18"``) for commission and numbers from 0 to 1 (four places) for recovery."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field


class PlacedCaseOut(BaseModel):
    case_id: int
    bucket: str = Field(description="bucket when placed")
    amount_tier: str = Field(description="amount tier when placed")
    due: str = Field(description="amount due when placed, yuan")
    placed_on: date
    recalled_on: date | None = Field(description="first day no longer with the agency")
    recall_reason: str | None = Field(
        description="period_end | compliance_violation | complaint | performance | manual"
    )
    recall_note: str | None = None


class PlacementOut(BaseModel):
    """A placement batch (委外批次)."""

    id: int
    agency: str
    placed_on: date
    ends_on: date = Field(description="last day of the placement period (委案期)")
    status: str = Field(description="active | ended")
    selection: str = Field(description="how the cases were chosen")
    cases: int
    still_placed: int
    amount_placed: str = Field(description="amount due when placed, yuan")
    created_by: str
    ended_on: date | None = None
    placed_cases: list[PlacedCaseOut] | None = Field(
        default=None, description="the cases (show only)"
    )


class RecallOut(BaseModel):
    """What a recall run (退案) did."""

    as_of: date
    recalled: int
    by_reason: dict[str, int]
    placements_ended: list[int]


class StatementLineOut(BaseModel):
    case_id: int
    kind: str = Field(description="payment | reversal | clawback (追回)")
    reference: str
    effective_on: date
    cash: str = Field(description="signed, yuan")
    rate: str
    commission: str = Field(description="signed, yuan")


class StatementOut(BaseModel):
    """An agency's commission statement for a month (佣金结算单)."""

    model_config = ConfigDict(populate_by_name=True)

    agency: str
    month: str
    status: str = Field(description="draft (not closed: may still change) | closed")
    collected: str = Field(description="payments net of reversals and clawbacks, yuan")
    commission: str = Field(description="commission net of clawbacks, yuan")
    clawback: str = Field(description="commission clawed back from earlier statements, yuan")
    lines: list[StatementLineOut]
    closed_by: str | None = None
    closed_at: datetime | None = None


class StatementSummary(BaseModel):
    agency: str
    month: str
    collected: str
    commission: str
    clawback: str
    lines: int
    closed_by: str
    closed_at: datetime


class LeagueRow(BaseModel):
    """One agency's figures in a period (委外机构排名), from the KPI layer."""

    agency: str
    cases: int = Field(description="cases it held in the period")
    due_at_start: str = Field(description="amount due when the period or placement began, yuan")
    recovered: str = Field(description="payments less reversals while it held them, yuan")
    recovery_rate: float | None
    payments: int
    violations: int = Field(description="compliance violations while it held them")
    complaints: int = Field(description="complaint outcomes while it held them")
    rank: int | None = Field(description="by recovery rate, 1 = best")


class LeagueOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: date = Field(alias="from")
    to: date
    rows: list[LeagueRow]
