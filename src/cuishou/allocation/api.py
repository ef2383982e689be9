"""Allocation endpoints (案件分配): preview, apply and undo a batch.

Thin: :mod:`cuishou.allocation.service` checks that the caller is a team lead or manager,
decides and acts; the settings are the deployment's (``allocation.yaml``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from cuishou.allocation import service
from cuishou.allocation.config import default_settings
from cuishou.allocation.schemas import AllocateIn, AllocationOut, UndoOut
from cuishou.web.deps import NowDep, PrincipalDep, SessionDep

router = APIRouter(tags=["allocation"])

BatchId = Annotated[int, Path(ge=1, le=2**53, description="the allocation batch's id")]


@router.post(
    "/allocation/preview",
    response_model=AllocationOut,
    summary="What the day's allocation would do (team lead: own team; manager); writes nothing",
)
def preview(data: AllocateIn, session: SessionDep, principal: PrincipalDep) -> AllocationOut:
    service.require_allocator(principal)
    return service.preview(session, principal, data.as_of, default_settings())


@router.post(
    "/allocation",
    response_model=AllocationOut,
    summary="Apply the day's allocation (案件分配) as a batch (team lead: own team; manager)",
)
def apply(
    data: AllocateIn, session: SessionDep, principal: PrincipalDep, now: NowDep
) -> AllocationOut:
    return service.apply(session, principal, data.as_of, default_settings(), now=now)


@router.post(
    "/allocation/{batch_id}/undo",
    response_model=UndoOut,
    summary="Undo an allocation batch; cases worked since are kept and listed",
)
def undo(batch_id: BatchId, session: SessionDep, principal: PrincipalDep, now: NowDep) -> UndoOut:
    return service.undo(session, principal, batch_id, now=now)
