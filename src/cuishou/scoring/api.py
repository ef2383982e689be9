"""Model endpoints (模型库): the registry, a model's card, promoting a champion.

Thin: :mod:`cuishou.scoring.service` checks the permission (``model.read`` for the strategy
manager, managers and auditors; ``model.promote`` for the strategy manager) and does the
work; a case's grade, score, reasons and labels come with ``GET /api/v1/cases/{id}``.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query

from cuishou.scoring import service
from cuishou.scoring.schemas import ModelCardOut, ModelVersionOut
from cuishou.web.deps import NowDep, PrincipalDep, SessionDep

router = APIRouter(tags=["models"])

Version = Annotated[
    str,
    Path(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9_.\-]+$",
        description="a model version, e.g. pay_30d-scorecard-1",
    ),
]
Target = Annotated[
    Literal["pay_30d", "cure_30d", "roll_30d", "keep_promise"] | None,
    Query(description="only this target's versions"),
]


@router.get(
    "/models",
    response_model=list[ModelVersionOut],
    summary="The model registry (模型库), newest first (strategist, manager, auditor)",
)
def list_models(
    session: SessionDep, principal: PrincipalDep, target: Target = None
) -> list[ModelVersionOut]:
    rows = service.list_versions(session, principal, target=target)
    return [ModelVersionOut.model_validate(row) for row in rows]


@router.get(
    "/models/{version}",
    response_model=ModelCardOut,
    summary="A model's card (模型卡): metrics, deciles, features, PSI, cut-offs, history",
)
def model_card(version: Version, session: SessionDep, principal: PrincipalDep) -> ModelCardOut:
    return ModelCardOut.of(service.model_card(session, principal, version))


@router.post(
    "/models/{version}/promote",
    response_model=ModelVersionOut,
    summary="Make a version its target's champion (strategist; 409 if it already is)",
)
def promote(
    version: Version, session: SessionDep, principal: PrincipalDep, now: NowDep
) -> ModelVersionOut:
    service.promote(session, version, actor=principal.username, now=now, principal=principal)
    return ModelVersionOut.model_validate(service.model_card(session, principal, version))
