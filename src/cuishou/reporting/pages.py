"""The manager's overview page with ECharts charts (data embedded as JSON, tables beside)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from cuishou.reporting import service
from cuishou.web.deps import NowDep, SessionDep
from cuishou.web.pages import PageDep, render

router = APIRouter(include_in_schema=False)


@router.get("/overview")
def overview_page(page: PageDep, session: SessionDep, now: NowDep) -> Response:
    data = service.overview(session, page.user, now=now)
    no_team = page.t("overview.no_team")
    charts = {
        "buckets": {
            "labels": [line.bucket for line in data.by_bucket],
            "cases": [line.cases for line in data.by_bucket],
            "amounts": [float(line.amount_due) for line in data.by_bucket],
            "casesLabel": page.t("overview.cases"),
            "amountLabel": page.t("overview.amount"),
        },
        "outcomes": {
            "labels": [page.t(f"outcome.{line.outcome}") for line in data.contacts_by_outcome],
            "values": [line.contacts for line in data.contacts_by_outcome],
            "label": page.t("overview.count"),
        },
        "recovery": {
            "labels": [line.team or no_team for line in data.recovery_by_team],
            "values": [float(line.recovered) for line in data.recovery_by_team],
            "label": page.t("overview.recovered"),
        },
    }
    return render(page, "overview.html", data=data, charts=charts, no_team=no_team)
