"""Experiment pages (策略实验) for the strategy manager, managers and auditors.

Thin: every figure comes from :func:`cuishou.experiments.service.report` (the API's own
results, with the same ``experiment.read`` check) and the buttons call the same service
functions as the command line (``experiment.manage`` to stop and ask for a promotion,
``experiment.approve`` — not the asker — to approve or reject it). The handlers shape the
daily curve into chart data and pick a template.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from fastapi.responses import Response

from cuishou.experiments import service
from cuishou.experiments.rules import ARMS
from cuishou.experiments.service import ExperimentReport
from cuishou.kit.errors import InvalidInput
from cuishou.web.deps import NowDep, SessionDep
from cuishou.web.pages import FormDep, Page, PageDep, redirect, render

router = APIRouter(include_in_schema=False)

ExperimentId = Annotated[int, Path(ge=1, le=2**53)]
DONE = ("stopped", "requested", "promoted", "rejected")


@router.get("/experiments")
def experiments_page(page: PageDep, session: SessionDep) -> Response:
    """策略实验: every experiment with its versions, share, status and cases per arm."""
    rows = service.list_experiments(session, page.user)
    return render(page, "experiments.html", experiments=rows)


def charts(page: Page, rep: ExperimentReport) -> dict[str, Any]:
    """The daily curve as the charts draw it: both arms' cumulative recovery rates, and the
    difference with its 95% interval (as the band's lower edge and its width)."""
    days = [p.day.isoformat() for p in rep.daily]
    low = [p.ci_low for p in rep.daily]
    width = [
        None if p.ci_low is None or p.ci_high is None else round(p.ci_high - p.ci_low, 6)
        for p in rep.daily
    ]
    return {
        "curves": {
            "days": days,
            "series": [
                {
                    "id": arm,
                    "name": page.t(f"experiment.arm.{arm}"),
                    "data": [getattr(p, arm) for p in rep.daily],
                }
                for arm in ARMS
            ],
        },
        "interval": {
            "days": days,
            "estimate": [p.estimate for p in rep.daily],
            "low": low,
            "width": width,
            "estimateLabel": page.t("experiment.estimate"),
            "intervalLabel": page.t("experiment.interval"),
        },
    }


@router.get("/experiments/{experiment_id}")
def experiment_page(experiment_id: ExperimentId, page: PageDep, session: SessionDep) -> Response:
    """One experiment: both arms' figures, the difference and its interval, power, guard
    rails, the curves; stop and promote buttons for those allowed."""
    rep = service.report(session, page.user, experiment_id, today=page.today)
    exp = rep.experiment
    live = exp.status in ("running", "stopped")
    asker = exp.promotion_requested_by
    done = page.request.query_params.get("done")
    return render(
        page,
        "experiment.html",
        rep=rep,
        exp=exp,
        results=rep.results,
        charts=charts(page, rep),
        can_stop=page.can("experiment.manage") and exp.status == "running",
        can_request=page.can("experiment.manage") and live and asker is None,
        can_answer=page.can("experiment.approve") and live and asker is not None,
        asked_by_me=asker == page.user.username,
        done=done if done in DONE else None,
    )


@router.post("/experiments/{experiment_id}/stop")
def stop(
    experiment_id: ExperimentId, page: PageDep, form: FormDep, session: SessionDep, now: NowDep
) -> Response:
    reason = str(form.get("reason") or "")[:500]
    service.stop_experiment(
        session, page.user, experiment_id, reason=reason, actor="", day=page.today, now=now
    )
    return redirect(f"/experiments/{experiment_id}?done=stopped")


@router.post("/experiments/{experiment_id}/promotion")
def promotion(
    experiment_id: ExperimentId, page: PageDep, form: FormDep, session: SessionDep, now: NowDep
) -> Response:
    """申请 / 批准 / 驳回 a promotion: ``action`` is ``request``, ``approve`` or ``reject``."""
    action = str(form.get("action") or "")
    note = str(form.get("note") or "")[:500]
    if action == "approve":
        service.approve_promotion(
            session, page.user, experiment_id, actor="", day=page.today, now=now
        )
        return redirect(f"/experiments/{experiment_id}?done=promoted")
    if action == "reject":
        service.reject_promotion(session, page.user, experiment_id, note=note, actor="", now=now)
        return redirect(f"/experiments/{experiment_id}?done=rejected")
    if action != "request":
        raise InvalidInput("action must be request, approve or reject", field="action")
    service.request_promotion(session, page.user, experiment_id, note=note, actor="", now=now)
    return redirect(f"/experiments/{experiment_id}?done=requested")
