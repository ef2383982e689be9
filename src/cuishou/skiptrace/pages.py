"""The repair queue page (失联修复队列) for the repair team, through ``skiptrace.service``."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from cuishou.skiptrace import service
from cuishou.web.deps import SessionDep
from cuishou.web.pages import PageDep, render

router = APIRouter(include_in_schema=False)


@router.get("/skiptrace")
def repair_queue_page(page: PageDep, session: SessionDep) -> Response:
    return render(page, "skiptrace.html", items=service.repair_queue(session, page.user))
