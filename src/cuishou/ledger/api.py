"""Ledger endpoints: a case's entries (账务流水)."""

from __future__ import annotations

from fastapi import APIRouter

from cuishou.ledger import service
from cuishou.ledger.schemas import AdjustmentIn, EntryOut, LedgerOut
from cuishou.web.deps import CaseId, NowDep, PrincipalDep, SessionDep

router = APIRouter(tags=["ledger"])


@router.get(
    "/cases/{case_id}/ledger",
    response_model=LedgerOut,
    summary="Every change to the case's balances (账务流水), oldest first",
)
def case_ledger(case_id: CaseId, session: SessionDep, principal: PrincipalDep) -> LedgerOut:
    return service.case_ledger(session, principal, case_id)


@router.post(
    "/ledger/adjustments",
    response_model=EntryOut,
    status_code=201,
    summary="A manual adjustment of an account's balances (手工调账, manager), with a reason",
)
def adjust(
    data: AdjustmentIn, session: SessionDep, principal: PrincipalDep, now: NowDep
) -> EntryOut:
    return service.adjust(session, principal, data, now=now)
