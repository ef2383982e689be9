"""Case queries. Every query that reads cases for a user filters by :func:`case_scope_clause`.

Relationships are not declared; joins are explicit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import polars as pl
from sqlalchemy import (
    Integer,
    Select,
    case,
    column,
    exists,
    func,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session, aliased

from cuishou.auth.rules import CaseScope
from cuishou.auth.scope import case_scope_clause
from cuishou.cases.rules import NO_PLANNED_CALL
from cuishou.kit.errors import NotFound
from cuishou.store.bulk import SessionBulk
from cuishou.store.tables import (
    Account,
    Agency,
    Case,
    CaseLabel,
    Contact,
    ContactPoint,
    Creditor,
    Debtor,
    Event,
    PlannedAction,
    Product,
    Promise,
    Team,
    User,
)

AnySelect = Select[*tuple[Any, ...]]
#: the strategy's planned actions (``planned_actions``) that put a case in the call queue:
#: calls and robot calls the compliance gate allows today (from the window's start or later)
PLANNED_CALLS = ("call", "ivr")
CALLABLE = ("planned", "moved")


def get_case(session: Session, case_id: int, scope: CaseScope, *, for_update: bool = False) -> Case:
    """The case if it exists within ``scope``; otherwise 404 — ids out of scope do not leak."""
    query = select(Case).where(Case.id == case_id, case_scope_clause(scope))
    if for_update:
        query = query.with_for_update()
    found = session.scalar(query)
    if found is None:
        raise NotFound(f"case {case_id} not found", case_id=case_id)
    return found


def case_in_scope(session: Session, case_id: int, scope: CaseScope) -> bool:
    """Whether the case exists within ``scope`` (no error, no lock)."""
    query = select(Case.id).where(Case.id == case_id, case_scope_clause(scope))
    return session.scalar(query) is not None


@dataclass(frozen=True, slots=True)
class CaseFilters:
    bucket: str | None = None
    status: str | None = None
    tier: str | None = None
    assigned_user_id: int | None = None
    unassigned: bool = False
    #: 风险等级 A–D (``cases.risk_grade``)
    grade: str | None = None
    #: a customer label code (客户画像) the case carries now
    label: str | None = None


@dataclass(frozen=True, slots=True)
class CaseRow:
    case: Case
    creditor: str
    debtor_name: str
    assigned_to: str | None
    team: str | None
    agency: str | None


def _summary_query(*extra: Any) -> AnySelect:
    return (
        select(Case, Creditor.code, Debtor.name, User.username, Team.name, Agency.code, *extra)
        .join(Creditor, Creditor.id == Case.creditor_id)
        .join(Debtor, Debtor.id == Case.debtor_id)
        .outerjoin(User, User.id == Case.assigned_user_id)
        .outerjoin(Team, Team.id == Case.team_id)
        .outerjoin(Agency, Agency.id == Case.agency_id)
    )


def _filtered(query: AnySelect, scope: CaseScope, filters: CaseFilters) -> AnySelect:
    query = query.where(case_scope_clause(scope))
    if filters.bucket is not None:
        query = query.where(Case.bucket == filters.bucket)
    if filters.status is not None:
        query = query.where(Case.status == filters.status)
    if filters.tier is not None:
        query = query.where(Case.amount_tier == filters.tier)
    if filters.unassigned:
        query = query.where(Case.assigned_user_id.is_(None))
    elif filters.assigned_user_id is not None:
        query = query.where(Case.assigned_user_id == filters.assigned_user_id)
    if filters.grade is not None:
        query = query.where(Case.risk_grade == filters.grade)
    if filters.label is not None:
        query = query.where(
            exists().where(CaseLabel.case_id == Case.id, CaseLabel.code == filters.label)
        )
    return query


def _count(session: Session, scope: CaseScope, filters: CaseFilters) -> int:
    query = _filtered(select(func.count()).select_from(Case), scope, filters)
    return int(session.scalar(query) or 0)


def _row(values: Sequence[Any]) -> CaseRow:
    return CaseRow(
        case=values[0],
        creditor=values[1],
        debtor_name=values[2],
        assigned_to=values[3],
        team=values[4],
        agency=values[5],
    )


def list_cases(
    session: Session, scope: CaseScope, filters: CaseFilters, *, limit: int, offset: int
) -> tuple[int, list[CaseRow]]:
    query = (
        _filtered(_summary_query(), scope, filters).order_by(Case.id).limit(limit).offset(offset)
    )
    return _count(session, scope, filters), [_row(r) for r in session.execute(query)]


def case_row(session: Session, case_id: int) -> CaseRow:
    return _row(session.execute(_summary_query().where(Case.id == case_id)).one())


@dataclass(frozen=True, slots=True)
class QueueRow:
    row: CaseRow
    next_callback_at: datetime | None
    promise_due_date: date | None
    callback_due: bool
    promise_due: bool


def _queue_order(
    *, today: date, day_end: datetime, bucket_names: Sequence[str]
) -> tuple[Any, Any, list[Any]]:
    """The work queue's order (``cases.rules.queue_priority_key``): the pending callback and
    the earliest open promise of each case, and the ORDER BY terms (one definition for
    :func:`queue` and :func:`queue_heads`)."""
    # the callback the case's latest contact (or contacts, at one instant) scheduled: two
    # probes of the (case_id, at) index, not a search for a later contact per contact
    latest = aliased(Contact)
    last_at = (
        select(func.max(latest.at))
        .where(latest.case_id == Case.id)
        .correlate(Case)
        .scalar_subquery()
    )
    pending_callback = (
        select(func.min(Contact.callback_at))
        .where(
            Contact.case_id == Case.id,
            Contact.at == last_at,
            Contact.callback_at.is_not(None),
        )
        .scalar_subquery()
    )
    open_promise_due = (
        select(func.min(Promise.due_date))
        .where(Promise.case_id == Case.id, Promise.status == "open")
        .scalar_subquery()
    )
    # the strategy's plan for today (strategy.service.planning): its best call priority
    call_priority = func.coalesce(
        select(func.min(PlannedAction.priority))
        .where(
            PlannedAction.case_id == Case.id,
            PlannedAction.day == today,
            PlannedAction.action.in_(PLANNED_CALLS),
            PlannedAction.status.in_(CALLABLE),
        )
        .scalar_subquery(),
        NO_PLANNED_CALL,
    )
    callback_due = case((pending_callback < day_end, 0), else_=1)
    promise_due = case((open_promise_due <= today, 0), else_=1)
    rank = case(
        {name: position for position, name in enumerate(bucket_names)},
        value=Case.bucket,
        else_=-1,
    )
    order = [call_priority, callback_due, promise_due, rank.desc(), Case.due_fen.desc(), Case.id]
    return pending_callback, open_promise_due, order


def queue_heads(
    session: Session,
    user_ids: Sequence[int],
    *,
    today: date,
    day_end: datetime,
    bucket_names: Sequence[str],
    depth: int,
) -> list[tuple[int, int, int]]:
    """``(user_id, position, case_id)``: the first ``depth`` open cases of each user's work
    queue, in :func:`queue`'s order, in one query (``position`` from 0)."""
    _callback, _promise, order = _queue_order(
        today=today, day_end=day_end, bucket_names=bucket_names
    )
    position = func.row_number().over(partition_by=Case.assigned_user_id, order_by=order) - 1
    ranked = (
        select(
            Case.assigned_user_id.label("user_id"),
            position.label("position"),
            Case.id.label("case_id"),
        )
        .where(Case.status == "open", Case.assigned_user_id.in_(list(user_ids)))
        .subquery()
    )
    query = (
        select(ranked.c.user_id, ranked.c.position, ranked.c.case_id)
        .where(ranked.c.position < depth)
        .order_by(ranked.c.user_id, ranked.c.position)
    )
    return [(int(u), int(p), int(c)) for u, p, c in session.execute(query)]


