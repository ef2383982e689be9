"""Taking a promise to pay (承诺还款): validate, store, append ``promise.created``."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import polars as pl
from sqlalchemy.orm import Session

from cuishou.audit.events import append_event
from cuishou.auth.rules import Principal
from cuishou.auth.service import require
from cuishou.cases.service import case_for
from cuishou.kit.clock import DEFAULT_TZ, zone
from cuishou.kit.errors import InvalidInput, PermissionDenied
from cuishou.kit.money import format_yuan, format_yuan_expr, parse_yuan
from cuishou.promises import repository as repo
from cuishou.promises.rules import (
    DEFAULT_POLICY,
    PromisePolicy,
    promise_problem,
    rate,
    reminder_date,
    reminder_date_expr,
)
from cuishou.promises.schemas import PromiseIn, PromiseOut, PromiseRateRow, PromiseStats
from cuishou.store.bulk import Bulk
from cuishou.store.tables import Case, Promise


def promise_out(promise: Promise, created_by: str) -> PromiseOut:
    return PromiseOut(
        id=promise.id,
        case_id=promise.case_id,
        amount=format_yuan(promise.amount_fen),
        due_date=promise.due_date,
        status=promise.status,
        created_by=created_by,
        created_at=promise.created_at,
    )


def take_promise(
    session: Session,
    principal: Principal,
    case: Case,
    data: PromiseIn,
    *,
    now: datetime,
    contact_id: int | None = None,
    policy: PromisePolicy = DEFAULT_POLICY,
) -> PromiseOut:
    """Record a promise on a case already fetched within the principal's scope, with a
    reminder task for the case's collector the day before it falls due."""
    amount_fen = parse_yuan(data.amount, field="amount")
    today = now.astimezone(zone(DEFAULT_TZ)).date()
    problem = promise_problem(
        amount_fen=amount_fen,
        due_date=data.due_date,
        today=today,
        case_due_fen=case.due_fen,
        case_status=case.status,
        policy=policy,
    )
    if problem:
        raise InvalidInput(problem)
    promise = repo.add_promise(
        session,
        case_id=case.id,
        contact_id=contact_id,
        amount_fen=amount_fen,
        due_date=data.due_date,
        created_by=principal.user_id,
        now=now,
    )
    remind_on = reminder_date(due_date=data.due_date, today=today)
    task_id = repo.add_reminder(
        session,
        case_id=case.id,
        promise_id=promise.id,
        due_on=remind_on,
        assigned_user_id=case.assigned_user_id,
        now=now,
    )
    append_event(
        session,
        at=now,
        actor=principal.username,
        type="promise.created",
        entity_type="promise",
        entity_id=promise.id,
        case_id=case.id,
        payload={
            "amount": format_yuan(amount_fen),
            "due_date": data.due_date.isoformat(),
            "contact_id": contact_id,
            "reminder_task_id": task_id,
            "reminder_on": remind_on.isoformat(),
        },
    )
    return promise_out(promise, principal.username)


def create_promise(
    session: Session,
    principal: Principal,
    case_id: int,
    data: PromiseIn,
    *,
    now: datetime,
    policy: PromisePolicy = DEFAULT_POLICY,
) -> PromiseOut:
    require(principal, "promise.create")
    case = case_for(session, principal, case_id)
    return take_promise(session, principal, case, data, now=now, policy=policy)


STATS_FIRST_DAY = date(2000, 1, 1)
STATS_LAST_DAY = date(2099, 12, 31)


def _row(name: str, team: str | None, rpc: int, by_status: dict[str, int]) -> PromiseRateRow:
    promises = sum(by_status.values())
    judged = sum(by_status.get(s, 0) for s in ("kept", "partly_kept", "broken"))
    return PromiseRateRow(
        name=name,
        team=team,
        rpc_contacts=rpc,
        promises=promises,
        promise_rate=rate(promises, rpc),
        judged=judged,
        kept=by_status.get("kept", 0),
        partly_kept=by_status.get("partly_kept", 0),
        broken=by_status.get("broken", 0),
        open=by_status.get("open", 0),
        kept_rate=rate(by_status.get("kept", 0), judged),
    )


def promise_stats(
    session: Session,
    principal: Principal,
    *,
    since: date | None,
    until: date | None,
    now: datetime,
) -> PromiseStats:
    """承诺率 (promises per right-party contact) and 履约率 (kept per judged promise) for
    promises taken in the period, per collector and per team. A team lead sees their team."""
    require(principal, "promise.stats")
    for name, day in (("since", since), ("until", until)):
        if day is not None and not STATS_FIRST_DAY <= day <= STATS_LAST_DAY:
            raise InvalidInput(
                f"{name}: must be between {STATS_FIRST_DAY} and {STATS_LAST_DAY}", field=name
            )
    local = zone(DEFAULT_TZ)
    last = until or now.astimezone(local).date()
    first = since or last - timedelta(days=29)
    if first > last:
        raise InvalidInput("since must not be after until", field="since")
    team_id: int | None = None
    if principal.role == "team_lead":
        if principal.team_id is None:
            raise PermissionDenied("a team lead without a team has no statistics to see")
        team_id = principal.team_id
    counts = repo.collector_counts(
        session,
        start=datetime.combine(first, time(0), tzinfo=local),
        end=datetime.combine(last + timedelta(days=1), time(0), tzinfo=local),
        team_id=team_id,
    )
    collectors = [_row(c.username, c.team, c.rpc_contacts, c.by_status) for c in counts]
    teams: dict[str, tuple[int, dict[str, int]]] = {}
    for c in counts:
        if c.team is None:
            continue
        rpc, by_status = teams.get(c.team, (0, {}))
        merged = dict(by_status)
        for status, n in c.by_status.items():
            merged[status] = merged.get(status, 0) + n
        teams[c.team] = (rpc + c.rpc_contacts, merged)
    return PromiseStats(
        since=first,
        until=last,
        collectors=collectors,
        teams=[_row(name, name, rpc, s) for name, (rpc, s) in sorted(teams.items())],
    )


def case_promises(session: Session, case_id: int) -> list[PromiseOut]:
    """The case's promises, newest first (for the case file)."""
    return [promise_out(p, name) for p, name in repo.case_promises(session, case_id)]


def take_promises(bulk: Bulk, promises: pl.DataFrame, *, now: datetime) -> int:
    """Record many promises already checked by :func:`cuishou.promises.rules.promise_problem`
    (``case_id, contact_id, amount_fen, due_date, today, created_by, actor,
    assigned_user_id``), each with its reminder task and ``promise.created`` event — what
    :func:`take_promise` writes for one."""
    if promises.height == 0:
        return 0
    remind = reminder_date_expr(pl.col("due_date"), pl.col("today"))
    framed = promises.with_columns(
        bulk.reserve_ids("promises", promises.height).alias("id"),
        bulk.reserve_ids("tasks", promises.height).alias("task_id"),
        remind.alias("remind_on"),
    )
    framed = framed.with_columns(
        pl.struct(
            format_yuan_expr(pl.col("amount_fen")).alias("amount"),
            pl.col("due_date").dt.strftime("%Y-%m-%d").alias("due_date"),
            pl.col("contact_id"),
            pl.col("task_id").alias("reminder_task_id"),
            pl.col("remind_on").dt.strftime("%Y-%m-%d").alias("reminder_on"),
        )
        .struct.json_encode()
        .alias("payload")
    )
    repo.insert_promises(bulk, framed, now=now)
    return framed.height
