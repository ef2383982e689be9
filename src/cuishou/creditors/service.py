"""A creditor's business calendar: its time zone decides what "today" is (营业日).

Every online path that needs a business date (the day an alert is raised, a payment is
dated, a promise is taken, an agreement is due) asks :func:`business_day` with the case's
creditor; the daily cycle is told its business date (``cuishou daily --as-of``) and turns
times into dates in each creditor's zone the same way (:func:`cuishou.kit.clock.business_day`).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.orm import Session

from cuishou.creditors import repository as repo
from cuishou.kit.clock import DEFAULT_TZ, business_day_in


def timezone(session: Session, creditor_id: int) -> str:
    """The creditor's zone (the deployment's default zone when it has none)."""
    return repo.timezone_of(session, creditor_id) or DEFAULT_TZ


def business_day(session: Session, creditor_id: int, now: datetime) -> date:
    """Today, for this creditor: ``now`` as a date in the creditor's zone."""
    return business_day_in(now, timezone(session, creditor_id))
