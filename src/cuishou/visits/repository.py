"""Field-visit queries (外访). Writes only the visit tables; contacts, promises and
agreements are written by their own services."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from cuishou.store.tables import (
    Case,
    ContactPoint,
    Debtor,
    Team,
    User,
    Visit,
    VisitCollector,
    VisitFile,
)
from cuishou.visits.rules import Collector

OPEN = ("requested", "scheduled")


def add_visit(session: Session, **values: Any) -> Visit:
    visit = Visit(**values)
    session.add(visit)
    session.flush()
    return visit


def get_visit(session: Session, visit_id: int, *, for_update: bool = False) -> Visit | None:
    query = select(Visit).where(Visit.id == visit_id)
    if for_update:
        query = query.with_for_update()
    return session.scalar(query)


def open_visit_of(session: Session, case_id: int) -> Visit | None:
    query = select(Visit).where(Visit.case_id == case_id, Visit.status.in_(OPEN))
    return session.scalars(query.order_by(Visit.id)).first()


def planned_visit(session: Session, case_id: int, plan_day: date) -> Visit | None:
    query = select(Visit).where(
        Visit.case_id == case_id, Visit.plan_day == plan_day, Visit.source == "strategy"
    )
    return session.scalar(query)


def collector_ids(session: Session, visit_id: int) -> list[int]:
    query = select(VisitCollector.user_id).where(VisitCollector.visit_id == visit_id)
    return sorted(session.scalars(query))


def collector_names(session: Session, visit_ids: Sequence[int]) -> dict[int, list[str]]:
    names: dict[int, list[str]] = {v: [] for v in visit_ids}
    if not visit_ids:
        return names
    query = (
        select(VisitCollector.visit_id, User.username)
        .join(User, User.id == VisitCollector.user_id)
        .where(VisitCollector.visit_id.in_(visit_ids))
        .order_by(VisitCollector.visit_id, User.username)
    )
    for visit_id, username in session.execute(query):
        names[visit_id].append(username)
    return names


def set_collectors(session: Session, visit_id: int, user_ids: Sequence[int]) -> None:
    session.execute(delete(VisitCollector).where(VisitCollector.visit_id == visit_id))
    session.add_all(VisitCollector(visit_id=visit_id, user_id=u) for u in user_ids)
    session.flush()


def collectors_named(session: Session, usernames: Sequence[str]) -> list[Collector]:
    """The named users as facts (an unknown name has ``user_id=None``), in the given order."""
    rows = session.execute(
        select(User.username, User.id, User.role, User.team_id, User.active).where(
            User.username.in_(list(usernames))
        )
    ).all()
    found = {r.username.lower(): r for r in rows}
    facts = []
    for name in usernames:
        r = found.get(name.lower())
        facts.append(
            Collector(name, None)
            if r is None
            else Collector(r.username, r.id, r.role, r.team_id, bool(r.active))
        )
    return facts


def team_collectors(session: Session, team_id: int | None) -> list[str]:
    """The active collectors of a team (every team's when ``team_id`` is None)."""
    query = select(User.username).where(User.role == "collector", User.active.is_(True))
    if team_id is not None:
        query = query.where(User.team_id == team_id)
    return list(session.scalars(query.order_by(User.username)))


def debtor_zone(session: Session, case_id: int) -> str:
    query = (
        select(Debtor.timezone).join(Case, Case.debtor_id == Debtor.id).where(Case.id == case_id)
    )
    return session.scalar(query) or "Asia/Shanghai"


def address_points(session: Session, debtor_id: int) -> list[ContactPoint]:
    query = select(ContactPoint).where(
        ContactPoint.debtor_id == debtor_id,
        ContactPoint.kind == "address",
        ContactPoint.status == "active",
    )
    return list(session.scalars(query.order_by(ContactPoint.owner, ContactPoint.id)))


def point(session: Session, point_id: int) -> ContactPoint | None:
    return session.get(ContactPoint, point_id)


def points(session: Session, ids: Sequence[int]) -> dict[int, ContactPoint]:
    if not ids:
        return {}
    rows = session.scalars(select(ContactPoint).where(ContactPoint.id.in_(list(ids))))
    return {p.id: p for p in rows}


def team_names(session: Session, ids: Sequence[int | None]) -> dict[int, str]:
    wanted = [i for i in ids if i is not None]
    if not wanted:
        return {}
    rows = session.execute(select(Team.id, Team.name).where(Team.id.in_(wanted)))
    return {team_id: name for team_id, name in rows}


def list_visits(
    session: Session,
    *,
    team_id: int | None,
    user_id: int | None,
    statuses: Sequence[str],
    day: date | None,
    case_id: int | None,
    limit: int,
) -> list[Visit]:
    """Visits by status/day/case; ``team_id``: the team's only; ``user_id``: those the user
    goes on or whose case is assigned to them."""
    query = select(Visit)
    if statuses:
        query = query.where(Visit.status.in_(list(statuses)))
    if day is not None:
        query = query.where(Visit.day == day)
    if case_id is not None:
        query = query.where(Visit.case_id == case_id)
    if team_id is not None:
        query = query.where(Visit.team_id == team_id)
    if user_id is not None:
        goes = select(VisitCollector.visit_id).where(VisitCollector.user_id == user_id)
        assigned = select(Case.id).where(Case.assigned_user_id == user_id)
        query = query.where(or_(Visit.id.in_(goes), Visit.case_id.in_(assigned)))
    order = (Visit.day, Visit.team_id, Visit.route_position, Visit.window_start, Visit.id)
    return list(session.scalars(query.order_by(*order).limit(limit)))


def day_visits(session: Session, day: date, team_id: int | None) -> list[Visit]:
    """The day's scheduled (and done) visits, by team, in scheduling order."""
    query = select(Visit).where(Visit.day == day, Visit.status.in_(("scheduled", "done")))
    if team_id is not None:
        query = query.where(Visit.team_id == team_id)
    return list(session.scalars(query.order_by(Visit.team_id, Visit.window_start, Visit.id)))


def add_file(session: Session, **values: Any) -> VisitFile:
    row = VisitFile(**values)
    session.add(row)
    session.flush()
    return row


def files_of(session: Session, visit_ids: Sequence[int]) -> dict[int, list[VisitFile]]:
    out: dict[int, list[VisitFile]] = {v: [] for v in visit_ids}
    if not visit_ids:
        return out
    query = select(VisitFile).where(VisitFile.visit_id.in_(list(visit_ids)))
    for row in session.scalars(query.order_by(VisitFile.id)):
        out[row.visit_id].append(row)
    return out


def get_file(session: Session, file_id: int) -> VisitFile | None:
    return session.get(VisitFile, file_id)


def touch(session: Session, visit: Visit, *, now: datetime, **values: Any) -> None:
    for key, value in values.items():
        setattr(visit, key, value)
    visit.updated_at = now
    session.flush()
