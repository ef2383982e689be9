"""Template endpoints (短信/信函模板)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, status

from cuishou.templates import service
from cuishou.templates.schemas import TemplateIn, TemplateOut
from cuishou.web.deps import MAX_ID, NowDep, PrincipalDep, SessionDep

router = APIRouter(tags=["templates"])
TemplateId = Annotated[int, Path(ge=1, le=MAX_ID, description="template id")]


@router.get("/templates", response_model=list[TemplateOut], summary="Message templates")
def list_templates(
    session: SessionDep,
    principal: PrincipalDep,
    status_: Literal["draft", "active", "retired"] | None = Query(default=None, alias="status"),
) -> list[TemplateOut]:
    return service.list_templates(session, principal, status=status_)


@router.post(
    "/templates",
    response_model=TemplateOut,
    status_code=status.HTTP_201_CREATED,
    summary="Save a template version (draft); its findings come back at once",
)
def save_template(
    data: TemplateIn, session: SessionDep, principal: PrincipalDep, now: NowDep
) -> TemplateOut:
    return service.save_template(session, principal, data, now=now)


@router.post(
    "/templates/{template_id}/activate",
    response_model=TemplateOut,
    summary="Activate a clean draft (a template with findings cannot be activated)",
)
def activate_template(
    template_id: TemplateId, session: SessionDep, principal: PrincipalDep, now: NowDep
) -> TemplateOut:
    return service.activate_template(session, principal, template_id, now=now)
