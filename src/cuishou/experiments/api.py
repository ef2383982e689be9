"""Experiment endpoints (策略实验): the list and one experiment's results.

Thin: :mod:`cuishou.experiments.service` checks ``experiment.read`` (strategist, manager,
auditor) and measures. Starting, stopping and promoting are the command line's and the
experiment page's (``cuishou experiment …``, ``/experiments/{id}``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from cuishou.experiments import service
from cuishou.experiments.schemas import ExperimentOut, ExperimentResults
from cuishou.kit.clock import CHINA_TZ
from cuishou.web.deps import NowDep, PrincipalDep, SessionDep

router = APIRouter(tags=["experiments"])

ExperimentId = Annotated[int, Path(ge=1, le=2**53, description="the experiment's id")]


@router.get(
    "/experiments",
    response_model=list[ExperimentOut],
    summary="Champion/challenger experiments (策略实验), newest first",
)
def list_experiments(session: SessionDep, principal: PrincipalDep) -> list[ExperimentOut]:
    return service.list_experiments(session, principal)


@router.get(
    "/experiments/{experiment_id}",
    response_model=ExperimentResults,
    summary="An experiment's results: both arms, the difference with its 95% interval, power",
)
def experiment_results(
    experiment_id: ExperimentId, session: SessionDep, principal: PrincipalDep, now: NowDep
) -> ExperimentResults:
    today = now.astimezone(CHINA_TZ).date()
    return service.results(session, principal, experiment_id, today=today)
