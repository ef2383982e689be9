"""The legal interest cap (利率上限, CN-21): 4 × the one-year LPR at the contract date.

Interest accrued above the cap may not be demanded (民间借贷规定 Art. 25): an account whose
contract rate is above the cap is flagged, and only the share of its interest that the cap
allows is demandable. The one-year LPR history ships as data (``data/lpr_1y.csv``); the
rules take it as an argument and never read the clock.
"""

from __future__ import annotations

import csv
from bisect import bisect_right
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from importlib import resources

from cuishou.kit.money import round_fen

CAP_MULTIPLE = Decimal(4)


@dataclass(frozen=True, slots=True)
class LprHistory:
    """One-year LPR (percent) by the date it took effect, ascending."""

    days: tuple[date, ...]
    percents: tuple[Decimal, ...]

    def __post_init__(self) -> None:
        if not self.days or len(self.days) != len(self.percents):
            raise ValueError("an LPR history needs one rate for each date, at least one")
        if list(self.days) != sorted(set(self.days)):
            raise ValueError("LPR dates must be strictly ascending")

    def on(self, day: date) -> Decimal:
        """The LPR in force on ``day`` (before the first entry: the first entry's rate —
        the LPR reform began on 2019-08-20 and courts apply it to older contracts too)."""
        index = bisect_right(self.days, day) - 1
        return self.percents[max(index, 0)]


@cache
def shipped_lpr() -> LprHistory:
    text = (resources.files("cuishou.compliance") / "data" / "lpr_1y.csv").read_text("utf-8")
    rows = list(csv.DictReader(text.splitlines()))
    return LprHistory(
        days=tuple(date.fromisoformat(r["effective_from"]) for r in rows),
        percents=tuple(Decimal(r["rate_percent"]) for r in rows),
    )


@dataclass(frozen=True, slots=True)
class InterestJudgement:
    cap_rate: Decimal  # a fraction, e.g. 0.12
    above_cap: bool
    demandable_fen: int
    excess_fen: int


def cap_rate(contract_date: date, lpr: LprHistory) -> Decimal:
    """The highest annual rate (a fraction) that may be demanded for a contract of that date."""
    return CAP_MULTIPLE * lpr.on(contract_date) / 100


def judge_interest(
    interest_fen: int, annual_rate: Decimal | None, contract_date: date | None, lpr: LprHistory
) -> InterestJudgement:
    """Split accrued interest into what may be demanded and the excess over the cap.

    Interest accrued at ``annual_rate`` scales with the rate, so at the cap it would have
    been ``interest × cap / rate``; the rest is excluded. Without a rate or a contract date
    nothing can be judged and all interest stays demandable (the account is not flagged).
    """
    if interest_fen < 0:
        raise ValueError("interest cannot be negative")
    if annual_rate is None or contract_date is None:
        return InterestJudgement(Decimal(0), False, interest_fen, 0)
    cap = cap_rate(contract_date, lpr)
    if annual_rate <= cap:
        return InterestJudgement(cap, False, interest_fen, 0)
    demandable = round_fen(Decimal(interest_fen) * cap / annual_rate)
    return InterestJudgement(cap, True, demandable, interest_fen - demandable)
