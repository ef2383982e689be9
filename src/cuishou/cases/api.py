"""Case endpoints: queue, list, detail, assignment, reveal."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from cuishou.cases import service
from cuishou.cases.schemas import (
    AssignIn,
    BulkAssignIn,
    BulkAssignOut,
    CaseDetail,
    CasePage,
    CaseSummary,
    QueuePage,
    RevealIn,
    RevealOut,
)
from cuishou.cases.service import detail as case_file
from cuishou.kit.text import Text
from cuishou.web.deps import CaseId, NowDep, PrincipalDep, SessionDep

router = APIRouter(tags=["cases"])

Bucket = Annotated[Text | None, Query(max_length=8, description="M0 … M7+")]
Status = Annotated[Literal["open", "closed"] | None, Query()]
Tier = Annotated[Literal["large", "medium", "small"] | None, Query()]
Assigned = Annotated[
    Text | None, Query(max_length=64, description="a username, 'me' or 'none' (unassigned)")
]
Grade = Annotated[Literal["A", "B", "C", "D"] | None, Query(description="风险等级 A (best) … D")]
Label = Annotated[
    Text | None,
    Query(max_length=32, description="a customer label (客户画像): hardship, dispute, evading …"),
]
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0, le=10_000_000)]


@router.get("/queue", response_model=QueuePage, summary="My work queue (工作队列), best first")
def queue(
    session: SessionDep,
    principal: PrincipalDep,
    now: NowDep,
    bucket: Bucket = None,
    status: Status = "open",
    grade: Grade = None,
    label: Label = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> QueuePage:
    filters = service.filters_for(
        session, principal, bucket=bucket, status=status, tier=None, assigned=None,
        grade=grade, label=label,
    )  # fmt: skip
    return service.my_queue(session, principal, filters, now=now, limit=limit, offset=offset)


@router.get("/cases", response_model=CasePage, summary="Cases in my scope, filtered and paged")
def list_cases(
    session: SessionDep,
    principal: PrincipalDep,
    bucket: Bucket = None,
    status: Status = None,
    tier: Tier = None,
    assigned: Assigned = None,
    grade: Grade = None,
    label: Label = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> CasePage:
    filters = service.filters_for(
        session, principal, bucket=bucket, status=status, tier=tier, assigned=assigned,
        grade=grade, label=label,
    )  # fmt: skip
    return service.list_cases(session, principal, filters, limit=limit, offset=offset)


@router.get("/cases/{case_id}", response_model=CaseDetail, summary="The case file, PII masked")
def case_detail(case_id: CaseId, session: SessionDep, principal: PrincipalDep) -> CaseDetail:
    return case_file.case_detail(session, principal, case_id)


@router.post(
    "/cases/assign",
    response_model=BulkAssignOut,
    summary="Assign many cases to a collector (team lead: own team; manager; admin)",
)
def assign_many(
    data: BulkAssignIn, session: SessionDep, principal: PrincipalDep, now: NowDep
) -> BulkAssignOut:
    return service.assign_cases(
        session, principal, data.case_ids, collector=data.collector, now=now
    )


@router.post(
    "/cases/{case_id}/assign",
    response_model=CaseSummary,
    summary="Assign a case to a collector (team lead: own team; manager; admin)",
)
def assign(
    case_id: CaseId, data: AssignIn, session: SessionDep, principal: PrincipalDep, now: NowDep
) -> CaseSummary:
    return service.assign_case(session, principal, case_id, collector=data.collector, now=now)


@router.post(
    "/cases/{case_id}/reveal",
    response_model=RevealOut,
    summary="Reveal one unmasked PII field (audited; not collectors or agency users)",
)
def reveal(
    case_id: CaseId, data: RevealIn, session: SessionDep, principal: PrincipalDep, now: NowDep
) -> RevealOut:
    return case_file.reveal(session, principal, case_id, data, now=now)
