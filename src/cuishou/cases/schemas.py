"""Case payloads. PII is masked; amounts are yuan decimal strings."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from cuishou.contact.schemas import ContactOut
from cuishou.kit.text import Text
from cuishou.promises.schemas import PromiseOut
from cuishou.scoring.schemas import Grade, LabelOut, ReasonOut, TargetScoreOut
from cuishou.strategy.schemas import CasePlanOut, SegmentOut


class CaseSummary(BaseModel):
    id: int
    creditor: str
    debtor_name: str = Field(description="masked")
    status: str
    bucket: str
    dpd: int
    amount_tier: str
    total_due: str = Field(description="yuan, two decimals")
    account_count: int
    assigned_to: str | None
    team: str | None
    agency: str | None
    risk_grade: Grade | None = Field(
        description="风险等级 A (best) … D from the pay_30d champion; null: not graded"
    )


class CasePage(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[CaseSummary]


class QueueItem(CaseSummary):
    callback_due: bool
    next_callback_at: datetime | None
    promise_due: bool
    promise_due_date: date | None


class QueuePage(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[QueueItem]


class DebtorOut(BaseModel):
    name: str
    id_number: str
    gender: str
    province: str | None
    city: str | None


class AccountOut(BaseModel):
    id: int
    account_no: str
    product: str = Field(description="product code (credit_card, consumer_loan …)")
    product_name_zh: str = Field(description="the product's name in Chinese (信用卡 …)")
    product_name_en: str = Field(description="the product's name in English (Credit card …)")
    status: str
    principal: str
    interest: str
    penalty: str
    fee: str
    outstanding: str
    credit: str = Field(description="overpayment held on the account (溢缴款), yuan")
    dpd: int
    bucket: str
    overdue_since: date | None
    above_interest_cap: bool = Field(
        description="contract rate above the interest cap of the creditor (or of this product "
        "of the creditor): 4 × the 1-year LPR at the contract date for private lending "
        "(CN-21), a fixed rate, or none (ADR 0014)"
    )
    interest_cap_rate: str | None = Field(
        description="the cap applied, percent a year (12.00); null when no cap applies"
    )
    demandable_interest: str = Field(description="the interest that may be demanded (yuan)")
    limitation_expires_on: date | None = Field(
        description="the day the debt becomes time-barred unless a demand interrupts it "
        "(3 years from the oldest overdue date or the last recorded demand, CN-22)"
    )


class ContactPointOut(BaseModel):
    id: int
    kind: str
    label: str
    owner: str = Field(description="debtor | third_party")
    owner_name: str
    relation: str | None
    value: str = Field(description="masked")
    status: str
    verification: str = Field(default="new", description="new | verified | invalid (核实)")


class EventOut(BaseModel):
    at: datetime
    actor: str
    type: str
    payload: dict[str, Any]


class CaseDetail(CaseSummary):
    debtor: DebtorOut
    accounts: list[AccountOut]
    contact_points: list[ContactPointOut]
    promises: list[PromiseOut]
    contacts: list[ContactOut]
    timeline: list[EventOut]
    score: int | None = Field(description="the pay_30d champion's score; null: not scored")
    reasons: list[ReasonOut] = Field(description="the top reasons of that score (at most 3)")
    scores: list[TargetScoreOut] = Field(description="every target's latest score of the case")
    labels: list[LabelOut] = Field(description="customer labels (客户画像) with their facts")
    segment: SegmentOut | None = Field(
        description="the strategy segment (客群) the case is in; null: not segmented"
    )
    plan: CasePlanOut | None = Field(
        description="the strategy's planned actions for the case's latest planned day, each "
        "with the compliance gate's decision; null: nothing planned"
    )


class AssignIn(BaseModel):
    collector: Text = Field(min_length=1, max_length=64)


class BulkAssignIn(BaseModel):
    collector: Text = Field(min_length=1, max_length=64)
    case_ids: list[Annotated[int, Field(ge=1, le=2**63 - 1)]] = Field(min_length=1, max_length=500)


class BulkAssignOut(BaseModel):
    collector: str
    assigned: int


class RevealIn(BaseModel):
    field: Literal["debtor_name", "id_number", "contact_point"]
    contact_point_id: int | None = Field(default=None, ge=1, le=2**63 - 1)


class RevealOut(BaseModel):
    field: str
    contact_point_id: int | None
    value: str


class WorkloadOut(BaseModel):
    """One collector's load (工作量): open cases, amount due, contacts logged today."""

    username: str
    display_name: str
    team: str | None
    open_cases: int
    amount_due: str = Field(description="yuan, two decimals")
    contacts_today: int


class CollectorOut(BaseModel):
    username: str
    display_name: str
    team: str | None
