"""Agency payloads: amounts are yuan strings with two decimals, rates decimal strings
(``"0.18"``) for commission and numbers from 0 to 1 (four places) for recovery."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from cuishou.agency.config import RuleDocument


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


class PlacementIn(BaseModel):
    """A placement to create (委外批次): the cases chosen by ``rule`` or, with
    ``from_strategy``, those the strategy in force planned an agency action for on
    ``as_of`` — exactly one of the two."""

    model_config = ConfigDict(extra="forbid")
    agency: str = Field(min_length=1, max_length=64, description="the agency's code")
    as_of: date = Field(description="the placement date")
    days: int = Field(90, ge=1, le=366, description="the placement period (委案期), days")
    rule: RuleDocument | None = Field(
        None, description="a selection rule, as in a rule file (docs/agency.md)"
    )
    from_strategy: bool = False


class RecallIn(BaseModel):
    """A manual recall (手工退案) of a placement's cases still placed, or of ``case_ids``."""

    model_config = ConfigDict(extra="forbid")
    as_of: date = Field(description="the first day the cases are back in house")
    reason: str = Field(min_length=1, max_length=500)
    case_ids: list[Annotated[int, Field(ge=1, le=2**63 - 1)]] | None = Field(
        None, max_length=100_000
    )
