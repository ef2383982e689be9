"""Strategy versions in the store (``strategy_versions``), their events, and what validating
a strategy reads: the open cases as the decision table sees them, the active templates,
each creditor's rule pack and the known products."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import Session

from cuishou.kit.errors import NotFound
from cuishou.store.tables import (
    Creditor,
    Event,
    MessageTemplate,
    Product,
    StrategyVersion,
)

#: the bucket-history movements that put an account in a (new) bucket
BUCKET_MOVES = ("new", "roll_forward", "roll_back", "cure", "reopen")


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
        .order_by(
            StrategyVersion.effective_from.desc(),
            StrategyVersion.activated_at.desc(),
            StrategyVersion.id.desc(),
        )
        .limit(1)
    ).first()


def version_by_id(session: Session, version_id: int) -> StrategyVersion | None:
    return session.get(StrategyVersion, version_id)


#: ids are BIGINT and version numbers INTEGER: a larger number names no row (and must not
#: reach the driver)
MAX_ID = 2**63 - 1
MAX_NUMBER = 2**31 - 1


def get_version(session: Session, version_id: int, *, for_update: bool = False) -> StrategyVersion:
    if not 1 <= version_id <= MAX_ID:
        raise NotFound(f"no strategy version {version_id}", version_id=version_id)
    found = session.get(StrategyVersion, version_id, with_for_update=for_update)
    if found is None:
        raise NotFound(f"no strategy version {version_id}", version_id=version_id)
    return found


def version_by_code(session: Session, code: str, version: int) -> StrategyVersion:
    if not 1 <= version <= MAX_NUMBER or len(code) > 32:
        raise NotFound(f"no strategy {code}@{version}", code=code, version=version)
    found = session.scalar(
        select(StrategyVersion).where(
            StrategyVersion.code == code, StrategyVersion.version == version
        )
    )
    if found is None:
        raise NotFound(f"no strategy {code}@{version}", code=code, version=version)
    return found


def next_version(session: Session, code: str) -> int:
    top = session.scalar(
        select(func.max(StrategyVersion.version)).where(StrategyVersion.code == code)
    )
    return (top or 0) + 1


def same_text(session: Session, code: str, sha256: str) -> StrategyVersion | None:
    """A pending or live version of ``code`` with exactly this text."""
    return session.scalar(
        select(StrategyVersion).where(
            StrategyVersion.code == code,
            StrategyVersion.sha256 == sha256,
            StrategyVersion.status.in_(("draft", "approved", "active")),
        )
    )


def add_version(session: Session, **values: object) -> StrategyVersion:
    version = StrategyVersion(**values)
    session.add(version)
    session.flush()
    return version


def list_versions(session: Session) -> list[StrategyVersion]:
    return list(
        session.scalars(
            select(StrategyVersion).order_by(StrategyVersion.code, StrategyVersion.version.desc())
        )
    )


def active_versions(session: Session) -> list[StrategyVersion]:
    return list(
        session.scalars(
            select(StrategyVersion)
            .where(StrategyVersion.status == "active")
            .order_by(StrategyVersion.effective_from, StrategyVersion.id)
            .with_for_update()
        )
    )


def in_force_before(session: Session, current: StrategyVersion) -> StrategyVersion | None:
    """The version that was in force before ``current`` took effect: of the versions ever
    in force (activated, with an effective date), the last to take effect before it (by
    effective date, then activation time, then id — the order :func:`effective_version`
    picks by)."""
    if current.effective_from is None or current.activated_at is None:
        return None
    return session.scalar(
        select(StrategyVersion)
        .where(
            StrategyVersion.id != current.id,
            StrategyVersion.status.in_(("active", "retired")),
            StrategyVersion.activated_at.is_not(None),
            StrategyVersion.effective_from.is_not(None),
            tuple_(StrategyVersion.effective_from, StrategyVersion.activated_at, StrategyVersion.id)
            < tuple_(current.effective_from, current.activated_at, current.id),
        )
        .order_by(
            StrategyVersion.effective_from.desc(),
            StrategyVersion.activated_at.desc(),
            StrategyVersion.id.desc(),
        )
        .limit(1)
    )


def version_events(session: Session, version_id: int) -> list[Event]:
    return list(
        session.scalars(
            select(Event)
            .where(Event.entity_type == "strategy", Event.entity_id == version_id)
            .order_by(Event.at, Event.id)
        )
    )


# --------------------------------------------------------------------------- validation


def active_templates(session: Session) -> list[tuple[str, str, str]]:
    """``(code, channel, audience)`` of every active message template."""
    rows = session.execute(
        select(MessageTemplate.code, MessageTemplate.channel, MessageTemplate.audience).where(
            MessageTemplate.status == "active"
        )
    ).all()
    return [(str(code), str(channel), str(audience)) for code, channel, audience in rows]


def creditor_packs(session: Session) -> dict[str, str]:
    """Each creditor's rule pack name, by creditor code."""
    rows = session.execute(select(Creditor.code, Creditor.rule_pack)).all()
    return {str(code): str(pack) for code, pack in rows}


def product_codes(session: Session) -> frozenset[str]:
    return frozenset(str(code) for code in session.scalars(select(Product.code)))
