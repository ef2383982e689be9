"""The allocation page (案件分配) for team leads and managers.

Thin: the preview, apply and undo are :mod:`cuishou.allocation.service`'s, with the same
checks as the command line and the API (a team lead: their own team).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import Response

from cuishou.allocation import service
from cuishou.allocation.config import default_settings
from cuishou.kit.clock import parse_date
from cuishou.web.deps import NowDep, SessionDep
from cuishou.web.pages import FormDep, PageDep, redirect, render

router = APIRouter(include_in_schema=False)

BatchId = Annotated[int, Path(ge=1, le=2**53)]


@router.get("/allocation")
def allocation_page(page: PageDep, session: SessionDep) -> Response:
    """分案预览: who would get what, each collector's workload before and after, the
    expected recovery against its bound and the greedy baseline; apply; recent batches."""
    service.require_allocator(page.user)
    raw = page.request.query_params.get("as_of")
    as_of = parse_date(raw, field="as_of") if raw else page.today
    preview = service.preview(session, page.user, as_of, default_settings())
    done = page.request.query_params.get("done")
    return render(
        page,
        "allocation.html",
        preview=preview,
        as_of=as_of.isoformat(),
        batches=service.recent_batches(session, page.user),
        done=done if done in ("applied", "undone") else None,
    )


@router.post("/allocation")
def apply(page: PageDep, form: FormDep, session: SessionDep, now: NowDep) -> Response:
    as_of = parse_date(str(form.get("as_of") or ""), field="as_of")
    service.apply(session, page.user, as_of, default_settings(), now=now)
    return redirect(f"/allocation?as_of={as_of.isoformat()}&done=applied")


@router.post("/allocation/{batch_id}/undo")
def undo(batch_id: BatchId, page: PageDep, session: SessionDep, now: NowDep) -> Response:
    service.undo(session, page.user, batch_id, now=now)
    return redirect("/allocation?done=undone")
