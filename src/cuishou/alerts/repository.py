"""Alert queries and writes, always through the case scope filter when a person asks.

Alerts are written only here: one at a time for the online paths (:func:`add_alert`) and in
bulk for the daily cycle (:func:`insert_staged`).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import polars as pl
from sqlalchemy import Select, and_, func, or_, select, update
from sqlalchemy.orm import Session

from cuishou.alerts.rules import ExistingAlert
from cuishou.auth.rules import CaseScope
from cuishou.auth.scope import case_scope_clause
from cuishou.kit.errors import NotFound
from cuishou.store.bulk import Bulk
from cuishou.store.tables import Alert, Case, User

AnySelect = Select[*tuple[Any, ...]]
SYSTEM_ALERT_EVENT = "alert.raised"


def _in_scope(scope: CaseScope, *, models: bool) -> Any:
    """Alerts on cases in ``scope``, and (``models``) the alerts about models."""
    on_cases = and_(Alert.case_id.is_not(None), case_scope_clause(scope))
    return or_(on_cases, Alert.case_id.is_(None)) if models else on_cases


def _scoped(
    query: AnySelect,
    scope: CaseScope,
    *,
    status: str | None,
    kind: str | None,
    models: bool = False,
) -> AnySelect:
    query = query.outerjoin(Case, Case.id == Alert.case_id).where(_in_scope(scope, models=models))
    if status == "unresolved":
        query = query.where(Alert.status != "resolved")
    elif status is not None:
        query = query.where(Alert.status == status)
    if kind is not None:
        query = query.where(Alert.kind == kind)
    return query


def list_alerts(
    session: Session,
    scope: CaseScope,
    *,
    status: str | None,
    kind: str | None,
    limit: int,
    offset: int,
    models: bool = False,
) -> tuple[int, list[tuple[Alert, str | None]]]:
    total = session.scalar(
        _scoped(
            select(func.count()).select_from(Alert), scope, status=status, kind=kind, models=models
        )
    )
    query = (
        _scoped(select(Alert, User.username), scope, status=status, kind=kind, models=models)
        .outerjoin(User, User.id == Alert.resolved_by)
        .order_by(Alert.raised_on.desc(), Alert.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return int(total or 0), [(a, name) for a, name in session.execute(query)]


def get_alert(session: Session, alert_id: int, scope: CaseScope, *, models: bool = False) -> Alert:
    """The alert if its case is within ``scope`` (or, with ``models``, it is about a model);
    otherwise 404."""
    query = (
        select(Alert)
        .outerjoin(Case, Case.id == Alert.case_id)
        .where(Alert.id == alert_id, _in_scope(scope, models=models))
        .with_for_update(of=Alert)
    )
    found = session.scalar(query)
    if found is None:
        raise NotFound(f"alert {alert_id} not found", alert_id=alert_id)
    return found


def set_status(
    session: Session,
    alert_id: int,
    *,
    status: str,
    resolved_at: datetime | None,
    resolved_by: int | None,
) -> None:
    values: dict[str, Any] = {"status": status}
    if resolved_at is not None:
        values.update(resolved_at=resolved_at, resolved_by=resolved_by)
    session.execute(update(Alert).where(Alert.id == alert_id).values(**values))


def username(session: Session, user_id: int | None) -> str | None:
    if user_id is None:
        return None
    return session.scalar(select(User.username).where(User.id == user_id))


def existing_of_kind(session: Session, case_id: int, kind: str) -> list[ExistingAlert]:
    """The case's alerts of ``kind`` that may still block a new one (unresolved or recent)."""
    rows = session.execute(
        select(Alert.kind, Alert.status, Alert.raised_on).where(
            Alert.case_id == case_id, Alert.kind == kind
        )
    ).all()
    return [ExistingAlert(kind=k, status=s, raised_on=d) for k, s, d in rows]


def existing_of_subject(session: Session, subject: str, kind: str) -> list[ExistingAlert]:
    """The alerts of ``kind`` about ``subject`` (a model) that may block a new one."""
    rows = session.execute(
        select(Alert.kind, Alert.status, Alert.raised_on).where(
            Alert.case_id.is_(None), Alert.subject == subject, Alert.kind == kind
        )
    ).all()
    return [ExistingAlert(kind=k, status=s, raised_on=d) for k, s, d in rows]


def add_alert(
    session: Session,
    *,
    case_id: int | None,
    kind: str,
    raised_on: date,
    details: dict[str, Any],
    now: datetime,
    subject: str | None = None,
) -> Alert:
    alert = Alert(
        case_id=case_id,
        subject=subject,
        kind=kind,
        raised_on=raised_on,
        status="open",
        details=details,
        created_at=now,
    )
    session.add(alert)
    session.flush()
    return alert


def insert_staged(
    bulk: Bulk, staged: str, *, raised_on: date, now: datetime, actor: str | None
) -> dict[str, int]:
    """Raise the staged alerts (``case_id, kind, details`` JSON text) in bulk, with one
    ``alert.raised`` event each. The rule of :mod:`cuishou.alerts.rules` is applied again
    here, in SQL, so an alert raised online since the cycle read the store is not doubled.
    ``actor`` ``None``: each staged row names its own in an ``actor`` column."""
    who = "s.actor" if actor is None else "CAST(:actor AS TEXT)"
    bulk.execute(
        f"""CREATE TEMPORARY TABLE new_alerts AS
        SELECT s.case_id, s.kind, s.details, {who} AS actor FROM {staged} s
        WHERE NOT EXISTS (SELECT 1 FROM alerts a WHERE a.case_id = s.case_id
            AND a.kind = s.kind AND (a.status <> 'resolved' OR a.raised_on = :day))""",  # noqa: S608 - staged table name from the caller
        day=raised_on,
        **({} if actor is None else {"actor": actor}),
    )
    counts = bulk.fetch(
        "SELECT kind, COUNT(*) AS n FROM new_alerts GROUP BY kind",
        {"kind": pl.String(), "n": pl.Int64()},
    )
    bulk.execute(
        f"""INSERT INTO alerts (case_id, kind, raised_on, status, details, created_at)
        SELECT n.case_id, n.kind, :day, 'open', {bulk.json("n.details")}, :now
        FROM new_alerts n""",  # noqa: S608 - constant fragments only
        day=raised_on,
        now=now,
    )
    bulk.execute(
        f"""INSERT INTO events (at, actor, type, entity_type, entity_id, case_id, payload)
        SELECT :now, n.actor, '{SYSTEM_ALERT_EVENT}', 'alert', a.id, a.case_id,
            {bulk.json("n.details")}
        FROM new_alerts n
        JOIN alerts a ON a.case_id = n.case_id AND a.kind = n.kind
            AND a.raised_on = :day""",  # noqa: S608 - constant fragments only
        day=raised_on,
        now=now,
    )
    bulk.execute("DROP TABLE new_alerts")
    return {str(kind): int(n) for kind, n in counts.iter_rows()}
