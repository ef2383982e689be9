"""What the daily planning step (``strategy/service/planning.py``) asks of experiments: the
running ones (:func:`running_experiments`) and recording the arms it assigned
(:func:`record_arms`: a case keeps the arm it joined with)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import polars as pl
from sqlalchemy.orm import Session

from cuishou.audit.events import SYSTEM, append_event
from cuishou.experiments import repository as repo
from cuishou.experiments.rules import (
    ARMS,
    ENTITY,
)
from cuishou.kit.clock import CHINA_TZ
from cuishou.kit.errors import Conflict, InvalidInput


@dataclass(frozen=True, slots=True)
class ExperimentPlan:
    """A running experiment as the daily planning step needs it."""

    id: int
    name: str
    salt: str
    share_pct: float
    champion_id: int
    challenger_id: int
    #: the champion's segments whose cases take part (empty: every case)
    segments: tuple[str, ...]


def running_experiments(session: Session, day: date) -> list[ExperimentPlan]:
    """The experiments running on ``day`` (started on or before it), oldest first."""
    return [
        ExperimentPlan(
            id=e.id,
            name=e.name,
            salt=e.salt,
            share_pct=e.share_pct,
            champion_id=e.champion_id,
            challenger_id=e.challenger_id,
            segments=tuple(e.segments or ()),
        )
        for e in repo.running(session, day)
    ]


def record_arms(session: Session, experiment_id: int, arms: pl.DataFrame, day: date) -> int:
    """Record the arm (``champion``/``challenger``) of each case in ``arms`` (``case_id``,
    ``arm``) that is not yet in the experiment, as joining on ``day``; a case already in it
    keeps its arm (even if ``arms`` says otherwise). One set-based insert and, when cases
    joined, one ``experiment.cases_joined`` event. How many cases joined."""
    experiment = repo.get(session, experiment_id)
    if experiment.status != "running":
        raise Conflict(f"experiment {experiment.name} is {experiment.status}, not running")
    unknown = set(arms.get_column("arm").unique().to_list()) - set(ARMS)
    if unknown:
        raise InvalidInput(f"arm must be champion or challenger, not {sorted(unknown)}")
    joined = repo.insert_arms(session, experiment_id, arms.select("case_id", "arm"), day)
    if joined:
        append_event(
            session, at=_noon(day), actor=SYSTEM, type="experiment.cases_joined",
            entity_type=ENTITY, entity_id=experiment_id,
            payload={"day": day.isoformat(), "joined": joined},
        )  # fmt: skip
    return joined


def _noon(day: date) -> datetime:
    """The time stamped on an event the planning of ``day`` writes (it has no clock)."""
    return datetime(day.year, day.month, day.day, 12, tzinfo=CHINA_TZ)


def experiment_arms(session: Session, experiment_id: int) -> pl.DataFrame:
    """``case_id, arm`` of every case already in the experiment (a case keeps its arm)."""
    return repo.members(session, experiment_id).select("case_id", "arm")
