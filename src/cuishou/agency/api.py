"""Agency endpoints: ``/api/v1/agency/placements`` (list; ``POST`` places cases),
``/placements/{id}`` (``/recall``: a manual recall), ``/statements/{agency}/{month}`` and
``/league?from=&to=``. An agency user reads its own; placing and recalling take
``agency.manage`` (a manager)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from cuishou.agency.config import rule_of
from cuishou.agency.schemas import (
    LeagueOut,
    PlacementIn,
    PlacementOut,
    RecallIn,
    RecallOut,
    StatementOut,
)
from cuishou.agency.service import commission, league, placing, recall
from cuishou.kit.errors import InvalidInput
from cuishou.web.deps import NowDep, PlacementId, PrincipalDep, SessionDep

router = APIRouter(prefix="/agency", tags=["agency"])


@router.get("/placements", response_model=list[PlacementOut], summary="Placements (委外批次)")
def placements(session: SessionDep, principal: PrincipalDep) -> list[PlacementOut]:
    return placing.list_placements(session, principal=principal)


@router.post(
    "/placements",
    response_model=PlacementOut,
    status_code=201,
    summary="Place cases with an agency (委外): by a rule or from the strategy",
)
def create_placement(
    session: SessionDep, principal: PrincipalDep, now: NowDep, body: PlacementIn
) -> PlacementOut:
    if (body.rule is None) == (not body.from_strategy):
        raise InvalidInput("give exactly one of rule and from_strategy", field="rule")
    rule = rule_of(body.rule) if body.rule is not None else None
    candidates = (
        placing.strategy_candidates(session, body.as_of, principal=principal)
        if body.from_strategy
        else None
    )
    return placing.create_placement(
        session, agency=body.agency, as_of=body.as_of, days=body.days, rule=rule,
        rule_name="api", candidates=candidates, actor=principal.username, now=now,
        principal=principal,
    )  # fmt: skip


@router.post(
    "/placements/{placement_id}/recall",
    response_model=RecallOut,
    summary="Recall a placement's cases by hand, with a reason (手工退案)",
)
def recall_placement(
    session: SessionDep,
    principal: PrincipalDep,
    now: NowDep,
    placement_id: PlacementId,
    body: RecallIn,
) -> RecallOut:
    return recall.recall_manual(
        session, placement_id, as_of=body.as_of, reason=body.reason, case_ids=body.case_ids,
        actor=principal.username, now=now, principal=principal,
    )  # fmt: skip


@router.get(
    "/placements/{placement_id}", response_model=PlacementOut, summary="A placement and its cases"
)
def placement(
    session: SessionDep, principal: PrincipalDep, placement_id: PlacementId
) -> PlacementOut:
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
