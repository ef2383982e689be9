"""Field-visit endpoints (外访) under ``/api/v1/visits``."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel

from cuishou.visits import service
from cuishou.visits.config import files_dir
from cuishou.visits.schemas import (
    CancelIn,
    FileOut,
    ImportedOut,
    RecordIn,
    RecordOut,
    ScheduleIn,
    TeamRouteOut,
    VisitAddressOut,
    VisitOut,
    VisitRequestIn,
)
from cuishou.visits.storage import MAX_BYTES
from cuishou.web.deps import MAX_ID, NowDep, PrincipalDep, SessionDep

router = APIRouter(tags=["visits"])
VisitId = Annotated[int, Path(ge=1, le=MAX_ID, description="visit id")]
FileId = Annotated[int, Path(ge=1, le=MAX_ID, description="file id")]
Status = Literal["requested", "scheduled", "done", "cancelled"]


class DayIn(BaseModel):
    day: date


@router.get("/visits", response_model=list[VisitOut], summary="Visits the caller may see")
def list_visits(
    session: SessionDep,
    principal: PrincipalDep,
    status: Annotated[list[Status] | None, Query()] = None,
    day: date | None = None,
    case_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[VisitOut]:
    return service.list_visits(
        session, principal, statuses=status or (), day=day, case_id=case_id, limit=limit
    )


@router.post("/visits", status_code=201, response_model=VisitOut, summary="Request a visit")
def request_visit(
    data: VisitRequestIn, session: SessionDep, principal: PrincipalDep, now: NowDep
) -> VisitOut:
    return service.request_visit(session, principal, data, now=now)


@router.post(
    "/visits/import-plan",
    response_model=ImportedOut,
    summary="Turn the strategy's planned visit steps of a day into visit requests (once)",
)
def import_plan(
    data: DayIn, session: SessionDep, principal: PrincipalDep, now: NowDep
) -> ImportedOut:
    return service.import_planned_in(session, principal, day=data.day, now=now)


@router.get("/visits/routes", response_model=list[TeamRouteOut], summary="The day's routes")
def routes(session: SessionDep, principal: PrincipalDep, day: date) -> list[TeamRouteOut]:
    return service.routes_of_day(session, principal, day=day)


@router.post(
    "/visits/routes",
    response_model=list[TeamRouteOut],
    summary="Order the day's visits of each team by route (OR-Tools) and keep the order",
)
def plan_routes(
    data: DayIn, session: SessionDep, principal: PrincipalDep, now: NowDep
) -> list[TeamRouteOut]:
    return service.plan_routes(session, principal, day=data.day, now=now)


@router.get("/visits/{visit_id}", response_model=VisitOut, summary="One visit")
def get_visit(visit_id: VisitId, session: SessionDep, principal: PrincipalDep) -> VisitOut:
    return service.get_visit(session, principal, visit_id)


@router.post(
    "/visits/{visit_id}/address",
    response_model=VisitAddressOut,
    summary="The visit's address unmasked (its scheduled collectors, or pii.reveal; audited)",
)
def reveal_address(
    visit_id: VisitId, session: SessionDep, principal: PrincipalDep, now: NowDep
) -> VisitAddressOut:
    address = service.reveal_address(session, principal, visit_id, now=now)
    return VisitAddressOut(visit_id=visit_id, address=address)


@router.post(
    "/visits/{visit_id}/schedule",
    response_model=VisitOut,
    summary="Schedule a visit (403 with the gate's rules when it would not allow it)",
)
def schedule(
    visit_id: VisitId, data: ScheduleIn, session: SessionDep, principal: PrincipalDep,
    now: NowDep,
) -> VisitOut:  # fmt: skip
    return service.schedule_visit(session, principal, visit_id, data, now=now)


@router.post("/visits/{visit_id}/cancel", response_model=VisitOut, summary="Cancel an open visit")
def cancel(
    visit_id: VisitId, data: CancelIn, session: SessionDep, principal: PrincipalDep,
    now: NowDep,
) -> VisitOut:  # fmt: skip
    return service.cancel_visit(session, principal, visit_id, reason=data.reason, now=now)


@router.post(
    "/visits/{visit_id}/record",
    status_code=201,
    response_model=RecordOut,
    summary="Record the visit (走访记录表): a visit contact, its promise or agreement",
)
def record(
    visit_id: VisitId, data: RecordIn, session: SessionDep, principal: PrincipalDep,
    now: NowDep,
) -> RecordOut:  # fmt: skip
    return service.record_visit(session, principal, visit_id, data, now=now)


@router.post(
    "/visits/{visit_id}/files",
    status_code=201,
    response_model=FileOut,
    summary=f"Add a photo or document (JPEG, PNG, PDF; at most {MAX_BYTES // 2**20} MiB)",
)
def add_file(
    visit_id: VisitId, file: UploadFile, session: SessionDep, principal: PrincipalDep,
    now: NowDep,
) -> FileOut:  # fmt: skip
    data = file.file.read(MAX_BYTES + 1)
    return service.add_file(
        session, principal, visit_id, filename=file.filename or "file", data=data,
        root=files_dir(), now=now,
    )  # fmt: skip


@router.get("/visits/{visit_id}/files/{file_id}", summary="A visit's file (permitted roles)")
def get_file(
    visit_id: VisitId, file_id: FileId, session: SessionDep, principal: PrincipalDep
) -> Response:
    meta, data = service.file_content(session, principal, visit_id, file_id, root=files_dir())
    return Response(
        data,
        media_type=meta.content_type,
        headers={"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff",
                 "X-Content-SHA256": meta.sha256},
    )  # fmt: skip
