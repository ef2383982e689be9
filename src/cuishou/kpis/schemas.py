"""KPI payloads: amounts are yuan strings with two decimals, rates numbers from 0 to 1
(four places) or ``null`` when their denominator is 0."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

Rate = float | None


class KpiRow(BaseModel):
    """One slice's figures (or the total). Counts are whole numbers; see docs/kpis.md."""

    key: str | None = Field(description="the slice's key; null: cases without one (unassigned)")
    recovered: str = Field(description="回款金额: payments less reversals in the period, yuan")
    due_at_start: str = Field(description="the book: amount due at period start, yuan")
    recovery_rate: Rate = Field(description="回款率: recovered ÷ due at start")
    book_cases: int
    paying_cases: int
    recovery_rate_by_count: Rate = Field(description="paying cases ÷ cases in the book")
    payments: int = Field(description="payments less reversals (by reference)")
    contacts: int
    calls: int
    connected: int
    connect_rate: Rate = Field(description="接通率: connected calls ÷ calls")
    right_party: int = Field(description="本人接通: contacts that reached the debtor")
    right_party_rate: Rate = Field(description="right-party contacts ÷ contacts")
    promises: int
    promised: str = Field(description="amount promised, yuan")
    promise_rate: Rate = Field(description="承诺率: promises ÷ right-party contacts")
    first_contacts: int
    first_contact_promises: int
    first_contact_promise_rate: Rate = Field(description="首次承诺率")
    judged: int
    kept: int
    kept_rate: Rate = Field(description="履约率: kept ÷ judged, of promises taken in the period")
    delinquent: int | None = Field(description="accounts delinquent at period start")
    cured: int | None
    cure_rate: Rate = Field(description="出催率: cured ÷ delinquent at start")
    self_cured: int | None
    self_cure_rate: Rate = Field(description="自愈率: cured without right-party contact")
    first_payments: int
    avg_days_to_first_payment: Rate = Field(description="days from case opening")
    collector_days: int
    contacts_per_collector_day: Rate
    calls_per_collector_day: Rate = Field(description="日均电话量")
    cost: str = Field(description="cost of the work, yuan")
    cost_per_yuan: Rate = Field(description="单位回款成本: cost ÷ recovered")
    complaints: int
    complaints_per_10k: Rate
    violations: int = Field(description="违规联系: compliance_violation alerts")
    target: dict[str, float] | None = Field(
        default=None, description="monthly targets of this collector or team (and the total)"
    )
    progress: dict[str, float | None] | None = Field(
        default=None, description="目标完成率: figure ÷ target, per targeted metric"
    )
    rank: int | None = Field(default=None, description="排名 by amount recovered (1 = most)")
    anomalies: list[str] = Field(
        default_factory=list, description="metrics > 3σ from the trailing 4 weeks (by=day)"
    )


class RollLine(BaseModel):
    """迁徙率: accounts from a bucket at period start to a bucket at period end."""

    from_bucket: str
    to_bucket: str
    accounts: int
    rate: float


class KpiReport(BaseModel):
    """The KPIs of one period (both dates inclusive, business days in the creditor's zone)."""

    model_config = ConfigDict(populate_by_name=True)

    from_: date = Field(alias="from")
    to: date
    by: str | None
    rows: list[KpiRow] | None = Field(default=None, description="absent without `by`")
    total: KpiRow
    roll_rates: list[RollLine]

    def as_json(self) -> dict[str, Any]:
        """The report as the API sends it (and the CLI prints it): ``rows`` only with ``by``."""
        exclude = {"rows"} if self.by is None else set()
        return self.model_dump(mode="json", by_alias=True, exclude=exclude)
