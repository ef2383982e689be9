"""Agreement payloads: amounts are yuan decimal strings, shares percent strings."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from cuishou.kit.text import Text

Yuan = Text


class AgreementIn(BaseModel):
    """Terms to quote (试算) or to request approval for."""

    kind: Literal["installments", "deferral", "waiver", "settlement"]
    first_due: date = Field(description="the first (or only) payment's due date")
    installments: int = Field(default=1, ge=1, le=36)
    down_payment: Yuan = Field(default="0", max_length=20, description="yuan (首付)")
    waive_fee: Yuan = Field(default="0", max_length=20)
    waive_penalty: Yuan = Field(default="0", max_length=20)
    waive_interest: Yuan = Field(default="0", max_length=20)
    waive_principal: Yuan = Field(default="0", max_length=20)
    discount: Yuan = Field(
        default="0",
        max_length=10,
        description="settlement discount in percent, e.g. '30' or '12.5'",
    )
    break_after_days: int = Field(default=30, ge=0, le=365)
    reinstate_on_break: bool = True
    amends: int | None = Field(
        default=None,
        ge=1,
        le=2**63 - 1,
        description="the case's running agreement this one replaces (修订): its waiver is "
        "reinstated on approval, so the quote counts it as owed",
    )


class ComponentsOut(BaseModel):
    fee: str
    penalty: str
    interest: str
    principal: str
    total: str


class InstallmentOut(BaseModel):
    seq: int = Field(description="0 is the down payment")
    due_date: date
    amount: str
    paid: str = "0.00"
    status: str = "due"


class CumulativeOut(BaseModel):
    """The waiver the approval matrix judges (累计减免): this request's and the waivers still
    standing on the case from its other agreements approved within the window."""

    window_days: int | None = Field(description="days back a waiver counts; null: case's life")
    since: date | None = Field(description="the window's first day; null: the case's life")
    this_request: str = Field(description="yuan waived by this request")
    earlier: str = Field(description="yuan still waived by the case's earlier agreements")
    waived: str = Field(description="yuan: this request + earlier")
    base: str = Field(description="yuan: owed now (as quoted) + earlier")
    share: str = Field(description="waived ÷ base, percent with 2 decimals")


class QuoteOut(BaseModel):
    kind: str
    kind_zh: str
    owed: ComponentsOut = Field(description="interest only up to the legal cap (demandable)")
    interest_above_cap: str = Field(description="never demanded")
    waived: ComponentsOut
    waiver_share: str = Field(description="this request: waived ÷ owed, percent, 2 decimals")
    agreed: str
    schedule: list[InstallmentOut]
    amends: int | None = Field(default=None, description="the running agreement it replaces")
    reinstated_on_approval: str = Field(
        default="0.00", description="yuan: the amended plan's waiver, put back on approval"
    )
    cumulative: CumulativeOut
    required_level: str = Field(
        description="collector | team_lead | manager | creditor — judged on the cumulative waiver"
    )


class AgreementOut(QuoteOut):
    id: int
    case_id: int
    status: str
    requested_by: str
    requested_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    decision_reason: str
    break_after_days: int
    reinstate_on_break: bool
    closed_on: date | None
    superseded_by: int | None = Field(description="the amendment that replaced this plan")
    has_document: bool


class DecisionIn(BaseModel):
    reason: Text = Field(min_length=1, max_length=500)
    creditor_reference: Text | None = Field(
        default=None, max_length=100, description="the creditor's consent (creditor level)"
    )


class WithdrawIn(BaseModel):
    reason: Text = Field(min_length=1, max_length=500)


class InboxOut(BaseModel):
    items: list[AgreementOut]
