"""Promise endpoints."""

from __future__ import annotations

from fastapi import APIRouter, status

from cuishou.promises import service
from cuishou.promises.schemas import PromiseIn, PromiseOut
from cuishou.web.deps import CaseId, NowDep, PrincipalDep, SessionDep

router = APIRouter(tags=["promises"])


@router.post(
    "/cases/{case_id}/promises",
    response_model=PromiseOut,
    status_code=status.HTTP_201_CREATED,
    summary="Take a promise to pay (承诺还款): amount in yuan, due within 30 days",
)
def create_promise(
    case_id: CaseId, data: PromiseIn, session: SessionDep, principal: PrincipalDep, now: NowDep
) -> PromiseOut:
    return service.create_promise(session, principal, case_id, data, now=now)
