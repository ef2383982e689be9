"""Agreement endpoints: quote, request (or amend), inbox, approve/reject, withdraw, detail,
document (PDF, masked; the full copy for ``pii.reveal``, audited)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from cuishou.agreements import service
from cuishou.agreements.schemas import (
    AgreementIn,
    AgreementOut,
    DecisionIn,
    InboxOut,
    QuoteOut,
    WithdrawIn,
)
from cuishou.kit.text import Text
from cuishou.web.deps import AgreementId, CaseId, NowDep, PrincipalDep, SessionDep

router = APIRouter(tags=["agreements"])


@router.post(
    "/cases/{case_id}/agreements/quote",
    response_model=QuoteOut,
    summary="Quote an agreement (试算): schedule, waiver (this and cumulative) and approval "
    "level; nothing saved",
)
def quote(
    case_id: CaseId, data: AgreementIn, session: SessionDep, principal: PrincipalDep, now: NowDep
) -> QuoteOut:
    return service.quote_agreement(session, principal, case_id, data, now=now)


@router.post(
    "/cases/{case_id}/agreements",
    response_model=AgreementOut,
    status_code=status.HTTP_201_CREATED,
    summary="Request approval of an agreement (还款协议申请); while a plan runs, only an "
    "amendment of it (amends)",
    responses={409: {"description": "the case has an active agreement"}},
)
def request(
    case_id: CaseId, data: AgreementIn, session: SessionDep, principal: PrincipalDep, now: NowDep
) -> AgreementOut:
    return service.request_agreement(session, principal, case_id, data, now=now)


@router.get(
    "/agreements/inbox",
    response_model=InboxOut,
    summary="Agreements waiting for my approval (待审批): in scope, my level, not mine",
)
def inbox(session: SessionDep, principal: PrincipalDep) -> InboxOut:
    return service.inbox(session, principal)


@router.get("/agreements/{agreement_id}", response_model=AgreementOut, summary="One agreement")
def get_agreement(
    agreement_id: AgreementId, session: SessionDep, principal: PrincipalDep
) -> AgreementOut:
    return service.get_agreement(session, principal, agreement_id)


@router.post(
    "/agreements/{agreement_id}/approve",
    response_model=AgreementOut,
    summary="Approve with a reason (审批通过); the PDF is made",
)
def approve(
    agreement_id: AgreementId,
    data: DecisionIn,
    session: SessionDep,
    principal: PrincipalDep,
    now: NowDep,
) -> AgreementOut:
    return service.decide(session, principal, agreement_id, data, approve=True, now=now)


@router.post(
    "/agreements/{agreement_id}/reject",
    response_model=AgreementOut,
    summary="Reject with a reason (驳回)",
)
def reject(
    agreement_id: AgreementId,
    data: DecisionIn,
    session: SessionDep,
    principal: PrincipalDep,
    now: NowDep,
) -> AgreementOut:
    return service.decide(session, principal, agreement_id, data, approve=False, now=now)


@router.post(
    "/agreements/{agreement_id}/withdraw",
    response_model=AgreementOut,
    summary="Withdraw a request not yet decided (撤回): its requester or an approver",
)
def withdraw(
    agreement_id: AgreementId,
    data: WithdrawIn,
    session: SessionDep,
    principal: PrincipalDep,
    now: NowDep,
) -> AgreementOut:
    return service.withdraw(session, principal, agreement_id, data, now=now)


@router.get(
    "/agreements/{agreement_id}/document",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
    summary="The approved agreement as a PDF in Chinese (还款协议书): the debtor's name and ID "
    "number masked; reveal=true (pii.reveal, with a reason, audited) for the full copy",
)
def document(
    agreement_id: AgreementId,
    session: SessionDep,
    principal: PrincipalDep,
    now: NowDep,
    reveal: Annotated[
        bool, Query(description="the full copy as issued (pii.reveal; a pii.revealed event)")
    ] = False,
    reason: Annotated[
        Text | None, Query(max_length=200, description="why the full copy (with reveal)")
    ] = None,
) -> Response:
    pdf = service.document(session, principal, agreement_id, reveal=reveal, reason=reason, now=now)
    name = f"agreement-{agreement_id}{'' if reveal else '-masked'}.pdf"
    return Response(
        content=pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )
