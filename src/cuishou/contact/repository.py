"""Contact queries (催记)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from cuishou.store.tables import Contact, ContactPoint, User


def get_contact(session: Session, contact_id: int) -> Contact | None:
    return session.get(Contact, contact_id)


def contact_point(session: Session, contact_point_id: int) -> ContactPoint | None:
    return session.get(ContactPoint, contact_point_id)


def add_contact(
    session: Session,
    *,
    case_id: int,
    contact_point_id: int,
    user_id: int,
    channel: str,
    party: str,
    outcome: str,
    notes: str,
    at: datetime,
    callback_at: datetime | None,
    now: datetime,
) -> Contact:
    contact = Contact(
        case_id=case_id,
        contact_point_id=contact_point_id,
        user_id=user_id,
        channel=channel,
        party=party,
        outcome=outcome,
        notes=notes,
        at=at,
        callback_at=callback_at,
        created_at=now,
    )
    session.add(contact)
    session.flush()
    return contact


def mark_point_invalid(session: Session, contact_point_id: int) -> None:
    session.execute(
        update(ContactPoint).where(ContactPoint.id == contact_point_id).values(status="invalid")
    )


def outcome_sequence(session: Session, case_id: int) -> list[str]:
    """The case's outcomes in time order (ties by id), the newest last."""
    query = (
        select(Contact.outcome).where(Contact.case_id == case_id).order_by(Contact.at, Contact.id)
    )
    return list(session.scalars(query))


def case_contacts(session: Session, case_id: int, *, limit: int) -> Sequence[tuple[Contact, str]]:
    query = (
        select(Contact, User.username)
        .join(User, User.id == Contact.user_id)
        .where(Contact.case_id == case_id)
        .order_by(Contact.at.desc(), Contact.id.desc())
        .limit(limit)
    )
    return [(c, name) for c, name in session.execute(query)]
