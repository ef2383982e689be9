"""Ledger endpoints: a case's entries (账务流水)."""

from __future__ import annotations

from fastapi import APIRouter

from cuishou.ledger import service
from cuishou.ledger.schemas import LedgerOut
from cuishou.web.deps import CaseId, PrincipalDep, SessionDep

router = APIRouter(tags=["ledger"])


@router.get(
    "/cases/{case_id}/ledger",
    response_model=LedgerOut,
    summary="Every change to the case's balances (账务流水), oldest first",
)
def case_ledger(case_id: CaseId, session: SessionDep, principal: PrincipalDep) -> LedgerOut:
    return service.case_ledger(session, principal, case_id)
