"""Limitation of actions (诉讼时效, CN-22): three years, interrupted by each demand.

The period runs from the day the creditor knew of the default; every recorded demand
(a conversation with the debtor about the debt, a letter, a visit) starts it again
(民法典 Art. 188, 195). A debt whose period has run out is time-barred: it may still be
collected by consent, but suit must not be threatened (see the ``time_barred`` screening
flag). Pure: dates in, dates out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

LIMITATION_YEARS = 3


def add_years(day: date, years: int) -> date:
    """The same calendar day ``years`` later (29 February → 28 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


@dataclass(frozen=True, slots=True)
class Limitation:
    runs_from: date
    last_interruption: date | None
    expires_on: date  # the first day on which the debt is time-barred
    time_barred: bool
    days_left: int


def limitation_of(
    default_known_on: date,
    demands: Iterable[date],
    as_of: date,
    *,
    years: int = LIMITATION_YEARS,
) -> Limitation:
    """Where the limitation period stands on ``as_of``.

    A demand counts only if made before the period ran out (a demand on a time-barred
    debt does not revive it) and on or before ``as_of``.
    """
    start = default_known_on
    last: date | None = None
    for demand in sorted(d for d in demands if default_known_on <= d <= as_of):
        if demand >= add_years(start, years):
            break
        start, last = demand, demand
    expires = add_years(start, years)
    return Limitation(
        runs_from=default_known_on,
        last_interruption=last,
        expires_on=expires,
        time_barred=as_of >= expires,
        days_left=max((expires - as_of).days, 0),
    )
