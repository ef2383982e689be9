"""Case use cases for people: my queue, the case list, the case file, assignment, reveal.

Every read goes through the principal's scope (``auth.rules.case_scope_of``); a case
outside it is "not found". PII is masked; revealing one field is a permission and an
audited ``pii.revealed`` event.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

import polars as pl
from sqlalchemy.orm import Session

from cuishou.accounts.rules import DEFAULT_BUCKETS
from cuishou.audit.events import append_event, append_events
from cuishou.auth.rules import ASSIGNABLE_ROLES, CaseScope, Principal, can, case_scope_of
from cuishou.auth.service import require
from cuishou.cases import repository as repo
from cuishou.cases.schemas import (
    BulkAssignOut,
    CasePage,
    CaseSummary,
    CollectorOut,
    QueueItem,
    QueuePage,
    WorkloadOut,
)
from cuishou.kit.clock import DEFAULT_TZ, zone
from cuishou.kit.errors import InvalidInput, NotFound, PermissionDenied
from cuishou.kit.masking import mask_name
from cuishou.kit.money import format_yuan
from cuishou.scoring import service as scoring
from cuishou.store.tables import Case, User

TIMELINE_LENGTH = 50
CONTACTS_SHOWN = 50


def summary_of(row: repo.CaseRow) -> CaseSummary:
    case = row.case
    return CaseSummary(
        id=case.id,
        creditor=row.creditor,
        debtor_name=mask_name(row.debtor_name),
        status=case.status,
        bucket=case.bucket,
        dpd=case.dpd,
        amount_tier=case.amount_tier,
        total_due=format_yuan(case.due_fen),
        account_count=case.accounts,
        assigned_to=row.assigned_to,
        team=row.team,
        agency=row.agency,
        risk_grade=case.risk_grade,  # A–D, written by scoring (None: not graded)
    )


def filters_for(
    session: Session,
    principal: Principal,
    *,
    bucket: str | None,
    status: str | None,
    tier: str | None,
    assigned: str | None,
    grade: str | None = None,
    label: str | None = None,
) -> repo.CaseFilters:
    """``assigned`` is a username, ``me`` or ``none`` (unassigned); ``grade`` a risk grade
    A–D; ``label`` a customer label code of the label pack (another is a clear error)."""
    codes = [rule.code for rule in scoring.default_label_pack().labels]
    if label is not None and label not in codes:
        raise InvalidInput(
            f"unknown label {label!r}; expected one of {', '.join(codes)}", field="label"
        )
    assigned_user_id = None
    unassigned = assigned == "none"
    if assigned == "me":
        assigned_user_id = principal.user_id
    elif assigned and not unassigned:
        user = repo.user_by_username(session, assigned)
        assigned_user_id = user.id if user is not None else -1
    return repo.CaseFilters(
        bucket=bucket,
        status=status,
        tier=tier,
        assigned_user_id=assigned_user_id,
        unassigned=unassigned,
        grade=grade,
        label=label,
    )


def list_cases(
    session: Session, principal: Principal, filters: repo.CaseFilters, *, limit: int, offset: int
) -> CasePage:
    require(principal, "case.read")
    total, rows = repo.list_cases(
        session, case_scope_of(principal), filters, limit=limit, offset=offset
    )
    return CasePage(total=total, limit=limit, offset=offset, items=[summary_of(r) for r in rows])


def my_queue(
    session: Session,
    principal: Principal,
    filters: repo.CaseFilters,
    *,
    now: datetime,
    limit: int,
    offset: int,
) -> QueuePage:
    """工作队列: callbacks due today, promises due, worse bucket, larger amount due."""
    require(principal, "case.read")
    local = zone(DEFAULT_TZ)
    today = now.astimezone(local).date()
    day_end = datetime.combine(today + timedelta(days=1), time(0), tzinfo=local)
    total, rows = repo.queue(
        session,
        case_scope_of(principal),
        filters,
        today=today,
        day_end=day_end,
        bucket_names=DEFAULT_BUCKETS.names,
        limit=limit,
        offset=offset,
    )
    items = [
        QueueItem(
            **summary_of(r.row).model_dump(),
            callback_due=r.callback_due,
            next_callback_at=r.next_callback_at,
            promise_due=r.promise_due,
            promise_due_date=r.promise_due_date,
        )
        for r in rows
    ]
    return QueuePage(total=total, limit=limit, offset=offset, items=items)


def queue_heads(
    session: Session, collectors: Sequence[Principal], *, now: datetime, depth: int
) -> list[tuple[str, int, int]]:
    """The top ``depth`` open cases of each collector's 工作队列, in :func:`my_queue`'s order,
    in one query: ``(username, position, case_id)`` — for batch work over many queues (the
    simulated workforce). Only collectors: their queue is the cases assigned to them."""
    for principal in collectors:
        require(principal, "case.read")
        if case_scope_of(principal).kind != "user":
            raise InvalidInput(f"{principal.username!r} is not a collector", field="collector")
    local = zone(DEFAULT_TZ)
    today = now.astimezone(local).date()
    day_end = datetime.combine(today + timedelta(days=1), time(0), tzinfo=local)
    names = {principal.user_id: principal.username for principal in collectors}
    rows = repo.queue_heads(
        session, list(names), today=today, day_end=day_end,
        bucket_names=DEFAULT_BUCKETS.names, depth=depth,
    )  # fmt: skip
    return [(names[user_id], position, case_id) for user_id, position, case_id in rows]


def _day_bounds(now: datetime) -> tuple[date, datetime, datetime]:
    """Today (Beijing time) and its start and end as aware datetimes."""
    local = zone(DEFAULT_TZ)
    today = now.astimezone(local).date()
    start = datetime.combine(today, time(0), tzinfo=local)
    return today, start, start + timedelta(days=1)


def _team_of(principal: Principal) -> int | None:
    """A team lead works with their own team; the other roles with every team."""
    if principal.role == "team_lead":
        return principal.team_id if principal.team_id is not None else -1
    return None


def assignable_collectors(session: Session, principal: Principal) -> list[CollectorOut]:
    """Who the principal may give cases to: a team lead their team's collectors."""
    require(principal, "case.assign")
    return [
        CollectorOut(username=user.username, display_name=user.display_name, team=team)
        for user, team in repo.collectors(session, team_id=_team_of(principal))
    ]


