"""KPI dashboards (绩效看板): the manager's dashboard, the team lead's targets page and the
downloads of their tables (CSV and XLSX, headers in the page's language).

Thin: every figure comes from :func:`cuishou.kpis.service.figures_by` (the API's own
report, scoped by role the same way); the tables are :mod:`cuishou.kpis.tables`; the
handlers pick the period, shape chart data from the report's fields and pick a template.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response
from sqlalchemy.orm import Session

from cuishou.auth.service import require
from cuishou.kit.spreadsheet import CSV_MEDIA_TYPE, XLSX_MEDIA_TYPE, csv_bytes, xlsx_bytes
from cuishou.kpis import service
from cuishou.kpis.schemas import KpiReport
from cuishou.kpis.tables import TABLES, Table, header, table, targeted
from cuishou.web.deps import SessionDep
from cuishou.web.pages import Page, PageDep, render

router = APIRouter(include_in_schema=False)

FromParam = Annotated[date | None, Query(alias="from")]
ToParam = Annotated[date | None, Query()]
TableParam = Annotated[Literal["days", "teams", "collectors", "roll"], Query()]
#: the daily figures drawn as trend lines
TREND = ("recovery_rate", "connect_rate")


def period(page: Page, start: date | None, end: date | None) -> tuple[date, date]:
    """The period asked for; by default this month up to today (Asia/Shanghai, the app's
    clock). The service refuses a period it cannot report on, naming the field."""
    today = page.today
    return (start or today.replace(day=1), end or today)


def _tables(
    page: Page, reports: dict[str | None, KpiReport], names: tuple[str, ...]
) -> list[Table]:
    """The tables ``names``, each cut from the report of its slice (the roll matrix comes
    with every report)."""
    no_key = page.t("kpi.unassigned")
    first = next(iter(reports.values()))
    return [table(reports.get(TABLES[n], first), n, no_key=no_key) for n in names]


def _charts(page: Page, days: KpiReport) -> dict[str, Any]:
    """The charts' data, straight from the report's fields (the API's figures)."""
    report, total = days, days.total
    buckets = sorted({line.from_bucket for line in report.roll_rates})
    ends = sorted({line.to_bucket for line in report.roll_rates})
    rows = days.rows or []
    return {
        "trend": {
            "days": [row.key for row in rows],
            "series": [
                {
                    "code": code,
                    "name": header(code, page.t),
                    "data": [getattr(row, code) for row in rows],
                }
                for code in TREND
            ],
        },
        "roll": {
            "from": buckets,
            "to": ends,
            "cells": [
                [ends.index(line.to_bucket), buckets.index(line.from_bucket), line.rate]
                for line in report.roll_rates
            ],
            "label": header("roll_rate", page.t),
        },
        "gauges": [
            {
                "code": code,
                "name": header(code, page.t),
                "progress": (total.progress or {}).get(code),
                "actual": getattr(total, code),
                "target": target,
            }
            for code, target in (total.target or {}).items()
        ],
    }


@router.get("/kpis")
def dashboard(
    page: PageDep, session: SessionDep, from_: FromParam = None, to: ToParam = None
) -> Response:
    """主管看板: trends, roll rates, rankings, target gauges and anomalies of a period."""
    require(page.user, "report.read")
    start, end = period(page, from_, to)
    reports = service.figures_by(session, page.user, start, end, ("day", "team", "collector"))
    days = reports["day"]
    return render(
        page,
        "kpis.html",
        start=start,
        end=end,
        total=days.total,
        tables=_tables(page, reports, ("collectors", "teams", "days", "roll")),
        anomalies=[
            (row.key, [(m, header(m, page.t)) for m in row.anomalies])
            for row in days.rows or []
            if row.anomalies
        ],
        charts=_charts(page, days),
    )


@router.get("/kpis/team")
def team_targets(
    page: PageDep, session: SessionDep, from_: FromParam = None, to: ToParam = None
) -> Response:
    """组长: the team's collectors against their monthly targets (a manager sees every one)."""
    require(page.user, "workload.read")
    start, end = period(page, from_, to)
    report = service.figures_by(session, page.user, start, end, ("collector",))["collector"]
    return render(
        page,
        "kpis_team.html",
        start=start,
        end=end,
        report=report,
        collectors=_tables(page, {"collector": report}, ("collectors",))[0],
        metrics=targeted(report),
    )


def _export_report(session: Session, page: Page, name: str, start: date, end: date) -> KpiReport:
    """The report a table is cut from, with the permission of the page that shows it."""
    by = TABLES[name]
    if name == "collectors":
        # the team lead's page and the manager's dashboard both show it
        if not page.can("workload.read"):
            require(page.user, "report.read")
    else:
        require(page.user, "report.read")
    return service.figures_by(session, page.user, start, end, (by,), flag_anomalies=name == "days")[
        by
    ]


@router.get("/kpis/export.{fmt}")
def export(
    page: PageDep,
    session: SessionDep,
    fmt: Literal["csv", "xlsx"],
    table_: Annotated[TableParam, Query(alias="table")],
    from_: FromParam = None,
    to: ToParam = None,
) -> Response:
    """导出: one table of the dashboards as CSV (UTF-8 with BOM) or XLSX."""
    start, end = period(page, from_, to)
    report = _export_report(session, page, table_, start, end)
    shown = table(report, table_, no_key=page.t("kpi.unassigned"))
    headers = shown.headers(page.t)
    filename = f"kpis-{table_}-{start}-{end}.{fmt}"
    if fmt == "csv":
        body, media = csv_bytes(headers, shown.rows), CSV_MEDIA_TYPE
    else:
        body, media = xlsx_bytes(headers, shown.rows, sheet=table_), XLSX_MEDIA_TYPE
    return Response(
        body,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
