"""Payment payloads: amounts are yuan decimal strings at the edge."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from cuishou.kit.money import BOOKED_CURRENCY
from cuishou.kit.text import Text


class PaymentIn(BaseModel):
    """A payment to post once: to one account (``account_no``) or to a case (``case_id``,
    spread over its accounts oldest first). ``reference`` (流水号) makes it idempotent.

    Unknown fields are refused (422) rather than ignored: a field the sender believes
    matters (a misspelt ``amount``, a ``currency``) must not be silently dropped."""

    model_config = ConfigDict(extra="forbid")

    account_no: Text | None = Field(default=None, min_length=1, max_length=64)
    creditor: Text | None = Field(
        default=None,
        min_length=1,
        max_length=32,
        description="creditor code, when an account number is used by more than one creditor",
    )
    case_id: int | None = Field(default=None, ge=1, le=2**63 - 1)
    amount: Text = Field(
        max_length=20, description="yuan as a decimal string, more than 0, at most 2 decimals"
    )
    paid_at: AwareDatetime = Field(description="when the money was paid, with a UTC offset")
    reference: Text = Field(min_length=1, max_length=100, description="the payment's 流水号")
    channel: Text | None = Field(default=None, max_length=32)
    currency: str | None = Field(
        default=None,
        description="ISO 4217 code; when given it must be the creditor's currency, "
        f"{BOOKED_CURRENCY} (every account is booked in yuan)",
    )
    source: Literal["api", "manual"] = Field(
        default="api",
        description="api: a system feeding payments (payment.post); manual: a person "
        "entering a payment the debtor proved (payment.manual, case in scope)",
    )

    @field_validator("currency")
    @classmethod
    def _the_creditors_currency(cls, value: str | None) -> str | None:
        if value is not None and value != BOOKED_CURRENCY:
            raise PydanticCustomError(
                "currency",
                "the creditor's accounts are in {booked}; a payment in '{given}' is not accepted "
                "(convert it to {booked} first)",
                {"booked": BOOKED_CURRENCY, "given": value[:10]},
            )
        return value


class PaymentPartOut(BaseModel):
    account_no: str
    fee: str
    penalty: str
    interest: str
    principal: str
    credit: str = Field(description="overpayment held on the account (溢缴款)")


class PaymentOut(BaseModel):
    id: int
    reference: str
    creditor: str
    case_id: int | None
    amount: str
    paid_at: datetime
    channel: str | None
    source: str
    entered_by: str | None
    posted_at: datetime
    parts: list[PaymentPartOut]
    reversed_at: datetime | None
    reversed_by: str | None
    reversal_reason: str | None
    replayed: bool = Field(
        default=False,
        description="true when the reference was already posted: this is the "
        "original posting and nothing new was written",
    )


class ReversalIn(BaseModel):
    reason: Text = Field(min_length=1, max_length=500)
