"""Ledger payloads: amounts are yuan decimal strings at the edge, signed as they move."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field


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
