"""Strategy versions in the store (``strategy_versions``)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from cuishou.store.tables import StrategyVersion


def effective_version(session: Session, day: date) -> StrategyVersion | None:
    """The version in force on ``day``: of the active versions, the one that took effect
    last on or before ``day`` (a version activated for a later date is not yet in force)."""
    return session.scalars(
        select(StrategyVersion)
        .where(
            StrategyVersion.status == "active",
            StrategyVersion.effective_from.is_not(None),
            StrategyVersion.effective_from <= day,
        )
        .order_by(StrategyVersion.effective_from.desc(), StrategyVersion.id.desc())
        .limit(1)
    ).first()


def version_by_id(session: Session, version_id: int) -> StrategyVersion | None:
    return session.get(StrategyVersion, version_id)
