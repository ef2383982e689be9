"""Promise endpoints: take a promise; promise and kept rates per collector and team."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, status

from cuishou.promises import service
from cuishou.promises.schemas import PromiseIn, PromiseOut, PromiseStats
from cuishou.web.deps import CaseId, NowDep, PrincipalDep, SessionDep, SettingsDep

router = APIRouter(tags=["promises"])


@router.post(
    "/cases/{case_id}/promises",
    response_model=PromiseOut,
    status_code=status.HTTP_201_CREATED,
    summary="Take a promise to pay (承诺还款): amount in yuan, due within the horizon (30 days)",
)
def create_promise(
    case_id: CaseId,
    data: PromiseIn,
    session: SessionDep,
    principal: PrincipalDep,
    now: NowDep,
    settings: SettingsDep,
) -> PromiseOut:
    return service.create_promise(
        session, principal, case_id, data, now=now, policy=settings.promise_policy
    )


@router.get(
    "/promises/stats",
    response_model=PromiseStats,
    summary="Promise rate and kept rate per collector and team (承诺率/履约率)",
)
def promise_stats(
    session: SessionDep,
    principal: PrincipalDep,
    now: NowDep,
    since: Annotated[
        date | None, Query(description="first day (Beijing), default 30 days ago")
    ] = None,
    until: Annotated[date | None, Query(description="last day (Beijing), default today")] = None,
) -> PromiseStats:
    return service.promise_stats(session, principal, since=since, until=until, now=now)
