"""Promise queries."""

from __future__ import annotations

from datetime import date, datetime

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from cuishou.store.bulk import Bulk
from cuishou.store.tables import Promise, Task, Team, User


def add_promise(
    session: Session,
    *,
    case_id: int,
    contact_id: int | None,
    amount_fen: int,
    due_date: date,
    created_by: int,
    now: datetime,
) -> Promise:
    promise = Promise(
        case_id=case_id,
        contact_id=contact_id,
        amount_fen=amount_fen,
        due_date=due_date,
        status="open",
        created_by=created_by,
        created_at=now,
    )
    session.add(promise)
    session.flush()
    return promise


def case_promises(session: Session, case_id: int) -> list[tuple[Promise, str]]:
    query = (
        select(Promise, User.username)
        .join(User, User.id == Promise.created_by)
        .where(Promise.case_id == case_id)
        .order_by(Promise.created_at.desc(), Promise.id.desc())
    )
    return [(p, name) for p, name in session.execute(query)]


def add_reminder(
    session: Session,
    *,
    case_id: int,
    promise_id: int,
    due_on: date,
    assigned_user_id: int | None,
    now: datetime,
) -> int:
    task = Task(
        case_id=case_id,
        kind="promise_reminder",
        promise_id=promise_id,
        due_on=due_on,
        assigned_user_id=assigned_user_id,
        status="pending",
        created_at=now,
    )
    session.add(task)
    session.flush()
    return task.id


def user_teams(session: Session, *, team_id: int | None) -> dict[str, str | None]:
    """Every user's team name by username (of one team when ``team_id`` is given)."""
    users = select(User.username, Team.name).outerjoin(Team, Team.id == User.team_id)
    if team_id is not None:
        users = users.where(User.team_id == team_id)
    return {username: team for username, team in session.execute(users)}


#: promises taken in bulk (a dialer's result file), with their reserved ids
PROMISE_SCHEMA: dict[str, pl.DataType] = {
    "id": pl.Int64(),
    "task_id": pl.Int64(),
    "case_id": pl.Int64(),
    "contact_id": pl.Int64(),
    "amount_fen": pl.Int64(),
    "due_date": pl.Date(),
    "remind_on": pl.Date(),
    "created_by": pl.Int64(),
    "assigned_user_id": pl.Int64(),
    "actor": pl.String(),
    "payload": pl.String(),
}


def insert_promises(bulk: Bulk, promises: pl.DataFrame, *, now: datetime) -> None:
    """Insert promises, their reminder tasks and ``promise.created`` events (as
    :func:`add_promise` + :func:`add_reminder` + the service's event, for many)."""
    staged = bulk.stage("new_promises", promises, schema=PROMISE_SCHEMA)
    bulk.execute(
        f"""INSERT INTO promises (id, case_id, contact_id, amount_fen, due_date, status,
            created_by, created_at, paid_fen, judged_on)
        SELECT s.id, s.case_id, s.contact_id, s.amount_fen, s.due_date, 'open', s.created_by,
            :now, 0, NULL FROM {staged} s""",  # noqa: S608 - staged table name
        now=now,
    )
    bulk.execute(
        f"""INSERT INTO tasks (id, case_id, kind, promise_id, due_on, assigned_user_id, status,
            created_at)
        SELECT s.task_id, s.case_id, 'promise_reminder', s.id, s.remind_on,
            s.assigned_user_id, 'pending', :now FROM {staged} s""",  # noqa: S608 - staged table name
        now=now,
    )
    bulk.execute(
        f"""INSERT INTO events (at, actor, type, entity_type, entity_id, case_id, payload)
        SELECT :now, s.actor, 'promise.created', 'promise', s.id, s.case_id,
            {bulk.json("s.payload")} FROM {staged} s""",  # noqa: S608 - staged table name
        now=now,
    )
