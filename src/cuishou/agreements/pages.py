"""Agreement pages: the calculator and request on the case page (试算、提交审批), an
amendment of the running plan (修订) and the withdrawal of a waiting request (撤回), the
case's agreements with their PDF (masked; the full copy for ``pii.reveal``, audited), and
the approver inbox (待审批) with approve / reject.

Thin: every quote, request, list, decision and document goes through
``agreements.service`` — the same scope, permission, approval-matrix and
no-self-approval checks as the API. Refusals a person can act on (bad terms, a missing
reason, deciding one's own request, a request decided meanwhile) come back as a message on
the same page, never as a traceback; nothing of a refused form is kept.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from cuishou.agreements import service
from cuishou.agreements.rules import KINDS
from cuishou.agreements.schemas import AgreementIn, AgreementOut, DecisionIn, WithdrawIn
from cuishou.cases.pages import case_context
from cuishou.kit.text import Text
from cuishou.web.deps import AgreementId, CaseId, NowDep, SessionDep
from cuishou.web.pages import Attempt, FormDep, Page, PageDep, attempt, is_htmx, redirect, render

router = APIRouter(include_in_schema=False)

TERMS = (
    "kind",
    "first_due",
    "installments",
    "down_payment",
    "waive_fee",
    "waive_penalty",
    "waive_interest",
    "waive_principal",
    "discount",
    "break_after_days",
    "reinstate_on_break",
    "amends",
)
#: refusals shown on the page itself: bad input, a decided request, not one's to decide
SHOWN_HERE = (403, 409, 422)
#: refusals shown in the calculator: bad terms, and a case whose agreement is active
SHOWN_IN_CALCULATOR = (409, 422)


def _terms_in(values: dict[str, str]) -> AgreementIn:
    """The API payload for what the calculator sent; empty fields take the defaults."""
    return AgreementIn.model_validate({name: value for name, value in values.items() if value})


def _inline(page: Page, refused: Attempt[Any]) -> int:
    """The status of a refusal shown in the agreement section: its own on a full page; 422
    for HTMX, which swaps 422 answers into the page and shows no other 4xx."""
    return 422 if is_htmx(page.request) else refused.status


def _section(
    page: Page,
    session: Session,
    case_id: int,
    *,
    status_code: int = 200,
    with_activity: bool = False,
    **extra: Any,
) -> Response:
    """The agreement section (HTMX; with the activity section out of band when the
    timeline changed) or the whole case page."""
    if is_htmx(page.request) and not with_activity:
        context: dict[str, Any] = {
            "case_id": case_id,
            "agreements": service.case_agreements(session, page.user, case_id),
            "agreement_kinds": list(KINDS),
            "can_request": page.can("agreement.request"),
        }
        return render(page, "_agreement.html", status_code=status_code, **context, **extra)
    context = case_context(page, session, case_id)
    template = "_agreement.html" if is_htmx(page.request) else "case.html"
    return render(
        page, template, status_code=status_code, **context, values={}, activity_oob=with_activity,
        **extra,
    )  # fmt: skip


def _calculator_values(form: FormData) -> dict[str, str]:
    return {name: str(form.get(name) or "").strip() for name in TERMS}


@router.post("/cases/{case_id}/agreements/quote")
def quote(
    case_id: CaseId, page: PageDep, form: FormDep, session: SessionDep, now: NowDep
) -> Response:
    """试算: the schedule and the waiver for the terms given; nothing is saved."""
    values = _calculator_values(form)
    quoted = attempt(
        session,
        lambda: service.quote_agreement(session, page.user, case_id, _terms_in(values), now=now),
        shown=SHOWN_IN_CALCULATOR,
        fields=TERMS,
    )
    if quoted.errors:
        return _section(page, session, case_id, status_code=_inline(page, quoted), terms=values,
                        agreement_errors=quoted.errors)  # fmt: skip
    return _section(page, session, case_id, terms=values, quote=quoted.result)


@router.post("/cases/{case_id}/agreements")
def request(
    case_id: CaseId, page: PageDep, form: FormDep, session: SessionDep, now: NowDep
) -> Response:
    """提交审批: the same terms saved as a request for the approvers' inbox."""
    values = _calculator_values(form)
    requested = attempt(
        session,
        lambda: service.request_agreement(session, page.user, case_id, _terms_in(values), now=now),
        shown=SHOWN_IN_CALCULATOR,
        fields=TERMS,
    )
    if requested.result is None:
        return _section(page, session, case_id, status_code=_inline(page, requested),
                        terms=values, agreement_errors=requested.errors)  # fmt: skip
    made = requested.result
    if not is_htmx(page.request):
        return redirect(f"/cases/{case_id}#agreement")
    notice = page.t(
        "agreement.requested_notice", id=made.id, level=page.t(f"level.{made.required_level}")
    )
    # the timeline below shows the request at once (an out-of-band swap of #activity)
    return _section(page, session, case_id, with_activity=True, terms={}, notice=notice)


