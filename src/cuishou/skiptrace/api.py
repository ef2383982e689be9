"""Skip-tracing endpoints (失联修复)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from cuishou.skiptrace import service
from cuishou.skiptrace.schemas import QueueItem
from cuishou.web.deps import PrincipalDep, SessionDep

router = APIRouter(tags=["skiptrace"])


@router.get(
    "/skiptrace/queue",
    response_model=list[QueueItem],
    summary="The repair queue (失联修复队列): open cases labelled unreachable, in scope",
)
def repair_queue(
    session: SessionDep,
    principal: PrincipalDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[QueueItem]:
    return service.repair_queue(session, principal, limit=limit)
