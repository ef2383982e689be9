"""Alert queries, always through the case scope filter."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Session

from cuishou.auth.rules import CaseScope
from cuishou.cases.repository import case_scope_clause
from cuishou.kit.errors import NotFound
from cuishou.store.tables import Alert, Case, User

AnySelect = Select[*tuple[Any, ...]]


def _scoped(
    query: AnySelect, scope: CaseScope, *, status: str | None, kind: str | None
) -> AnySelect:
    query = query.join(Case, Case.id == Alert.case_id).where(case_scope_clause(scope))
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
) -> tuple[int, list[tuple[Alert, str | None]]]:
    total = session.scalar(
        _scoped(select(func.count()).select_from(Alert), scope, status=status, kind=kind)
    )
    query = (
        _scoped(select(Alert, User.username), scope, status=status, kind=kind)
        .outerjoin(User, User.id == Alert.resolved_by)
        .order_by(Alert.raised_on.desc(), Alert.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return int(total or 0), [(a, name) for a, name in session.execute(query)]


def get_alert(session: Session, alert_id: int, scope: CaseScope) -> Alert:
    """The alert if its case is within ``scope``; otherwise 404."""
    query = (
        select(Alert)
        .join(Case, Case.id == Alert.case_id)
        .where(Alert.id == alert_id, case_scope_clause(scope))
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
