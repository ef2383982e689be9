"""The send-jobs page (消息发送批次): runs with their counts, and the dead letters."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from cuishou.messaging import service
from cuishou.web.deps import SessionDep
from cuishou.web.pages import PageDep, render

router = APIRouter(include_in_schema=False)


@router.get("/messages/jobs")
def jobs_page(page: PageDep, session: SessionDep) -> Response:
    return render(
        page,
        "messages_jobs.html",
        jobs=service.list_jobs(session, page.user),
        dead=service.dead_letters(session, page.user, limit=100),
    )