def queue(
    session: Session,
    scope: CaseScope,
    filters: CaseFilters,
    *,
    today: date,
    day_end: datetime,
    bucket_names: Sequence[str],
    limit: int,
    offset: int,
) -> tuple[int, list[QueueRow]]:
    """The work queue (工作队列) ordered as ``cases.rules.queue_priority_key``.

    A callback is pending while no contact was logged on the case after the one that
    scheduled it; it is due when it falls before ``day_end`` (the end of today, local).
    """
    pending_callback, open_promise_due, order = _queue_order(
        today=today, day_end=day_end, bucket_names=bucket_names
    )
    query = (
        _filtered(_summary_query(pending_callback, open_promise_due), scope, filters)
        .order_by(*order)
        .limit(limit)
        .offset(offset)
    )
    rows = []
    for values in session.execute(query):
        callback_at, promise_date = values[6], values[7]
        rows.append(
            QueueRow(
                row=_row(values),
                next_callback_at=callback_at,
                promise_due_date=promise_date,
                callback_due=callback_at is not None and callback_at < day_end,
                promise_due=promise_date is not None and promise_date <= today,
            )
        )
    return _count(session, scope, filters), rows


def case_accounts(session: Session, case_id: int) -> list[Account]:
    return list(
        session.scalars(select(Account).where(Account.case_id == case_id).order_by(Account.id))
    )


