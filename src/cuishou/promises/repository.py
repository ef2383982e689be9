"""Promise queries."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from cuishou.store.tables import Promise, User


def add_promise(
    session: Session,
    *,
    case_id: int,
    contact_id: int | None,
    amount_fen: int,
    due_date: date,
    created_by: int,
    now: datetime,
) -> Promise:
    promise = Promise(
        case_id=case_id,
        contact_id=contact_id,
        amount_fen=amount_fen,
        due_date=due_date,
        status="open",
        created_by=created_by,
        created_at=now,
    )
    session.add(promise)
    session.flush()
    return promise


def case_promises(session: Session, case_id: int) -> list[tuple[Promise, str]]:
    query = (
        select(Promise, User.username)
        .join(User, User.id == Promise.created_by)
        .where(Promise.case_id == case_id)
        .order_by(Promise.created_at.desc(), Promise.id.desc())
    )
    return [(p, name) for p, name in session.execute(query)]
