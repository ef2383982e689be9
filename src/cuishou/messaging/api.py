"""Message endpoints (多渠道触达): send one, read one, delivery receipts, jobs."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Request, status
from fastapi.responses import JSONResponse

from cuishou.kit.errors import NotAuthenticated
from cuishou.messaging import service
from cuishou.messaging.gateway_settings import MessagingSettings, settings_from_env
from cuishou.messaging.rules import signature_ok
from cuishou.messaging.schemas import BlockedOut, JobOut, MessageIn, MessageOut, ReceiptOut
from cuishou.web.deps import MAX_ID, NowDep, PrincipalDep, SessionDep

router = APIRouter(tags=["messages"])

MessageId = Annotated[int, Path(ge=1, le=MAX_ID, description="message id")]


async def _raw_body(request: Request) -> bytes:
    """The exact bytes the gateway signed (read in the event loop)."""
    return await request.body()


def messaging_settings() -> MessagingSettings:
    """The gateways' settings (the environment; tests override this dependency)."""
    return settings_from_env()


MessagingDep = Annotated[MessagingSettings, Depends(messaging_settings)]


@router.post(
    "/messages",
    response_model=MessageOut,
    status_code=status.HTTP_201_CREATED,
    responses={403: {"model": BlockedOut, "description": "the compliance gate refused it"}},
    summary="Send a message (发送短信/邮件/微信/信函): gated now, queued for its gateway",
)
def create_message(
    data: MessageIn,
    session: SessionDep,
    principal: PrincipalDep,
    now: NowDep,
    settings: MessagingDep,
) -> Any:
    created = service.create_message(session, principal, data, settings, now=now)
    if created.allowed:
        return created.message
    body = BlockedOut(
        message=(
            "the compliance gate does not allow this message now: "
            + ", ".join(f"{r.id} {r.reason_en}" for r in created.rules)
        ),
        id=created.message.id,
        rules=created.rules,
        next_allowed_at=created.next_allowed_at,
    )
    # the blocked message is kept (its rules and next allowed time): 403 without a rollback
    return JSONResponse(status_code=403, content=body.model_dump(mode="json"))


@router.get("/messages/jobs", response_model=list[JobOut], summary="Send runs (发送批次)")
def jobs(session: SessionDep, principal: PrincipalDep) -> list[JobOut]:
    return service.list_jobs(session, principal)


@router.get(
    "/messages/dead-letters",
    response_model=list[MessageOut],
    summary="Messages given up on (死信) and those a dead run left unknown",
)
def dead_letters(session: SessionDep, principal: PrincipalDep) -> list[MessageOut]:
    return service.dead_letters(session, principal)


@router.get("/messages/{message_id}", response_model=MessageOut, summary="One message")
def get_message(message_id: MessageId, session: SessionDep, principal: PrincipalDep) -> MessageOut:
    return service.get_message(session, principal, message_id)


@router.post(
    "/messages/receipts",
    response_model=ReceiptOut,
    summary="Delivery receipts and replies from the gateway (回执), signed "
    "X-Cuishou-Signature = hex HMAC-SHA256(body, CUISHOU_RECEIPT_SECRET)",
)
def receipts(
    body: Annotated[bytes, Depends(_raw_body)],
    session: SessionDep,
    now: NowDep,
    settings: MessagingDep,
    signature: Annotated[str, Header(alias="X-Cuishou-Signature")] = "",
) -> ReceiptOut:
    if not signature_ok(body, signature, settings.receipt_secret):
        raise NotAuthenticated("the receipt's signature does not match")
    return service.apply_receipts(session, service.parse_callback(body), now=now)