def product_names(session: Session, codes: Sequence[str]) -> dict[str, tuple[str, str]]:
    """Product code → (中文名, English name)."""
    rows = session.execute(
        select(Product.code, Product.name_zh, Product.name_en).where(Product.code.in_(codes))
    )
    return {code: (zh, en) for code, zh, en in rows}


def debtor(session: Session, debtor_id: int) -> Debtor:
    found = session.get(Debtor, debtor_id)
    assert found is not None  # cases.debtor_id is a foreign key
    return found


def contact_points(session: Session, debtor_id: int) -> list[ContactPoint]:
    query = (
        select(ContactPoint).where(ContactPoint.debtor_id == debtor_id).order_by(ContactPoint.id)
    )
    return list(session.scalars(query))


def case_events(session: Session, case_id: int, *, limit: int) -> list[Event]:
    query = (
        select(Event)
        .where(Event.case_id == case_id)
        .order_by(Event.at.desc(), Event.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


def user_by_username(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == username))


def assign(session: Session, case_ids: Sequence[int], *, user: User, now: datetime) -> None:
    session.execute(
        update(Case)
        .where(Case.id.in_(list(case_ids)))
        .values(
            assigned_user_id=user.id, team_id=user.team_id, agency_id=user.agency_id, updated_at=now
        )
    )


#: one bulk assignment per row (:func:`assign_staged`)
ASSIGNMENT_SCHEMA: dict[str, pl.DataType] = {
    "case_id": pl.Int64(),
    "user_id": pl.Int64(),
    "team_id": pl.Int64(),
    "agency_id": pl.Int64(),
    "username": pl.String(),
}


def _holders_in_scope(
    session: Session, staged: str, frame: pl.DataFrame, scope: CaseScope
) -> pl.DataFrame:
    """``case_id, from``: who holds each staged case now (its collector's username or
    null); a case of ``frame`` not found in ``scope`` is :class:`NotFound`."""
    ids: Select[int] = select(column("case_id", Integer)).select_from(text(staged))
    found = session.execute(
        select(Case.id, User.username)
        .outerjoin(User, User.id == Case.assigned_user_id)
        .where(Case.id.in_(ids), case_scope_clause(scope))
    ).all()
    before = pl.DataFrame(found, schema={"case_id": pl.Int64, "from": pl.String}, orient="row")
    missing = frame.join(before, on="case_id", how="anti")
    if missing.height:
        case_id = int(missing["case_id"].min())  # type: ignore[arg-type]
        raise NotFound(f"case {case_id} not found", case_id=case_id)
    return before


def assign_staged(
    session: Session, assignments: pl.DataFrame, *, scope: CaseScope, actor: str, now: datetime
) -> int:
    """Give each case of ``assignments`` (:data:`ASSIGNMENT_SCHEMA`, one row per case) to
    its user, with a ``case.assigned`` event each, set-based; a case not found in ``scope``
    is :class:`NotFound` (nothing is written). Returns how many cases were assigned."""
    bulk = SessionBulk(session)
    staged = bulk.stage("assignments", assignments, schema=ASSIGNMENT_SCHEMA, index=["case_id"])
    before = _holders_in_scope(session, staged, assignments, scope)
    bulk.execute(
        f"""UPDATE cases SET assigned_user_id = s.user_id, team_id = s.team_id,
            agency_id = s.agency_id, updated_at = :now
        FROM {staged} s WHERE s.case_id = cases.id""",  # noqa: S608 - staged table name
        now=now,
    )
    events = assignments.join(before, on="case_id").select(
        "case_id",
        pl.struct("from", pl.col("username").alias("to"), "team_id", "agency_id")
        .struct.json_encode()
        .alias("payload"),
    )
    rows = bulk.stage("assigned_events", events)
    bulk.execute(
        f"""INSERT INTO events (at, actor, type, entity_type, entity_id, case_id, payload)
        SELECT :now, :actor, 'case.assigned', 'case', s.case_id, s.case_id,
            {bulk.json("s.payload")}
        FROM {rows} s ORDER BY s.case_id""",  # noqa: S608 - staged table name
        now=now,
        actor=actor,
    )
    return events.height


#: cases returned to a team's queue or handed to an agency (or to nobody), one row per
#: case (:func:`unassign_staged`)
UNASSIGNMENT_SCHEMA: dict[str, pl.DataType] = {
    "case_id": pl.Int64(),
    "team_id": pl.Int64(),
    "agency_id": pl.Int64(),
}


def unassign_staged(
    session: Session, queues: pl.DataFrame, *, scope: CaseScope, actor: str, now: datetime
) -> int:
    """Take each case of ``queues`` (:data:`UNASSIGNMENT_SCHEMA`) from its collector to
    its ``team_id``'s queue and its ``agency_id`` (null: none), with a ``case.assigned``
    event each (``to`` null), set-based; a case not found in ``scope`` is
    :class:`NotFound`."""
    bulk = SessionBulk(session)
    staged = bulk.stage("unassignments", queues, schema=UNASSIGNMENT_SCHEMA, index=["case_id"])
    before = _holders_in_scope(session, staged, queues, scope)
    bulk.execute(
        f"""UPDATE cases SET assigned_user_id = NULL, team_id = s.team_id,
            agency_id = s.agency_id, updated_at = :now
        FROM {staged} s WHERE s.case_id = cases.id""",  # noqa: S608 - staged table name
        now=now,
    )
    events = queues.join(before, on="case_id").select(
        "case_id",
        pl.struct("from", pl.lit(None, dtype=pl.String).alias("to"), "team_id", "agency_id")
        .struct.json_encode()
        .alias("payload"),
    )
    rows = bulk.stage("unassigned_events", events)
    bulk.execute(
        f"""INSERT INTO events (at, actor, type, entity_type, entity_id, case_id, payload)
        SELECT :now, :actor, 'case.assigned', 'case', s.case_id, s.case_id,
            {bulk.json("s.payload")}
        FROM {rows} s ORDER BY s.case_id""",  # noqa: S608 - staged table name
        now=now,
        actor=actor,
    )
    return events.height


def cases_in_scope(session: Session, case_ids: Sequence[int], scope: CaseScope) -> list[Case]:
    query = (
        select(Case).where(Case.id.in_(list(case_ids)), case_scope_clause(scope)).order_by(Case.id)
    )
    return list(session.scalars(query))


def agencies_of(session: Session, case_ids: Sequence[int]) -> dict[int, int | None]:
    """Each case's agency now (``None``: in house)."""
    found: dict[int, int | None] = {}
    ids = sorted(set(case_ids))
    for start in range(0, len(ids), 5000):
        chunk = ids[start : start + 5000]
        rows = session.execute(select(Case.id, Case.agency_id).where(Case.id.in_(chunk)))
        found.update((case_id, agency_id) for case_id, agency_id in rows)
    return found


def usernames(session: Session, user_ids: Sequence[int]) -> dict[int, str]:
    if not user_ids:
        return {}
    rows = session.execute(select(User.id, User.username).where(User.id.in_(list(set(user_ids)))))
    return {user_id: name for user_id, name in rows}


def demand_times(session: Session, case_id: int) -> list[datetime]:
    """When the debt was demanded (催收主张) on this case: a conversation with the debtor,
    a letter or a field visit — each interrupts the limitation period (民法典 Art. 195)."""
    query = select(Contact.at).where(
        Contact.case_id == case_id,
        (Contact.party == "debtor") | Contact.channel.in_(("letter", "visit")),
    )
    return list(session.scalars(query))


@dataclass(frozen=True, slots=True)
class WorkloadRow:
    username: str
    display_name: str
    team: str | None
    open_cases: int
    due_fen: int
    contacts_today: int


def collectors(session: Session, *, team_id: int | None) -> list[tuple[User, str | None]]:
    """Active collectors (of one team, or all when ``team_id`` is None) with their team."""
    query = (
        select(User, Team.name)
        .outerjoin(Team, Team.id == User.team_id)
        .where(User.role == "collector", User.active.is_(True))
        .order_by(User.username)
    )
    if team_id is not None:
        query = query.where(User.team_id == team_id)
    return [(user, team) for user, team in session.execute(query)]


def workload(
    session: Session,
    scope: CaseScope,
    people: Sequence[tuple[User, str | None]],
    *,
    day_start: datetime,
    day_end: datetime,
) -> list[WorkloadRow]:
    """Per collector: open cases in scope, their amount due, contacts logged today."""
    ids = [user.id for user, _team in people]
    if not ids:
        return []
    cases_by_user = {
        user_id: (int(n), int(due or 0))
        for user_id, n, due in session.execute(
            select(Case.assigned_user_id, func.count(), func.sum(Case.due_fen))
            .where(Case.assigned_user_id.in_(ids), Case.status == "open", case_scope_clause(scope))
            .group_by(Case.assigned_user_id)
        )
    }
    contacts_by_user = {
        user_id: int(n)
        for user_id, n in session.execute(
            select(Contact.user_id, func.count())
            .where(Contact.user_id.in_(ids), Contact.at >= day_start, Contact.at < day_end)
            .group_by(Contact.user_id)
        )
    }
    return [
        WorkloadRow(
            username=user.username,
            display_name=user.display_name,
            team=team,
            open_cases=cases_by_user.get(user.id, (0, 0))[0],
            due_fen=cases_by_user.get(user.id, (0, 0))[1],
            contacts_today=contacts_by_user.get(user.id, 0),
        )
        for user, team in people
    ]
