"""Strategy endpoints (策略管理): versions, validation, diffs and the lifecycle.

Thin: :mod:`cuishou.strategy.service.lifecycle` checks the permission (``strategy.read``,
``.edit`` for the strategy manager, ``.approve`` and ``.activate`` for strategy managers and
managers, four eyes on approval) and does the work.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path, Query, status

from cuishou.strategy.schemas import (
    ActivateIn,
    DiffOut,
    ReportOut,
    ReviewIn,
    RollbackOut,
    StrategyIn,
    ValidateIn,
    VersionDetail,
    VersionOut,
)
from cuishou.strategy.service import lifecycle
from cuishou.web.deps import MAX_ID, NowDep, PrincipalDep, SessionDep

router = APIRouter(tags=["strategies"])

VersionId = Annotated[int, Path(ge=1, le=MAX_ID, description="strategy version id")]
Spec = Annotated[
    str,
    Query(
        min_length=1, max_length=64, pattern=r"^([0-9]+|[a-z][a-z0-9_-]*@[0-9]+)$",
        description="a stored version: its id or code@version (e.g. default@2)",
    ),
]  # fmt: skip


@router.get("/strategies", response_model=list[VersionOut], summary="Strategy versions")
def list_strategies(session: SessionDep, principal: PrincipalDep, now: NowDep) -> list[VersionOut]:
    return lifecycle.list_versions(session, principal, now=now)


@router.post(
    "/strategies",
    response_model=VersionOut,
    status_code=status.HTTP_201_CREATED,
    summary="Submit a strategy (YAML text) as a new draft version (strategist)",
)
def submit(
    data: StrategyIn, session: SessionDep, principal: PrincipalDep, now: NowDep
) -> VersionOut:
    version = lifecycle.submit(
        session, data.body, actor=principal.username, now=now, principal=principal, note=data.note
    )
    return lifecycle.described(session, version, now=now)


@router.post(
    "/strategies/validate",
    response_model=ReportOut,
    summary="Validate a strategy text against the store: overlaps, gaps, templates, packs",
)
def validate(
    data: ValidateIn, session: SessionDep, principal: PrincipalDep, now: NowDep
) -> ReportOut:
    report = lifecycle.check_text(
        session, data.body, as_of=data.as_of or lifecycle.today_of(now), principal=principal
    )
    return lifecycle.report_out(report)


@router.get(
    "/strategies/diff",
    response_model=DiffOut,
    summary="What changed from stored version a to stored version b",
)
def diff(a: Spec, b: Spec, session: SessionDep, principal: PrincipalDep) -> DiffOut:
    return lifecycle.diff_stored(session, principal, a, b)


@router.post(
    "/strategies/rollback",
    response_model=RollbackOut,
    summary="Retire the version in force; the one in force before it is back from today",
)
def rollback(session: SessionDep, principal: PrincipalDep, now: NowDep) -> RollbackOut:
    done = lifecycle.rollback(session, actor=principal.username, now=now, principal=principal)
    return RollbackOut(
        retired=lifecycle.described(session, done.retired, now=now),
        restored=lifecycle.described(session, done.restored, now=now),
    )


@router.get(
    "/strategies/{version_id}",
    response_model=VersionDetail,
    summary="A strategy version: its document, where it stands and its history",
)
def show(
    version_id: VersionId, session: SessionDep, principal: PrincipalDep, now: NowDep
) -> VersionDetail:
    return lifecycle.show(session, principal, version_id, now=now)


@router.post(
    "/strategies/{version_id}/approve",
    response_model=VersionOut,
    summary="Approve a draft (four eyes: not its author)",
)
def approve(
    version_id: VersionId,
    session: SessionDep,
    principal: PrincipalDep,
    now: NowDep,
    data: Annotated[ReviewIn | None, Body()] = None,
) -> VersionOut:
    version = lifecycle.approve(
        session, version_id, actor=principal.username, now=now, principal=principal,
        note=data.note if data else "",
    )  # fmt: skip
    return lifecycle.described(session, version, now=now)


@router.post("/strategies/{version_id}/reject", response_model=VersionOut, summary="Reject a draft")
def reject(
    version_id: VersionId,
    session: SessionDep,
    principal: PrincipalDep,
    now: NowDep,
    data: Annotated[ReviewIn | None, Body()] = None,
) -> VersionOut:
    version = lifecycle.reject(
        session, version_id, actor=principal.username, now=now, principal=principal,
        note=data.note if data else "",
    )  # fmt: skip
    return lifecycle.described(session, version, now=now)


@router.post(
    "/strategies/{version_id}/activate",
    response_model=VersionOut,
    summary="Put an approved version in force from a date (today or later; default today)",
)
def activate(
    version_id: VersionId,
    session: SessionDep,
    principal: PrincipalDep,
    now: NowDep,
    data: Annotated[ActivateIn | None, Body()] = None,
) -> VersionOut:
    version = lifecycle.activate(
        session, version_id, actor=principal.username, now=now, principal=principal,
        effective_from=data.effective_from if data else None,
    )  # fmt: skip
    return lifecycle.described(session, version, now=now)
