"""KPI endpoint: ``GET /api/v1/kpis?from=&to=&by=`` (绩效指标)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from cuishou.kpis import service
from cuishou.kpis.rules import SLICES
from cuishou.kpis.schemas import KpiReport
from cuishou.web.deps import PrincipalDep, SessionDep

router = APIRouter(tags=["kpis"])


@router.get(
    "/kpis",
    response_model=KpiReport,
    summary="KPIs for a period (回款率, 接通率, 承诺率, 履约率 …), optionally sliced",
)
def kpis(
    session: SessionDep,
    principal: PrincipalDep,
    from_: Annotated[date, Query(alias="from", description="first business day, YYYY-MM-DD")],
    to: Annotated[date, Query(description="last business day (inclusive), YYYY-MM-DD")],
    by: Annotated[
        str | None, Query(description=f"slice: {' | '.join(SLICES)}; none: the total only")
    ] = None,
) -> JSONResponse:
    report = service.figures(session, principal, from_, to, by)
    return JSONResponse(report.as_json())
