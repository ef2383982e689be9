"""Payment endpoints: post once (201, or 200 with the original posting), read, reverse."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response, status

from cuishou.repayment import service
from cuishou.repayment.schemas import PaymentIn, PaymentOut, ReversalIn
from cuishou.web.deps import MAX_ID, NowDep, PrincipalDep, SessionDep

router = APIRouter(tags=["payments"])

PaymentId = Annotated[int, Path(ge=1, le=MAX_ID, description="payment id")]


@router.post(
    "/payments",
    response_model=PaymentOut,
    status_code=status.HTTP_201_CREATED,
    summary="Post a payment once by its reference (201; 200 with the original when seen before)",
)
def post_payment(
    data: PaymentIn,
    response: Response,
    session: SessionDep,
    principal: PrincipalDep,
    now: NowDep,
) -> PaymentOut:
    out = service.post_payment(session, principal, data, now=now)
    if out.replayed:
        response.status_code = status.HTTP_200_OK
    return out


@router.get("/payments/{payment_id}", response_model=PaymentOut, summary="One payment posting")
def get_payment(payment_id: PaymentId, session: SessionDep, principal: PrincipalDep) -> PaymentOut:
    return service.get_payment(session, principal, payment_id)


@router.post(
    "/payments/{payment_id}/reversal",
    response_model=PaymentOut,
    summary="Reverse a posting (冲正), with a reason; balances restored (manager)",
)
def reverse_payment(
    payment_id: PaymentId,
    data: ReversalIn,
    session: SessionDep,
    principal: PrincipalDep,
    now: NowDep,
) -> PaymentOut:
    return service.reverse_payment(session, principal, payment_id, data, now=now)
