"""The alert list (预警) with acknowledge and resolve, through ``alerts.service``."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from cuishou.alerts import service
from cuishou.alerts.schemas import AlertAction
from cuishou.web.deps import AlertId, NowDep, SessionDep
from cuishou.web.pages import FormDep, PageDep, redirect, render, validated

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
AlertStatus = Literal["open", "acknowledged", "resolved", "unresolved"]


@router.get("/alerts")
def alerts_page(
    page: PageDep,
    session: SessionDep,
    status: Annotated[AlertStatus, Query()] = "unresolved",
    p: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    alerts = service.list_alerts(
        session, page.user, status=status, kind=None, limit=PAGE_SIZE, offset=(p - 1) * PAGE_SIZE
    )
    return render(
        page,
        "alerts.html",
        alerts=alerts,
        status=status,
        statuses=["unresolved", "open", "acknowledged", "resolved"],
        can_handle=page.can("alert.handle") or page.can("model.promote"),
        page_no=p,
        pages=max(1, (alerts.total + PAGE_SIZE - 1) // PAGE_SIZE),
    )


def _handle(
    page: PageDep, form: FormDep, session: SessionDep, now: NowDep, alert_id: int, action: str
) -> Response:
    note = validated(AlertAction, {"note": str(form.get("note") or "")}).note
    service.handle_alert(session, page.user, alert_id, action=action, note=note, now=now)
    back = str(form.get("status") or "unresolved")
    return redirect(f"/alerts?status={back if back.isalpha() else 'unresolved'}")


@router.post("/alerts/{alert_id}/acknowledge")
def acknowledge(
    alert_id: AlertId, page: PageDep, form: FormDep, session: SessionDep, now: NowDep
) -> Response:
    return _handle(page, form, session, now, alert_id, "acknowledge")


@router.post("/alerts/{alert_id}/resolve")
def resolve(
    alert_id: AlertId, page: PageDep, form: FormDep, session: SessionDep, now: NowDep
) -> Response:
    return _handle(page, form, session, now, alert_id, "resolve")