@router.post("/agreements/{agreement_id}/withdraw")
def withdraw(
    agreement_id: AgreementId, page: PageDep, form: FormDep, session: SessionDep, now: NowDep
) -> Response:
    """撤回: a waiting request withdrawn from the case page by its requester or an approver;
    the agreement section comes back with the case free for another request."""
    case_id = service.get_agreement(session, page.user, agreement_id).case_id  # in scope

    def withdrawn() -> AgreementOut:
        data = WithdrawIn.model_validate({"reason": str(form.get("reason") or "").strip()})
        return service.withdraw(session, page.user, agreement_id, data, now=now)

    outcome = attempt(session, withdrawn, shown=SHOWN_HERE, fields=("reason",))
    if outcome.result is None:
        return _section(page, session, case_id, status_code=_inline(page, outcome),
                        agreement_errors=outcome.errors)  # fmt: skip
    made = outcome.result
    if not is_htmx(page.request):
        return redirect(f"/cases/{made.case_id}#agreement")
    notice = page.t("agreement.withdrawn_notice", id=made.id)
    return _section(page, session, made.case_id, with_activity=True, terms={}, notice=notice)


@router.get("/agreements/{agreement_id}/document")
def document(
    agreement_id: AgreementId,
    page: PageDep,
    session: SessionDep,
    now: NowDep,
    reveal: bool = False,
    reason: Annotated[Text | None, Query(max_length=200)] = None,
) -> Response:
    """协议书: the approved PDF with the debtor's name and ID number masked; ``reveal=true``
    (with a reason) is the full copy for roles with ``pii.reveal``, an audited unmasking."""
    pdf = service.document(session, page.user, agreement_id, reveal=reveal, reason=reason, now=now)
    name = f"agreement-{agreement_id}{'' if reveal else '-masked'}.pdf"
    return Response(
        content=pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


def _inbox(
    page: Page,
    session: Session,
    *,
    status_code: int = 200,
    notice: str = "",
    errors: list[tuple[str, str]] | None = None,
) -> Response:
    return render(
        page,
        "inbox.html",
        status_code=status_code,
        inbox=service.inbox(session, page.user),
        notice=notice,
        errors=errors or [],
    )


@router.get("/agreements/inbox")
def inbox(page: PageDep, session: SessionDep) -> Response:
    """待审批: requests this user may decide (in scope, their level, not their own)."""
    done = page.request.query_params.get("done", "")
    decided = page.request.query_params.get("id", "")
    notice = (
        page.t(f"inbox.{done}", id=decided)
        if done in ("approved", "rejected") and decided.isdigit()
        else ""
    )
    return _inbox(page, session, notice=notice)


def _decide(
    page: Page, form: FormData, session: Session, now: Any, agreement_id: int, *, approve: bool
) -> Response:
    def decided() -> AgreementOut:
        data = DecisionIn.model_validate(
            {
                "reason": str(form.get("reason") or "").strip(),
                "creditor_reference": str(form.get("creditor_reference") or "").strip() or None,
            }
        )
        return service.decide(session, page.user, agreement_id, data, approve=approve, now=now)

    # an approver sees a refusal beside the form; anyone else gets the error page
    outcome = attempt(
        session,
        decided,
        shown=SHOWN_HERE if page.can("agreement.approve") else (),
        fields=("reason", "creditor_reference"),
    )
    if outcome.result is None:
        return _inbox(page, session, status_code=outcome.status, errors=outcome.errors)
    return redirect(f"/agreements/inbox?done={'approved' if approve else 'rejected'}"
                    f"&id={agreement_id}")  # fmt: skip


@router.post("/agreements/{agreement_id}/approve")
def approve(
    agreement_id: AgreementId, page: PageDep, form: FormDep, session: SessionDep, now: NowDep
) -> Response:
    return _decide(page, form, session, now, agreement_id, approve=True)


@router.post("/agreements/{agreement_id}/reject")
def reject(
    agreement_id: AgreementId, page: PageDep, form: FormDep, session: SessionDep, now: NowDep
) -> Response:
    return _decide(page, form, session, now, agreement_id, approve=False)
