"""Overview queries; every one filters cases by the principal's scope."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cuishou.auth.rules import CaseScope
from cuishou.auth.scope import case_scope_clause
from cuishou.store.tables import Case, Contact, Team


def open_cases_by_bucket(session: Session, scope: CaseScope) -> dict[str, tuple[int, int]]:
    """bucket -> (open cases, amount due in fen)."""
    query = (
        select(Case.bucket, func.count(), func.sum(Case.due_fen))
        .where(Case.status == "open", case_scope_clause(scope))
        .group_by(Case.bucket)
    )
    return {bucket: (int(n), int(due or 0)) for bucket, n, due in session.execute(query)}


def contacts_by_outcome(
    session: Session, scope: CaseScope, *, start: datetime, end: datetime
) -> dict[str, int]:
    query = (
        select(Contact.outcome, func.count())
        .join(Case, Case.id == Contact.case_id)
        .where(Contact.at >= start, Contact.at < end, case_scope_clause(scope))
        .group_by(Contact.outcome)
    )
    return {outcome: int(n) for outcome, n in session.execute(query)}


def teams(session: Session) -> list[tuple[int, str]]:
    return [(t.id, t.name) for t in session.scalars(select(Team).order_by(Team.name))]
