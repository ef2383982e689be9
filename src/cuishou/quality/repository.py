"""QA queries."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from cuishou.store.tables import Contact, ContactPoint, QaItem


def add_item(session: Session, **values: object) -> QaItem:
    item = QaItem(**values)
    session.add(item)
    session.flush()
    return item


def items(
    session: Session, *, status: str | None, limit: int, offset: int
) -> tuple[int, Sequence[QaItem]]:
    query = select(QaItem)
    if status is not None:
        query = query.where(QaItem.status == status)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(QaItem.created_at.desc(), QaItem.id.desc()).limit(limit).offset(offset)
    )
    return total, list(rows)


def review(
    session: Session, item_id: int, *, verdict: str, note: str, by: str, at: datetime
) -> bool:
    """Close an open item in one statement; ``False`` when it is not open (or not there)."""
    result = session.execute(
        update(QaItem)
        .where(QaItem.id == item_id, QaItem.status == "open")
        .values(status=verdict, review_note=note, reviewed_by=by, reviewed_at=at)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def contact_of(session: Session, contact_id: int) -> Contact | None:
    """The contact a transcript or note belongs to."""
    return session.get(Contact, contact_id)


def spoke_to_third_party(session: Session, contact: Contact) -> bool:
    """Whether the contact was made on a third party's number or address."""
    point = session.get(ContactPoint, contact.contact_point_id)
    return point is not None and point.owner == "third_party"
