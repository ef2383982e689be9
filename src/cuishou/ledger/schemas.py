"""Ledger payloads: amounts are yuan decimal strings at the edge, signed as they move."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from cuishou.kit.text import Text


class EntryOut(BaseModel):
    id: int
    account_no: str
    kind: str
    kind_zh: str
    kind_en: str
    fee: str
    penalty: str
    interest: str
    principal: str
    credit: str = Field(description="the debtor's credit (溢缴款) moves by this")
    owed: str = Field(description="how the amount owed moved: the four components together")
    effective_on: date
    source: str
    reference: str | None
    actor: str
    reason: str
    at: datetime


class LedgerOut(BaseModel):
    """账务流水 of a case: every change to its accounts' balances, oldest first."""

    case_id: int
    owed: str = Field(description="what the case's accounts owe now: the sum of the entries")
    credit: str
    entries: list[EntryOut]


class AdjustmentIn(BaseModel):
    """手工调账: signed yuan amounts by which an account's balances move, and why."""

    model_config = {"extra": "forbid"}

    account_no: Text = Field(min_length=1, max_length=64)
    creditor: Text | None = Field(default=None, min_length=1, max_length=32)
    fee: Text = Field(default="0", max_length=20, description="signed yuan, e.g. '-12.50'")
    penalty: Text = Field(default="0", max_length=20)
    interest: Text = Field(default="0", max_length=20)
    principal: Text = Field(default="0", max_length=20)
    credit: Text = Field(default="0", max_length=20)
    reason: Text = Field(min_length=1, max_length=500)
