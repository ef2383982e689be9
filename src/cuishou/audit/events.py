"""Appending to the event log (append-only; nothing updates or deletes events)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from cuishou.store.tables import Event

SYSTEM = "system"


def append_event(
    session: Session,
    *,
    at: datetime,
    actor: str,
    type: str,
    entity_type: str,
    entity_id: int | None,
    case_id: int | None = None,
    payload: Mapping[str, Any] | None = None,
) -> None:
    session.execute(
        insert(Event).values(
            at=at,
            actor=actor,
            type=type,
            entity_type=entity_type,
            entity_id=entity_id,
            case_id=case_id,
            payload=dict(payload or {}),
        )
    )


def append_events(session: Session, rows: Iterable[Mapping[str, Any]]) -> int:
    """Bulk append; each row has the keyword arguments of :func:`append_event`."""
    batch = [dict(row) for row in rows]
    if batch:
        session.execute(insert(Event), batch)
    return len(batch)
