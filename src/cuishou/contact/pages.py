"""The log-contact form (记录催记) on the case page, submitted with HTMX.

The form is turned into the API's :class:`ContactIn` and handed to the same
``contact.service.log_contact``; the answer is the case's activity section (form, promises,
contacts, timeline) re-rendered, so the timeline shows the contact at once. Validation
errors come back inline in the same section (HTTP 422), never as a traceback.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from sqlalchemy.orm import Session

from cuishou.cases.pages import case_context
from cuishou.contact import service
from cuishou.contact.schemas import ContactIn, ContactPointIn, VerifyIn
from cuishou.kit.clock import ensure_aware
from cuishou.web.deps import CaseId, NowDep, PointId, SessionDep, SettingsDep
from cuishou.web.pages import (
    FormDep,
    FormErrors,
    Page,
    PageDep,
    attempt,
    is_htmx,
    redirect,
    render,
)

router = APIRouter(include_in_schema=False)

FIELDS = (
    "contact_point_id",
    "channel",
    "outcome",
    "collectors",
    "notes",
    "promise_amount",
    "promise_date",
    "callback_at",
)


def contact_in(values: dict[str, str]) -> ContactIn:
    """The API payload for what the form sent; a ``datetime-local`` is Beijing time."""
    payload: dict[str, Any] = {
        "contact_point_id": values["contact_point_id"] or None,
        "channel": values["channel"] or None,
        "outcome": values["outcome"] or None,
        "notes": values["notes"],
        # shown for visits only; a visit must say how many went (CN-14), the rest ignore it
        "collectors": values["collectors"] or None,
    }
    if values["promise_amount"] or values["promise_date"]:
        payload["promise"] = {
            "amount": values["promise_amount"],
            "due_date": values["promise_date"] or None,
        }
    if values["callback_at"]:
        try:
            payload["callback_at"] = ensure_aware(datetime.fromisoformat(values["callback_at"]))
        except ValueError:
            payload["callback_at"] = values["callback_at"]
    return ContactIn.model_validate(payload)


@router.post("/cases/{case_id}/contacts")
def log_contact(
    case_id: CaseId,
    page: PageDep,
    form: FormDep,
    session: SessionDep,
    now: NowDep,
    settings: SettingsDep,
) -> Response:
    values = {name: str(form.get(name) or "").strip() for name in FIELDS}
    outcome = attempt(
        session,
        lambda: service.log_contact(
            session,
            page.user,
            case_id,
            contact_in(values),
            now=now,
            promise_policy=settings.promise_policy,
        ),
    )
    errors = outcome.errors
    saved = outcome.result.alerts_raised if outcome.result is not None else None
    if not is_htmx(page.request) and not errors:
        return redirect(f"/cases/{case_id}")
    context = case_context(page, session, case_id)
    return render(
        page,
        "_activity.html" if is_htmx(page.request) else "case.html",
        status_code=422 if errors else 200,
        **context,
        errors=errors,
        values=values if errors else {},
        saved=saved is not None,
        alerts_raised=[page.t(f"alert.{kind}") for kind in saved or []],
    )


# --- contact points (联系方式) on the case page: add one, review one (失联修复) ---------------

POINT_FIELDS = ("kind", "value", "owner", "owner_name", "relation", "source")
_POINT_ERROR_FIELDS = frozenset({*POINT_FIELDS, "status", "reason"})


def _case_page(
    page: Page, session: Session, case_id: int, errors: FormErrors, status: int,
    values: dict[str, str],
) -> Response:  # fmt: skip
    if not errors:
        return redirect(f"/cases/{case_id}#contact-points")
    context = case_context(page, session, case_id)
    shown = [(f"point_{field}" if field in _POINT_ERROR_FIELDS else field, message)
             for field, message in errors]  # fmt: skip
    return render(page, "case.html", status_code=status, **context,
                  point_errors=shown, point_values=values, values={})  # fmt: skip


@router.post("/cases/{case_id}/contact-points")
def add_contact_point(
    case_id: CaseId, page: PageDep, form: FormDep, session: SessionDep, now: NowDep
) -> Response:
    """Add a contact point from the case page's small form (新增联系方式)."""
    values = {name: str(form.get(name) or "").strip() for name in POINT_FIELDS}
    outcome = attempt(
        session,
        lambda: service.add_contact_point(
            session,
            page.user,
            case_id,
            ContactPointIn.model_validate({**values, "relation": values["relation"] or None}),
            now=now,
        ),
        shown=(422, 409),
        fields=POINT_FIELDS,
    )
    return _case_page(page, session, case_id, outcome.errors, outcome.status, values)


@router.post("/cases/{case_id}/contact-points/{point_id}/verify")
def verify_contact_point(
    case_id: CaseId,
    point_id: PointId,
    page: PageDep,
    form: FormDep,
    session: SessionDep,
    now: NowDep,
) -> Response:
    """Mark a point verified or invalid (with a reason) from the case page (核实)."""
    values = {name: str(form.get(name) or "").strip() for name in ("status", "reason")}
    outcome = attempt(
        session,
        lambda: service.verify_contact_point(
            session, page.user, point_id, VerifyIn.model_validate(values), now=now
        ),
        fields=("status", "reason"),
    )
    return _case_page(page, session, case_id, outcome.errors, outcome.status, {})
