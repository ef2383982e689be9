"""Experiment queries (策略实验): experiments, their cases' arms, strategy versions by name,
complaint holds and the promotion events. Set-based; the arms go in with one statement."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import polars as pl
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from cuishou.kit.errors import NotFound
from cuishou.store.bulk import SessionBulk
from cuishou.store.tables import (
    Case,
    ContactHold,
    Creditor,
    Event,
    Experiment,
    ExperimentCase,
    StrategyVersion,
)

ARMS_SCHEMA: dict[str, pl.DataType] = {"case_id": pl.Int64(), "arm": pl.String()}
MEMBERS_SCHEMA: dict[str, pl.DataType] = {
    "case_id": pl.Int64(),
    "arm": pl.String(),
    "since": pl.Date(),
}
HOLDS_SCHEMA: dict[str, pl.DataType] = {
    "case_id": pl.Int64(),
    "at": pl.Datetime("us", "UTC"),
    "tz": pl.String(),
}
#: zones are at most 14 hours from UTC: this margin holds every time of a business date
ZONE_MARGIN = timedelta(hours=15)
#: the events that carry a promotion's request and answer
PROMOTION_EVENTS = (
    "experiment.promotion_requested",
    "experiment.promotion_rejected",
    "experiment.promoted",
)


def get(session: Session, experiment_id: int, *, for_update: bool = False) -> Experiment:
    query = select(Experiment).where(Experiment.id == experiment_id)
    if for_update:
        query = query.with_for_update()
    found = session.scalars(query).first()
    if found is None:
        raise NotFound(f"no experiment {experiment_id}", experiment_id=experiment_id)
    return found


def by_name(session: Session, name: str) -> Experiment | None:
    return session.scalars(select(Experiment).where(Experiment.name == name)).first()


def list_all(session: Session) -> list[Experiment]:
    return list(session.scalars(select(Experiment).order_by(Experiment.id.desc())))


def running(session: Session, day: date | None = None) -> list[Experiment]:
    """The running experiments (started on or before ``day`` when given), oldest first."""
    query = select(Experiment).where(Experiment.status == "running")
    if day is not None:
        query = query.where(Experiment.started_on <= day)
    return list(session.scalars(query.order_by(Experiment.id)))


def add(session: Session, **values: Any) -> Experiment:
    experiment = Experiment(**values)
    session.add(experiment)
    session.flush()
    return experiment


def finish(
    session: Session,
    experiment_id: int,
    *,
    status: str,
    on: date,
    by: str,
    reason: str,
    allowed_from: tuple[str, ...],
) -> bool:
    """Move an experiment to ``status`` in one statement, only from ``allowed_from`` (two
    people stopping it at once: one wins, the other is told). Whether it moved."""
    result = session.execute(
        update(Experiment)
        .where(Experiment.id == experiment_id, Experiment.status.in_(allowed_from))
        .values(status=status, stopped_on=on, stopped_by=by, stop_reason=reason)
        .execution_options(synchronize_session=False)
    )
    session.expire_all()
    return bool(getattr(result, "rowcount", 0))


def version(session: Session, version_id: int) -> StrategyVersion | None:
    return session.get(StrategyVersion, version_id)


def version_by_code(session: Session, code: str, number: int) -> StrategyVersion | None:
    return session.scalars(
        select(StrategyVersion).where(
            StrategyVersion.code == code, StrategyVersion.version == number
        )
    ).first()


def version_labels(session: Session, ids: set[int]) -> dict[int, str]:
    """``code@version`` of each version id."""
    rows = session.execute(
        select(StrategyVersion.id, StrategyVersion.code, StrategyVersion.version).where(
            StrategyVersion.id.in_(ids)
        )
    )
    return {row.id: f"{row.code}@{row.version}" for row in rows}


def arm_counts(session: Session, experiment_id: int) -> dict[str, int]:
    rows = session.execute(
        select(ExperimentCase.arm, func.count())
        .where(ExperimentCase.experiment_id == experiment_id)
        .group_by(ExperimentCase.arm)
    )
    return {str(arm): int(n) for arm, n in rows}


def insert_arms(session: Session, experiment_id: int, arms: pl.DataFrame, day: date) -> int:
    """Record the arm of each case in ``arms`` (``case_id``, ``arm``) not yet in the
    experiment, joining on ``day``; a case already in it keeps its arm and day. One
    ``INSERT … SELECT``; how many cases joined."""
    bulk = SessionBulk(session)
    rows = bulk.relation("experiment_arms", arms, schema=ARMS_SCHEMA, index=("case_id",))
    return bulk.execute(
        f"""INSERT INTO experiment_cases (experiment_id, case_id, arm, joined_on)
        SELECT :experiment_id, s.case_id, MIN(s.arm), :day FROM {rows.sql} s
        WHERE NOT EXISTS (SELECT 1 FROM experiment_cases e
                          WHERE e.experiment_id = :experiment_id AND e.case_id = s.case_id)
        GROUP BY s.case_id""",  # noqa: S608 - the relation is ours (staged or bound values)
        experiment_id=experiment_id,
        day=day,
        **rows.params,
    )


def members(session: Session, experiment_id: int) -> pl.DataFrame:
    """The experiment's cases: ``case_id``, ``arm``, ``since`` (the day each joined)."""
    return SessionBulk(session).fetch(
        """SELECT case_id, arm, joined_on FROM experiment_cases
        WHERE experiment_id = :experiment_id""",
        MEMBERS_SCHEMA,
        experiment_id=experiment_id,
    )


def complaint_holds(session: Session, experiment_id: int, start: date, end: date) -> pl.DataFrame:
    """Complaint holds (投诉调查中) opened in ``[start, end]`` (with a zone margin) on the
    experiment's cases, or on their debtors for every case: ``case_id``, ``at``, ``tz`` (the
    case's creditor's zone, for its business date)."""
    lower = datetime.combine(start, time(0), tzinfo=UTC) - ZONE_MARGIN
    upper = datetime.combine(end + timedelta(days=1), time(0), tzinfo=UTC) + ZONE_MARGIN
    query = (
        select(ExperimentCase.case_id, ContactHold.opened_at, Creditor.timezone)
        .join(Case, Case.id == ExperimentCase.case_id)
        .join(Creditor, Creditor.id == Case.creditor_id)
        .join(
            ContactHold,
            (ContactHold.debtor_id == Case.debtor_id)
            & ((ContactHold.case_id.is_(None)) | (ContactHold.case_id == Case.id)),
        )
        .where(
            ExperimentCase.experiment_id == experiment_id,
            ContactHold.kind == "complaint",
            ContactHold.opened_at >= lower,
            ContactHold.opened_at < upper,
        )
    )
    rows = session.execute(query).all()
    return pl.DataFrame(
        {
            "case_id": [r[0] for r in rows],
            "at": [r[1].astimezone(UTC) for r in rows],
            "tz": [r[2] for r in rows],
        },
        schema=HOLDS_SCHEMA,
    )


def promotion_events(session: Session, experiment_id: int) -> list[Event]:
    """The promotion requests and answers of an experiment, oldest first."""
    return list(
        session.scalars(
            select(Event)
            .where(
                Event.entity_type == "experiment",
                Event.entity_id == experiment_id,
                Event.type.in_(PROMOTION_EVENTS),
            )
            .order_by(Event.at, Event.id)
        )
    )
