"""The interest cap (利率上限): which ceiling a creditor's interest is judged against.

The ceiling depends on who lent, so it is a setting per creditor, with an override per
product of that creditor (:class:`InterestCap`, ADR 0014):

* ``private_lending_4x_lpr`` — 4 × the one-year LPR at the contract date (CN-21,
  民间借贷规定 Art. 25). It binds private lending only: the same provisions (Art. 1 ¶2) do not
  apply to licensed financial institutions' loans;
* ``fixed:<rate>`` — a fixed annual rate, e.g. ``fixed:24%`` (the 24% line of the Supreme
  People's Court's 2017 opinion on financial loans, 法发〔2017〕22号 Art. 2, or a creditor's
  own policy);
* ``none`` — no ceiling is applied (the default: banks, consumer-finance companies).

Interest accrued above the cap may not be demanded: an account whose contract rate is
above the cap is flagged, and only the share of its interest that the cap allows is
demandable. The one-year LPR history ships as data (``data/lpr_1y.csv``); the rules take it
and the cap as arguments and never read the clock or the store.
"""

from __future__ import annotations

import csv
from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import cache
from importlib import resources
from typing import Literal

from cuishou.kit.money import round_fen

CAP_MULTIPLE = Decimal(4)
CapKind = Literal["private_lending_4x_lpr", "fixed", "none"]
CAP_KINDS: tuple[CapKind, ...] = ("private_lending_4x_lpr", "fixed", "none")
#: the highest fixed cap that can be set, percent a year (a typo guard, not law)
MAX_FIXED_PERCENT = Decimal(100)


@dataclass(frozen=True, slots=True)
class InterestCap:
    """The ceiling one creditor's (or one of its products') interest is judged against."""

    kind: CapKind
    #: for ``fixed``: the annual rate as a fraction (0.24 for 24%)
    rate: Decimal | None = None

    def __post_init__(self) -> None:
        if (self.kind == "fixed") != (self.rate is not None):
            raise ValueError("a fixed cap has a rate; the other caps have none")
        if self.rate is not None and not 0 < self.rate * 100 <= MAX_FIXED_PERCENT:
            raise ValueError(f"a fixed cap is above 0% and at most {MAX_FIXED_PERCENT}% a year")

    def __str__(self) -> str:
        """The setting as stored and typed: ``private_lending_4x_lpr``, ``fixed:24%``, ``none``."""
        if self.rate is None:
            return self.kind
        return f"fixed:{format((self.rate * 100).normalize(), 'f')}%"


PRIVATE_LENDING_4X_LPR = InterestCap("private_lending_4x_lpr")
NO_CAP = InterestCap("none")
#: a creditor that has not said otherwise: licensed lenders are not bound by CN-21
DEFAULT_CAP = NO_CAP


def parse_cap(text: str) -> InterestCap:
    """``private_lending_4x_lpr``, ``fixed:<percent>`` (``fixed:24%``, ``fixed:18.25``) or
    ``none``; anything else is a ``ValueError`` saying what is accepted."""
    cleaned = text.strip().lower().replace(" ", "")
    if cleaned == "none":
        return NO_CAP
    if cleaned == "private_lending_4x_lpr":
        return PRIVATE_LENDING_4X_LPR
    if cleaned.startswith("fixed:"):
        number = cleaned.removeprefix("fixed:").removesuffix("%")
        try:
            percent = Decimal(number)
        except InvalidOperation:
            percent = Decimal("NaN")
        if (
            percent.is_finite()
            and 0 < percent <= MAX_FIXED_PERCENT
            and percent == percent.quantize(Decimal("0.0001"))
        ):
            return InterestCap("fixed", percent / 100)
        raise ValueError(
            f"{text!r}: a fixed cap is a percent a year above 0 and at most "
            f"{MAX_FIXED_PERCENT}, with at most 4 decimals, e.g. fixed:24%"
        )
    raise ValueError(
        f"{text!r} is not an interest cap: give private_lending_4x_lpr, fixed:<rate>% "
        "(e.g. fixed:24%) or none"
    )


@dataclass(frozen=True, slots=True)
class CreditorCaps:
    """A creditor's cap and its per-product overrides (product code → cap)."""

    default: InterestCap = DEFAULT_CAP
    products: Mapping[str, InterestCap] = field(default_factory=dict)

    def for_product(self, product_code: str) -> InterestCap:
        return self.products.get(product_code, self.default)


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
    #: the ceiling applied, a fraction (0.12); ``None`` when none applies or none could be set
    cap_rate: Decimal | None
    above_cap: bool
    demandable_fen: int
    excess_fen: int


def cap_rate(contract_date: date, lpr: LprHistory) -> Decimal:
    """4 × the LPR (a fraction): the highest private-lending rate for a contract of that date."""
    return CAP_MULTIPLE * lpr.on(contract_date) / 100


def ceiling_of(cap: InterestCap, contract_date: date | None, lpr: LprHistory) -> Decimal | None:
    """The annual rate (a fraction) ``cap`` allows, or ``None`` (no cap, or no contract date
    to fix the LPR by)."""
    if cap.kind == "fixed":
        return cap.rate
    if cap.kind == "private_lending_4x_lpr" and contract_date is not None:
        return cap_rate(contract_date, lpr)
    return None


def judge_interest(
    interest_fen: int,
    annual_rate: Decimal | None,
    contract_date: date | None,
    lpr: LprHistory,
    *,
    cap: InterestCap,
) -> InterestJudgement:
    """Split accrued interest into what may be demanded and the excess over ``cap``.

    Interest accrued at ``annual_rate`` scales with the rate, so at the ceiling it would
    have been ``interest × ceiling / rate``; the rest is excluded. With no cap, or without
    the rate (or, for 4 × LPR, the contract date) nothing can be judged and all interest
    stays demandable (the account is not flagged).
    """
    if interest_fen < 0:
        raise ValueError("interest cannot be negative")
    ceiling = ceiling_of(cap, contract_date, lpr)
    if ceiling is None or annual_rate is None or annual_rate <= ceiling:
        return InterestJudgement(ceiling, False, interest_fen, 0)
    demandable = round_fen(Decimal(interest_fen) * ceiling / annual_rate)
    return InterestJudgement(ceiling, True, demandable, interest_fen - demandable)