def team_workload(session: Session, principal: Principal, *, now: datetime) -> list[WorkloadOut]:
    """Workload per collector (工作量): open cases, amount due and contacts logged today."""
    require(principal, "workload.read")
    _today, start, end = _day_bounds(now)
    people = repo.collectors(session, team_id=_team_of(principal))
    rows = repo.workload(session, case_scope_of(principal), people, day_start=start, day_end=end)
    return [
        WorkloadOut(
            username=r.username,
            display_name=r.display_name,
            team=r.team,
            open_cases=r.open_cases,
            amount_due=format_yuan(r.due_fen),
            contacts_today=r.contacts_today,
        )
        for r in rows
    ]


def assign_cases(
    session: Session,
    principal: Principal,
    case_ids: list[int],
    *,
    collector: str,
    now: datetime,
) -> BulkAssignOut:
    """分案: give cases to a collector. A team lead assigns within their own team.

    The case takes the collector's team and agency, so an agency collector's cases are
    visible to that agency and an internal collector's are recalled from any agency.
    """
    require(principal, "case.assign")
    wanted = sorted(set(case_ids))
    found = repo.cases_in_scope(session, wanted, case_scope_of(principal))
    missing = sorted(set(wanted) - {c.id for c in found})
    if missing:
        raise NotFound(f"case {missing[0]} not found", case_id=missing[0])
    user = _assignee(session, principal, collector)
    before = {c.id: c.assigned_user_id for c in found}
    previous = repo.usernames(session, [u for u in before.values() if u is not None])
    repo.assign(session, wanted, user=user, now=now)
    append_events(
        session,
        (
            {
                "at": now,
                "actor": principal.username,
                "type": "case.assigned",
                "entity_type": "case",
                "entity_id": case.id,
                "case_id": case.id,
                "payload": {
                    "from": previous.get(before[case.id] or 0),
                    "to": user.username,
                    "team_id": user.team_id,
                    "agency_id": user.agency_id,
                },
            }
            for case in found
        ),
    )
    return BulkAssignOut(collector=user.username, assigned=len(found))


def _assignee(session: Session, principal: Principal, collector: str) -> User:
    """The collector cases may be given to by ``principal`` (else a clear error)."""
    user = repo.user_by_username(session, collector)
    if user is None or not user.active:
        raise InvalidInput(f"no active user {collector!r}", field="collector")
    if user.role not in ASSIGNABLE_ROLES:
        raise InvalidInput(
            f"{collector!r} is a {user.role}; cases go to collectors", field="collector"
        )
    if principal.role == "team_lead" and user.team_id != principal.team_id:
        raise PermissionDenied("a team lead assigns cases only to collectors of their own team")
    return user


def assign_many(
    session: Session,
    principal: Principal,
    assignments: Mapping[str, Sequence[int]],
    *,
    now: datetime,
) -> int:
    """分案 in bulk: each collector (by username) gets their cases — what
    :func:`assign_cases` does once per collector (the same checks, the same update and
    ``case.assigned`` events), set-based for many thousands of cases. All or nothing:
    a case out of scope or given twice is an error and nothing is assigned."""
    require(principal, "case.assign")
    parts: list[pl.DataFrame] = []
    for collector, case_ids in assignments.items():
        if not case_ids:
            continue
        user = _assignee(session, principal, collector)
        parts.append(
            pl.DataFrame({"case_id": case_ids}, schema={"case_id": pl.Int64()})
            .unique()
            .with_columns(
                user_id=pl.lit(user.id, pl.Int64()),
                team_id=pl.lit(user.team_id, pl.Int64()),
                agency_id=pl.lit(user.agency_id, pl.Int64()),
                username=pl.lit(user.username, pl.String()),
            )
        )
    if not parts:
        return 0
    frame = pl.concat(parts).select(*repo.ASSIGNMENT_SCHEMA).sort("case_id")
    given_twice = frame.filter(pl.col("case_id").is_duplicated())
    if given_twice.height:
        case_id = int(given_twice["case_id"][0])
        raise InvalidInput(f"case {case_id} is given to two collectors", field="case_ids")
    return repo.assign_staged(
        session, frame, scope=case_scope_of(principal), actor=principal.username, now=now
    )


