"""The field-visit pages (外访): scheduling (team lead), the day's routes, the record form.

Each form is turned into the API's input model and handed to the same ``visits.service``;
input that does not validate and the gate's refusals come back inline beside the form, and
nothing of a refused action is kept.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from cuishou.kit.clock import ensure_aware
from cuishou.kit.errors import InvalidInput
from cuishou.visits import service
from cuishou.visits.config import files_dir
from cuishou.visits.rules import OUTCOMES, RELATIONS
from cuishou.visits.schemas import CancelIn, ImportedOut, RecordIn, ScheduleIn, VisitRequestIn
from cuishou.visits.storage import MAX_BYTES
from cuishou.web.deps import MAX_ID, NowDep, SessionDep
from cuishou.web.pages import (
    FormDep,
    FormErrors,
    Page,
    PageDep,
    attempt,
    redirect,
    render,
    validated,
)

router = APIRouter(include_in_schema=False)
VisitId = Annotated[int, Path(ge=1, le=MAX_ID, description="visit id")]
FileId = Annotated[int, Path(ge=1, le=MAX_ID, description="file id")]
PERSON_ROWS = 3


def _day(value: str | None, page: Page) -> date:
    if not value:
        return page.today
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"day: {value!r} is not a date like 2026-12-01") from None


def _scheduling(
    page: Page, session: Session, *, errors: FormErrors | None = None,
    failed: int | None = None, status: int = 200, imported: ImportedOut | None = None,
) -> Response:  # fmt: skip
    principal = page.user
    requested = service.list_visits(session, principal, statuses=("requested",))
    scheduled = service.list_visits(session, principal, statuses=("scheduled",))
    collectors = (
        service.schedulable_collectors(session, principal) if page.can("visit.schedule") else []
    )
    return render(
        page, "visits.html", status_code=status, requested=requested, scheduled=scheduled,
        collectors=collectors, errors=errors or [], failed=failed, imported=imported,
        tomorrow=(page.today + timedelta(days=1)).isoformat(), today=page.today.isoformat(),
    )  # fmt: skip


@router.get("/visits")
def scheduling_page(page: PageDep, session: SessionDep) -> Response:
    return _scheduling(page, session)


@router.post("/visits/{visit_id}/schedule")
def schedule_form(
    visit_id: VisitId, page: PageDep, form: FormDep, session: SessionDep, now: NowDep
) -> Response:
    def act() -> object:
        data = ScheduleIn.model_validate(
            {
                "day": str(form.get("day") or "") or None,
                "start": str(form.get("start") or "") or None,
                "end": str(form.get("end") or "") or None,
                "collectors": [str(c) for c in form.getlist("collectors") if str(c).strip()],
            }
        )
        return service.schedule_visit(session, page.user, visit_id, data, now=now)

    done = attempt(session, act, shown=(403, 409, 422))
    if done.errors:
        return _scheduling(page, session, errors=done.errors, failed=visit_id, status=done.status)
    return redirect("/visits")


@router.post("/visits/import-plan")
def import_plan_form(page: PageDep, form: FormDep, session: SessionDep, now: NowDep) -> Response:
    """策略外访导入: the strategy's planned visit steps of a day become requests (once)."""
    done = attempt(
        session,
        lambda: service.import_planned_in(
            session, page.user, day=_day(str(form.get("day") or "") or None, page), now=now
        ),
        shown=(403, 422),
    )
    if done.errors:
        return _scheduling(page, session, errors=done.errors, failed=0, status=done.status)
    return _scheduling(page, session, imported=done.result)


@router.post("/visits/request")
def request_form(page: PageDep, form: FormDep, session: SessionDep, now: NowDep) -> Response:
    def act() -> object:
        data = VisitRequestIn.model_validate(
            {"case_id": str(form.get("case_id") or "") or None,
             "reason": str(form.get("reason") or "")}
        )  # fmt: skip
        return service.request_visit(session, page.user, data, now=now)

    done = attempt(session, act, shown=(404, 409, 422))
    if done.errors:
        return _scheduling(page, session, errors=done.errors, failed=0, status=done.status)
    return redirect("/visits")


def _chart(routes: list[Any]) -> str:
    """The routes as ECharts data: one series of (lon, lat, order) per team."""
    return json.dumps(
        [
            {"team": r.team, "points": [[s.lon, s.lat, s.position, s.visit_id] for s in r.stops]}
            for r in routes
        ],
        ensure_ascii=False,
    )


@router.get("/visits/routes")
def routes_page(page: PageDep, session: SessionDep, day: str | None = Query(None)) -> Response:
    shown = _day(day, page)
    routes = service.routes_of_day(session, page.user, day=shown)
    return render(page, "visits_routes.html", routes=routes, day=shown, chart=_chart(routes))


@router.post("/visits/routes")
def plan_routes_form(page: PageDep, form: FormDep, session: SessionDep, now: NowDep) -> Response:
    shown = _day(str(form.get("day") or "") or None, page)
    service.plan_routes(session, page.user, day=shown, now=now)
    return redirect(f"/visits/routes?day={shown.isoformat()}")


