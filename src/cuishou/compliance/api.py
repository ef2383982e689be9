"""Compliance endpoints (合规): the gate, contact holds."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, status

from cuishou.compliance import service
from cuishou.compliance.schemas import CheckIn, CheckOut, HoldIn, HoldOut
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
