"""Skip-tracing queries (失联修复): the repair queue, the cases a points file names."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cuishou.auth.rules import CaseScope
from cuishou.auth.scope import case_scope_clause
from cuishou.store.tables import Case, CaseLabel, Creditor, Debtor, Event

#: the event a vendor request writes per case
REQUESTED = "skiptrace.requested"


@dataclass(frozen=True, slots=True)
class QueueRow:
    case: Case
    name: str
    id_number: str
    province: str | None
    city: str | None
    creditor: str
    since: date
    facts: dict[str, Any]
    requested_at: datetime | None


def queue(
    session: Session, scope: CaseScope, *, label: str, limit: int | None = None
) -> list[QueueRow]:
    """Open cases in scope carrying ``label``, longest-labelled first, with the debtor,
    the creditor, the label's date and facts and when a vendor was last asked."""
    requested = (
        select(Event.case_id, func.max(Event.at).label("at"))
        .where(Event.type == REQUESTED)
        .group_by(Event.case_id)
        .subquery()
    )
    query = (
        select(
            Case,
            Debtor.name,
            Debtor.id_number,
            Debtor.province,
            Debtor.city,
            Creditor.code,
            CaseLabel.since,
            CaseLabel.facts,
            requested.c.at,
        )
        .join(CaseLabel, (CaseLabel.case_id == Case.id) & (CaseLabel.code == label))
        .join(Debtor, Debtor.id == Case.debtor_id)
        .join(Creditor, Creditor.id == Case.creditor_id)
        .outerjoin(requested, requested.c.case_id == Case.id)
        .where(Case.status == "open", case_scope_clause(scope))
        .order_by(CaseLabel.since, Case.id)
        .limit(limit)
    )
    return [QueueRow(*row) for row in session.execute(query).all()]


def cases_by_id(session: Session, case_ids: Collection[int]) -> dict[int, Case]:
    if not case_ids:
        return {}
    return {c.id: c for c in session.scalars(select(Case).where(Case.id.in_(list(case_ids))))}


def latest_request(session: Session, case_id: int) -> datetime | None:
    query = select(func.max(Event.at)).where(Event.type == REQUESTED, Event.case_id == case_id)
    return session.scalar(query)
