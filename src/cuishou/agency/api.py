"""Agency endpoints (read): ``/api/v1/agency/placements``, ``/placements/{id}``,
``/statements/{agency}/{month}`` and ``/league?from=&to=``. An agency user reads its own."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from cuishou.agency.schemas import LeagueOut, PlacementOut, StatementOut
from cuishou.agency.service import commission, league, placing
from cuishou.web.deps import PrincipalDep, SessionDep

router = APIRouter(prefix="/agency", tags=["agency"])


@router.get("/placements", response_model=list[PlacementOut], summary="Placements (委外批次)")
def placements(session: SessionDep, principal: PrincipalDep) -> list[PlacementOut]:
    return placing.list_placements(session, principal=principal)


@router.get(
    "/placements/{placement_id}", response_model=PlacementOut, summary="A placement and its cases"
)
def placement(session: SessionDep, principal: PrincipalDep, placement_id: int) -> PlacementOut:
    return placing.show_placement(session, placement_id, principal=principal)


@router.get(
    "/statements/{agency}/{month}",
    response_model=StatementOut,
    summary="An agency's commission statement for a month (佣金结算单): closed or draft",
)
def statement(
    session: SessionDep, principal: PrincipalDep, agency: str, month: str
) -> StatementOut:
    return commission.statement(session, agency=agency, month=month, principal=principal)


@router.get("/league", response_model=LeagueOut, summary="Agency league table (委外机构排名)")
def league_table(
    session: SessionDep,
    principal: PrincipalDep,
    from_: Annotated[date, Query(alias="from", description="first business day, YYYY-MM-DD")],
    to: Annotated[date, Query(description="last business day (inclusive), YYYY-MM-DD")],
) -> JSONResponse:
    table = league.league(session, from_, to, principal=principal)
    return JSONResponse(table.model_dump(mode="json", by_alias=True))