def unassign_many(
    session: Session,
    principal: Principal,
    queues: Mapping[int, int | None],
    *,
    now: datetime,
) -> int:
    """撤回分案 in bulk: each case (id → team id or None) leaves its collector for that
    team's queue — the inverse of :func:`assign_many` (undoing an allocation batch needs
    it), with the same permission, scope and ``case.assigned`` events (``to`` null)."""
    require(principal, "case.assign")
    if not queues:
        return 0
    frame = pl.DataFrame(
        {"case_id": list(queues), "team_id": list(queues.values()), "agency_id": None},
        schema=repo.UNASSIGNMENT_SCHEMA,
    ).sort("case_id")
    return repo.unassign_staged(
        session, frame, scope=case_scope_of(principal), actor=principal.username, now=now
    )


def move_to_agency(
    session: Session,
    case_ids: Sequence[int],
    *,
    to_agency: int | None,
    from_agency: int | None,
    actor: str,
    now: datetime,
) -> list[int]:
    """委外 and 退案: the cases of ``case_ids`` held by ``from_agency`` (``None``: in house)
    leave their collector and team for ``to_agency`` (``None``: back to in-house
    allocation, no collector and no team), with a ``case.assigned`` event each naming the
    agency. A case no longer with ``from_agency`` (given to someone by hand meanwhile) is
    left where it is. The caller (the agency domain) has checked who may place and recall.
    Returns the ids moved."""
    held = repo.agencies_of(session, case_ids)
    moved = sorted(case_id for case_id, agency in held.items() if agency == from_agency)
    if not moved:
        return []
    frame = pl.DataFrame(
        {"case_id": moved, "team_id": [None] * len(moved), "agency_id": [to_agency] * len(moved)},
        schema=repo.UNASSIGNMENT_SCHEMA,
    )
    repo.unassign_staged(session, frame, scope=CaseScope("all"), actor=actor, now=now)
    return moved


def assign_case(
    session: Session, principal: Principal, case_id: int, *, collector: str, now: datetime
) -> CaseSummary:
    assign_cases(session, principal, [case_id], collector=collector, now=now)
    return summary_of(repo.case_row(session, case_id))


def require_reveal(principal: Principal, what: str = "personal data") -> None:
    """The one rule for unmasking personal data (查看明文): the ``pii.reveal`` permission.
    Every path that shows a name, ID number or phone unmasked asks here first."""
    if not can(principal.role, "pii.reveal"):
        raise PermissionDenied(
            f"a {principal.role} may not see {what} unmasked (pii.reveal); "
            "masked copies are all this role is shown",
            permission="pii.reveal",
        )


def record_reveal(
    session: Session,
    principal: Principal,
    *,
    case_id: int,
    now: datetime,
    granted_by: str | None = None,
    **shown: Any,
) -> None:
    """The one audit event of an unmasking: ``pii.revealed`` on the case, with what was
    shown (``shown``: the field, and the reason when one was given). ``granted_by`` names
    the narrower rule under which a principal without ``pii.reveal`` may see it (a field
    collector the address of the visit they are scheduled on); it is kept in the event."""
    if granted_by is None:
        require_reveal(principal)
    else:
        shown = {**shown, "granted_by": granted_by}
    append_event(
        session,
        at=now,
        actor=principal.username,
        type="pii.revealed",
        entity_type="case",
        entity_id=case_id,
        case_id=case_id,
        payload=shown,
    )


def case_in_scope(session: Session, case_id: int, scope: CaseScope) -> bool:
    """Whether a case exists within ``scope`` — for other domains deciding what to show."""
    return repo.case_in_scope(session, case_id, scope)


def case_for(
    session: Session, principal: Principal, case_id: int, *, for_update: bool = False
) -> Case:
    """The case, if it is within the principal's scope (404 otherwise: ids do not leak);
    locked for the transaction when ``for_update``. Other domains fetch cases this way."""
    return repo.get_case(session, case_id, case_scope_of(principal), for_update=for_update)


def case_granted(session: Session, case_id: int, *, for_update: bool = False) -> Case:
    """The case, for a caller whose own rule grants access to it beyond the principal's case
    scope (a field visit's scheduled collectors record it, whoever the case is assigned
    to: ``visits``). The caller decides who may; this only fetches (404 if it is missing)."""
    return repo.get_case(session, case_id, CaseScope("all"), for_update=for_update)


def case_in_scope_of(session: Session, principal: Principal, case_id: int) -> bool:
    return repo.case_in_scope(session, case_id, case_scope_of(principal))


def usernames(session: Session, user_ids: list[int]) -> dict[int, str]:
    """Usernames by user id (for records that name who did something)."""
    return repo.usernames(session, user_ids)
