"""QA endpoints (质检): items to review, transcripts."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, status

from cuishou.quality import service
from cuishou.quality.schemas import QaItemOut, QaPage, ReviewIn, TranscriptIn, TranscriptOut
from cuishou.web.deps import MAX_ID, NowDep, PrincipalDep, SessionDep

router = APIRouter(tags=["quality"])
ItemId = Annotated[int, Path(ge=1, le=MAX_ID, description="QA item id")]
ContactId = Annotated[int, Path(ge=1, le=MAX_ID, description="contact id")]


@router.get("/qa/items", response_model=QaPage, summary="QA items to review (质检事项)")
def list_items(
    session: SessionDep,
    principal: PrincipalDep,
    status_: Literal["open", "confirmed", "dismissed"] | None = Query(
        default="open", alias="status"
    ),
    limit: int = Query(default=50, ge=1, le=500),
    offset: int = Query(default=0, ge=0, le=10_000_000),
) -> QaPage:
    return service.list_items(session, principal, status=status_, limit=limit, offset=offset)


@router.post(
    "/qa/items/{item_id}/review",
    response_model=QaItemOut,
    summary="Confirm or dismiss a QA item, with a note",
)
def review_item(
    item_id: ItemId, data: ReviewIn, session: SessionDep, principal: PrincipalDep, now: NowDep
) -> QaItemOut:
    return service.review_item(session, principal, item_id, data, now=now)


@router.post(
    "/contacts/{contact_id}/transcript",
    response_model=TranscriptOut,
    status_code=status.HTTP_201_CREATED,
    summary="Attach a call transcript (录音转写) to a contact; it is screened",
)
def add_transcript(
    contact_id: ContactId,
    data: TranscriptIn,
    session: SessionDep,
    principal: PrincipalDep,
    now: NowDep,
) -> TranscriptOut:
    return service.add_transcript(session, principal, contact_id, data, now=now)
