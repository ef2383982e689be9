"""Creditor queries."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from cuishou.store.tables import Creditor


def timezone_of(session: Session, creditor_id: int) -> str | None:
    return session.scalar(select(Creditor.timezone).where(Creditor.id == creditor_id))
