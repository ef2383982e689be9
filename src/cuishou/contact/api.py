"""Contact endpoints (催记)."""

from __future__ import annotations

from fastapi import APIRouter, status

from cuishou.contact import service
from cuishou.contact.schemas import (
    ContactIn,
    ContactLogged,
    ContactPointIn,
    ContactPointOut,
    VerifyIn,
)
from cuishou.web.deps import CaseId, NowDep, PointId, PrincipalDep, SessionDep, SettingsDep

router = APIRouter(tags=["contacts"])


@router.post(
    "/cases/{case_id}/contacts",
    response_model=ContactLogged,
    status_code=status.HTTP_201_CREATED,
    summary="Log a contact attempt (记录催记) with its outcome code",
)
def log_contact(
    case_id: CaseId,
    data: ContactIn,
    session: SessionDep,
    principal: PrincipalDep,
    now: NowDep,
    settings: SettingsDep,
) -> ContactLogged:
    return service.log_contact(
        session, principal, case_id, data, now=now, promise_policy=settings.promise_policy
    )


@router.post(
    "/cases/{case_id}/contact-points",
    response_model=ContactPointOut,
    status_code=status.HTTP_201_CREATED,
    summary="Add a contact point (新增联系方式) to the case's debtor, verification new",
    responses={409: {"description": "the debtor already has this kind and value"}},
)
def add_contact_point(
    case_id: CaseId,
    data: ContactPointIn,
    session: SessionDep,
    principal: PrincipalDep,
    now: NowDep,
) -> ContactPointOut:
    return service.add_contact_point(session, principal, case_id, data, now=now)


@router.post(
    "/contact-points/{point_id}/verify",
    response_model=ContactPointOut,
    summary="Review a contact point (核实): verified, or invalid with a reason",
)
def verify_contact_point(
    point_id: PointId,
    data: VerifyIn,
    session: SessionDep,
    principal: PrincipalDep,
    now: NowDep,
) -> ContactPointOut:
    return service.verify_contact_point(session, principal, point_id, data, now=now)


@router.get(
    "/contact-points/{point_id}",
    response_model=ContactPointOut,
    summary="A contact point (masked) with its history",
)
def contact_point(
    point_id: PointId, session: SessionDep, principal: PrincipalDep
) -> ContactPointOut:
    return service.contact_point_detail(session, principal, point_id)
