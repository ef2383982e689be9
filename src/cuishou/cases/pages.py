"""Case pages: my queue, the case file, PII reveal, the team queue with workload and reassignment.

Thin: every read and write goes through ``cases.service`` (the same scope and permission
checks as the API); the handlers only turn form fields into arguments and pick a template.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from cuishou.accounts.rules import DEFAULT_BUCKETS
from cuishou.agreements import service as agreements
from cuishou.agreements.rules import KINDS as AGREEMENT_KINDS
from cuishou.cases import service
from cuishou.cases.schemas import BulkAssignIn, BulkAssignOut, RevealIn
from cuishou.cases.service import detail as case_file
from cuishou.contact.rules import CHANNELS, OUTCOMES
from cuishou.kit.text import Text
from cuishou.kpis import service as kpis
from cuishou.ledger import service as ledger
from cuishou.scoring import pages as scoring_pages
from cuishou.scoring import service as scoring
from cuishou.scoring.grades import GRADES
from cuishou.web.deps import CaseId, NowDep, SessionDep
from cuishou.web.pages import FormDep, Page, PageDep, attempt, redirect, render, validated

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 25
#: the case page shows this many events (the API shows the newest 50)
TIMELINE_SHOWN = 1000

BucketParam = Annotated[Text | None, Query(max_length=8)]
StatusParam = Annotated[Literal["open", "closed", ""] | None, Query()]
GradeParam = Annotated[Literal["A", "B", "C", "D", ""] | None, Query()]
LabelParam = Annotated[Text | None, Query(max_length=32)]
PageNo = Annotated[int, Query(ge=1, le=100_000)]


def _pages(total: int) -> int:
    return max(1, (total + PAGE_SIZE - 1) // PAGE_SIZE)


@router.get("/queue")
def queue_page(
    page: PageDep,
    session: SessionDep,
    now: NowDep,
    bucket: BucketParam = None,
    status: StatusParam = "open",
    grade: GradeParam = None,
    label: LabelParam = None,
    p: PageNo = 1,
) -> Response:
    """工作队列: the API's queue order, with bucket, status, risk grade and label filters
    and pages."""
    filters = service.filters_for(
        session, page.user, bucket=bucket or None, status=status or None, tier=None,
        assigned=None, grade=grade or None, label=label or None,
    )  # fmt: skip
    queue = service.my_queue(
        session, page.user, filters, now=now, limit=PAGE_SIZE, offset=(p - 1) * PAGE_SIZE
    )
    # a collector's own numbers today and this month (the KPI service, scoped to them)
    mine = (
        kpis.today_and_month(session, page.user, page.today)
        if page.user.role == "collector"
        else None
    )
    return render(
        page,
        "queue.html",
        queue=queue,
        mine=mine,
        buckets=DEFAULT_BUCKETS.names,
        bucket=bucket or "",
        status=status or "",
        grades=GRADES,
        grade=grade or "",
        labels=[
            (r.code, r.zh if page.language == "zh" else r.en)
            for r in scoring.default_label_pack().labels
        ],
        label=label or "",
        page_no=p,
        pages=_pages(queue.total),
    )


def case_context(page: Page, session: SessionDep, case_id: int) -> dict[str, Any]:
    """What the case page and its activity fragment show."""
    detail = case_file.case_detail(session, page.user, case_id, timeline=TIMELINE_SHOWN)
    return {
        "case": detail,
        "case_id": detail.id,
        "agreements": agreements.case_agreements(session, page.user, detail.id),
        "ledger": ledger.case_ledger(session, page.user, detail.id),
        "agreement_kinds": list(AGREEMENT_KINDS),
        "can_request": page.can("agreement.request"),
        "channels": list(CHANNELS),
        "outcomes": list(OUTCOMES),
        "can_log": page.can("contact.create"),
        "can_reveal": page.can("pii.reveal"),
        "can_check": page.can("compliance.check"),
        "scoring": scoring_pages.case_panel(page, detail),
    }


@router.get("/cases/{case_id}")
def case_page(case_id: CaseId, page: PageDep, session: SessionDep) -> Response:
    """案件详情: debtor (masked), accounts, contact points, promises, contacts, timeline."""
    return render(page, "case.html", **case_context(page, session, case_id), values={})


@router.post("/cases/{case_id}/reveal")
def reveal(
    case_id: CaseId, page: PageDep, form: FormDep, session: SessionDep, now: NowDep
) -> Response:
    """查看明文 for permitted roles: the existing audited reveal service, one field."""
    point = str(form.get("contact_point_id") or "")
    data = validated(RevealIn, {"field": form.get("field"), "contact_point_id": point or None})
    revealed = case_file.reveal(session, page.user, case_id, data, now=now)
    return render(page, "_revealed.html", value=revealed.value)


@router.get("/team")
def team_page(
    page: PageDep,
    session: SessionDep,
    now: NowDep,
    bucket: BucketParam = None,
    assigned: Annotated[Text | None, Query(max_length=64)] = None,
    p: PageNo = 1,
) -> Response:
    """Team lead: the team's open cases, workload per collector, reassignment."""
    workload = service.team_workload(session, page.user, now=now)
    filters = service.filters_for(
        session, page.user, bucket=bucket or None, status="open", tier=None, assigned=assigned
    )
    cases = service.my_queue(
        session, page.user, filters, now=now, limit=PAGE_SIZE, offset=(p - 1) * PAGE_SIZE
    )
    collectors = (
        service.assignable_collectors(session, page.user) if page.can("case.assign") else []
    )
    notice = ""
    if page.request.query_params.get("assigned_n"):
        notice = page.t(
            "team.assigned_done",
            n=page.request.query_params.get("assigned_n", ""),
            collector=page.request.query_params.get("to", ""),
        )
    return render(
        page,
        "team.html",
        workload=workload,
        cases=cases,
        collectors=collectors,
        buckets=DEFAULT_BUCKETS.names,
        bucket=bucket or "",
        assigned=assigned or "",
        page_no=p,
        pages=_pages(cases.total),
        notice=notice,
        errors=[],
    )


@router.post("/team/assign")
def assign(page: PageDep, form: FormDep, session: SessionDep, now: NowDep) -> Response:
    """分案: one case or several (checkboxes) to a collector of the team."""
    raw_ids = [str(v) for v in form.getlist("case_ids")]

    def assign() -> BulkAssignOut:
        data = BulkAssignIn.model_validate(
            {
                "collector": form.get("collector") or "",
                "case_ids": [int(v) for v in raw_ids if v.isdigit()] or raw_ids,
            }
        )
        return service.assign_cases(
            session, page.user, data.case_ids, collector=data.collector, now=now
        )

    outcome = attempt(session, assign)
    done, errors = outcome.result, outcome.errors
    if done is None:
        filters = service.filters_for(
            session, page.user, bucket=None, status="open", tier=None, assigned=None
        )
        return render(
            page,
            "team.html",
            status_code=422,
            workload=service.team_workload(session, page.user, now=now),
            cases=service.my_queue(session, page.user, filters, now=now, limit=PAGE_SIZE, offset=0),
            collectors=service.assignable_collectors(session, page.user),
            buckets=DEFAULT_BUCKETS.names,
            bucket="",
            assigned="",
            page_no=1,
            pages=1,
            notice="",
            errors=errors,
        )
    return redirect(f"/team?assigned_n={done.assigned}&to={done.collector}")
