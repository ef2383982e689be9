"""Template queries."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from cuishou.store.tables import MessageTemplate


def next_version(session: Session, code: str) -> int:
    top = session.scalar(
        select(func.max(MessageTemplate.version)).where(MessageTemplate.code == code)
    )
    return (top or 0) + 1


def add(session: Session, **values: object) -> MessageTemplate:
    template = MessageTemplate(**values)
    session.add(template)
    session.flush()
    return template


def get(session: Session, template_id: int, *, for_update: bool = False) -> MessageTemplate | None:
    return session.get(MessageTemplate, template_id, with_for_update=for_update)


def listing(session: Session, *, status: str | None) -> Sequence[MessageTemplate]:
    query = select(MessageTemplate)
    if status is not None:
        query = query.where(MessageTemplate.status == status)
    return list(session.scalars(query.order_by(MessageTemplate.code, MessageTemplate.version)))


def retire_active(session: Session, code: str, *, except_id: int) -> None:
    session.execute(
        update(MessageTemplate)
        .where(
            MessageTemplate.code == code,
            MessageTemplate.status == "active",
            MessageTemplate.id != except_id,
        )
        .values(status="retired")
    )
