"""Compliance pages: the gate on the case page (合规校验), the report (合规报表) with its CSV,
and the QA queue (质检事项) — all through the same services as the API."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from cuishou.compliance import service
from cuishou.compliance.report import compliance_report, report_csv
from cuishou.compliance.schemas import CheckIn
from cuishou.quality import service as qa_service
from cuishou.quality.schemas import ReviewIn
from cuishou.web.deps import MAX_ID, CaseId, NowDep, SessionDep
from cuishou.web.pages import FormDep, PageDep, redirect, render, validated

router = APIRouter(include_in_schema=False)
QA_PAGE_SIZE = 50


@router.post("/cases/{case_id}/gate")
def gate_check(
    case_id: CaseId, page: PageDep, form: FormDep, session: SessionDep, now: NowDep
) -> Response:
    """Ask the gate before calling or sending (now); the answer replaces the button."""
    data = validated(
        CheckIn,
        {
            "case_id": case_id,
            "contact_point_id": str(form.get("contact_point_id") or "") or None,
            "channel": str(form.get("channel") or "") or None,
            "collectors": str(form.get("collectors") or "") or None,
        },
    )
    decision = service.gate(session, page.user, data, now=now)
    return render(page, "_gate.html", decision=decision, point_id=data.contact_point_id)


@router.get("/compliance")
def report_page(
    page: PageDep,
    session: SessionDep,
    date_from: Annotated[date | None, Query()] = None,
    date_to: Annotated[date | None, Query()] = None,
) -> Response:
    report = compliance_report(
        session, page.user, date_from=date_from, date_to=date_to, today=page.today
    )
    return render(page, "compliance.html", report=report)


@router.get("/compliance/report.csv")
def report_download(
    page: PageDep,
    session: SessionDep,
    date_from: Annotated[date | None, Query()] = None,
    date_to: Annotated[date | None, Query()] = None,
) -> Response:
    report = compliance_report(
        session, page.user, date_from=date_from, date_to=date_to, today=page.today
    )
    name = f"compliance-{report.date_from}-{report.date_to}.csv"
    return Response(
        report_csv(report),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/qa")
def qa_page(
    page: PageDep,
    session: SessionDep,
    status: Annotated[Literal["open", "confirmed", "dismissed"], Query()] = "open",
    p: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    items = qa_service.list_items(
        session, page.user, status=status, limit=QA_PAGE_SIZE, offset=(p - 1) * QA_PAGE_SIZE
    )
    return render(
        page,
        "qa.html",
        items=items,
        status=status,
        statuses=["open", "confirmed", "dismissed"],
        can_review=page.can("qa.review"),
        page_no=p,
        pages=max(1, (items.total + QA_PAGE_SIZE - 1) // QA_PAGE_SIZE),
    )


@router.post("/qa/{item_id}/review")
def qa_review(
    item_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    page: PageDep,
    form: FormDep,
    session: SessionDep,
    now: NowDep,
) -> Response:
    data = validated(
        ReviewIn, {"verdict": str(form.get("verdict") or ""), "note": str(form.get("note") or "")}
    )
    qa_service.review_item(session, page.user, item_id, data, now=now)
    return redirect("/qa")
