"""Compliance endpoints (合规): the gate, contact holds."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Response, status

from cuishou.compliance import service
from cuishou.compliance.report import compliance_report, report_csv
from cuishou.compliance.schemas import (
    CheckIn,
    CheckOut,
    HoldIn,
    HoldOut,
    OverrideIn,
    OverrideOut,
    ReportOut,
    ScreenIn,
    ScreenOut,
)
from cuishou.kit.clock import DEFAULT_TZ, zone
from cuishou.web.deps import MAX_ID, CaseId, NowDep, PrincipalDep, SessionDep

router = APIRouter(tags=["compliance"])
HoldId = Annotated[int, Path(ge=1, le=MAX_ID, description="contact hold id")]


@router.post(
    "/compliance/check",
    response_model=CheckOut,
    summary="Ask the compliance gate before contacting (合规校验): allowed, rules, next time",
)
def check(data: CheckIn, session: SessionDep, principal: PrincipalDep, now: NowDep) -> CheckOut:
    return service.gate(session, principal, data, now=now)


@router.post(
    "/compliance/screen",
    response_model=ScreenOut,
    summary="Screen a text for banned content (内容筛查): threats, insults, false identity …",
)
def screen(data: ScreenIn, principal: PrincipalDep) -> ScreenOut:
    return service.screen_text(principal, data)


@router.post(
    "/compliance/overrides",
    response_model=OverrideOut,
    status_code=status.HTTP_201_CREATED,
    summary="Approve an exception to an overridable rule (合规例外), with a reason",
)
def approve_override(
    data: OverrideIn, session: SessionDep, principal: PrincipalDep, now: NowDep
) -> OverrideOut:
    return service.approve_override(session, principal, data, now=now)


@router.get(
    "/compliance/report",
    response_model=ReportOut,
    summary="Blocked attempts, violations, overrides and findings per day (合规报表); "
    "format=csv exports it",
    responses={200: {"content": {"text/csv": {}}}},
)
def report(
    session: SessionDep,
    principal: PrincipalDep,
    now: NowDep,
    date_from: date | None = Query(default=None, description="first day (default: 30 days ago)"),
    date_to: date | None = Query(default=None, description="last day (default: today)"),
    format: Literal["json", "csv"] = Query(default="json"),
) -> ReportOut | Response:
    today = now.astimezone(zone(DEFAULT_TZ)).date()
    result = compliance_report(
        session, principal, date_from=date_from, date_to=date_to, today=today
    )
    if format == "csv":
        name = f"compliance-{result.date_from}-{result.date_to}.csv"
        return Response(
            report_csv(result),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    return result


@router.get(
    "/cases/{case_id}/holds",
    response_model=list[HoldOut],
    summary="Disputes, complaints, cease requests and opt-outs on the case (暂停催收)",
)
def list_holds(case_id: CaseId, session: SessionDep, principal: PrincipalDep) -> list[HoldOut]:
    return service.list_holds(session, principal, case_id)


@router.post(
    "/cases/{case_id}/holds",
    response_model=HoldOut,
    status_code=status.HTTP_201_CREATED,
    summary="Record a dispute, complaint, cease request or opt-out: contact stops",
)
def open_hold(
    case_id: CaseId, data: HoldIn, session: SessionDep, principal: PrincipalDep, now: NowDep
) -> HoldOut:
    return service.open_hold(session, principal, case_id, data, now=now)


@router.post(
    "/cases/{case_id}/holds/{hold_id}/lift",
    response_model=HoldOut,
    summary="Lift a hold (dispute verified, complaint closed): contact may resume",
)
def lift_hold(
    case_id: CaseId, hold_id: HoldId, session: SessionDep, principal: PrincipalDep, now: NowDep
) -> HoldOut:
    return service.lift_hold(session, principal, case_id, hold_id, now=now)
