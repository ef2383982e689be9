"""Alert endpoints."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from cuishou.alerts import service
from cuishou.alerts.schemas import AlertAction, AlertOut, AlertPage
from cuishou.kit.text import Text
from cuishou.web.deps import AlertId, NowDep, PrincipalDep, SessionDep

router = APIRouter(tags=["alerts"])


@router.get("/alerts", response_model=AlertPage, summary="Alerts on the cases in my scope (预警)")
def list_alerts(
    session: SessionDep,
    principal: PrincipalDep,
    status: Annotated[
        Literal["open", "acknowledged", "resolved", "unresolved"] | None, Query()
    ] = "unresolved",
    kind: Annotated[Text | None, Query(max_length=32)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> AlertPage:
    return service.list_alerts(
        session, principal, status=status, kind=kind, limit=limit, offset=offset
    )


@router.post(
    "/alerts/{alert_id}/acknowledge",
    response_model=AlertOut,
    summary="Acknowledge an alert (team lead, manager)",
)
def acknowledge(
    alert_id: AlertId,
    session: SessionDep,
    principal: PrincipalDep,
    now: NowDep,
    data: AlertAction | None = None,
) -> AlertOut:
    note = data.note if data else ""
    return service.handle_alert(
        session, principal, alert_id, action="acknowledge", note=note, now=now
    )


@router.post(
    "/alerts/{alert_id}/resolve",
    response_model=AlertOut,
    summary="Resolve an alert (team lead, manager)",
)
def resolve(
    alert_id: AlertId,
    session: SessionDep,
    principal: PrincipalDep,
    now: NowDep,
    data: AlertAction | None = None,
) -> AlertOut:
    note = data.note if data else ""
    return service.handle_alert(session, principal, alert_id, action="resolve", note=note, now=now)
