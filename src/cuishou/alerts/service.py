"""Alerts (预警): raised only here, listed within scope, acknowledged, resolved — each an event.

Every domain that has a reason to alert a team lead (a contact, the compliance gate, the daily
cycle) asks this domain: :func:`raise_alert` online, :func:`raise_staged` for the cycle's bulk
write. Both apply :mod:`cuishou.alerts.rules` on the creditor's business day.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from cuishou.alerts import repository as repo
from cuishou.alerts.rules import (
    EXPERIMENT_ALERT_KINDS,
    MODEL_ALERT_KINDS,
    alert_label,
    may_raise,
    next_alert_status,
)
from cuishou.alerts.schemas import AlertOut, AlertPage
from cuishou.audit.events import append_event
from cuishou.auth.rules import Principal, can, case_scope_of
from cuishou.auth.service import require
from cuishou.creditors.service import business_day
from cuishou.kit.errors import Conflict
from cuishou.store.bulk import Bulk
from cuishou.store.tables import Alert

ALERT_RAISED = "alert.raised"


def alert_out(alert: Alert, resolved_by: str | None) -> AlertOut:
    zh, en = alert_label(alert.kind)
    return AlertOut(
        id=alert.id,
        case_id=alert.case_id,
        subject=alert.subject,
        kind=alert.kind,
        kind_zh=zh,
        kind_en=en,
        raised_on=alert.raised_on,
        status=alert.status,
        details=dict(alert.details or {}),
        created_at=alert.created_at,
        resolved_at=alert.resolved_at,
        resolved_by=resolved_by,
    )


def list_alerts(
    session: Session,
    principal: Principal,
    *,
    status: str | None,
    kind: str | None,
    limit: int,
    offset: int,
) -> AlertPage:
    require(principal, "alert.read")
    total, rows = repo.list_alerts(
        session,
        case_scope_of(principal),
        status=status,
        kind=kind,
        limit=limit,
        offset=offset,
        models=can(principal.role, "model.read"),
    )
    return AlertPage(
        total=total,
        limit=limit,
        offset=offset,
        items=[alert_out(alert, name) for alert, name in rows],
    )


def handle_alert(
    session: Session,
    principal: Principal,
    alert_id: int,
    *,
    action: str,
    note: str,
    now: datetime,
) -> AlertOut:
    """``acknowledge`` (已知悉) or ``resolve`` (已处理) an alert on a case in scope, or (for
    those who may promote models) an alert about a model."""
    models = can(principal.role, "model.promote")
    if not models:
        require(principal, "alert.handle")
    alert = repo.get_alert(session, alert_id, case_scope_of(principal), models=models)
    if alert.case_id is not None:  # the strategist sees the cases' alerts, handles none
        require(principal, "alert.handle")
    new_status = next_alert_status(alert.status, action)
    if new_status is None:
        raise Conflict(
            f"alert {alert_id} is {alert.status}; it cannot be {action}d", status=alert.status
        )
    resolving = new_status == "resolved"
    repo.set_status(
        session,
        alert.id,
        status=new_status,
        resolved_at=now if resolving else None,
        resolved_by=principal.user_id if resolving else None,
    )
    append_event(
        session,
        at=now,
        actor=principal.username,
        type=f"alert.{'resolved' if resolving else 'acknowledged'}",
        entity_type="alert",
        entity_id=alert.id,
        case_id=alert.case_id,
        payload={"kind": alert.kind, "from": alert.status, "to": new_status, "note": note},
    )
    session.refresh(alert)
    return alert_out(alert, repo.username(session, alert.resolved_by))


def raise_alert(
    session: Session,
    *,
    case_id: int,
    creditor_id: int,
    kind: str,
    details: dict[str, Any],
    actor: str,
    now: datetime,
) -> Alert | None:
    """Raise an alert of ``kind`` on a case, on the creditor's business day, unless one of
    that kind is unresolved there or was raised today (then ``None``: nothing is written)."""
    today = business_day(session, creditor_id, now)
    if not may_raise(kind, repo.existing_of_kind(session, case_id, kind), today):
        return None
    alert = repo.add_alert(
        session, case_id=case_id, kind=kind, raised_on=today, details=details, now=now
    )
    _raised(session, alert, actor=actor, now=now, payload=details)
    return alert


def _raised(
    session: Session, alert: Alert, *, actor: str, now: datetime, payload: dict[str, Any]
) -> None:
    """The ``alert.raised`` event of an alert raised online."""
    append_event(
        session,
        at=now,
        actor=actor,
        type=ALERT_RAISED,
        entity_type="alert",
        entity_id=alert.id,
        case_id=alert.case_id,
        payload=payload,
    )


def raise_model_alert(
    session: Session,
    *,
    subject: str,
    kind: str,
    today: date,
    details: dict[str, Any],
    actor: str,
    now: datetime,
) -> Alert | None:
    """Raise an alert of ``kind`` about a model (``subject``: its version) on ``today``,
    under the same rule as a case's: not while one is unresolved, not twice a day."""
    if kind not in MODEL_ALERT_KINDS:
        raise ValueError(f"{kind} is not an alert about a model")
    return _raise_about(
        session, subject=subject, kind=kind, today=today, details=details, actor=actor, now=now
    )


def raise_experiment_alert(
    session: Session,
    *,
    experiment: str,
    kind: str,
    today: date,
    details: dict[str, Any],
    actor: str,
    now: datetime,
) -> Alert | None:
    """Raise an alert of ``kind`` about a champion/challenger experiment (subject
    ``experiment:<name>``), under the same rule as a model's; the strategy manager sees and
    handles it with the model alerts."""
    if kind not in EXPERIMENT_ALERT_KINDS:
        raise ValueError(f"{kind} is not an alert about an experiment")
    return _raise_about(
        session, subject=f"experiment:{experiment}", kind=kind, today=today, details=details,
        actor=actor, now=now,
    )  # fmt: skip


def _raise_about(
    session: Session,
    *,
    subject: str,
    kind: str,
    today: date,
    details: dict[str, Any],
    actor: str,
    now: datetime,
) -> Alert | None:
    """An alert about ``subject`` (no case): not while one is unresolved, not twice a day."""
    if not may_raise(kind, repo.existing_of_subject(session, subject, kind), today):
        return None
    alert = repo.add_alert(
        session,
        case_id=None,
        subject=subject,
        kind=kind,
        raised_on=today,
        details={"subject": subject, **details},
        now=now,
    )
    _raised(session, alert, actor=actor, now=now, payload={"subject": subject, "kind": kind,
                                                          **details})  # fmt: skip
    return alert


def raise_staged(
    bulk: Bulk, staged: str, *, business_date: date, now: datetime, actor: str | None
) -> dict[str, int]:
    """Raise the alerts staged in ``staged`` (``case_id, kind, details``) in bulk on
    ``business_date`` (the daily cycle's, or an import's); how many of each kind were
    raised. ``actor`` ``None``: each staged row names who raised it (an ``actor`` column,
    e.g. the collector of each imported call). Rows repeating a case and kind must have
    been reduced to one by the caller (:func:`cuishou.alerts.rules.raisable`)."""
    return repo.insert_staged(bulk, staged, raised_on=business_date, now=now, actor=actor)
