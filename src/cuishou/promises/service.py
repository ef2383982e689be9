"""Taking a promise to pay (承诺还款): validate, store, append ``promise.created``."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import polars as pl
from sqlalchemy.orm import Session

from cuishou.audit.events import append_event
from cuishou.auth.rules import Principal
from cuishou.auth.service import require
from cuishou.cases.service import case_for
from cuishou.kit.clock import DEFAULT_TZ, zone
from cuishou.kit.errors import InvalidInput, PermissionDenied
from cuishou.kit.money import format_yuan, format_yuan_expr, parse_yuan
from cuishou.kpis.rules import rounded
from cuishou.kpis.service import slice_counts
from cuishou.promises import repository as repo
from cuishou.promises.rules import (
    DEFAULT_POLICY,
    PromisePolicy,
    promise_problem,
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


def _rate(value: float | None) -> str | None:
    """A KPI rate as this API has always shown it: a decimal string with four places."""
    shown = rounded(value)
    return None if shown is None else f"{shown:.4f}"


def _row(values: dict[str, Any], team: str | None) -> PromiseRateRow:
    return PromiseRateRow(
        name=values["key"],
        team=team,
        rpc_contacts=values["right_party"],
        promises=values["promises"],
        promise_rate=_rate(values["promise_rate"]),
        judged=values["judged"],
        kept=values["kept"],
        partly_kept=values["partly_kept"],
        broken=values["broken"],
        open=values["promises"] - values["judged"],
        kept_rate=_rate(values["kept_rate"]),
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
    promises taken in the period, per collector and per team who did the work. A team lead
    sees their team's collectors.

    The figures are the KPI layer's (``kpis.service.slice_counts``, one definition each:
    ``docs/kpis.md``); this report keeps its own access rule (by the user's team, over every
    case) and shape. Days are business days in each creditor's zone."""
    require(principal, "promise.stats")
    for name, day in (("since", since), ("until", until)):
        if day is not None and not STATS_FIRST_DAY <= day <= STATS_LAST_DAY:
            raise InvalidInput(
                f"{name}: must be between {STATS_FIRST_DAY} and {STATS_LAST_DAY}", field=name
            )
    last = until or now.astimezone(zone(DEFAULT_TZ)).date()
    first = since or last - timedelta(days=29)
    if first > last:
        raise InvalidInput("since must not be after until", field="since")
    team_id: int | None = None
    if principal.role == "team_lead":
        if principal.team_id is None:
            raise PermissionDenied("a team lead without a team has no statistics to see")
        team_id = principal.team_id
    teams_of = repo.user_teams(session, team_id=team_id)
    counts = slice_counts(session, first, last, ("collector", "team"))
    worked = (pl.col("right_party") > 0) | (pl.col("promises") > 0)
    collectors = [
        _row(values, teams_of[values["key"]])
        for values in counts["collector"].filter(worked).sort("key").iter_rows(named=True)
        if values["key"] in teams_of
    ]
    shown = {team for team in teams_of.values() if team is not None}
    return PromiseStats(
        since=first,
        until=last,
        collectors=collectors,
        teams=[
            _row(values, values["key"])
            for values in counts["team"].filter(worked).sort("key").iter_rows(named=True)
            if values["key"] in shown
        ],
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
