"""Agency pages (委外): placements, commission statements and, for a manager, the league
table. Thin: every figure comes from the agency services, scoped by role the same way as
the API (an agency user sees its own placements and statements only)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from cuishou.agency.service import commission, common, league, placing
from cuishou.auth.service import require
from cuishou.web.deps import PlacementId, SessionDep
from cuishou.web.pages import PageDep, render

router = APIRouter(include_in_schema=False)

FromParam = Annotated[date | None, Query(alias="from")]
ToParam = Annotated[date | None, Query()]


@router.get("/agency")
def overview(
    page: PageDep, session: SessionDep, from_: FromParam = None, to: ToParam = None
) -> Response:
    """委外: the placements, the closed statements and (manager) the league table."""
    require(page.user, "agency.read")
    start, end = from_ or page.today.replace(day=1), to or page.today
    return render(
        page,
        "agency.html",
        placements=placing.list_placements(session, principal=page.user),
        statements=commission.list_statements(session, principal=page.user),
        month=page.today.strftime("%Y-%m"),
        own=page.user.role == "agency",
        own_code=common.own_agency_code(session, page.user),
        league=league.league(session, start, end, principal=page.user),
        start=start,
        end=end,
    )


@router.get("/agency/placements/{placement_id}")
def placement(page: PageDep, session: SessionDep, placement_id: PlacementId) -> Response:
    require(page.user, "agency.read")
    found = placing.show_placement(session, placement_id, principal=page.user)
    return render(page, "agency_placement.html", placement=found)


@router.get("/agency/statements/{agency}/{month}")
def statement(page: PageDep, session: SessionDep, agency: str, month: str) -> Response:
    require(page.user, "agency.read")
    found = commission.statement(session, agency=agency, month=month, principal=page.user)
    return render(page, "agency_statement.html", statement=found)
