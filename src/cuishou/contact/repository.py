"""Contact queries (催记) and the alerts contacts raise."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from cuishou.store.tables import Alert, Contact, ContactPoint, User


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


def alert_kinds_blocking(session: Session, case_id: int, *, today: date) -> set[str]:
    """Kinds not to raise again: still unresolved, or already raised today."""
    query = select(Alert.kind).where(
        Alert.case_id == case_id,
        or_(Alert.status != "resolved", Alert.raised_on == today),
    )
    return set(session.scalars(query))


def add_alert(
    session: Session,
    *,
    case_id: int,
    kind: str,
    today: date,
    details: dict[str, Any],
    now: datetime,
) -> Alert:
    alert = Alert(
        case_id=case_id, kind=kind, raised_on=today, status="open", details=details, created_at=now
    )
    session.add(alert)
    session.flush()
    return alert


def case_contacts(session: Session, case_id: int, *, limit: int) -> Sequence[tuple[Contact, str]]:
    query = (
        select(Contact, User.username)
        .join(User, User.id == Contact.user_id)
        .where(Contact.case_id == case_id)
        .order_by(Contact.at.desc(), Contact.id.desc())
        .limit(limit)
    )
    return [(c, name) for c, name in session.execute(query)]
