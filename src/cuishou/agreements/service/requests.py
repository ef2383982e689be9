"""Quote (试算), request (申请), the approvers' inbox and reading agreements.

A case has one active agreement. While a request waits for approval, no other is taken
(withdraw it first); while a plan runs, a new plan is an amendment (修订) naming it, quoted
against what the case owes now plus what the running plan still waives (reinstated when the
amendment is approved). The case is locked while this is decided and the store refuses a
second pending request on a case whatever runs at the same time.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cuishou.agreements import repository as repo
from cuishou.agreements.approval import ApprovalMatrix, default_matrix, may_approve
from cuishou.agreements.schemas import AgreementIn, AgreementOut, InboxOut, QuoteOut
from cuishou.agreements.service.common import (
    Judged,
    agreement_out,
    cumulative_record,
    judge_cumulative,
    quote_out,
    quote_terms,
    share,
    terms_of,
    today_of,
)
from cuishou.audit.events import append_event
from cuishou.auth.rules import Principal, case_scope_of
from cuishou.auth.service import require
from cuishou.cases.service import case_for
from cuishou.kit.errors import Conflict, InvalidInput
from cuishou.kit.money import format_yuan
from cuishou.store.tables import Agreement


def amended_plan(session: Session, case_id: int, amends: int | None) -> Agreement | None:
    """One active agreement per case: a request is refused while another waits for approval,
    and while a plan runs unless it amends that plan. Returns the plan amended, if any."""
    active = repo.active_of_case(session, case_id)
    pending = [a for a in active if a.status == "requested"]
    running = [a for a in active if a.status == "approved"]
    if pending:
        waiting = pending[0]
        raise Conflict(
            f"case {case_id} already has agreement {waiting.id} waiting for approval "
            f"(requested by {repo.username(session, waiting.requested_by)}); a case has one "
            "active agreement — withdraw that request or wait for its decision",
            active_agreement_id=waiting.id,
        )
    if amends is None:
        if running:
            plan = running[0]
            raise Conflict(
                f"case {case_id} has a running agreement {plan.id}; a case has one active "
                f"agreement — to change the plan, request an amendment of it (amends: {plan.id})",
                active_agreement_id=plan.id,
            )
        return None
    if running and running[0].id == amends:
        return running[0]
    named = repo.agreement_of_case(session, amends, case_id)
    if named is None:
        raise InvalidInput(
            f"amends: agreement {amends} is not an agreement of case {case_id}", field="amends"
        )
    raise Conflict(
        f"amends: agreement {amends} is {named.status}; only the case's running plan can be "
        f"amended (running now: {f'agreement {running[0].id}' if running else 'none'})",
        active_agreement_id=running[0].id if running else None,
    )


def _judged(
    session: Session, case_id: int, data: AgreementIn, now: datetime, matrix: ApprovalMatrix
) -> Judged:
    terms = terms_of(data)
    amends = amended_plan(session, case_id, data.amends)
    back = repo.standing_by_account(session, amends.id) if amends else {}
    today = today_of(session, case_id, now)
    q = quote_terms(session, case_id, terms, back, today=today)
    figures, level = judge_cumulative(
        session,
        case_id,
        this_fen=q.waived.total,
        owed_fen=q.owed.total,
        amends_id=amends.id if amends else None,
        today=today,
        matrix=matrix,
    )
    return Judged(
        quote=q,
        figures=figures,
        window_days=matrix.window_days,
        level=level,
        amends_id=amends.id if amends else None,
        reinstated_fen=sum(w.total for w in back.values()),
    )


def quote_agreement(
    session: Session,
    principal: Principal,
    case_id: int,
    data: AgreementIn,
    *,
    now: datetime,
    matrix: ApprovalMatrix | None = None,
) -> QuoteOut:
    """试算: the schedule, what is waived (by this request and cumulatively on the case) and
    who must approve it; nothing is saved. Refused as the request would be (one active
    agreement per case)."""
    require(principal, "agreement.request")
    case = case_for(session, principal, case_id)
    return quote_out(_judged(session, case.id, data, now, matrix or default_matrix()))


def request_agreement(
    session: Session,
    principal: Principal,
    case_id: int,
    data: AgreementIn,
    *,
    now: datetime,
    matrix: ApprovalMatrix | None = None,
) -> AgreementOut:
    """Save the quoted agreement as a request; it waits in the approvers' inbox."""
    require(principal, "agreement.request")
    case_for(session, principal, case_id)  # out of scope: not found, before any lock
    repo.write_lock(session)
    case = case_for(session, principal, case_id, for_update=True)
    if case.status != "open":
        raise InvalidInput("the case is closed; there is nothing to agree")
    j = _judged(session, case.id, data, now, matrix or default_matrix())
    q, terms = j.quote, terms_of(data)
    values = dict(
        case_id=case.id,
        kind=q.kind,
        status="requested",
        owed_fen=q.owed.total,
        excess_interest_fen=q.owed.excess_interest,
        agreed_fen=q.agreed_fen,
        waived_fee_fen=q.waived.fee,
        waived_penalty_fen=q.waived.penalty,
        waived_interest_fen=q.waived.interest,
        waived_principal_fen=q.waived.principal,
        waiver_share_bp=q.waiver_share_bp,
        required_level=j.level,
        terms={
            "owed": {
                "fee": q.owed.fee,
                "penalty": q.owed.penalty,
                "interest": q.owed.interest,
                "principal": q.owed.principal,
            },
            "down_payment_fen": terms.down_payment_fen,
            "installments": terms.installments,
            "discount_bp": terms.discount_bp,
            "break_after_days": terms.break_after_days,
            "reinstate_on_break": terms.reinstate_on_break,
            "reinstated_fen": j.reinstated_fen,
            "cumulative": cumulative_record(j.figures, j.window_days),
        },
        requested_by=principal.user_id,
        requested_at=now,
        decision_reason="",
        break_after_days=terms.break_after_days,
        reinstate_on_break=terms.reinstate_on_break,
        amends_id=j.amends_id,
    )
    try:
        with session.begin_nested():
            agreement = repo.add_agreement(session, list(q.schedule), **values)
    except IntegrityError as exc:  # uq_agreements_one_active: another request got in first
        raise Conflict(
            f"case {case.id} got another agreement request at the same moment; a case has one "
            "active agreement — reload the case to see it"
        ) from exc
    append_event(
        session,
        at=now,
        actor=principal.username,
        type="agreement.requested",
        entity_type="agreement",
        entity_id=agreement.id,
        case_id=case.id,
        payload={
            "kind": q.kind,
            "agreed": format_yuan(q.agreed_fen),
            "waived": format_yuan(q.waived.total),
            "waiver_share": share(q.waiver_share_bp),
            "cumulative_waived": format_yuan(j.figures.waived_fen),
            "cumulative_share": share(j.figures.share_bp),
            "amends": j.amends_id,
            "reinstated_on_approval": format_yuan(j.reinstated_fen),
            "required_level": j.level,
        },
    )
    return agreement_out(session, agreement)


def inbox(session: Session, principal: Principal) -> InboxOut:
    """Requests this user may decide: in scope, at or below their level, not their own."""
    require(principal, "agreement.approve")
    waiting = repo.requested_in_scope(session, case_scope_of(principal))
    return InboxOut(
        items=[
            agreement_out(session, a)
            for a in waiting
            if a.requested_by != principal.user_id and may_approve(principal.role, a.required_level)
        ]
    )


def get_agreement(session: Session, principal: Principal, agreement_id: int) -> AgreementOut:
    require(principal, "case.read")
    agreement = repo.get_agreement(session, agreement_id, case_scope_of(principal))
    replaced = repo.superseded_by(session, [agreement.id])
    return agreement_out(session, agreement, replaced.get(agreement.id))


def case_agreements(session: Session, principal: Principal, case_id: int) -> list[AgreementOut]:
    """The agreements of a case in scope (another team's case is not found), newest first."""
    require(principal, "case.read")
    case = case_for(session, principal, case_id)
    found = repo.agreements_of_case(session, case.id)
    replaced = repo.superseded_by(session, [a.id for a in found])
    return [agreement_out(session, a, replaced.get(a.id)) for a in found]
