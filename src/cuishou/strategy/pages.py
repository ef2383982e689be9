"""Strategy pages (策略管理) for the strategy manager, managers and readers.

Thin: every figure and every refusal comes from :mod:`cuishou.strategy.service.lifecycle`
(the API's own service, with the same permission checks). The handlers shape the decision
table (row number, conditions in words, segment) and each path as a timeline (day → actions)
and pick a template; Validate and Diff answer with a partial swapped in place (HTMX).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Path
from fastapi.responses import Response

from cuishou.kit.clock import parse_date
from cuishou.strategy.definition import Step, Strategy, StrategyError, strategy_from_text
from cuishou.strategy.schemas import MAX_BODY
from cuishou.strategy.service import lifecycle
from cuishou.strategy.validate import when_words
from cuishou.web.deps import MAX_ID, NowDep, SessionDep
from cuishou.web.pages import FormDep, Page, PageDep, attempt, redirect, render

router = APIRouter(include_in_schema=False)

VersionId = Annotated[int, Path(ge=1, le=MAX_ID)]


@dataclass(frozen=True, slots=True)
class RowView:
    number: int
    conditions: str
    segment: str
    segment_name: str
    note: str


@dataclass(frozen=True, slots=True)
class StepView:
    action: str
    name: str
    detail: str


@dataclass(frozen=True, slots=True)
class DayView:
    day: int
    steps: list[StepView]


@dataclass(frozen=True, slots=True)
class PathView:
    code: str
    name: str
    description: str
    rows: list[int]
    days: list[DayView]


def _name(page: Page, zh: str, en: str) -> str:
    return zh if page.language == "zh" else en


def _step_view(page: Page, step: Step) -> StepView:
    parts = []
    if step.template:
        parts.append(step.template)
    if step.every is not None or (step.from_ is not None and step.to is None):
        parts.append(page.t("strategy.repeat", every=step.every or 1))
    if step.to is not None:
        parts.append(page.t("strategy.until", to=step.to))
    if step.priority is not None:
        parts.append(page.t("strategy.priority", priority=step.priority))
    if step.cap is not None:
        parts.append(page.t("strategy.cap", cap=step.cap))
    return StepView(step.action, page.t(f"strategy_action.{step.action}"), " · ".join(parts))


def table_view(page: Page, strategy: Strategy) -> list[RowView]:
    """The decision table: row number, its conditions in words, its segment."""
    return [
        RowView(
            number=number,
            conditions=when_words(rule.when, page.language),
            segment=rule.segment,
            segment_name=_name(
                page, strategy.segment(rule.segment).zh, strategy.segment(rule.segment).en
            ),
            note=rule.note,
        )
        for number, rule in enumerate(strategy.rules, start=1)
    ]


def path_views(page: Page, strategy: Strategy) -> list[PathView]:
    """Each segment's path as a timeline: the days a step starts on, in order, with what
    starts that day (a repeating step shows once, on its first day, with its cadence)."""
    views = []
    for segment in strategy.segments:
        days: dict[int, list[StepView]] = {}
        for step in segment.path:
            days.setdefault(step.first, []).append(_step_view(page, step))
        views.append(
            PathView(
                code=segment.code,
                name=_name(page, segment.zh, segment.en),
                description=segment.description,
                rows=[
                    n for n, r in enumerate(strategy.rules, start=1) if r.segment == segment.code
                ],
                days=[DayView(day, days[day]) for day in sorted(days)],
            )
        )
    return views


def _text(form: Any) -> str:
    return str(form.get("body") or "")[:MAX_BODY]


@router.get("/strategies")
def strategies_page(page: PageDep, session: SessionDep, now: NowDep) -> Response:
    """策略列表: every version and where it stands."""
    versions = lifecycle.list_versions(session, page.user, now=now)
    return render(page, "strategies.html", versions=versions, can_edit=page.can("strategy.edit"))


def _editor_page(
    page: Page, session: Any, now: Any, *, text: str, errors: list[tuple[str, str]] | None = None,
    status_code: int = 200,
) -> Response:  # fmt: skip
    return render(
        page, "strategy.html", status_code=status_code, version=None, strategy=None,
        rows=[], paths=[], body=text, errors=errors or [], can_edit=page.can("strategy.edit"),
        can_review=False, can_activate=False, own=False, flash=None, today=page.today,
    )  # fmt: skip


@router.get("/strategies/new")
def new_page(page: PageDep, session: SessionDep, now: NowDep) -> Response:
    """A new draft, starting from the version in force (or the shipped default)."""
    lifecycle.list_versions(session, page.user, now=now)  # strategy.read
    current = lifecycle.in_force(session, now=now)
    text = current.body if current is not None else lifecycle.default_text()
    return _editor_page(page, session, now, text=text)


@router.get("/strategies/{version_id}")
def version_page(
    version_id: VersionId, page: PageDep, session: SessionDep, now: NowDep
) -> Response:
    """One version: the decision table, each path as a timeline, the editor, the actions."""
    detail = lifecycle.show(session, page.user, version_id, now=now)
    strategy = strategy_from_text(detail.body, source=f"{detail.code}@{detail.version}")
    own = detail.author.lower() == page.user.username.lower()
    flash = page.request.query_params.get("done")
    return render(
        page,
        "strategy.html",
        version=detail,
        strategy=strategy,
        rows=table_view(page, strategy),
        paths=path_views(page, strategy),
        body=detail.body,
        errors=[],
        can_edit=page.can("strategy.edit"),
        can_review=page.can("strategy.approve") and detail.status == "draft" and not own,
        can_activate=page.can("strategy.activate") and detail.status == "approved",
        own=own and detail.status == "draft",
        flash=flash if flash in ("submitted", "approved", "rejected", "activated") else None,
        today=page.today,
    )


@router.post("/strategies/validate")
def validate(page: PageDep, form: FormDep, session: SessionDep, now: NowDep) -> Response:
    """校验: the problems of the edited text, swapped in under the editor."""
    report = lifecycle.check_text(
        session, _text(form), as_of=lifecycle.today_of(now), principal=page.user
    )
    return render(page, "_strategy_problems.html", report=report)


@router.post("/strategies/diff")
def diff(page: PageDep, form: FormDep, session: SessionDep, now: NowDep) -> Response:
    """对比: what the edited text changes from the version in force."""
    try:
        found = lifecycle.diff_against_in_force(session, _text(form), now=now, principal=page.user)
    except StrategyError as exc:
        return render(page, "_strategy_diff.html", error=exc.message, name=None, diff=None)
    name, changes = found if found is not None else (None, None)
    return render(page, "_strategy_diff.html", error=None, name=name, diff=changes)


@router.post("/strategies")
def submit(page: PageDep, form: FormDep, session: SessionDep, now: NowDep) -> Response:
    """提交审批: the edited text becomes a new draft."""
    text = _text(form)
    done = attempt(
        session,
        lambda: lifecycle.submit(
            session,
            text,
            actor=page.user.username,
            now=now,
            principal=page.user,
            note=str(form.get("note") or "")[:2000],
        ),
        shown=(409, 422),
    )
    if done.result is None:
        return _editor_page(page, session, now, text=text, errors=done.errors,
                            status_code=done.status)  # fmt: skip
    return redirect(f"/strategies/{done.result.id}?done=submitted")


@router.post("/strategies/{version_id}/approve")
def approve(
    version_id: VersionId, page: PageDep, form: FormDep, session: SessionDep, now: NowDep
) -> Response:
    lifecycle.approve(session, version_id, actor=page.user.username, now=now,
                      principal=page.user, note=str(form.get("note") or "")[:2000])  # fmt: skip
    return redirect(f"/strategies/{version_id}?done=approved")


@router.post("/strategies/{version_id}/reject")
def reject(
    version_id: VersionId, page: PageDep, form: FormDep, session: SessionDep, now: NowDep
) -> Response:
    lifecycle.reject(session, version_id, actor=page.user.username, now=now,
                     principal=page.user, note=str(form.get("note") or "")[:2000])  # fmt: skip
    return redirect(f"/strategies/{version_id}?done=rejected")


@router.post("/strategies/{version_id}/activate")
def activate(
    version_id: VersionId, page: PageDep, form: FormDep, session: SessionDep, now: NowDep
) -> Response:
    raw = str(form.get("effective_from") or "").strip()
    day = parse_date(raw, field="effective_from") if raw else None
    lifecycle.activate(session, version_id, actor=page.user.username, now=now,
                       principal=page.user, effective_from=day)  # fmt: skip
    return redirect(f"/strategies/{version_id}?done=activated")
