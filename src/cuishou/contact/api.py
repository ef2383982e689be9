"""Contact endpoints (催记)."""

from __future__ import annotations

from fastapi import APIRouter, status

from cuishou.contact import service
from cuishou.contact.schemas import ContactIn, ContactLogged
from cuishou.web.deps import CaseId, NowDep, PrincipalDep, SessionDep, SettingsDep

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