def _visit_page(
    page: Page, session: Session, visit_id: int, *, errors: FormErrors | None = None,
    status: int = 200, values: dict[str, Any] | None = None,
) -> Response:  # fmt: skip
    visit = service.get_visit(session, page.user, visit_id)
    may_record = (
        visit.status == "scheduled"
        and page.can("visit.record")
        and page.user.username in visit.collectors
    )
    return render(
        page, "visit.html", status_code=status, visit=visit, errors=errors or [],
        may_record=may_record, outcomes=OUTCOMES, relations=RELATIONS, person_rows=PERSON_ROWS,
        values=values or {}, may_upload=page.can("visit.record")
        and visit.status in ("scheduled", "done"),
        may_cancel=page.can("visit.schedule") and visit.status in ("requested", "scheduled"),
        may_see_address=service.may_see_address(session, page.user, visit),
    )  # fmt: skip


@router.get("/visits/{visit_id}")
def visit_page(visit_id: VisitId, page: PageDep, session: SessionDep) -> Response:
    return _visit_page(page, session, visit_id)


@router.post("/visits/{visit_id}/cancel")
def cancel_form(
    visit_id: VisitId, page: PageDep, form: FormDep, session: SessionDep, now: NowDep
) -> Response:
    """取消外访 (a team lead or manager): the reason is required and kept on the event."""
    reason = str(form.get("reason") or "")
    done = attempt(
        session,
        lambda: service.cancel_visit(
            session,
            page.user,
            visit_id,
            reason=validated(CancelIn, {"reason": reason}).reason,
            now=now,
        ),
        shown=(409, 422),
    )
    if done.errors:
        return _visit_page(
            page, session, visit_id, errors=done.errors, status=done.status,
            values={"reason": reason},
        )  # fmt: skip
    return redirect(f"/visits/{visit_id}")


@router.post("/visits/{visit_id}/address")
def address_form(visit_id: VisitId, page: PageDep, session: SessionDep, now: NowDep) -> Response:
    """查看外访地址: the audited reveal, as a fragment in place of the masked address."""
    address = service.reveal_address(session, page.user, visit_id, now=now)
    return render(page, "_revealed.html", value=address)


def record_in(form: Any) -> RecordIn:
    """The API payload for what the record form sent (a ``datetime-local`` is Beijing time)."""
    payload: dict[str, Any] = {
        "outcome": str(form.get("outcome") or "") or None,
        "notes": str(form.get("notes") or ""),
        "persons_met": [],
    }
    visited = str(form.get("visited_at") or "").strip()
    if visited:
        try:
            payload["visited_at"] = ensure_aware(datetime.fromisoformat(visited))
        except ValueError:
            payload["visited_at"] = visited
    for key in ("check_in_lat", "check_in_lon"):
        value = str(form.get(key) or "").strip()
        if value:
            payload[key] = value
    for i in range(PERSON_ROWS):
        relation = str(form.get(f"relation_{i}") or "").strip()
        name = str(form.get(f"person_{i}") or "").strip()
        if relation or name:
            payload["persons_met"].append({"name": name, "relation": relation or None})
    amount = str(form.get("promise_amount") or "").strip()
    due = str(form.get("promise_date") or "").strip()
    if amount or due:
        payload["promise"] = {"amount": amount, "due_date": due or None}
    return RecordIn.model_validate(payload)


@router.post("/visits/{visit_id}/record")
def record_form(
    visit_id: VisitId, page: PageDep, form: FormDep, session: SessionDep, now: NowDep
) -> Response:
    values = {k: str(v) for k, v in form.items() if isinstance(v, str)}
    done = attempt(
        session, lambda: service.record_visit(session, page.user, visit_id, record_in(form),
                                              now=now),
        shown=(409, 422),
    )  # fmt: skip
    if done.errors:
        return _visit_page(
            page, session, visit_id, errors=done.errors, status=done.status, values=values
        )
    return redirect(f"/visits/{visit_id}")


@router.post("/visits/{visit_id}/files")
def upload_form(
    visit_id: VisitId, page: PageDep, form: FormDep, session: SessionDep, now: NowDep
) -> Response:
    upload = form.get("file")

    def act() -> object:
        if not isinstance(upload, UploadFile):
            raise InvalidInput("file: choose a photo or a PDF", field="file")
        data = upload.file.read(MAX_BYTES + 1)
        return service.add_file(
            session, page.user, visit_id, filename=upload.filename or "file", data=data,
            root=files_dir(), now=now,
        )  # fmt: skip

    done = attempt(session, act, shown=(409, 422))
    if done.errors:
        return _visit_page(page, session, visit_id, errors=done.errors, status=done.status)
    return redirect(f"/visits/{visit_id}#files")


@router.get("/visits/{visit_id}/files/{file_id}")
def file_page(visit_id: VisitId, file_id: FileId, page: PageDep, session: SessionDep) -> Response:
    meta, data = service.file_content(session, page.user, visit_id, file_id, root=files_dir())
    return Response(
        data,
        media_type=meta.content_type,
        headers={"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"},
    )
